// Views of whole namespaces, compared with what iproute2 and net-tools print for the same
// setup (linux.md §1; calico.md §1.2-1.3).

#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/tunnel.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/dataplane/views.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const char* text) { return *Ipv4Prefix::parse(text); }
Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

TEST(Views, FreshNamespaceLinkAndAddr) {
  Simulator sim;
  wire::PacketPool pool;
  Namespace ns(sim, pool, "fresh");
  // `ip netns add x; ip -br link`: lo exists, down.
  EXPECT_EQ(views::ip_br_link(ns), "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \n");
  // `ip link set lo up` alone gives lo 127.0.0.1/8 (inetdev_event NETDEV_UP); adding it again
  // is "RTNETLINK answers: File exists".
  ASSERT_TRUE(ns.set_up("lo", true));
  EXPECT_FALSE(ns.add_address("lo", pfx("127.0.0.1/8")));
  EXPECT_EQ(views::ip_br_link(ns),
            "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n");
  EXPECT_EQ(views::ip_br_addr(ns), "lo               UNKNOWN        127.0.0.1/8 \n");
}

TEST(Views, VethPairsAcrossAndWithinNamespaces) {
  Simulator sim;
  wire::PacketPool pool;
  Namespace host(sim, pool, "host");
  Namespace pod(sim, pool, "pod");
  // linux.md §1.2: v1/v1p in one namespace; a0 whose peer is elsewhere shows @ifN.
  Veth::create(host, "v1", MacAddress({0x0a, 0xa0, 0xc2, 0xf4, 0xc6, 0x5a}), host, "v1p",
               MacAddress({0x0e, 0x4e, 0x1b, 0xce, 0xe1, 0xd5}));
  auto [cali, eth0] = Veth::create(host, "cali08d091557e9", MacAddress({0xee, 0xee, 0xee, 0xee, 0xee, 0xee}),
                                   pod, "eth0", MacAddress({0x52, 0x21, 0x08, 0xfd, 0x16, 0x4c}));
  ASSERT_TRUE(host.set_up("v1", true));
  ASSERT_TRUE(host.add_address("v1", pfx("192.168.50.1/24")));
  ASSERT_TRUE(host.add_address("v1", pfx("192.168.50.2/24")));
  ASSERT_TRUE(host.set_up("cali08d091557e9", true));
  ASSERT_TRUE(pod.set_up("eth0", true));
  ASSERT_TRUE(pod.add_address("eth0", pfx("10.96.66.195/32")));
  EXPECT_EQ(views::ip_br_link(host),
            "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \n"
            "v1p@v1           DOWN           0e:4e:1b:ce:e1:d5 <BROADCAST,MULTICAST> \n"
            "v1@v1p           LOWERLAYERDOWN 0a:a0:c2:f4:c6:5a <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> \n" +
                fmt::format("cali08d091557e9@if{} UP             ee:ee:ee:ee:ee:ee "
                            "<BROADCAST,MULTICAST,UP,LOWER_UP> \n",
                            eth0.ifindex()));
  EXPECT_EQ(views::ip_br_addr(host),
            "lo               DOWN           \n"
            "v1p@v1           DOWN           \n"
            "v1@v1p           LOWERLAYERDOWN 192.168.50.1/24 192.168.50.2/24 \n" +
                fmt::format("cali08d091557e9@if{} UP             \n", eth0.ifindex()));
  EXPECT_EQ(views::ip_br_addr(pod),
            "lo               DOWN           \n" +
                fmt::format("{:<16} UP             10.96.66.195/32 \n",
                            fmt::format("eth0@if{}", cali.ifindex())));
}

TEST(Views, CalicoNodeRoutes) {
  Simulator sim;
  wire::PacketPool pool;
  Namespace node(sim, pool, "node");
  Namespace pod(sim, pool, "pod");
  node.add_device<IpipTunnel>();
  ASSERT_TRUE(node.set_up("tunl0", true));
  auto [cali, eth0] = Veth::create(node, "cali08d091557e9", MacAddress({0xee, 0xee, 0xee, 0xee, 0xee, 0xee}),
                                   pod, "eth0", MacAddress({0x52, 0x21, 0x08, 0xfd, 0x16, 0x4c}));
  ASSERT_TRUE(node.set_up("cali08d091557e9", true));
  // With the pod's end down the cali device has no carrier and the route shows `linkdown`.
  ASSERT_TRUE(pod.set_up("eth0", true));
  Route remote;
  remote.destination = pfx("10.96.5.128/26");
  remote.gateway = ip("10.100.99.22");
  remote.ifindex = node.device("tunl0")->ifindex();
  remote.onlink = true;
  remote.protocol = route_protocol::kBird;
  ASSERT_TRUE(node.fib().add_route(remote));
  Route hole;
  hole.destination = pfx("10.96.66.192/26");
  hole.type = RouteType::kBlackhole;
  hole.protocol = route_protocol::kBird;
  ASSERT_TRUE(node.fib().add_route(hole));
  Route local_pod;
  local_pod.destination = pfx("10.96.66.195/32");
  local_pod.ifindex = cali.ifindex();
  local_pod.scope = RouteScope::kLink;
  ASSERT_TRUE(node.fib().add_route(local_pod));
  // calico.md §1.3, the real table of a BGP+IPIP node (issue #8953).
  EXPECT_EQ(views::ip_route(node),
            "10.96.5.128/26 via 10.100.99.22 dev tunl0 proto bird onlink \n"
            "blackhole 10.96.66.192/26 proto bird \n"
            "10.96.66.195 dev cali08d091557e9 scope link \n");
  EXPECT_NE(views::ip_br_link(node).find("tunl0@NONE       UNKNOWN        0.0.0.0 <NOARP,UP,LOWER_UP> \n"),
            std::string::npos)
      << views::ip_br_link(node);
  EXPECT_EQ(views::route_n(node),
            "Kernel IP routing table\n"
            "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
            "10.96.5.128     10.100.99.22    255.255.255.192 UG    0      0        0 tunl0\n"
            "10.96.66.192    0.0.0.0         255.255.255.192 U     0      0        0 *\n"
            "10.96.66.195    0.0.0.0         255.255.255.255 UH    0      0        0 cali08d091557e9\n");
}

}  // namespace
}  // namespace calisim::dataplane

namespace calisim::dataplane {
namespace {

// `ip neigh` on a namespace after real traffic: the peer answered ARP (REACHABLE), then idle
// until the reachable time ran out (STALE); an address nobody has (INCOMPLETE while resolving,
// FAILED after three unanswered requests); a permanent entry as Calico's CNI adds for a pod.
TEST(Views, IpNeighAfterTraffic) {
  Simulator sim;
  wire::PacketPool pool;
  Namespace a(sim, pool, "a");
  Namespace b(sim, pool, "b");
  Veth::create(a, "veth-a", MacAddress({2, 0, 0, 0, 0, 1}), b, "veth-b",
               MacAddress({2, 0, 0, 0, 0, 2}));
  ASSERT_TRUE(a.add_address("veth-a", pfx("10.0.0.1/24")));
  ASSERT_TRUE(b.add_address("veth-b", pfx("10.0.0.2/24")));
  ASSERT_TRUE(a.set_up("veth-a", true));
  ASSERT_TRUE(b.set_up("veth-b", true));
  (void)a.neighbours().add_permanent(a.device("veth-a")->ifindex(), ip("10.0.0.50"),
                                     MacAddress({0xee, 0xee, 0xee, 0xee, 0xee, 0xee}), sim.now());

  Ping to_b(a, ip("10.0.0.2"), PingOptions{.count = 1});
  Ping to_nobody(a, ip("10.0.0.99"), PingOptions{.count = 1});
  sim.run_until(Time::zero() + Duration::milliseconds(500));
  const std::string neigh = views::ip_neigh(a);
  // Hash order in the kernel; we list in table order, so compare as a set of lines.
  auto sorted = [](const std::string& text) {
    auto lines = calisim::test::lines(text);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  EXPECT_EQ(sorted(neigh), (std::vector<std::string>{
                               "10.0.0.2 dev veth-a lladdr 02:00:00:00:00:02 REACHABLE ",
                               "10.0.0.50 dev veth-a lladdr ee:ee:ee:ee:ee:ee PERMANENT ",
                               "10.0.0.99 dev veth-a INCOMPLETE ",
                           }))
      << neigh;
  // Idle past the reachable time (15-45 s): STALE. The FAILED entry stays (garbage collection
  // only starts above gc_thresh1 = 128 entries).
  sim.run_until(Time::zero() + Duration::seconds(120));
  EXPECT_EQ(sorted(views::ip_neigh(a)),
            (std::vector<std::string>{
                "10.0.0.2 dev veth-a lladdr 02:00:00:00:00:02 STALE ",
                "10.0.0.50 dev veth-a lladdr ee:ee:ee:ee:ee:ee PERMANENT ",
                "10.0.0.99 dev veth-a FAILED ",
            }))
      << views::ip_neigh(a);
}

}  // namespace
}  // namespace calisim::dataplane
