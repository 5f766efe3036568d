// Filters: BIRD's prefix patterns and string patterns, the statement semantics (falling off the
// end rejects; a function's accept ends its caller), and Calico's filters as confd v3.28 writes
// them (bird_aggr.cfg.template, bird_ipam.cfg.template), alone and through a table.

#include <calisim/bgp/policy.hpp>
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

PathAttributes from_peer(const char* next_hop) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{};
  a.next_hop = ip(next_hop);
  a.local_pref = 100;
  return a;
}

TEST(BgpPolicy, PrefixPatterns) {
  auto p = PrefixPattern::parse("10.0.0.0/8{26,32}");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->matches(pfx("10.244.1.0/26")));
  EXPECT_TRUE(p->matches(pfx("10.244.1.5/32")));
  EXPECT_FALSE(p->matches(pfx("10.244.0.0/16")));
  EXPECT_FALSE(p->matches(pfx("11.0.0.0/26")));
  EXPECT_EQ(p->to_string(), "10.0.0.0/8{26,32}");
  // `net ~ 10.244.0.0/16`: the prefix itself and everything inside it.
  auto in = PrefixPattern::parse("10.244.0.0/16");
  ASSERT_TRUE(in);
  EXPECT_TRUE(in->matches(pfx("10.244.0.0/16")));
  EXPECT_TRUE(in->matches(pfx("10.244.3.7/32")));
  EXPECT_FALSE(in->matches(pfx("10.0.0.0/8")));
  // `-`: the prefix and the shorter ones that contain it.
  auto shorter = PrefixPattern::parse("10.244.0.0/16-");
  ASSERT_TRUE(shorter);
  EXPECT_TRUE(shorter->matches(pfx("10.0.0.0/8")));
  EXPECT_FALSE(shorter->matches(pfx("10.244.1.0/24")));
  EXPECT_FALSE(PrefixPattern::parse("10.0.0.0/8{30,26}").has_value());
  EXPECT_FALSE(PrefixPattern::parse("10.0.0.0/8{26,33}").has_value());
  EXPECT_FALSE(PrefixPattern::parse("10.0.0/8").has_value());
}

TEST(BgpPolicy, StringPatterns) {
  EXPECT_TRUE(pattern_match("*.calico", "vxlan.calico"));
  EXPECT_TRUE(pattern_match("*.cali", "wireguard.cali"));
  EXPECT_FALSE(pattern_match("*.cali", "wireguard.calico"));
  EXPECT_FALSE(pattern_match("*.calico", "tunl0"));
  EXPECT_TRUE(pattern_match("cali*", "cali08d091557e9"));
  EXPECT_TRUE(pattern_match("bpf*.cali", "bpfout.cali"));
  EXPECT_TRUE(pattern_match("eth?", "eth0"));
  EXPECT_FALSE(pattern_match("eth?", "eth10"));
}

TEST(BgpPolicy, FallingOffTheEndRejectsAndFunctionsEndTheirCaller) {
  PathAttributes attrs = from_peer("192.168.56.11");
  FilterRoute r(pfx("10.244.1.0/26"), RouteSource::kBgp, RouteDest::kUnicast, &attrs, "enp0s8");
  Filter empty;
  EXPECT_EQ(empty.run(r), Verdict::kContinue);
  EXPECT_FALSE(empty.accepts(r));

  Filter function("f");
  function.when(net_in(pfx("10.244.1.0/24")), accept());
  Filter caller;
  caller.call(function).then(set_local_pref(7)).reject();
  EXPECT_TRUE(caller.accepts(r));
  EXPECT_FALSE(r.attributes_changed());  // set_local_pref never ran
  FilterRoute other(pfx("10.99.0.0/24"), RouteSource::kBgp, RouteDest::kUnicast, &attrs);
  EXPECT_FALSE(caller.accepts(other));
  EXPECT_EQ(*other.attributes()->local_pref, 7u);
  EXPECT_EQ(*attrs.local_pref, 100u);  // copy on write: the stored set is untouched
}

TEST(BgpPolicy, AttributeActionsAndComparisons) {
  PathAttributes attrs = from_peer("192.168.56.11");
  attrs.as_path = AsPath::sequence({65001});
  FilterRoute r(pfx("10.99.0.0/24"), RouteSource::kBgp, RouteDest::kUnicast, &attrs);
  Filter f;
  f.when(as_path_contains(65001), {prepend_as(64512, 2), add_community(wire::bgp::community(64512, 100)),
                                   set_med(20)})
      .when(all_of({med_is(Compare::kEqual, 20), as_path_length_is(Compare::kEqual, 3),
                    community_contains(wire::bgp::community(64512, 100))}),
            accept());
  EXPECT_TRUE(f.accepts(r));
  EXPECT_EQ(r.attributes()->as_path->to_string(), "64512 64512 65001");
  EXPECT_EQ(r.fresh(), kFreshMed);
  Filter g;
  g.when(negate(local_pref_is(Compare::kGreater, 100)), reject()).accept();
  EXPECT_FALSE(g.accepts(r));
}

// A node with block 10.244.0.0/26 (confirmed), 10.244.0.64/26 (pending), pool 10.244.0.0/16 IPIP
// Always, a disabled pool 10.250.0.0/16, a VXLAN pool 10.96.0.0/16.
CalicoBirdConfig node_config() {
  CalicoBirdConfig c;
  c.pools = {{pfx("10.244.0.0/16"), EncapMode::kAlways, EncapMode::kNever, false},
             {pfx("10.250.0.0/16"), EncapMode::kNever, EncapMode::kNever, true},
             {pfx("10.96.0.0/16"), EncapMode::kNever, EncapMode::kAlways, false}};
  c.blocks = {{pfx("10.244.0.0/26"), BlockAffinityState::kConfirmed},
              {pfx("10.244.0.64/26"), BlockAffinityState::kPending}};
  c.network = pfx("192.168.56.10/24");
  return c;
}

bool exported(const Filter& f, const char* net, RouteSource source, std::string_view ifname = {}) {
  FilterRoute r(pfx(net), source, source == RouteSource::kStatic ? RouteDest::kBlackhole : RouteDest::kUnicast,
                nullptr, ifname);
  return f.accepts(r);
}

TEST(BgpPolicy, CalicoExportToMeshPeers) {
  Filter f = calico_peer_export(node_config(), true);
  EXPECT_TRUE(exported(f, "10.244.0.0/26", RouteSource::kStatic));                // own block
  EXPECT_FALSE(exported(f, "10.244.0.3/32", RouteSource::kInherit, "cali1234"));   // inside it
  EXPECT_TRUE(exported(f, "10.244.1.5/32", RouteSource::kInherit, "cali5678"));    // borrowed
  EXPECT_FALSE(exported(f, "10.250.0.0/26", RouteSource::kStatic));               // disabled pool
  EXPECT_FALSE(exported(f, "192.168.56.0/24", RouteSource::kDevice, "enp0s8"));   // no pool
  // Felix's VXLAN routes, learned from the kernel: not to internal peers, but to external ones.
  EXPECT_FALSE(exported(f, "10.96.1.0/26", RouteSource::kInherit, "vxlan.calico"));
  EXPECT_TRUE(exported(calico_peer_export(node_config(), false), "10.96.1.0/26", RouteSource::kInherit,
                       "vxlan.calico"));
  // A pending block does not aggregate: a /32 inside it goes out on its own.
  EXPECT_TRUE(exported(f, "10.244.0.70/32", RouteSource::kInherit, "cali9"));
  // The function alone decides nothing for routes outside the pools: the peer's `reject` does.
  FilterRoute outside(pfx("172.16.0.0/24"), RouteSource::kStatic, RouteDest::kBlackhole, nullptr);
  EXPECT_EQ(calico_export_to_bgp_peers(node_config(), true).run(outside), Verdict::kContinue);
}

TEST(BgpPolicy, CalicoCommunitiesAndStaticRoutes) {
  CalicoBirdConfig c = node_config();
  c.communities = {{pfx("10.244.0.0/16"), {wire::bgp::community(64512, 100)}}};
  c.static_routes = {pfx("10.101.0.0/16")};
  Filter f = calico_peer_export(c, true);
  FilterRoute block(pfx("10.244.0.0/26"), RouteSource::kStatic, RouteDest::kBlackhole, nullptr);
  ASSERT_TRUE(f.accepts(block));
  ASSERT_NE(block.attributes(), nullptr);
  EXPECT_EQ(block.attributes()->communities, (std::vector<std::uint32_t>{wire::bgp::community(64512, 100)}));
  EXPECT_TRUE(exported(f, "10.101.0.0/16", RouteSource::kStatic));
  EXPECT_EQ(calico_static_blackholes(c),
            (std::vector<Ipv4Prefix>{pfx("10.244.0.0/26"), pfx("10.244.0.64/26"), pfx("10.101.0.0/16")}));
}

struct KernelVerdict {
  bool accepted;
  std::optional<std::string> tunnel;
};

KernelVerdict kernel(const CalicoBirdConfig& c, const char* net, const char* next_hop) {
  PathAttributes a = from_peer(next_hop);
  FilterRoute r(pfx(net), RouteSource::kBgp, RouteDest::kUnicast, &a, "enp0s8", a.next_hop);
  bool ok = calico_kernel_programming(c).accepts(r);
  return {ok, r.krt_tunnel};
}

TEST(BgpPolicy, CalicoKernelProgrammingPerEncapMode) {
  CalicoBirdConfig c = node_config();
  KernelVerdict v = kernel(c, "10.244.1.0/26", "192.168.56.11");  // IPIP Always
  EXPECT_TRUE(v.accepted);
  EXPECT_EQ(v.tunnel, "tunl0");
  c.pools[0].ipip_mode = EncapMode::kCrossSubnet;
  v = kernel(c, "10.244.1.0/26", "192.168.56.11");  // same subnet: no tunnel
  EXPECT_TRUE(v.accepted);
  EXPECT_EQ(v.tunnel, "");
  v = kernel(c, "10.244.2.0/26", "10.0.5.20");  // another subnet: tunnel
  EXPECT_EQ(v.tunnel, "tunl0");
  c.pools[0].ipip_mode = EncapMode::kNever;
  v = kernel(c, "10.244.1.0/26", "10.0.5.20");  // no encapsulation
  EXPECT_TRUE(v.accepted);
  EXPECT_EQ(v.tunnel, "");
  EXPECT_FALSE(kernel(c, "10.96.1.0/26", "192.168.56.11").accepted);  // VXLAN: Felix's job
  v = kernel(c, "172.16.0.0/24", "192.168.56.11");  // outside every pool: accepted as it is
  EXPECT_TRUE(v.accepted);
  EXPECT_FALSE(v.tunnel.has_value());
  c.reject_cidrs = {pfx("10.244.1.0/24")};
  EXPECT_FALSE(kernel(c, "10.244.1.0/26", "192.168.56.11").accepted);
  // Without network_v4 confd writes no pool statements: even VXLAN routes are accepted.
  CalicoBirdConfig bare = node_config();
  bare.network.reset();
  v = kernel(bare, "10.96.1.0/26", "192.168.56.11");
  EXPECT_TRUE(v.accepted);
  EXPECT_FALSE(v.tunnel.has_value());
}

// Own block + a borrowed /32 + a block of a disabled pool, through the table to a mesh peer.
TEST(BgpPolicy, CalicoExportThroughTheTable) {
  CalicoBirdConfig c = node_config();
  c.blocks.push_back({pfx("10.250.0.0/26"), BlockAffinityState::kConfirmed});
  RibConfig rc;
  rc.router_id = ip("192.168.56.10");
  Rib rib(rc);
  PeerConfig peer;
  peer.name = "Mesh_192_168_56_11";
  peer.address = ip("192.168.56.11");
  peer.source_address = ip("192.168.56.10");
  peer.export_filter = calico_peer_export(c, true);
  SourceId mesh = rib.add_peer(peer);
  SourceId kernel1 = rib.add_protocol("kernel1", RouteSource::kInherit);
  for (const Ipv4Prefix& block : calico_static_blackholes(c)) rib.originate(block);
  rib.originate(kernel1, pfx("10.244.0.3/32"), LocalRoute{RouteDest::kUnicast, {}, "cali1234"});
  rib.originate(kernel1, pfx("10.244.1.5/32"), LocalRoute{RouteDest::kUnicast, {}, "cali5678"});
  rib.peer_up(mesh, ip("192.168.56.11"));
  PeerUpdate out = rib.drain(mesh);
  ASSERT_EQ(out.announced.size(), 1u);
  EXPECT_EQ(out.announced[0].prefixes,
            (std::vector<Ipv4Prefix>{pfx("10.244.0.0/26"), pfx("10.244.0.64/26"), pfx("10.244.1.5/32")}));
  EXPECT_EQ(out.announced[0].attributes, from_peer("192.168.56.10"));
  EXPECT_TRUE(out.withdrawn.empty());
}

}  // namespace
}  // namespace calisim::bgp
