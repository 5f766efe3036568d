// The per-device IPv4 sysctls on the packet path, as fib_validate_source, ip_route_input_slow and
// arp_process read them: accept_local, route_localnet, rp_filter (max of conf/all and
// conf/<dev>), proxy_arp (conf/all or conf/<dev>) with proxy_delay, and `ip neigh add proxy`.

#include "stack_test_bed.hpp"

#include <calisim/dataplane/neighbour.hpp>

namespace calisim::dataplane {
namespace {

using namespace testbed;

// a (10.200.1.2) - b (10.200.1.1); b counts the UDP datagrams it is given.
struct Pair {
  World w;
  Namespace& a = w.ns("a");
  Namespace& b = w.ns("b");
  std::uint64_t delivered = 0;
  Pair() {
    w.link(a, "a0", "10.200.1.2/24", b, "b0", "10.200.1.1/24");
    b.add_protocol_handler(17, [this](const wire::Ipv4View&, Time) { ++delivered; });
  }
  void send_from(const char* source) {
    ASSERT_TRUE(a.send(udp_datagram(w.pool, ip(source), ip("10.200.1.1"), 40000, 5000)));
    w.run_for(Duration::milliseconds(10));
  }
};

// With rp_filter 0, a packet from outside that claims one of b's own addresses as its source is
// a martian (fib_validate_source's fast path) unless accept_local.
TEST(Sysctl, OwnAddressAsSourceIsMartianUnlessAcceptLocal) {
  Pair p;
  p.send_from("10.200.1.1");
  EXPECT_EQ(p.delivered, 0u);
  EXPECT_EQ(p.b.drops(DropReason::kMartian), 1u);
  p.b.conf("b0").accept_local = true;
  p.send_from("10.200.1.1");
  EXPECT_EQ(p.delivered, 1u);
  p.b.conf("b0").accept_local = false;
  p.b.conf_all().accept_local = true;  // IN_DEV_ACCEPT_LOCAL: conf/all or conf/<dev>
  p.send_from("10.200.1.1");
  EXPECT_EQ(p.delivered, 2u);
  // A source that is not ours passes either way.
  p.b.conf_all().accept_local = false;
  p.send_from("10.200.1.2");
  EXPECT_EQ(p.delivered, 3u);
  EXPECT_EQ(p.b.drops(DropReason::kMartian), 1u);
}

// A 127/8 source on a device other than lo is a martian unless route_localnet.
TEST(Sysctl, LoopbackSourceOnAWireNeedsRouteLocalnet) {
  Pair p;
  p.send_from("127.0.0.5");
  EXPECT_EQ(p.delivered, 0u);
  EXPECT_EQ(p.b.drops(DropReason::kMartian), 1u);
  p.b.conf("b0").route_localnet = true;
  p.send_from("127.0.0.5");
  EXPECT_EQ(p.delivered, 1u);
  p.b.conf("b0").route_localnet = false;
  p.b.conf_all().route_localnet = true;
  p.send_from("127.0.0.5");
  EXPECT_EQ(p.delivered, 2u);
}

// rp_filter on the device alone is enough (the max of conf/all and conf/<dev> counts), and a
// looser conf/all wins over a strict device value.
TEST(Sysctl, RpFilterIsTheMaxOfAllAndTheDevice) {
  for (const auto& [all, dev, dropped] :
       {std::tuple{0, 1, true}, std::tuple{2, 1, false}, std::tuple{1, 0, true},
        std::tuple{0, 2, false}, std::tuple{0, 0, false}}) {
    World w;
    auto [a, r, b] = chain(w);
    r.conf_all().rp_filter = static_cast<std::uint8_t>(all);
    r.conf("r0").rp_filter = static_cast<std::uint8_t>(dev);
    ASSERT_TRUE(a.add_address("a0", pfx("10.2.0.99/32")));  // a source that belongs behind r1
    std::uint64_t arrived = 0;
    b.add_protocol_handler(17, [&arrived](const wire::Ipv4View&, Time) { ++arrived; });
    ASSERT_TRUE(a.send(udp_datagram(w.pool, ip("10.2.0.99"), ip("10.2.0.2"), 40000, 5000)));
    w.run_for(Duration::milliseconds(10));
    EXPECT_EQ(r.drops(DropReason::kRpFilter), dropped ? 1u : 0u) << all << "/" << dev;
    EXPECT_EQ(arrived, dropped ? 0u : 1u) << all << "/" << dev;
  }
}

// Proxy ARP: q0 (10.9.0.2/16 on q0, so it ARPs for all of 10.9/16 itself) asks for 10.9.1.5;
// h answers when the route to 10.9.1.5 leaves through another device than the one asked on.
struct ProxyLab {
  World w;
  Namespace& q = w.ns("q");
  Namespace& h = w.ns("h");
  Namespace& t = w.ns("t");
  ProxyLab() {
    w.link(q, "q0", "10.9.0.2/16", h, "h0", "10.9.0.1/16");
    w.link(h, "h1", "10.8.0.1/24", t, "t0", "10.8.0.2/24");
    h.set_ip_forward(true);
  }
  void ask(const char* target) {
    ASSERT_TRUE(q.send(udp_datagram(w.pool, ip("10.9.0.2"), ip(target), 40000, 5000)));
  }
  const NeighbourEntry* answer(const char* target) const {
    return q.neighbours().find(q.device("q0")->ifindex(), ip(target));
  }
};

TEST(Sysctl, ConfAllProxyArpAnswersAfterARandomProxyDelay) {
  ProxyLab lab;
  ASSERT_TRUE(lab.h.fib().add_route(via("10.9.1.0/24", "10.8.0.2", lab.h.device("h1")->ifindex())));
  lab.h.conf_all().proxy_arp = true;  // only conf/all
  EXPECT_EQ(lab.h.conf("h0").proxy_delay_centis, 80u);
  lab.ask("10.9.1.5");
  // A broadcast request waits a random time below proxy_delay (0.8 s) before the answer.
  lab.w.run_for(Duration::milliseconds(1));
  ASSERT_NE(lab.answer("10.9.1.5"), nullptr);
  EXPECT_EQ(lab.answer("10.9.1.5")->state, NeighbourState::kIncomplete);
  lab.w.run_for(Duration::milliseconds(800));
  ASSERT_NE(lab.answer("10.9.1.5"), nullptr);
  EXPECT_EQ(lab.answer("10.9.1.5")->state, NeighbourState::kReachable);
  EXPECT_EQ(lab.answer("10.9.1.5")->mac, lab.h.device("h0")->mac());
}

// The route to the target leaves through the device the request came in on: no answer.
TEST(Sysctl, ProxyArpIsSilentWhenTheRouteLeavesThroughTheSameDevice) {
  ProxyLab lab;
  ASSERT_TRUE(lab.h.fib().add_route(via("10.9.1.0/24", "10.9.0.3", lab.h.device("h0")->ifindex())));
  lab.h.conf("h0").proxy_arp = true;
  lab.h.conf("h0").proxy_delay_centis = 0;
  lab.ask("10.9.1.5");
  lab.w.run_for(Duration::seconds(5));
  ASSERT_NE(lab.answer("10.9.1.5"), nullptr);
  EXPECT_EQ(lab.answer("10.9.1.5")->state, NeighbourState::kFailed);
}

// `ip neigh add proxy 10.9.1.5 dev h0` answers with proxy_arp off (pneigh_lookup), for that
// address only.
TEST(Sysctl, ExplicitProxyEntriesAreAnswered) {
  ProxyLab lab;
  ASSERT_TRUE(lab.h.fib().add_route(via("10.9.1.0/24", "10.8.0.2", lab.h.device("h1")->ifindex())));
  lab.h.conf("h0").proxy_delay_centis = 0;
  lab.h.neighbours().add_proxy(lab.h.device("h0")->ifindex(), ip("10.9.1.5"));
  lab.ask("10.9.1.5");
  lab.ask("10.9.1.6");
  lab.w.run_for(Duration::seconds(5));
  ASSERT_NE(lab.answer("10.9.1.5"), nullptr);
  EXPECT_EQ(lab.answer("10.9.1.5")->state, NeighbourState::kReachable);
  EXPECT_EQ(lab.answer("10.9.1.5")->mac, lab.h.device("h0")->mac());
  ASSERT_NE(lab.answer("10.9.1.6"), nullptr);
  EXPECT_EQ(lab.answer("10.9.1.6")->state, NeighbourState::kFailed);
}

// Four hosts on four devices of h ask at once; each delayed answer carries its own device's MAC
// whatever order the random delays fire in. A crash while answers wait silences them.
TEST(Sysctl, ConcurrentDelayedProxyAnswersEachGoToTheirAsker) {
  for (bool crash : {false, true}) {
    World w;
    Namespace& h = w.ns("h");
    Namespace& t = w.ns("t");
    w.link(h, "h9", "10.8.0.1/24", t, "t0", "10.8.0.2/24");
    ASSERT_TRUE(h.fib().add_route(via("10.9.1.0/24", "10.8.0.2", h.device("h9")->ifindex())));
    h.set_ip_forward(true);
    h.conf_all().proxy_arp = true;
    std::vector<Namespace*> askers;
    for (int i = 0; i < 4; ++i) {
      const std::string n = std::to_string(i);
      Namespace& q = w.ns("q" + n);
      const std::string q_addr = "10.9.0." + std::to_string(10 + i) + "/16";
      const std::string h_addr = "10." + std::to_string(20 + i) + ".0.1/24";
      w.link(q, "q0", q_addr.c_str(), h, ("h" + n).c_str(), h_addr.c_str());
      askers.push_back(&q);
    }
    for (int i = 0; i < 4; ++i) {
      const auto src = ip(("10.9.0." + std::to_string(10 + i)).c_str());
      ASSERT_TRUE(askers[i]->send(udp_datagram(w.pool, src, ip("10.9.1.5"), 40000, 5000)));
    }
    w.run_for(Duration::milliseconds(1));
    if (crash) h.crash();
    w.run_for(Duration::milliseconds(900));
    for (int i = 0; i < 4; ++i) {
      const NeighbourEntry* e =
          askers[i]->neighbours().find(askers[i]->device("q0")->ifindex(), ip("10.9.1.5"));
      ASSERT_NE(e, nullptr);
      if (crash) {
        EXPECT_EQ(e->state, NeighbourState::kIncomplete) << i;
      } else {
        EXPECT_EQ(e->state, NeighbourState::kReachable) << i;
        EXPECT_EQ(e->mac, h.device(("h" + std::to_string(i)).c_str())->mac()) << i;
      }
    }
  }
}

}  // namespace
}  // namespace calisim::dataplane
