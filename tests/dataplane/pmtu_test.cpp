// Path MTU as a Linux host keeps it: a Frag-Needed leaves an exception on the route
// (`ip route get` shows `cache expires 599sec mtu 1400`), local senders use it, ping's -M modes
// decide between DF, local fragmentation and "local error: message too long".

#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/pmtu.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/dataplane/views.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const char* text) {
  return *Ipv4Prefix::parse(text);
}
Ipv4Address ip(const char* text) {
  return *Ipv4Address::parse(text);
}
Time at_s(std::int64_t s) {
  return Time::zero() + Duration::seconds(s);
}

// a (10.1.0.2) - r (10.1.0.1 | 10.2.0.1, r1 narrowed) - b (10.2.0.2); a and b route via r.
struct Chain {
  Simulator sim{11};
  wire::PacketPool pool;
  std::unique_ptr<Namespace> a = std::make_unique<Namespace>(sim, pool, "a");
  std::unique_ptr<Namespace> r = std::make_unique<Namespace>(sim, pool, "r");
  std::unique_ptr<Namespace> b = std::make_unique<Namespace>(sim, pool, "b");

  explicit Chain(std::uint32_t narrow_mtu) {
    Veth::create(*a, "a0", MacAddress({2, 0, 0, 0, 1, 1}), *r, "r0",
                 MacAddress({2, 0, 0, 0, 1, 2}));
    Veth::create(*r, "r1", MacAddress({2, 0, 0, 0, 2, 1}), *b, "b0",
                 MacAddress({2, 0, 0, 0, 2, 2}));
    r->device("r1")->set_mtu(narrow_mtu);
    for (auto [ns, dev, addr] : {std::tuple{a.get(), "a0", "10.1.0.2/24"},
                                 {r.get(), "r0", "10.1.0.1/24"},
                                 {r.get(), "r1", "10.2.0.1/24"},
                                 {b.get(), "b0", "10.2.0.2/24"}}) {
      EXPECT_TRUE(ns->set_up("lo", true));
      EXPECT_TRUE(ns->add_address(dev, pfx(addr)));
      EXPECT_TRUE(ns->set_up(dev, true));
    }
    r->set_ip_forward(true);
    Route ra;
    ra.destination = pfx("0.0.0.0/0");
    ra.gateway = ip("10.1.0.1");
    ra.ifindex = a->device("a0")->ifindex();
    EXPECT_TRUE(a->fib().add_route(ra));
    Route rb = ra;
    rb.gateway = ip("10.2.0.1");
    rb.ifindex = b->device("b0")->ifindex();
    EXPECT_TRUE(b->fib().add_route(rb));
  }
};

TEST(PmtuCache, FollowsIpRtUpdatePmtu) {
  PmtuCache cache;
  const Ipv4Address d = ip("10.2.0.2");
  const Time t0 = at_s(1);
  ASSERT_TRUE(cache.update(d, 2, 0x0a010001, 1500, false, 1400, t0));
  const PmtuException* e = cache.find(d, 2, 0x0a010001, t0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->mtu, 1400u);
  EXPECT_FALSE(e->locked);
  EXPECT_EQ(e->expires, t0 + Duration::seconds(600));
  // Another nexthop does not see it; neither does anyone after it expired.
  EXPECT_EQ(cache.find(d, 3, 0x0a010001, t0), nullptr);
  EXPECT_EQ(cache.find(d, 2, 0x0a010001, t0 + Duration::seconds(600)), nullptr);
  // A larger MTU never raises it; the same MTU refreshes only after half the expiry.
  EXPECT_FALSE(cache.update(d, 2, 0x0a010001, 1400, false, 1450, t0 + Duration::seconds(1)));
  EXPECT_FALSE(cache.update(d, 2, 0x0a010001, 1400, false, 1400, t0 + Duration::seconds(299)));
  EXPECT_TRUE(cache.update(d, 2, 0x0a010001, 1400, false, 1400, t0 + Duration::seconds(301)));
  EXPECT_EQ(cache.find(d, 2, 0x0a010001, t0)->expires, t0 + Duration::seconds(901));
  // Below min_pmtu: min(old, 552), locked; a locked MTU takes no more updates.
  ASSERT_TRUE(cache.update(d, 2, 0x0a010001, 1400, false, 300, t0 + Duration::seconds(302)));
  EXPECT_EQ(cache.find(d, 2, 0x0a010001, t0)->mtu, 552u);
  EXPECT_TRUE(cache.find(d, 2, 0x0a010001, t0)->locked);
  EXPECT_FALSE(cache.update(d, 2, 0x0a010001, 552, true, 500, t0 + Duration::seconds(303)));
}

// `ping -s 1472` (default -M want) behind a 1400 hop: the first request carries DF and earns a
// Frag-Needed; the kernel keeps mtu 1400 for 600 s and the next requests go out as fragments
// without DF, so they are answered (linux.md §2.6: "replies of 1480 bytes").
TEST(Pmtu, FragNeededLeavesAnExceptionThatLocalSendersUse) {
  Chain c(1400);
  Namespace& a = *c.a;
  EXPECT_EQ(views::ip_route_get(a, ip("10.2.0.2")),
            "10.2.0.2 via 10.1.0.1 dev a0 src 10.1.0.2 uid 0 \n"
            "    cache \n");
  Ping ping(a, ip("10.2.0.2"), PingOptions{.count = 3, .data_bytes = 1472});
  c.sim.run_until(at_s(3));
  ASSERT_TRUE(ping.finished()) << ping.output();
  const auto& lines = ping.lines();
  ASSERT_EQ(lines.size(), 8u) << ping.output();
  EXPECT_EQ(lines[1], "From 10.1.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)");
  EXPECT_EQ(lines[2].substr(0, 50), "1480 bytes from 10.2.0.2: icmp_seq=2 ttl=63 time=0");
  EXPECT_EQ(lines[3].substr(0, 50), "1480 bytes from 10.2.0.2: icmp_seq=3 ttl=63 time=0");
  EXPECT_TRUE(lines[6].starts_with(
      "3 packets transmitted, 2 received, +1 errors, 33.3333% packet loss, time 200"))
      << lines[6];
  EXPECT_EQ(c.r->drops(DropReason::kMtu), 1u);
  // The exception from about t=0 seen at t=3 s: 597 whole seconds left.
  EXPECT_EQ(views::ip_route_get(a, ip("10.2.0.2")),
            "10.2.0.2 via 10.1.0.1 dev a0 src 10.1.0.2 uid 0 \n"
            "    cache expires 597sec mtu 1400 \n");
  ASSERT_TRUE(a.path_mtu(ip("10.2.0.2")));
  EXPECT_EQ(a.path_mtu(ip("10.2.0.2"))->mtu, 1400u);
  // Only that destination: the router itself and other hosts keep the device MTU.
  EXPECT_EQ(views::ip_route_get(a, ip("10.1.0.1")),
            "10.1.0.1 dev a0 src 10.1.0.2 uid 0 \n"
            "    cache \n");
  EXPECT_EQ(a.path_mtu(ip("10.2.0.9"))->mtu, 1500u);
  // A forwarder learns nothing for the traffic it forwards.
  EXPECT_EQ(c.r->pmtu_exception(ip("10.2.0.2")), nullptr);
  // After mtu_expires the route is back to 1500.
  c.sim.run_until(at_s(601));
  EXPECT_EQ(views::ip_route_get(a, ip("10.2.0.2")),
            "10.2.0.2 via 10.1.0.1 dev a0 src 10.1.0.2 uid 0 \n"
            "    cache \n");
  EXPECT_EQ(a.path_mtu(ip("10.2.0.2"))->mtu, 1500u);
}

// `ping -M do` once the PMTU is known: sendmsg fails with EMSGSIZE and ping prints iputils'
// local error (ping4_receive_error_msg, SO_EE_ORIGIN_LOCAL), counted in "+N errors"; nothing
// leaves the host and nothing comes back from ourselves.
TEST(Pmtu, PingMDoFailsLocallyWithTheLearnedMtu) {
  Chain c(1400);
  Namespace& a = *c.a;
  Ping first(a, ip("10.2.0.2"), PingOptions{.count = 1, .data_bytes = 1472});
  c.sim.run_until(at_s(1));
  ASSERT_EQ(first.statistics().errors, 1u) << first.output();
  const auto r_received_before = c.r->device("r0")->stats().rx_packets;
  Ping ping(a, ip("10.2.0.2"),
            PingOptions{.count = 2, .data_bytes = 1472, .pmtu_discovery = PmtuDiscovery::kDo});
  c.sim.run_until(at_s(4));
  ASSERT_TRUE(ping.finished());
  EXPECT_EQ(ping.output(),
            "PING 10.2.0.2 (10.2.0.2) 1472(1500) bytes of data.\n"
            "ping: local error: message too long, mtu=1400\n"
            "ping: local error: message too long, mtu=1400\n"
            "\n"
            "--- 10.2.0.2 ping statistics ---\n"
            "2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1000ms\n"
            "\n");
  EXPECT_EQ(c.r->device("r0")->stats().rx_packets, r_received_before);
  // -M do within the path MTU still works, with DF.
  Ping small(a, ip("10.2.0.2"),
             PingOptions{.count = 1, .data_bytes = 1372, .pmtu_discovery = PmtuDiscovery::kDo});
  c.sim.run_until(at_s(6));
  EXPECT_EQ(small.statistics().received, 1u) << small.output();
}

// Without any learned PMTU the device MTU decides: -M do -s 2000 fails at once with mtu=1500,
// while the default (-M want) fragments and is answered.
TEST(Pmtu, PingModesAgainstTheDeviceMtu) {
  Chain c(1500);
  Ping mdo(*c.a, ip("10.2.0.2"),
           PingOptions{.count = 1, .data_bytes = 2000, .pmtu_discovery = PmtuDiscovery::kDo});
  c.sim.run_until(at_s(1));
  ASSERT_TRUE(mdo.finished());
  ASSERT_EQ(mdo.lines().size(), 6u) << mdo.output();
  EXPECT_EQ(mdo.lines()[1], "ping: local error: message too long, mtu=1500");
  EXPECT_EQ(mdo.lines()[4],
            "1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms");
  for (PmtuDiscovery mode : {PmtuDiscovery::kWant, PmtuDiscovery::kDont}) {
    Ping p(*c.a, ip("10.2.0.2"),
           PingOptions{.count = 1, .data_bytes = 2000, .pmtu_discovery = mode});
    c.sim.run_until(c.sim.now() + Duration::seconds(2));
    ASSERT_EQ(p.statistics().received, 1u) << p.output();
    EXPECT_EQ(p.lines()[1].substr(0, 50), "2008 bytes from 10.2.0.2: icmp_seq=1 ttl=63 time=0");
  }
  EXPECT_EQ(c.r->drops(DropReason::kMtu), 0u);
}

// A Frag-Needed below min_pmtu (552) is taken as 552 and locked: `mtu lock 552`, and DF is no
// longer set, so the narrow router may fragment further.
TEST(Pmtu, BelowMinPmtuIsLockedAt552) {
  Chain c(500);
  Ping ping(*c.a, ip("10.2.0.2"), PingOptions{.count = 2, .data_bytes = 1000});
  c.sim.run_until(at_s(2));
  ASSERT_TRUE(ping.finished()) << ping.output();
  EXPECT_EQ(ping.lines()[1], "From 10.1.0.1 icmp_seq=1 Frag needed and DF set (mtu = 500)");
  EXPECT_EQ(ping.lines()[2].substr(0, 50), "1008 bytes from 10.2.0.2: icmp_seq=2 ttl=63 time=0");
  EXPECT_EQ(views::ip_route_get(*c.a, ip("10.2.0.2")),
            "10.2.0.2 via 10.1.0.1 dev a0 src 10.1.0.2 uid 0 \n"
            "    cache expires 598sec mtu lock 552 \n");
}

TEST(Pmtu, IpRouteGetLocalAndErrors) {
  Chain c(1500);
  EXPECT_EQ(views::ip_route_get(*c.a, ip("10.1.0.2")),
            "local 10.1.0.2 dev lo src 10.1.0.2 uid 0 \n"
            "    cache <local> \n");
  Route hole;
  hole.destination = pfx("10.9.0.0/16");
  hole.type = RouteType::kBlackhole;
  ASSERT_TRUE(c.a->fib().add_route(hole));
  Route unreach = hole;
  unreach.destination = pfx("10.8.0.0/16");
  unreach.type = RouteType::kUnreachable;
  ASSERT_TRUE(c.a->fib().add_route(unreach));
  EXPECT_EQ(views::ip_route_get(*c.a, ip("10.9.1.1")), "RTNETLINK answers: Invalid argument\n");
  EXPECT_EQ(views::ip_route_get(*c.a, ip("10.8.1.1")), "RTNETLINK answers: No route to host\n");
  EXPECT_EQ(views::ip_route_get(*c.r, ip("8.8.8.8")),
            "RTNETLINK answers: Network is unreachable\n");
}

// The exception belongs to the nexthop: a device going down flushes it, and so does a crash.
TEST(Pmtu, DeviceDownAndCrashForgetTheExceptions) {
  Chain c(1400);
  Ping ping(*c.a, ip("10.2.0.2"), PingOptions{.count = 1, .data_bytes = 1472});
  c.sim.run_until(at_s(1));
  ASSERT_NE(c.a->pmtu_exception(ip("10.2.0.2")), nullptr);
  ASSERT_TRUE(c.a->set_up("a0", false));
  ASSERT_TRUE(c.a->set_up("a0", true));
  Route ra;
  ra.destination = pfx("0.0.0.0/0");
  ra.gateway = ip("10.1.0.1");
  ra.ifindex = c.a->device("a0")->ifindex();
  ASSERT_TRUE(c.a->fib().add_route(ra));
  EXPECT_EQ(c.a->pmtu_exception(ip("10.2.0.2")), nullptr);
  c.a->update_pmtu(ip("10.2.0.2"), 1300);
  ASSERT_NE(c.a->pmtu_exception(ip("10.2.0.2")), nullptr);
  c.a->crash();
  c.a->restart();
  EXPECT_EQ(c.a->pmtu_exception(ip("10.2.0.2")), nullptr);
}

}  // namespace
}  // namespace calisim::dataplane
