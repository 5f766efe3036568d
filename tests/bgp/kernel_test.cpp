// Kernel programming as calico-node's BIRD does it, checked with the namespace's own `ip route`
// view: the lines of a real BGP+IPIP node (calico.md §1.3, issue #8953), CrossSubnet on and
// off the node's subnet (issue #7462), withdrawal and replacement; learning Felix's routes;
// sync errors; `protocol direct`.

#include <calisim/bgp/bird_views.hpp>
#include <calisim/bgp/kernel.hpp>
#include <calisim/bgp/policy.hpp>
#include <calisim/bgp/rib.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/tunnel.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/dataplane/views.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace calisim::bgp {
namespace {

using dataplane::Namespace;
using dataplane::Route;
using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;
using wire::bgp::AsPath;
using wire::bgp::Origin;
using wire::bgp::PathAttributes;

Ipv4Prefix pfx(const char* text) { return *Ipv4Prefix::parse(text); }
Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

PathAttributes from_node(const char* next_hop) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{};
  a.next_hop = ip(next_hop);
  a.local_pref = 100;
  return a;
}

// Node 192.168.56.10/24 on enp0s8 with tunl0, its own block 10.244.0.0/26, pool 10.244.0.0/16.
struct Node {
  Simulator sim;
  wire::PacketPool pool;
  Namespace ns{sim, pool, "node-a"};
  Namespace lan{sim, pool, "lan"};
  CalicoBirdConfig calico;
  std::unique_ptr<Rib> rib;
  std::unique_ptr<KernelProtocol> kernel;

  explicit Node(EncapMode ipip, EncapMode vxlan = EncapMode::kNever) {
    ns.add_device<dataplane::IpipTunnel>();
    EXPECT_TRUE(ns.set_up("tunl0", true));
    dataplane::Veth::create(ns, "enp0s8", MacAddress({0x08, 0x00, 0x27, 0x00, 0x00, 0x0a}), lan, "sw",
                            MacAddress({0x08, 0x00, 0x27, 0x00, 0x00, 0xfe}));
    EXPECT_TRUE(ns.set_up("enp0s8", true));
    EXPECT_TRUE(lan.set_up("sw", true));
    EXPECT_TRUE(ns.add_address("enp0s8", pfx("192.168.56.10/24")));
    calico.pools = {{pfx("10.244.0.0/16"), ipip, vxlan, false}};
    calico.blocks = {{pfx("10.244.0.0/26"), BlockAffinityState::kConfirmed}};
    calico.network = pfx("192.168.56.10/24");
    RibConfig rc;
    rc.router_id = ip("192.168.56.10");
    rc.resolver = kernel_resolver(ns);
    rib = std::make_unique<Rib>(rc);
    KernelConfig kc;
    kc.export_filter = calico_kernel_programming(calico);
    kernel = std::make_unique<KernelProtocol>(*rib, ns, kc);
    for (const Ipv4Prefix& block : calico_static_blackholes(calico)) rib->originate(block);
  }

  SourceId peer(const char* address) {
    PeerConfig p;
    p.name = std::string("Mesh_") + address;
    p.address = ip(address);
    p.source_address = ip("192.168.56.10");
    p.export_filter = calico_peer_export(calico, true);
    SourceId s = rib->add_peer(p);
    rib->peer_up(s, ip(address));
    return s;
  }

  std::string ip_route() { return dataplane::views::ip_route(ns); }
};

TEST(BgpKernel, IpipAlwaysGoesThroughTunl0Onlink) {
  Node n(EncapMode::kAlways);
  SourceId b = n.peer("192.168.56.11");
  n.rib->update(b, pfx("10.244.1.0/26"), from_node("192.168.56.11"));
  KernelSyncResult r = n.kernel->sync();
  EXPECT_EQ(r.added, 2u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(n.ip_route(),
            "blackhole 10.244.0.0/26 proto bird \n"
            "10.244.1.0/26 via 192.168.56.11 dev tunl0 proto bird onlink \n"
            "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
  // Nothing changed: nothing to do.
  r = n.kernel->sync();
  EXPECT_EQ(r.added + r.removed + r.replaced, 0u);
}

TEST(BgpKernel, CrossSubnetTunnelsOnlyOffTheSubnet) {
  Node n(EncapMode::kCrossSubnet);
  // Another subnet's nodes are reached through the default gateway.
  Route def;
  def.destination = pfx("0.0.0.0/0");
  def.gateway = ip("192.168.56.1");
  def.ifindex = n.ns.device("enp0s8")->ifindex();
  ASSERT_TRUE(n.ns.fib().add_route(def));
  SourceId b = n.peer("192.168.56.11");
  SourceId c = n.peer("10.0.5.20");
  n.rib->update(b, pfx("10.244.1.0/26"), from_node("192.168.56.11"));
  n.rib->update(c, pfx("10.244.2.0/26"), from_node("10.0.5.20"));
  EXPECT_TRUE(n.kernel->sync().errors.empty());
  EXPECT_EQ(n.ip_route(),
            "default via 192.168.56.1 dev enp0s8 \n"
            "blackhole 10.244.0.0/26 proto bird \n"
            "10.244.1.0/26 via 192.168.56.11 dev enp0s8 proto bird \n"
            "10.244.2.0/26 via 10.0.5.20 dev tunl0 proto bird onlink \n"
            "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
  // BIRD's table shows the recursive gateway for the off-subnet node's block.
  auto best = n.rib->best(pfx("10.244.2.0/26"));
  ASSERT_TRUE(best);
  EXPECT_EQ(*best->gateway, ip("192.168.56.1"));
}

TEST(BgpKernel, NoEncapAndVxlanPools) {
  Node never(EncapMode::kNever);
  SourceId b = never.peer("192.168.56.11");
  never.rib->update(b, pfx("10.244.1.0/26"), from_node("192.168.56.11"));
  never.kernel->sync();
  EXPECT_EQ(never.ip_route(),
            "blackhole 10.244.0.0/26 proto bird \n"
            "10.244.1.0/26 via 192.168.56.11 dev enp0s8 proto bird \n"
            "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
  // VXLAN: Felix programs remote blocks (and its own blackhole, proto 80); BIRD programs none.
  Node vxlan(EncapMode::kNever, EncapMode::kAlways);
  SourceId c = vxlan.peer("192.168.56.11");
  vxlan.rib->update(c, pfx("10.244.1.0/26"), from_node("192.168.56.11"));
  vxlan.kernel->sync();
  EXPECT_EQ(vxlan.ip_route(), "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
}

TEST(BgpKernel, WithdrawalAndReplacement) {
  Node n(EncapMode::kAlways);
  SourceId b = n.peer("192.168.56.11");
  SourceId c = n.peer("192.168.56.12");
  n.rib->update(b, pfx("10.244.1.0/26"), from_node("192.168.56.11"));
  n.kernel->sync();
  // The block moves to another node: the route is replaced (delete, then add).
  n.rib->withdraw(b, pfx("10.244.1.0/26"));
  n.rib->update(c, pfx("10.244.1.0/26"), from_node("192.168.56.12"));
  KernelSyncResult r = n.kernel->sync();
  EXPECT_EQ(r.replaced, 1u);
  EXPECT_EQ(n.ip_route(),
            "blackhole 10.244.0.0/26 proto bird \n"
            "10.244.1.0/26 via 192.168.56.12 dev tunl0 proto bird onlink \n"
            "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
  // The session to it goes down: the route goes.
  n.rib->peer_down(c);
  r = n.kernel->sync();
  EXPECT_EQ(r.removed, 1u);
  EXPECT_EQ(n.kernel->installed(pfx("10.244.1.0/26")), nullptr);
  EXPECT_EQ(n.ip_route(),
            "blackhole 10.244.0.0/26 proto bird \n"
            "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
  // The block is released: the blackhole goes too.
  n.rib->withdraw_local(pfx("10.244.0.0/26"));
  n.kernel->sync();
  EXPECT_EQ(n.ip_route(), "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
}

TEST(BgpKernel, LearnsFelixRoutesAndExportsTheBorrowedAddress) {
  Node n(EncapMode::kAlways);
  SourceId b = n.peer("192.168.56.11");
  n.kernel->sync();
  n.rib->drain(b);
  // Felix's pod routes (`ip route add <pod> dev caliX scope link`, proto boot): one address from
  // our block, one borrowed from 192.168.56.11's block.
  for (const char* pod : {"10.244.0.3/32", "10.244.1.5/32"}) {
    auto [cali, eth0] = dataplane::Veth::create(n.ns, std::string("cali") + (pod[7] == '0' ? "1234" : "5678"),
                                                MacAddress({0xee, 0xee, 0xee, 0xee, 0xee, 0xee}), n.lan,
                                                std::string("pod") + pod[7],
                                                MacAddress({0x52, 0x21, 0x08, 0xfd, 0x16, 0x4c}));
    ASSERT_TRUE(n.ns.set_up(cali.name(), true));
    ASSERT_TRUE(n.lan.set_up(eth0.name(), true));
    Route r;
    r.destination = pfx(pod);
    r.ifindex = cali.ifindex();
    r.scope = dataplane::RouteScope::kLink;
    ASSERT_TRUE(n.ns.fib().add_route(r));
  }
  EXPECT_EQ(n.kernel->scan(), 2u);
  EXPECT_EQ(n.kernel->scan(), 0u);  // already known
  auto learned = n.rib->best(pfx("10.244.1.5/32"));
  ASSERT_TRUE(learned);
  EXPECT_EQ(learned->protocol, "kernel1");
  EXPECT_EQ(learned->kind, RouteSource::kInherit);
  EXPECT_EQ(learned->preference, 10u);
  ASSERT_NE(learned->kernel, nullptr);
  EXPECT_EQ(*learned->kernel, (KernelRouteAttributes{3, 0, 253}));
  // Only the borrowed /32 goes to the mesh; the other is inside our aggregated block.
  PeerUpdate out = n.rib->drain(b);
  ASSERT_EQ(out.announced.size(), 1u);
  EXPECT_EQ(out.announced[0].prefixes, (std::vector<Ipv4Prefix>{pfx("10.244.1.5/32")}));
  EXPECT_EQ(*out.announced[0].attributes.next_hop, ip("192.168.56.10"));
  // Learned routes are not programmed back, and nothing of ours is learned.
  EXPECT_EQ(n.kernel->sync().added, 0u);
  EXPECT_EQ(n.kernel->installed_count(), 1u);
  // The pod goes: so does the route.
  ASSERT_TRUE(n.ns.fib().remove_route({.destination = pfx("10.244.1.5/32")}));
  EXPECT_EQ(n.kernel->scan(), 1u);
  EXPECT_EQ(n.rib->drain(b).withdrawn, (std::vector<Ipv4Prefix>{pfx("10.244.1.5/32")}));
}

TEST(BgpKernel, SyncErrorsShowAndAreRetried) {
  Node n(EncapMode::kAlways);
  SourceId b = n.peer("192.168.56.11");
  // Someone else's route with the same key: BIRD's add fails with EEXIST.
  Route alien;
  alien.destination = pfx("10.244.1.0/26");
  alien.type = dataplane::RouteType::kUnreachable;
  alien.protocol = dataplane::route_protocol::kStatic;
  ASSERT_TRUE(n.ns.fib().add_route(alien));
  n.rib->set_now(Time::from_ns(2'000'000'000));
  n.rib->update(b, pfx("10.244.1.0/26"), from_node("192.168.56.11"));
  KernelSyncResult r = n.kernel->sync();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "10.244.1.0/26: Netlink: File exists");
  EXPECT_TRUE(n.kernel->sync_error(pfx("10.244.1.0/26")));
  BirdViewOptions view;
  view.banner = false;
  ShowRouteOptions show;
  show.prefix = pfx("10.244.1.0/26");
  show.kernel = n.kernel.get();
  EXPECT_EQ(show_route(*n.rib, view, show),
            "Table master4:\n"
            "10.244.1.0/26        unicast [Mesh_192.168.56.11 00:00:02.000] ! (100) [i]\n"
            "\tvia 192.168.56.11 on enp0s8\n");
  // The other route goes; the next scan installs ours.
  ASSERT_TRUE(n.ns.fib().remove_route({.destination = pfx("10.244.1.0/26")}));
  n.kernel->scan();
  EXPECT_FALSE(n.kernel->sync_error(pfx("10.244.1.0/26")));
  ASSERT_NE(n.kernel->installed(pfx("10.244.1.0/26")), nullptr);
  // Our route deleted by hand (`ip route del`) comes back at the next scan.
  ASSERT_TRUE(n.ns.fib().remove_route({.destination = pfx("10.244.1.0/26")}));
  n.kernel->scan();
  EXPECT_EQ(n.ip_route(),
            "blackhole 10.244.0.0/26 proto bird \n"
            "10.244.1.0/26 via 192.168.56.11 dev tunl0 proto bird onlink \n"
            "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
  EXPECT_EQ(n.kernel->flush(), 2u);
  EXPECT_EQ(n.ip_route(), "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
}

TEST(BgpKernel, UnresolvableNextHopsAreInstalledUnreachable) {
  // A node whose next hop no route leads to: BIRD marks the route unreachable and, as a
  // Calico node does, the kernel gets `unreachable X proto bird`.
  Node n(EncapMode::kNever);
  SourceId c = n.peer("10.0.5.20");
  n.rib->update(c, pfx("10.244.2.0/26"), from_node("10.0.5.20"));
  n.kernel->sync();
  EXPECT_EQ(n.ip_route(),
            "blackhole 10.244.0.0/26 proto bird \n"
            "unreachable 10.244.2.0/26 proto bird \n"
            "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
  // A default route appears: the next hop resolves after a refresh.
  Route def;
  def.destination = pfx("0.0.0.0/0");
  def.gateway = ip("192.168.56.1");
  def.ifindex = n.ns.device("enp0s8")->ifindex();
  ASSERT_TRUE(n.ns.fib().add_route(def));
  EXPECT_EQ(n.rib->refresh_next_hops(), 1u);
  n.kernel->sync();
  EXPECT_EQ(n.ip_route(),
            "default via 192.168.56.1 dev enp0s8 \n"
            "blackhole 10.244.0.0/26 proto bird \n"
            "10.244.2.0/26 via 192.168.56.1 dev enp0s8 proto bird \n"
            "192.168.56.0/24 dev enp0s8 proto kernel scope link src 192.168.56.10 \n");
}

TEST(BgpKernel, DirectProtocolFollowsTheDevices) {
  Node n(EncapMode::kAlways);
  ASSERT_TRUE(n.ns.add_address("tunl0", pfx("10.244.0.1/32")));
  auto [cali, eth0] = dataplane::Veth::create(n.ns, "cali1234", MacAddress({0xee, 0xee, 0xee, 0xee, 0xee, 0xee}),
                                              n.lan, "pod", MacAddress({0x52, 0x21, 0x08, 0xfd, 0x16, 0x4c}));
  ASSERT_TRUE(n.ns.set_up(cali.name(), true));
  ASSERT_TRUE(n.ns.add_address("cali1234", pfx("169.254.1.1/32")));
  DirectProtocol direct(*n.rib, n.ns);
  EXPECT_EQ(direct.sync(), 2u);
  auto lan = n.rib->best(pfx("192.168.56.0/24"));
  ASSERT_TRUE(lan);
  EXPECT_EQ(lan->protocol, "direct1");
  EXPECT_EQ(lan->interface, "enp0s8");
  EXPECT_EQ(lan->preference, 240u);
  EXPECT_TRUE(n.rib->best(pfx("10.244.0.1/32")));
  EXPECT_FALSE(n.rib->best(pfx("169.254.1.1/32")));
  // Device routes are not installed (no `device routes` in BIRD 1.6).
  n.kernel->sync();
  EXPECT_EQ(n.kernel->installed(pfx("192.168.56.0/24")), nullptr);
  ASSERT_TRUE(n.ns.set_up("enp0s8", false));
  EXPECT_EQ(direct.sync(), 1u);
  EXPECT_FALSE(n.rib->best(pfx("192.168.56.0/24")));
}

}  // namespace
}  // namespace calisim::bgp
