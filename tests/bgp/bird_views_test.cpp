// birdc views against what BIRD 2.0.12 printed in a lab of network namespaces on a bridge:
// 192.168.56.10-.13 on enp0s8, Calico-like configs (static blackhole for the node's block,
// `protocol kernel { learn; }`, `protocol direct`, iBGP mesh, then a route reflector with cluster
// id 1.1.1.1 and an eBGP neighbour in AS 65001). The real outputs are quoted beside each test;
// only the times differ (simulated here).

#include <calisim/bgp/bird_views.hpp>
#include <calisim/bgp/rib.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace calisim::bgp {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::bgp::AsPath;
using wire::bgp::Origin;
using wire::bgp::PathAttributes;

Ipv4Prefix pfx(const char* text) { return *Ipv4Prefix::parse(text); }
Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }
Time ms(std::int64_t n) { return Time::from_ns(n * 1'000'000); }

PathAttributes from_node(const char* next_hop) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{};
  a.next_hop = ip(next_hop);
  a.local_pref = 100;
  return a;
}

PeerConfig peer(std::string name, const char* address, std::uint32_t as = 64512) {
  PeerConfig p;
  p.name = std::move(name);
  p.address = ip(address);
  p.as_number = as;
  p.source_address = ip("192.168.56.10");
  p.interface = "enp0s8";
  return p;
}

TEST(BirdViews, TimeFormats) {
  const Time t = ms(5436);
  EXPECT_EQ(format_bird_time(t, ms(10'000), BirdTimeFormat::iso_short_ms()), "00:00:05.436");
  EXPECT_EQ(format_bird_time(t, ms(10'000), BirdTimeFormat::iso_short()), "00:00:05");
  EXPECT_EQ(format_bird_time(Time::from_ns(5'436'999'999), ms(10'000), {}), "00:00:05.436");  // truncated
  // The next day, still within 20 hours of now: time of day only.
  EXPECT_EQ(format_bird_time(ms(90'061'000), ms(90'062'000), {}), "01:01:01.000");
  // 20 hours or more ago: the date.
  EXPECT_EQ(format_bird_time(Time::zero(), ms(20 * 3600 * 1000), {}), "2024-01-01");
  EXPECT_EQ(format_bird_time(ms(49LL * 3600 * 1000), ms(70LL * 3600 * 1000), {}), "2024-01-03");
  EXPECT_EQ(format_bird_time(ms(59LL * 24 * 3600 * 1000 + 1), ms(59LL * 24 * 3600 * 1000 + 2),
                             BirdTimeFormat::iso_long_ms()),
            "2024-02-29 00:00:00.001");  // 2024 is a leap year
  BirdTimeFormat micro{"%H-%M-%S %6f %1f %%", "%F", Duration::seconds(1)};
  EXPECT_EQ(format_bird_time(Time::from_ns(3'723'456'789'000), Time::from_ns(3'723'456'789'000), micro),
            "01-02-03 456789 4 %");
}

// birdc -s a.ctl show protocols (the mesh node):
//   BIRD 2.0.12 ready.
//   Name       Proto      Table      State  Since         Info
//   kernel1    Kernel     master4    up     09:57:03.834
//   device1    Device     ---        up     09:57:03.834
//   direct1    Direct     ---        up     09:57:03.834
//   static1    Static     master4    up     09:57:03.834
//   Mesh_192_168_56_11 BGP        ---        up     09:57:05.436  Established
//   Mesh_192_168_56_12 BGP        ---        up     09:57:05.671  Established
TEST(BirdViews, ShowProtocols) {
  std::vector<BirdProtocolRow> rows = {
      {"kernel1", "Kernel", "master4", "up", ms(0), ""},
      {"device1", "Device", "---", "up", ms(0), ""},
      {"direct1", "Direct", "---", "up", ms(0), ""},
      {"static1", "Static", "master4", "up", ms(0), ""},
      {"Mesh_192_168_56_11", "BGP", "---", "up", ms(1602), "Established   "},
      {"Mesh_192_168_56_12", "BGP", "---", "up", ms(1837), "Established   "},
      {"Mesh_192_168_56_13", "BGP", "---", "start", ms(0), "Active        Socket: Connection refused"},
  };
  BirdViewOptions options;
  options.now = ms(3000);
  EXPECT_EQ(show_protocols(rows, options),
            "BIRD 2.0.12 ready.\n"
            "Name       Proto      Table      State  Since         Info\n"
            "kernel1    Kernel     master4    up     00:00:00.000  \n"
            "device1    Device     ---        up     00:00:00.000  \n"
            "direct1    Direct     ---        up     00:00:00.000  \n"
            "static1    Static     master4    up     00:00:00.000  \n"
            "Mesh_192_168_56_11 BGP        ---        up     00:00:01.602  Established   \n"
            "Mesh_192_168_56_12 BGP        ---        up     00:00:01.837  Established   \n"
            "Mesh_192_168_56_13 BGP        ---        start  00:00:00.000  Active        Socket: Connection refused\n");
  options.now = ms(21LL * 3600 * 1000);  // a day later the times turn into dates
  options.banner = false;
  options.protocol_time = BirdTimeFormat::iso_short();
  EXPECT_EQ(show_protocols(std::span(rows).first(1), options),
            "Name       Proto      Table      State  Since         Info\n"
            "kernel1    Kernel     master4    up     2024-01-01    \n");
}

// The mesh node's table: own block, two mesh blocks, the direct route, two pod routes learned
// from the kernel.
Rib mesh_node() {
  RibConfig rc;
  rc.router_id = ip("192.168.56.10");
  Rib rib(rc);
  SourceId kernel1 = rib.add_protocol("kernel1", RouteSource::kInherit);
  SourceId direct1 = rib.add_protocol("direct1", RouteSource::kDevice);
  rib.originate(pfx("10.244.0.0/26"));
  rib.set_now(ms(3));
  rib.originate(direct1, pfx("192.168.56.0/24"), LocalRoute{RouteDest::kUnicast, {}, "enp0s8"});
  LocalRoute pod{RouteDest::kUnicast, {}, "cali1234", false, KernelRouteAttributes{3, 0, 253}};
  rib.originate(kernel1, pfx("10.244.1.5/32"), pod);
  rib.originate(kernel1, pfx("10.244.0.3/32"), pod);
  SourceId b = rib.add_peer(peer("Mesh_192_168_56_11", "192.168.56.11"));
  SourceId c = rib.add_peer(peer("Mesh_192_168_56_12", "192.168.56.12"));
  rib.peer_up(b, ip("192.168.56.11"));
  rib.peer_up(c, ip("192.168.56.12"));
  rib.set_now(ms(1837));
  rib.update(b, pfx("10.244.1.0/26"), from_node("192.168.56.11"));
  rib.set_now(ms(1886));
  rib.update(c, pfx("10.244.2.0/26"), from_node("192.168.56.12"));
  return rib;
}

// birdc show route:
//   10.244.1.0/26        unicast [Mesh_192_168_56_11 09:57:05.671] * (100) [i]
//   	via 192.168.56.11 on enp0s8
//   10.244.0.0/26        blackhole [static1 09:57:03.834] * (200)
//   10.244.2.0/26        unicast [Mesh_192_168_56_12 09:57:05.720] * (100) [i]
//   	via 192.168.56.12 on enp0s8
//   192.168.56.0/24      unicast [direct1 09:57:03.837] * (240)
//   	dev enp0s8
//   10.244.1.5/32        unicast [kernel1 09:57:03.837] * (10)
//   	dev cali1234
//   10.244.0.3/32        unicast [kernel1 09:57:03.837] * (10)
//   	dev cali1234
TEST(BirdViews, ShowRouteOfAMeshNode) {
  Rib rib = mesh_node();
  BirdViewOptions options;
  options.now = ms(5000);
  EXPECT_EQ(show_route(rib, options),
            "BIRD 2.0.12 ready.\n"
            "Table master4:\n"
            "10.244.1.0/26        unicast [Mesh_192_168_56_11 00:00:01.837] * (100) [i]\n"
            "\tvia 192.168.56.11 on enp0s8\n"
            "10.244.0.0/26        blackhole [static1 00:00:00.000] * (200)\n"
            "10.244.2.0/26        unicast [Mesh_192_168_56_12 00:00:01.886] * (100) [i]\n"
            "\tvia 192.168.56.12 on enp0s8\n"
            "192.168.56.0/24      unicast [direct1 00:00:00.003] * (240)\n"
            "\tdev enp0s8\n"
            "10.244.1.5/32        unicast [kernel1 00:00:00.003] * (10)\n"
            "\tdev cali1234\n"
            "10.244.0.3/32        unicast [kernel1 00:00:00.003] * (10)\n"
            "\tdev cali1234\n");
}

TEST(BirdViews, ShowRouteAllOfAMeshNode) {
  Rib rib = mesh_node();
  BirdViewOptions options;
  options.now = ms(5000);
  options.banner = false;
  ShowRouteOptions show;
  show.all = true;
  EXPECT_EQ(show_route(rib, options, show),
            "Table master4:\n"
            "10.244.1.0/26        unicast [Mesh_192_168_56_11 00:00:01.837] * (100) [i]\n"
            "\tvia 192.168.56.11 on enp0s8\n"
            "\tType: BGP univ\n"
            "\tBGP.origin: IGP\n"
            "\tBGP.as_path: \n"
            "\tBGP.next_hop: 192.168.56.11\n"
            "\tBGP.local_pref: 100\n"
            "10.244.0.0/26        blackhole [static1 00:00:00.000] * (200)\n"
            "\tType: static univ\n"
            "10.244.2.0/26        unicast [Mesh_192_168_56_12 00:00:01.886] * (100) [i]\n"
            "\tvia 192.168.56.12 on enp0s8\n"
            "\tType: BGP univ\n"
            "\tBGP.origin: IGP\n"
            "\tBGP.as_path: \n"
            "\tBGP.next_hop: 192.168.56.12\n"
            "\tBGP.local_pref: 100\n"
            "192.168.56.0/24      unicast [direct1 00:00:00.003] * (240)\n"
            "\tdev enp0s8\n"
            "\tType: device univ\n"
            "10.244.1.5/32        unicast [kernel1 00:00:00.003] * (10)\n"
            "\tdev cali1234\n"
            "\tType: inherit univ\n"
            "\tKernel.source: 3\n"
            "\tKernel.metric: 0\n"
            "\tKernel.scope: 253\n"
            "10.244.0.3/32        unicast [kernel1 00:00:00.003] * (10)\n"
            "\tdev cali1234\n"
            "\tType: inherit univ\n"
            "\tKernel.source: 3\n"
            "\tKernel.metric: 0\n"
            "\tKernel.scope: 253\n");
}

// The node behind the route reflector 192.168.56.12 (cluster 1.1.1.1), with an eBGP neighbour:
//   10.244.1.0/26        unicast [Node_192_168_56_12 10:31:26.960 from 192.168.56.12] * (100) [i]
//   	via 192.168.56.11 on enp0s8
//   	Type: BGP univ
//   	BGP.origin: IGP
//   	BGP.as_path:
//   	BGP.next_hop: 192.168.56.11
//   	BGP.local_pref: 100
//   	BGP.community: (64512,7) (64512,100)
//   	BGP.originator_id: 192.168.56.11
//   	BGP.cluster_list: 1.1.1.1
//   ...
//   192.168.56.0/24      unicast [direct1 10:31:25.354] * (240)
//   	dev enp0s8
//   	Type: device univ
//                        unicast [Node_192_168_56_12 10:31:27.004] (100) [i]
//   	via 192.168.56.12 on enp0s8
//   ...
//   10.98.0.0/24         unicast [Global_192_168_56_13 10:31:26.992] * (100) [AS65001?]
//   10.99.0.0/24         unicast [Global_192_168_56_13 10:31:27.004] * (100) [AS65001i]
TEST(BirdViews, ShowRouteAllWithReflectionAndExternalRoutes) {
  RibConfig rc;
  rc.router_id = ip("192.168.56.10");
  Rib rib(rc);
  SourceId direct1 = rib.add_protocol("direct1", RouteSource::kDevice);
  rib.originate(pfx("10.244.0.0/26"));
  rib.set_now(ms(16));
  rib.originate(direct1, pfx("192.168.56.0/24"), LocalRoute{RouteDest::kUnicast, {}, "enp0s8"});
  SourceId rr = rib.add_peer(peer("Node_192_168_56_12", "192.168.56.12"));
  SourceId d = rib.add_peer(peer("Global_192_168_56_13", "192.168.56.13", 65001));
  rib.peer_up(rr, ip("192.168.56.12"));
  rib.peer_up(d, ip("192.168.56.13"));
  rib.set_now(ms(1622));
  PathAttributes reflected = from_node("192.168.56.11");
  reflected.communities = {wire::bgp::community(64512, 7), wire::bgp::community(64512, 100)};
  reflected.originator_id = ip("192.168.56.11");
  reflected.cluster_list = {ip("1.1.1.1")};
  rib.update(rr, pfx("10.244.1.0/26"), reflected);
  rib.set_now(ms(1654));
  PathAttributes incomplete;
  incomplete.origin = Origin::kIncomplete;
  incomplete.as_path = AsPath::sequence({65001});
  incomplete.next_hop = ip("192.168.56.13");
  rib.update(d, pfx("10.98.0.0/24"), incomplete);  // LOCAL_PREF 100 is added on import
  rib.set_now(ms(1666));
  rib.update(rr, pfx("10.244.2.0/26"), from_node("192.168.56.12"));
  rib.update(rr, pfx("192.168.56.0/24"), from_node("192.168.56.12"));
  PathAttributes prepended;
  prepended.origin = Origin::kIgp;
  prepended.as_path = AsPath::sequence({65001, 65001});
  prepended.next_hop = ip("192.168.56.13");
  prepended.multi_exit_disc = 50;
  prepended.communities = {wire::bgp::community(65001, 7)};
  rib.update(d, pfx("10.99.0.0/24"), prepended);

  BirdViewOptions options;
  options.now = ms(9000);
  ShowRouteOptions show;
  show.all = true;
  EXPECT_EQ(show_route(rib, options, show),
            "BIRD 2.0.12 ready.\n"
            "Table master4:\n"
            "10.244.1.0/26        unicast [Node_192_168_56_12 00:00:01.622 from 192.168.56.12] * (100) [i]\n"
            "\tvia 192.168.56.11 on enp0s8\n"
            "\tType: BGP univ\n"
            "\tBGP.origin: IGP\n"
            "\tBGP.as_path: \n"
            "\tBGP.next_hop: 192.168.56.11\n"
            "\tBGP.local_pref: 100\n"
            "\tBGP.community: (64512,7) (64512,100)\n"
            "\tBGP.originator_id: 192.168.56.11\n"
            "\tBGP.cluster_list: 1.1.1.1\n"
            "10.244.0.0/26        blackhole [static1 00:00:00.000] * (200)\n"
            "\tType: static univ\n"
            "10.244.2.0/26        unicast [Node_192_168_56_12 00:00:01.666] * (100) [i]\n"
            "\tvia 192.168.56.12 on enp0s8\n"
            "\tType: BGP univ\n"
            "\tBGP.origin: IGP\n"
            "\tBGP.as_path: \n"
            "\tBGP.next_hop: 192.168.56.12\n"
            "\tBGP.local_pref: 100\n"
            "192.168.56.0/24      unicast [direct1 00:00:00.016] * (240)\n"
            "\tdev enp0s8\n"
            "\tType: device univ\n"
            "                     unicast [Node_192_168_56_12 00:00:01.666] (100) [i]\n"
            "\tvia 192.168.56.12 on enp0s8\n"
            "\tType: BGP univ\n"
            "\tBGP.origin: IGP\n"
            "\tBGP.as_path: \n"
            "\tBGP.next_hop: 192.168.56.12\n"
            "\tBGP.local_pref: 100\n"
            "10.98.0.0/24         unicast [Global_192_168_56_13 00:00:01.654] * (100) [AS65001?]\n"
            "\tvia 192.168.56.13 on enp0s8\n"
            "\tType: BGP univ\n"
            "\tBGP.origin: Incomplete\n"
            "\tBGP.as_path: 65001\n"
            "\tBGP.next_hop: 192.168.56.13\n"
            "\tBGP.local_pref: 100\n"
            "10.99.0.0/24         unicast [Global_192_168_56_13 00:00:01.666] * (100) [AS65001i]\n"
            "\tvia 192.168.56.13 on enp0s8\n"
            "\tType: BGP univ\n"
            "\tBGP.origin: IGP\n"
            "\tBGP.as_path: 65001 65001\n"
            "\tBGP.next_hop: 192.168.56.13\n"
            "\tBGP.med: 50\n"
            "\tBGP.local_pref: 100\n"
            "\tBGP.community: (65001,7)\n");

  // `show route primary`, `show route protocol`, `show route <net>`, `show route export`.
  options.banner = false;
  show = {};
  show.primary_only = true;
  show.prefix = pfx("192.168.56.0/24");
  EXPECT_EQ(show_route(rib, options, show),
            "Table master4:\n"
            "192.168.56.0/24      unicast [direct1 00:00:00.016] * (240)\n"
            "\tdev enp0s8\n");
  show = {};
  show.protocol = rr;
  show.prefix = pfx("192.168.56.0/24");
  EXPECT_EQ(show_route(rib, options, show),
            "Table master4:\n"
            "192.168.56.0/24      unicast [Node_192_168_56_12 00:00:01.666] (100) [i]\n"
            "\tvia 192.168.56.12 on enp0s8\n");
  show = {};
  show.prefix = pfx("10.1.2.0/24");
  EXPECT_EQ(show_route(rib, options, show), "Network not found\n");
  show = {};
  show.prefix = pfx("192.168.56.0/24");
  show.protocol = rib.add_protocol("static2", RouteSource::kStatic);  // no route: nothing at all
  EXPECT_EQ(show_route(rib, options, show), "");
  show = {};
  show.for_address = ip("10.244.0.5");  // `show route for 10.244.0.5`
  EXPECT_EQ(show_route(rib, options, show),
            "Table master4:\n"
            "10.244.0.0/26        blackhole [static1 00:00:00.000] * (200)\n");
  show = {};
  show.export_to = d;
  EXPECT_EQ(show_route(rib, options, show), "");  // BIRD's default `export none`
}

TEST(BirdViews, ShowRouteExportFollowsTheExportFilter) {
  RibConfig rc;
  rc.router_id = ip("192.168.56.10");
  Rib rib(rc);
  rib.originate(pfx("10.244.0.0/26"));
  PeerConfig mesh_peer = peer("Mesh_192_168_56_11", "192.168.56.11");
  mesh_peer.export_filter = Filter::accept_all();
  SourceId b = rib.add_peer(mesh_peer);
  SourceId c = rib.add_peer(peer("Mesh_192_168_56_12", "192.168.56.12"));
  rib.peer_up(b, ip("192.168.56.11"));
  rib.peer_up(c, ip("192.168.56.12"));
  rib.set_now(ms(1500));
  rib.update(c, pfx("10.244.2.0/26"), from_node("192.168.56.12"));
  BirdViewOptions options;
  options.banner = false;
  ShowRouteOptions show;
  show.export_to = b;
  // The mesh route is not exported to another mesh peer: only the static one shows.
  EXPECT_EQ(show_route(rib, options, show),
            "Table master4:\n"
            "10.244.0.0/26        blackhole [static1 00:00:00.000] * (200)\n");
}

}  // namespace
}  // namespace calisim::bgp
