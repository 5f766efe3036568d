// Scenarios through the whole host stack: devices, addresses, routes, ARP, forwarding, ICMP,
// and ping's own output.

#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/udp_socket.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/dataplane/views.hpp>
#include <calisim/wire/udp.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/capture_all.hpp"
#include "tshark_check.hpp"

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
MacAddress mac(std::uint8_t last) {
  return MacAddress({0x02, 0, 0, 0, 0, last});
}

Route via(const char* dst, const char* gateway, std::uint32_t ifindex) {
  Route r;
  r.destination = pfx(dst);
  r.gateway = ip(gateway);
  r.ifindex = ifindex;
  return r;
}

struct World {
  Simulator sim{1};
  wire::PacketPool pool;
  std::vector<std::unique_ptr<Namespace>> namespaces;

  Namespace& ns(const std::string& name) {
    namespaces.push_back(std::make_unique<Namespace>(sim, pool, name));
    Namespace& n = *namespaces.back();
    EXPECT_TRUE(n.set_up("lo", true));
    return n;
  }
  // A veth between two namespaces, addressed and up.
  void link(Namespace& a, const char* a_if, const char* a_addr, Namespace& b, const char* b_if,
            const char* b_addr) {
    static std::uint8_t next = 1;
    Veth::create(a, a_if, mac(next), b, b_if, mac(static_cast<std::uint8_t>(next + 1)));
    next = static_cast<std::uint8_t>(next + 2);
    ASSERT_TRUE(a.add_address(a_if, pfx(a_addr)));
    ASSERT_TRUE(b.add_address(b_if, pfx(b_addr)));
    ASSERT_TRUE(a.set_up(a_if, true));
    ASSERT_TRUE(b.set_up(b_if, true));
  }
  ~World() { namespaces.clear(); }
};

// A UDP datagram with an 8-byte header and no data, checksummed.
wire::Packet udp_datagram(wire::PacketPool& pool, Ipv4Address src, Ipv4Address dst,
                          std::uint16_t sport, std::uint16_t dport) {
  wire::Ipv4Header h;
  h.total_length = 20 + 8;
  h.protocol = wire::IpProtocol::kUdp;
  h.source = src;
  h.destination = dst;
  wire::Packet p = pool.make(h.total_length);
  h.emit(p.bytes());
  wire::UdpHeader{sport, dport}.emit(p.bytes().subspan(20), src, dst);
  return p;
}

// a (10.1.0.2) - r (10.1.0.1 | 10.2.0.1) - b (10.2.0.2), forwarding on r, a's default via r.
struct Chain {
  Namespace& a;
  Namespace& r;
  Namespace& b;
};
Chain chain(World& w) {
  Namespace& a = w.ns("a");
  Namespace& r = w.ns("r");
  Namespace& b = w.ns("b");
  w.link(a, "a0", "10.1.0.2/24", r, "r0", "10.1.0.1/24");
  w.link(r, "r1", "10.2.0.1/24", b, "b0", "10.2.0.2/24");
  r.set_ip_forward(true);
  EXPECT_TRUE(a.fib().add_route(via("0.0.0.0/0", "10.1.0.1", a.device("a0")->ifindex())));
  return Chain{a, r, b};
}

TEST(Namespace, PingAcrossAVeth) {
  World w;
  Namespace& a = w.ns("a");
  Namespace& b = w.ns("b");
  w.link(a, "a0", "10.200.1.2/24", b, "b0", "10.200.1.1/24");
  test::CaptureAll cap("ns-ping-across-a-veth");
  cap.attach_all(w.namespaces);
  Ping ping(a, ip("10.200.1.1"), PingOptions{.count = 3});
  w.sim.run_until(Time::zero() + Duration::seconds(3));
  ASSERT_TRUE(ping.finished());
  const auto& lines = ping.lines();
  ASSERT_EQ(lines.size(), 1u + 3u + 4u) << ping.output();
  EXPECT_EQ(lines[0], "PING 10.200.1.1 (10.200.1.1) 56(84) bytes of data.");
  EXPECT_EQ(lines[1].substr(0, 49), "64 bytes from 10.200.1.1: icmp_seq=1 ttl=64 time=");
  EXPECT_EQ(lines[3].substr(0, 49), "64 bytes from 10.200.1.1: icmp_seq=3 ttl=64 time=");
  EXPECT_EQ(lines[4], "");
  EXPECT_EQ(lines[5], "--- 10.200.1.1 ping statistics ---");
  EXPECT_TRUE(
      lines[6].starts_with("3 packets transmitted, 3 received, 0% packet loss, time 2000ms"))
      << lines[6];
  EXPECT_TRUE(lines[7].starts_with("rtt min/avg/max/mdev = ")) << lines[7];
  // ARP resolved both ways.
  const NeighbourEntry* n = a.neighbours().find(a.device("a0")->ifindex(), ip("10.200.1.1"));
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighbourState::kReachable);
  EXPECT_EQ(n->mac, b.device("b0")->mac());
  // Unused for longer than reachable_time (15..45 s): STALE, as `ip neigh` would show.
  w.sim.run_until(Time::zero() + Duration::seconds(60));
  EXPECT_EQ(a.neighbours().find(a.device("a0")->ifindex(), ip("10.200.1.1"))->state,
            NeighbourState::kStale);
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 14});
  // Each end saw the ARP exchange and three echoes each way, with an untouched TTL.
  EXPECT_EQ(test::tshark_fields(f, "frame.interface_name == \"a/a0\" && icmp",
                                {"icmp.type", "icmp.seq", "ip.ttl"}),
            (std::vector<std::string>{"8\t1\t64", "0\t1\t64", "8\t2\t64", "0\t2\t64", "8\t3\t64",
                                      "0\t3\t64"}));
  EXPECT_EQ(test::tshark_count(f, "frame.interface_name == \"b/b0\" && icmp.type == 0"), 3u);
  EXPECT_EQ(test::tshark_count(f,
                               "frame.interface_name == \"a/a0\" && arp.opcode == 2 && "
                               "arp.src.proto_ipv4 == 10.200.1.1"),
            1u);
}

TEST(Namespace, TtlDropsByOnePerForwardingHop) {
  World w;
  Namespace& pod_a = w.ns("pod-a");
  Namespace& node_a = w.ns("node-a");
  Namespace& node_b = w.ns("node-b");
  Namespace& pod_b = w.ns("pod-b");
  w.link(pod_a, "eth0", "10.1.0.2/24", node_a, "v0", "10.1.0.1/24");
  w.link(node_a, "n0", "192.168.56.10/24", node_b, "n0", "192.168.56.11/24");
  w.link(node_b, "v0", "10.2.0.1/24", pod_b, "eth0", "10.2.0.2/24");
  ASSERT_TRUE(pod_a.fib().add_route(via("0.0.0.0/0", "10.1.0.1", pod_a.device("eth0")->ifindex())));
  ASSERT_TRUE(pod_b.fib().add_route(via("0.0.0.0/0", "10.2.0.1", pod_b.device("eth0")->ifindex())));
  ASSERT_TRUE(
      node_a.fib().add_route(via("10.2.0.0/24", "192.168.56.11", node_a.device("n0")->ifindex())));
  ASSERT_TRUE(
      node_b.fib().add_route(via("10.1.0.0/24", "192.168.56.10", node_b.device("n0")->ifindex())));
  node_a.set_ip_forward(true);
  node_b.set_ip_forward(true);
  test::CaptureAll cap("ns-ttl-per-hop");
  cap.attach_all(w.namespaces);
  Ping ping(pod_a, ip("10.2.0.2"), PingOptions{.count = 2});
  w.sim.run();
  ASSERT_EQ(ping.statistics().received, 2u) << ping.output();
  EXPECT_EQ(ping.reply_ttls(), (std::vector<std::uint8_t>{62, 62}));
  EXPECT_NE(ping.lines()[1].find("icmp_seq=1 ttl=62 time="), std::string::npos) << ping.output();
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 24});
  // The request loses one TTL per forwarding host: 64 leaving pod-a, 63 between the nodes, 62
  // arriving at pod-b; the reply the same way back.
  for (const auto& [iface, ttl] :
       {std::pair{"pod-a/eth0", "64"}, {"node-a/n0", "63"}, {"pod-b/eth0", "62"}}) {
    EXPECT_EQ(test::tshark_fields(
                  f, std::string("frame.interface_name == \"") + iface + "\" && icmp.type == 8",
                  {"ip.ttl"}),
              (std::vector<std::string>{ttl, ttl}))
        << iface;
  }
  EXPECT_EQ(test::tshark_fields(f, "frame.interface_name == \"pod-a/eth0\" && icmp.type == 0",
                                {"ip.ttl"}),
            (std::vector<std::string>{"62", "62"}));
}

TEST(Namespace, ForwardingOffDropsSilently) {
  World w;
  Namespace& a = w.ns("a");
  Namespace& r = w.ns("r");
  Namespace& b = w.ns("b");
  w.link(a, "a0", "10.1.0.2/24", r, "r0", "10.1.0.1/24");
  w.link(r, "r1", "10.2.0.1/24", b, "b0", "10.2.0.2/24");
  ASSERT_TRUE(a.fib().add_route(via("0.0.0.0/0", "10.1.0.1", a.device("a0")->ifindex())));
  ASSERT_TRUE(b.fib().add_route(via("0.0.0.0/0", "10.2.0.1", b.device("b0")->ifindex())));
  Ping ping(a, ip("10.2.0.2"), PingOptions{.count = 2});
  w.sim.run();
  EXPECT_EQ(ping.statistics().received, 0u);
  EXPECT_EQ(ping.statistics().errors, 0u);
  EXPECT_EQ(r.drops(DropReason::kForwardingDisabled), 2u);
  // Nothing came back: ping lingers 10 s after the last request (-W default), which its "time"
  // does not count (from the first request to the last), and two requests were outstanding.
  EXPECT_EQ(ping.lines().back(), "pipe 2");
  EXPECT_EQ(ping.lines()[ping.lines().size() - 2],
            "2 packets transmitted, 0 received, 100% packet loss, time 1000ms");
}

TEST(Namespace, TimeExceededFromTheRouter) {
  World w;
  auto [a, r, b] = chain(w);
  Ping ping(a, ip("10.2.0.2"), PingOptions{.count = 1, .ttl = 1});
  w.sim.run();
  ASSERT_GE(ping.lines().size(), 2u);
  EXPECT_EQ(ping.lines()[1], "From 10.1.0.1 icmp_seq=1 Time to live exceeded");
  EXPECT_EQ(r.drops(DropReason::kTtlExceeded), 1u);
}

TEST(Namespace, NoRouteAtTheRouterIsNetUnreachable) {
  World w;
  Namespace& a = w.ns("a");
  Namespace& r = w.ns("r");
  w.link(a, "a0", "10.1.0.2/24", r, "r0", "10.1.0.1/24");
  r.set_ip_forward(true);
  ASSERT_TRUE(a.fib().add_route(via("0.0.0.0/0", "10.1.0.1", a.device("a0")->ifindex())));
  Ping ping(a, ip("10.9.9.9"), PingOptions{.count = 1});
  w.sim.run();
  EXPECT_EQ(ping.lines()[1], "From 10.1.0.1 icmp_seq=1 Destination Net Unreachable");
}

TEST(Namespace, ConnectFailsWithoutARoute) {
  World w;
  Namespace& a = w.ns("a");
  Ping ping(a, ip("10.9.9.9"), PingOptions{.count = 1});
  EXPECT_TRUE(ping.finished());
  ASSERT_EQ(ping.lines().size(), 1u);
  EXPECT_EQ(ping.lines()[0], "ping: connect: Network is unreachable");
}

}  // namespace
}  // namespace calisim::dataplane

namespace calisim::dataplane {
namespace {

// A router with rp_filter=1 drops a packet whose source it would route out of another device
// (linux.md §2.2: strict mode); with 2 it only needs some route back.
TEST(Namespace, RpFilterStrictDropsSpoofedSourceLooseKeepsIt) {
  for (std::uint8_t mode : {1, 2}) {
    World w;
    Namespace& a = w.ns("a");
    Namespace& r = w.ns("r");
    Namespace& b = w.ns("b");
    w.link(a, "a0", "10.1.0.2/24", r, "r0", "10.1.0.1/24");
    w.link(r, "r1", "10.2.0.1/24", b, "b0", "10.2.0.2/24");
    r.set_ip_forward(true);
    r.conf_all().rp_filter = mode;
    test::CaptureAll cap("ns-rp-filter-" + std::to_string(mode));
    cap.attach_all(w.namespaces);
    ASSERT_TRUE(a.add_address("a0", pfx("10.2.0.99/32")));  // a source that belongs behind r1
    ASSERT_TRUE(a.fib().add_route(via("10.2.0.0/24", "10.1.0.1", a.device("a0")->ifindex())));
    ASSERT_TRUE(b.fib().add_route(via("0.0.0.0/0", "10.2.0.1", b.device("b0")->ifindex())));
    std::uint64_t arrived = 0;
    b.add_protocol_handler(17, [&arrived](const wire::Ipv4View&, Time) { ++arrived; });
    ASSERT_TRUE(a.send(udp_datagram(w.pool, ip("10.2.0.99"), ip("10.2.0.2"), 40000, 5000)));
    w.sim.run_until(Time::zero() + Duration::seconds(1));
    if (mode == 1) {
      EXPECT_EQ(r.drops(DropReason::kRpFilter), 1u);
      EXPECT_EQ(arrived, 0u);
    } else {
      EXPECT_EQ(r.drops(DropReason::kRpFilter), 0u);
      EXPECT_EQ(arrived, 1u);
    }
    const auto f = cap.finish();
    test::expect_tshark_clean(f, {.min_packets = 4});
    // The spoofed datagram reached r in both modes; only loose mode let it through to b.
    const std::string udp = "udp.dstport == 5000 && ip.src == 10.2.0.99";
    EXPECT_EQ(test::tshark_count(f, "frame.interface_name == \"r/r0\" && " + udp), 1u);
    EXPECT_EQ(test::tshark_count(f, "frame.interface_name == \"b/b0\" && " + udp),
              mode == 1 ? 0u : 1u);
  }
}

// ping -s 2000 (DF clear) across a 1500-byte path: the sender fragments, the target reassembles
// and its reply is fragmented back.
TEST(Namespace, FragmentsOnTheWayOutAndReassemblesAtTheDestination) {
  World w;
  Namespace& a = w.ns("a");
  Namespace& b = w.ns("b");
  w.link(a, "a0", "10.200.1.2/24", b, "b0", "10.200.1.1/24");
  Ping ping(a, ip("10.200.1.1"), PingOptions{.count = 1, .data_bytes = 2000});
  w.sim.run_until(Time::zero() + Duration::seconds(2));
  ASSERT_EQ(ping.statistics().received, 1u) << ping.output();
  EXPECT_EQ(ping.lines()[0], "PING 10.200.1.1 (10.200.1.1) 2000(2028) bytes of data.");
  EXPECT_EQ(ping.lines()[1].substr(0, 49), "2008 bytes from 10.200.1.1: icmp_seq=1 ttl=64 tim");
}

// DF set and too big for the router's next hop: frag needed with the next-hop MTU.
TEST(Namespace, DfTooBigGetsFragNeededWithTheNextHopMtu) {
  World w;
  Namespace& a = w.ns("a");
  Namespace& r = w.ns("r");
  Namespace& b = w.ns("b");
  w.link(a, "a0", "10.1.0.2/24", r, "r0", "10.1.0.1/24");
  w.link(r, "r1", "10.2.0.1/24", b, "b0", "10.2.0.2/24");
  r.device("r1")->set_mtu(1400);
  r.set_ip_forward(true);
  ASSERT_TRUE(a.fib().add_route(via("0.0.0.0/0", "10.1.0.1", a.device("a0")->ifindex())));
  test::CaptureAll cap("ns-df-frag-needed");
  cap.attach_all(w.namespaces);
  Ping ping(a, ip("10.2.0.2"), PingOptions{.count = 1, .data_bytes = 1472});
  w.sim.run_until(Time::zero() + Duration::seconds(2));
  ASSERT_GE(ping.lines().size(), 2u);
  EXPECT_EQ(ping.lines()[1], "From 10.1.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)");
  EXPECT_EQ(r.drops(DropReason::kMtu), 1u);
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 4});
  // tshark decodes the router's error as 3/4 with the next-hop MTU, quoting the 1500-byte echo;
  // nothing reached r1.
  EXPECT_EQ(test::tshark_fields(f, "icmp.type == 3 && icmp.code == 4 && icmp.mtu == 1400",
                                {"frame.interface_name", "ip.src", "ip.dst"}),
            (std::vector<std::string>{"r/r0\t10.1.0.1,10.1.0.2\t10.1.0.2,10.2.0.2",
                                      "a/a0\t10.1.0.1,10.1.0.2\t10.1.0.2,10.2.0.2"}));
  EXPECT_EQ(test::tshark_count(f, "frame.interface_name == \"r/r1\""), 0u);
}

}  // namespace
}  // namespace calisim::dataplane

// ICMP rate limits (the old per-destination test was wrong for forwarded no-route errors,
// which ip_error also limits): icmp_ratelimit_test.cpp.

namespace calisim::dataplane {
namespace {

TEST(Namespace, UdpDeliversToABoundPortAndPortUnreachableOtherwise) {
  World w;
  Namespace& a = w.ns("a");
  Namespace& b = w.ns("b");
  w.link(a, "a0", "10.3.0.1/24", b, "b0", "10.3.0.2/24");
  UdpStack ua(a);
  UdpStack ub(b);
  std::vector<std::uint8_t> got;
  std::uint16_t got_port = 0;
  ASSERT_TRUE(ub.bind(5000, [&](Ipv4Address from, std::uint16_t port, wire::Bytes data, Time) {
    EXPECT_EQ(from, ip("10.3.0.1"));
    got_port = port;
    got.assign(data.begin(), data.end());
  }));
  EXPECT_FALSE(ub.bind(5000, nullptr).has_value());
  std::uint64_t icmp = 0;
  std::uint8_t code = 0;
  a.add_protocol_handler(1, [&](const wire::Ipv4View& v, Time) {
    ++icmp;
    code = v.payload()[1];
  });
  const std::vector<std::uint8_t> hello = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_TRUE(ua.send_to(40001, ip("10.3.0.2"), 5000, hello));
  ASSERT_TRUE(ua.send_to(40001, ip("10.3.0.2"), 5001, hello));
  w.sim.run_until(Time::zero() + Duration::seconds(1));
  EXPECT_EQ(got, hello);
  EXPECT_EQ(got_port, 40001);
  EXPECT_EQ(ub.unreachable_sent(), 1u);
  EXPECT_EQ(icmp, 1u);
  EXPECT_EQ(code, 3);  // port unreachable
}

}  // namespace
}  // namespace calisim::dataplane

namespace calisim::dataplane {
namespace {

// `ip link del` of a pod's host-side veth (what deleting the pod's netns does): both ends go,
// with the host's /32 route and permanent neighbour; a frame already in flight is dropped, not
// delivered to freed memory; later ifindexes keep counting up.
TEST(Namespace, DeletingAVethEndTakesThePeerRoutesAndNeighboursAlong) {
  Simulator sim;
  wire::PacketPool pool;
  Namespace host(sim, pool, "host");
  auto pod = std::make_unique<Namespace>(sim, pool, "pod");
  auto [cali, eth0] =
      Veth::create(host, "cali1234567890a", wire::MacAddress({0xee, 0xee, 0xee, 0xee, 0xee, 0xee}),
                   *pod, "eth0", wire::MacAddress({2, 0, 0, 0, 0, 9}));
  const std::uint32_t cali_index = cali.ifindex();
  ASSERT_TRUE(host.set_up("cali1234567890a", true));
  ASSERT_TRUE(pod->set_up("eth0", true));
  ASSERT_TRUE(pod->add_address("eth0", *wire::Ipv4Prefix::parse("10.0.0.5/32")));
  Route r;
  r.destination = *wire::Ipv4Prefix::parse("10.0.0.5/32");
  r.ifindex = cali_index;
  r.scope = RouteScope::kLink;
  ASSERT_TRUE(host.fib().add_route(r));
  (void)host.neighbours().add_permanent(cali_index, *wire::Ipv4Address::parse("10.0.0.5"),
                                        wire::MacAddress({2, 0, 0, 0, 0, 9}), sim.now());
  // A frame on its way from the pod to the host when the link is deleted.
  wire::Packet p = pool.make(60);
  eth0.transmit(std::move(p));
  ASSERT_TRUE(host.delete_device("cali1234567890a"));
  sim.run();
  EXPECT_EQ(host.device("cali1234567890a"), nullptr);
  EXPECT_EQ(host.device(cali_index), nullptr);
  EXPECT_EQ(pod->device("eth0"), nullptr);
  EXPECT_TRUE(pod->addresses().empty());
  EXPECT_EQ(views::ip_route(host), "");
  EXPECT_EQ(views::ip_neigh(host), "");
  EXPECT_EQ(host.drops(DropReason::kNodeDown) + host.drops(DropReason::kDeviceDown), 1u);
  auto [v1, v2] = Veth::create(host, "v1", wire::MacAddress({2, 0, 0, 0, 0, 1}), host, "v2",
                               wire::MacAddress({2, 0, 0, 0, 0, 2}));
  EXPECT_GT(v2.ifindex(), cali_index);
  EXPECT_FALSE(host.delete_device("nope"));
  EXPECT_FALSE(host.delete_device("lo"));
}

}  // namespace
}  // namespace calisim::dataplane
