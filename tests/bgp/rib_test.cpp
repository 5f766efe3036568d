// The Loc-RIB decision process (one test per tie-break of bgp_rte_better, in BIRD's order), BIRD's
// route list order, the incremental API, iBGP split horizon, route reflection with its loop
// checks, next hops, and graceful restart. Expected attribute sets were checked against BIRD
// 2.0.12 in a lab (three Calico-like nodes, one as route reflector with cluster id 1.1.1.1, one
// eBGP neighbour in AS 65001).

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

// What an iBGP mesh neighbour sends for its block: ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100.
PathAttributes ibgp(const char* next_hop, std::uint32_t local_pref = 100) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{};
  a.next_hop = ip(next_hop);
  a.local_pref = local_pref;
  return a;
}

PathAttributes ebgp(const char* next_hop, std::vector<std::uint32_t> path) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath::sequence(std::move(path));
  a.next_hop = ip(next_hop);
  return a;
}

PeerConfig mesh(const char* address) {
  PeerConfig p;
  p.name = "Mesh_" + std::string(address);
  for (char& c : p.name) {
    if (c == '.') c = '_';
  }
  p.address = ip(address);
  p.as_number = 64512;
  p.source_address = ip("192.168.56.10");
  p.interface = "enp0s8";
  p.export_filter = Filter::accept_all();
  return p;
}

PeerConfig external(const char* name, const char* address, std::uint32_t as_number) {
  PeerConfig p;
  p.name = name;
  p.address = ip(address);
  p.as_number = as_number;
  p.source_address = ip("192.168.56.10");
  p.export_filter = Filter::accept_all();
  return p;
}

RibConfig node_a() {
  RibConfig c;
  c.local_as = 64512;
  c.router_id = ip("192.168.56.10");
  return c;
}

std::vector<std::string> protocols_of(const std::vector<RibRoute>& routes) {
  std::vector<std::string> out;
  for (const RibRoute& r : routes) out.emplace_back(r.protocol);
  return out;
}

std::string best_protocol(const Rib& rib, const char* prefix) {
  auto best = rib.best(pfx(prefix));
  return best ? std::string(best->protocol) : "(none)";
}

// ---- decision process, one step each --------------------------------------------------------

TEST(BgpRibDecision, StaticPreferenceBeatsBgp) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  rib.peer_up(a, ip("192.168.56.11"));
  EXPECT_TRUE(rib.originate(pfx("10.244.0.0/26")));
  // A neighbour announcing our own block with a huge LOCAL_PREF still loses: 200 > 100.
  EXPECT_EQ(rib.update(a, pfx("10.244.0.0/26"), ibgp("192.168.56.11", 1000)), ImportResult::kAccepted);
  EXPECT_EQ(best_protocol(rib, "10.244.0.0/26"), "static1");
  EXPECT_EQ(protocols_of(rib.routes(pfx("10.244.0.0/26"))),
            (std::vector<std::string>{"static1", "Mesh_192_168_56_11"}));
  EXPECT_EQ(rib.best(pfx("10.244.0.0/26"))->dest, RouteDest::kBlackhole);
  EXPECT_TRUE(rib.withdraw_local(pfx("10.244.0.0/26")));
  EXPECT_EQ(best_protocol(rib, "10.244.0.0/26"), "Mesh_192_168_56_11");
}

TEST(BgpRibDecision, ResolvableNextHopBeatsHigherLocalPref) {
  RibConfig config = node_a();
  config.resolver = [](Ipv4Address nh) -> std::optional<ResolvedNextHop> {
    if (nh == Ipv4Address(10, 0, 0, 99)) return std::nullopt;
    return ResolvedNextHop{"enp0s8", std::nullopt};
  };
  Rib rib(config);
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId b = rib.add_peer(mesh("192.168.56.12"));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.peer_up(b, ip("192.168.56.12"));
  rib.update(a, pfx("10.244.1.0/26"), ibgp("10.0.0.99", 500));
  rib.update(b, pfx("10.244.1.0/26"), ibgp("192.168.56.12", 100));
  EXPECT_EQ(best_protocol(rib, "10.244.1.0/26"), "Mesh_192_168_56_12");
  auto routes = rib.routes(pfx("10.244.1.0/26"));
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[1].dest, RouteDest::kUnreachable);
  EXPECT_FALSE(routes[1].gateway.has_value());
}

TEST(BgpRibDecision, HighestLocalPrefWins) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId b = rib.add_peer(mesh("192.168.56.12"));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.peer_up(b, ip("192.168.56.12"));
  rib.update(a, pfx("10.244.1.0/26"), ibgp("192.168.56.11", 100));
  rib.update(b, pfx("10.244.1.0/26"), ibgp("192.168.56.12", 200));
  EXPECT_EQ(best_protocol(rib, "10.244.1.0/26"), "Mesh_192_168_56_12");
}

TEST(BgpRibDecision, ShortestAsPathWins) {
  Rib rib(node_a());
  SourceId x = rib.add_peer(external("X", "192.168.56.20", 65001));
  SourceId y = rib.add_peer(external("Y", "192.168.56.21", 65002));
  rib.peer_up(x, ip("192.168.56.20"));
  rib.peer_up(y, ip("192.168.56.21"));
  rib.update(x, pfx("10.99.0.0/24"), ebgp("192.168.56.20", {65001, 65010}));
  rib.update(y, pfx("10.99.0.0/24"), ebgp("192.168.56.21", {65002}));
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "Y");
}

TEST(BgpRibDecision, LowestOriginWins) {
  Rib rib(node_a());
  SourceId x = rib.add_peer(external("X", "192.168.56.20", 65001));
  SourceId y = rib.add_peer(external("Y", "192.168.56.21", 65002));
  rib.peer_up(x, ip("192.168.56.20"));
  rib.peer_up(y, ip("192.168.56.21"));
  PathAttributes incomplete = ebgp("192.168.56.20", {65001});
  incomplete.origin = Origin::kIncomplete;
  rib.update(x, pfx("10.99.0.0/24"), incomplete);
  rib.update(y, pfx("10.99.0.0/24"), ebgp("192.168.56.21", {65002}));
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "Y");
}

TEST(BgpRibDecision, LowestMedFromTheSameNeighbourAs) {
  Rib rib(node_a());
  SourceId x = rib.add_peer(external("X", "192.168.56.20", 65001));
  SourceId y = rib.add_peer(external("Y", "192.168.56.21", 65001));
  rib.peer_up(x, ip("192.168.56.20"));
  rib.peer_up(y, ip("192.168.56.21"));
  PathAttributes high = ebgp("192.168.56.20", {65001});
  high.multi_exit_disc = 50;
  PathAttributes low = ebgp("192.168.56.21", {65001});
  low.multi_exit_disc = 10;
  rib.update(x, pfx("10.99.0.0/24"), high);
  rib.update(y, pfx("10.99.0.0/24"), low);
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "Y");
}

TEST(BgpRibDecision, MedIgnoredAcrossNeighbourAsesUnlessMedMetric) {
  for (bool med_metric : {false, true}) {
    RibConfig config = node_a();
    config.med_metric = med_metric;
    Rib rib(config);
    SourceId x = rib.add_peer(external("X", "192.168.56.20", 65001));
    SourceId y = rib.add_peer(external("Y", "192.168.56.21", 65002));
    rib.peer_up(x, ip("192.168.56.20"));
    rib.peer_up(y, ip("192.168.56.21"));
    PathAttributes high = ebgp("192.168.56.20", {65001});
    high.multi_exit_disc = 50;
    PathAttributes low = ebgp("192.168.56.21", {65002});
    low.multi_exit_disc = 10;
    rib.update(x, pfx("10.99.0.0/24"), high);
    rib.update(y, pfx("10.99.0.0/24"), low);
    // Without `med metric` the MEDs are not compared; the lower router id (X) decides.
    EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), med_metric ? "Y" : "X") << med_metric;
  }
}

TEST(BgpRibDecision, ExternalBeatsInternal) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId x = rib.add_peer(external("X", "192.168.56.20", 65001));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.peer_up(x, ip("192.168.56.20"));
  // The same path through a mesh neighbour (which heard it from AS 65001) and directly.
  PathAttributes via_mesh = ebgp("192.168.56.20", {65001});
  via_mesh.local_pref = 100;
  rib.update(a, pfx("10.99.0.0/24"), via_mesh);
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "Mesh_192_168_56_11");
  rib.update(x, pfx("10.99.0.0/24"), ebgp("192.168.56.20", {65001}));
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "X");
}

TEST(BgpRibDecision, LowestRouterIdWins) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId b = rib.add_peer(mesh("192.168.56.12"));
  rib.peer_up(a, ip("10.0.0.9"));
  rib.peer_up(b, ip("10.0.0.5"));
  rib.update(a, pfx("10.99.0.0/24"), ibgp("192.168.56.30"));
  rib.update(b, pfx("10.99.0.0/24"), ibgp("192.168.56.30"));
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "Mesh_192_168_56_12");
}

TEST(BgpRibDecision, OriginatorIdStandsInForTheRouterId) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId b = rib.add_peer(mesh("192.168.56.12"));
  rib.peer_up(a, ip("10.0.0.9"));
  rib.peer_up(b, ip("10.0.0.5"));
  PathAttributes reflected = ibgp("192.168.56.30");
  reflected.originator_id = ip("10.0.0.1");
  reflected.cluster_list = {ip("1.1.1.1")};
  rib.update(a, pfx("10.99.0.0/24"), reflected);
  rib.update(b, pfx("10.99.0.0/24"), ibgp("192.168.56.30"));
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "Mesh_192_168_56_11");
}

TEST(BgpRibDecision, ShortestClusterListWins) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId b = rib.add_peer(mesh("192.168.56.12"));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.peer_up(b, ip("192.168.56.12"));
  PathAttributes two = ibgp("192.168.56.30");
  two.originator_id = ip("10.0.0.1");
  two.cluster_list = {ip("1.1.1.1"), ip("2.2.2.2")};
  PathAttributes one = two;
  one.cluster_list = {ip("3.3.3.3")};
  rib.update(a, pfx("10.99.0.0/24"), two);
  rib.update(b, pfx("10.99.0.0/24"), one);
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "Mesh_192_168_56_12");
}

TEST(BgpRibDecision, LowestPeerAddressLast) {
  Rib rib(node_a());
  SourceId b = rib.add_peer(mesh("192.168.56.12"));
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.peer_up(b, ip("192.168.56.12"));
  PathAttributes reflected = ibgp("192.168.56.30");
  reflected.originator_id = ip("10.0.0.1");
  reflected.cluster_list = {ip("1.1.1.1")};
  rib.update(b, pfx("10.99.0.0/24"), reflected);
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "Mesh_192_168_56_12");
  rib.update(a, pfx("10.99.0.0/24"), reflected);
  EXPECT_EQ(best_protocol(rib, "10.99.0.0/24"), "Mesh_192_168_56_11");
}

// rte_recalculate's cases: a better route goes first; a worse one where the source's old route
// was (or last); when the best goes, the best of the rest moves to the front.
TEST(BgpRibDecision, RouteListKeepsBirdsOrder) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId b = rib.add_peer(mesh("192.168.56.12"));
  SourceId c = rib.add_peer(mesh("192.168.56.13"));
  for (SourceId s : {a, b, c}) rib.peer_up(s, rib.peer(s).address);
  const Ipv4Prefix p = pfx("10.99.0.0/24");
  EXPECT_EQ(rib.update(a, p, ibgp("192.168.56.30", 300)), ImportResult::kAccepted);
  rib.update(b, p, ibgp("192.168.56.30", 100));
  rib.update(c, p, ibgp("192.168.56.30", 200));
  EXPECT_EQ(protocols_of(rib.routes(p)),
            (std::vector<std::string>{"Mesh_192_168_56_11", "Mesh_192_168_56_12", "Mesh_192_168_56_13"}));
  rib.update(b, p, ibgp("192.168.56.30", 400));  // better than the best: to the front
  EXPECT_EQ(protocols_of(rib.routes(p)),
            (std::vector<std::string>{"Mesh_192_168_56_12", "Mesh_192_168_56_11", "Mesh_192_168_56_13"}));
  rib.update(b, p, ibgp("192.168.56.30", 150));  // the best got worse: re-elected (A, 300)
  EXPECT_EQ(protocols_of(rib.routes(p)),
            (std::vector<std::string>{"Mesh_192_168_56_11", "Mesh_192_168_56_12", "Mesh_192_168_56_13"}));
  EXPECT_TRUE(rib.withdraw(a, p));  // the best goes: C (200) beats B (150)
  EXPECT_EQ(protocols_of(rib.routes(p)),
            (std::vector<std::string>{"Mesh_192_168_56_13", "Mesh_192_168_56_12"}));
  EXPECT_FALSE(rib.withdraw(b, p));  // a non-best route goes: the best stays
  EXPECT_EQ(rib.route_count(), 1u);
}

// ---- the incremental API -----------------------------------------------------------------------

TEST(BgpRib, UpdatesReportBestChangesAndKeepTheirTime) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.set_now(Time::from_ns(1'000'000'000));
  std::vector<Ipv4Prefix> both = {pfx("10.244.1.0/26"), pfx("10.244.1.64/26")};
  ImportSummary s = rib.update(a, both, ibgp("192.168.56.11"));
  EXPECT_EQ(s.accepted, 2u);
  EXPECT_EQ(s.best_changes, 2u);
  rib.set_now(Time::from_ns(5'000'000'000));
  // The same route again: nothing changes, not even the time ("ignored").
  s = rib.update(a, both, ibgp("192.168.56.11"));
  EXPECT_EQ(s.best_changes, 0u);
  EXPECT_EQ(rib.best(pfx("10.244.1.0/26"))->since, Time::from_ns(1'000'000'000));
  EXPECT_EQ(rib.update(a, pfx("10.244.1.0/26"), ibgp("192.168.56.11", 120)), ImportResult::kAccepted);
  EXPECT_EQ(rib.best(pfx("10.244.1.0/26"))->since, Time::from_ns(5'000'000'000));
  EXPECT_EQ(*rib.adj_rib_in(a, pfx("10.244.1.0/26"))->local_pref, 120u);
  EXPECT_EQ(rib.adj_rib_in_size(a), 2u);
  EXPECT_EQ(rib.size(), 2u);
}

TEST(BgpRib, PeerDownWithdrawsEverythingItSent) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId x = rib.add_peer(external("X", "192.168.56.20", 65001));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.peer_up(x, ip("192.168.56.20"));
  std::vector<Ipv4Prefix> blocks = {pfx("10.244.1.0/26"), pfx("10.244.1.64/26"), pfx("10.244.1.128/26")};
  rib.update(a, blocks, ibgp("192.168.56.11"));
  EXPECT_EQ(rib.drain(x).announced_count(), 3u);
  EXPECT_EQ(rib.peer_down(a), 3u);
  EXPECT_EQ(rib.size(), 0u);
  EXPECT_EQ(rib.adj_rib_in_size(a), 0u);
  PeerUpdate out = rib.drain(x);
  EXPECT_EQ(out.withdrawn, blocks);
  EXPECT_TRUE(out.announced.empty());
  EXPECT_EQ(rib.adj_rib_out_size(x), 0u);
}

TEST(BgpRib, OwnBlocksGoToMeshPeersWithOurNextHop) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  rib.originate(pfx("10.244.0.0/26"));
  rib.originate(pfx("10.244.0.64/26"));
  EXPECT_EQ(rib.pending(a), 0u);  // not up yet: nothing is kept for it
  rib.peer_up(a, ip("192.168.56.11"));
  PeerUpdate out = rib.drain(a);
  ASSERT_EQ(out.announced.size(), 1u);  // one attribute set: one run of UPDATEs
  EXPECT_EQ(out.announced[0].prefixes, (std::vector<Ipv4Prefix>{pfx("10.244.0.0/26"), pfx("10.244.0.64/26")}));
  // bgp_update_attrs for a static route to an internal peer: ORIGIN IGP, empty AS_PATH, our
  // address as NEXT_HOP, LOCAL_PREF 100 (what BIRD 2.0.12 sent in the lab).
  EXPECT_EQ(out.announced[0].attributes, ibgp("192.168.56.10"));
  EXPECT_TRUE(rib.drain(a).empty());
  EXPECT_TRUE(rib.withdraw_local(pfx("10.244.0.64/26")));
  out = rib.drain(a);
  EXPECT_EQ(out.withdrawn, (std::vector<Ipv4Prefix>{pfx("10.244.0.64/26")}));
  EXPECT_EQ(rib.adj_rib_out_size(a), 1u);
  EXPECT_NE(rib.adj_rib_out(a, pfx("10.244.0.0/26")), nullptr);
}

TEST(BgpRib, ManyPrefixesShareOneAttributeSet) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId x = rib.add_peer(external("X", "192.168.56.20", 65001));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.peer_up(x, ip("192.168.56.20"));
  std::vector<Ipv4Prefix> many;
  for (std::uint32_t i = 0; i < 1000; ++i) many.emplace_back(Ipv4Address((10u << 24) | (i << 8)), 24);
  rib.update(a, many, ibgp("192.168.56.11"));
  PeerUpdate out = rib.drain(x);
  ASSERT_EQ(out.announced.size(), 1u);
  EXPECT_EQ(out.announced[0].prefixes.size(), 1000u);
  EXPECT_EQ(out.announced[0].prefixes.front(), pfx("10.0.0.0/24"));
  EXPECT_EQ(out.announced[0].prefixes.back(), pfx("10.3.231.0/24"));
}

TEST(BgpRib, ImportFilterChangesAttributesAndRejects) {
  Rib rib(node_a());
  PeerConfig config = external("X", "192.168.56.20", 65001);
  config.import_filter = Filter("import");
  config.import_filter.when(net_matches(*PrefixPattern::parse("10.0.0.0/8{25,32}")), reject())
      .then(set_local_pref(250))
      .accept();
  SourceId x = rib.add_peer(config);
  rib.peer_up(x, ip("192.168.56.20"));
  EXPECT_EQ(rib.update(x, pfx("10.99.0.0/24"), ebgp("192.168.56.20", {65001})), ImportResult::kAccepted);
  EXPECT_EQ(*rib.adj_rib_in(x, pfx("10.99.0.0/24"))->local_pref, 250u);
  EXPECT_EQ(rib.update(x, pfx("10.99.0.0/26"), ebgp("192.168.56.20", {65001})), ImportResult::kFiltered);
  EXPECT_EQ(rib.route_count(), 1u);
}

// ---- iBGP rules ---------------------------------------------------------------------------------

TEST(BgpRibIbgp, SplitHorizonBetweenMeshPeers) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId b = rib.add_peer(mesh("192.168.56.12"));
  PeerConfig xc = external("X", "192.168.56.20", 65001);
  SourceId x = rib.add_peer(xc);
  for (SourceId s : {a, b, x}) rib.peer_up(s, rib.peer(s).address);
  rib.update(a, pfx("10.244.1.0/26"), ibgp("192.168.56.11"));
  // Not to another iBGP peer (RFC 4271 §9.2; bgp_preexport), nor back to its source.
  EXPECT_TRUE(rib.drain(b).empty());
  EXPECT_TRUE(rib.drain(a).empty());
  EXPECT_FALSE(rib.export_preview(b, pfx("10.244.1.0/26")).has_value());
  // To the external peer: our AS prepended, next hop self (multihop), no LOCAL_PREF.
  PeerUpdate out = rib.drain(x);
  ASSERT_EQ(out.announced.size(), 1u);
  PathAttributes want;
  want.origin = Origin::kIgp;
  want.as_path = AsPath::sequence({64512});
  want.next_hop = ip("192.168.56.10");
  EXPECT_EQ(out.announced[0].attributes, want);
  // An external route goes to every iBGP peer with its next hop kept and LOCAL_PREF 100.
  PathAttributes from_x = ebgp("192.168.56.20", {65001});
  from_x.multi_exit_disc = 50;
  rib.update(x, pfx("10.99.0.0/24"), from_x);
  PathAttributes to_mesh = from_x;
  to_mesh.local_pref = 100;
  for (SourceId s : {a, b}) {
    out = rib.drain(s);
    ASSERT_EQ(out.announced.size(), 1u);
    EXPECT_EQ(out.announced[0].attributes, to_mesh);
  }
  EXPECT_TRUE(rib.drain(x).empty());  // not back to X
}

TEST(BgpRibIbgp, SingleHopExternalPeersOnOneLinkKeepTheGateway) {
  // The lab's eBGP neighbour (AS 65001, single hop on enp0s8) got 10.244.1.0/26 with NEXT_HOP
  // 192.168.56.11 (the route's gateway on the same link: bgp_use_gateway), and our own block
  // with our address.
  Rib rib(node_a());
  SourceId rr = rib.add_peer(mesh("192.168.56.12"));
  PeerConfig dc = external("Global_192_168_56_13", "192.168.56.13", 65001);
  dc.interface = "enp0s8";
  SourceId d = rib.add_peer(dc);
  rib.peer_up(rr, ip("192.168.56.12"));
  rib.peer_up(d, ip("192.168.56.13"));
  rib.originate(pfx("10.244.0.0/26"));
  rib.update(rr, pfx("10.244.1.0/26"), ibgp("192.168.56.11"));
  PeerUpdate out = rib.drain(d);
  ASSERT_EQ(out.announced.size(), 2u);
  EXPECT_EQ(out.announced[0].prefixes, (std::vector<Ipv4Prefix>{pfx("10.244.0.0/26")}));
  EXPECT_EQ(*out.announced[0].attributes.next_hop, ip("192.168.56.10"));
  EXPECT_EQ(out.announced[1].prefixes, (std::vector<Ipv4Prefix>{pfx("10.244.1.0/26")}));
  EXPECT_EQ(*out.announced[1].attributes.next_hop, ip("192.168.56.11"));
  EXPECT_EQ(*out.announced[1].attributes.as_path, AsPath::sequence({64512}));
}

TEST(BgpRibIbgp, NextHopEqualToThePeerIsNotSent) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId x = rib.add_peer(external("X", "192.168.56.20", 65001));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.peer_up(x, ip("192.168.56.20"));
  // "Forbid next hop equal to neighbor IP": the route is withdrawn instead.
  rib.update(x, pfx("10.99.0.0/24"), ebgp("192.168.56.11", {65001}));
  EXPECT_TRUE(rib.drain(a).empty());
  PeerConfig self = mesh("192.168.56.12");
  self.next_hop_self = true;
  SourceId b = rib.add_peer(self);
  rib.peer_up(b, ip("192.168.56.12"));
  EXPECT_EQ(*rib.drain(b).announced.at(0).attributes.next_hop, ip("192.168.56.10"));  // `next hop self`
}

TEST(BgpRibIbgp, LoopsAreTreatedAsWithdraw) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  SourceId x = rib.add_peer(external("X", "192.168.56.20", 65001));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.peer_up(x, ip("192.168.56.20"));
  rib.update(x, pfx("10.99.0.0/24"), ebgp("192.168.56.20", {65001}));
  EXPECT_EQ(rib.update(x, pfx("10.99.0.0/24"), ebgp("192.168.56.20", {65001, 64512, 65003})), ImportResult::kLoop);
  EXPECT_FALSE(rib.best(pfx("10.99.0.0/24")).has_value());
  PathAttributes mine = ibgp("192.168.56.30");
  mine.originator_id = ip("192.168.56.10");  // our router id: RFC 4456 §8
  EXPECT_EQ(rib.update(a, pfx("10.98.0.0/24"), mine), ImportResult::kLoop);
  EXPECT_EQ(rib.size(), 0u);
}

// ---- route reflection (RFC 4456) ---------------------------------------------------------------

struct Reflector {
  Rib rib;
  SourceId c1, c2, n1, n2;
  explicit Reflector(RibConfig config) : rib(std::move(config)) {
    auto add = [this](const char* address, bool client) {
      PeerConfig p = mesh(address);
      p.name = std::string(client ? "Client_" : "Peer_") + address;
      p.source_address = ip("192.168.56.12");
      p.rr_client = client;
      if (client) p.rr_cluster_id = ip("1.1.1.1");
      SourceId s = rib.add_peer(p);
      rib.peer_up(s, ip(address));
      return s;
    };
    c1 = add("192.168.56.10", true);
    c2 = add("192.168.56.11", true);
    n1 = add("192.168.56.20", false);
    n2 = add("192.168.56.21", false);
  }
};

RibConfig reflector_config() {
  RibConfig c;
  c.local_as = 64512;
  c.router_id = ip("192.168.56.12");
  return c;
}

TEST(BgpRibReflection, ClientRoutesGoToEveryoneWithOriginatorAndCluster) {
  Reflector r(reflector_config());
  r.rib.update(r.c2, pfx("10.244.1.0/26"), ibgp("192.168.56.11"));
  // What the lab's client 192.168.56.10 received from the reflector.
  PathAttributes reflected = ibgp("192.168.56.11");
  reflected.originator_id = ip("192.168.56.11");
  reflected.cluster_list = {ip("1.1.1.1")};
  for (SourceId s : {r.c1, r.n1, r.n2}) {
    PeerUpdate out = r.rib.drain(s);
    ASSERT_EQ(out.announced.size(), 1u) << r.rib.source_name(s);
    EXPECT_EQ(out.announced[0].attributes, reflected) << r.rib.source_name(s);
  }
  EXPECT_TRUE(r.rib.drain(r.c2).empty());
}

TEST(BgpRibReflection, NonClientRoutesGoToClientsOnly) {
  Reflector r(reflector_config());
  r.rib.update(r.n1, pfx("10.99.0.0/24"), ibgp("192.168.56.20"));
  PathAttributes reflected = ibgp("192.168.56.20");
  reflected.originator_id = ip("192.168.56.20");
  reflected.cluster_list = {ip("1.1.1.1")};  // the client side's cluster id, prepended
  for (SourceId s : {r.c1, r.c2}) {
    PeerUpdate out = r.rib.drain(s);
    ASSERT_EQ(out.announced.size(), 1u);
    EXPECT_EQ(out.announced[0].attributes, reflected);
  }
  EXPECT_TRUE(r.rib.drain(r.n2).empty());
}

TEST(BgpRibReflection, ClusterAndOriginatorLoopsAreDropped) {
  Reflector r(reflector_config());
  // From a client, our cluster id in CLUSTER_LIST: a loop (treated as withdraw).
  PathAttributes looped = ibgp("192.168.56.10");
  looped.originator_id = ip("192.168.56.10");
  looped.cluster_list = {ip("9.9.9.9"), ip("1.1.1.1")};
  EXPECT_EQ(r.rib.update(r.c1, pfx("10.244.0.0/26"), looped), ImportResult::kLoop);
  // From an internal peer, our router id as ORIGINATOR_ID: a loop.
  PathAttributes ours = ibgp("192.168.56.30");
  ours.originator_id = ip("192.168.56.12");
  EXPECT_EQ(r.rib.update(r.n1, pfx("10.98.0.0/24"), ours), ImportResult::kLoop);
  // From a non-client the cluster id is not checked on import, but bgp_preexport keeps the
  // route from the clients.
  PathAttributes through = ibgp("192.168.56.30");
  through.originator_id = ip("10.0.0.1");
  through.cluster_list = {ip("1.1.1.1")};
  EXPECT_EQ(r.rib.update(r.n1, pfx("10.97.0.0/24"), through), ImportResult::kAccepted);
  EXPECT_TRUE(r.rib.drain(r.c1).empty());
  EXPECT_TRUE(r.rib.drain(r.c2).empty());
  EXPECT_EQ(r.rib.size(), 1u);
}

TEST(BgpRibReflection, WithoutReflectionMeshRoutesStayPut) {
  Rib rib(reflector_config());
  PeerConfig p1 = mesh("192.168.56.10");
  PeerConfig p2 = mesh("192.168.56.11");
  SourceId a = rib.add_peer(p1);
  SourceId b = rib.add_peer(p2);
  rib.peer_up(a, p1.address);
  rib.peer_up(b, p2.address);
  rib.update(a, pfx("10.244.0.0/26"), ibgp("192.168.56.10"));
  EXPECT_TRUE(rib.drain(b).empty());
}

// ---- graceful restart, order ------------------------------------------------------------------

TEST(BgpRib, GracefulRestartFlushesWhatWasNotRefreshed) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.update(a, pfx("10.244.1.0/26"), ibgp("192.168.56.11"));
  rib.update(a, pfx("10.244.1.64/26"), ibgp("192.168.56.11"));
  rib.mark_stale(a);
  EXPECT_TRUE(rib.best(pfx("10.244.1.0/26"))->stale);
  rib.update(a, pfx("10.244.1.0/26"), ibgp("192.168.56.11"));  // sent again after the restart
  EXPECT_FALSE(rib.best(pfx("10.244.1.0/26"))->stale);
  EXPECT_EQ(rib.flush_stale(a), 1u);
  EXPECT_EQ(rib.prefixes(), (std::vector<Ipv4Prefix>{pfx("10.244.1.0/26")}));
}

TEST(BgpRib, ANewSessionGetsTheWholeTableAgain) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  rib.originate(pfx("10.244.0.0/26"));
  rib.peer_up(a, ip("192.168.56.11"));
  EXPECT_EQ(rib.drain(a).announced_count(), 1u);
  // The session restarted (gracefully: nothing was withdrawn): the new one starts from scratch.
  rib.peer_up(a, ip("192.168.56.11"));
  EXPECT_EQ(rib.adj_rib_out_size(a), 0u);
  EXPECT_EQ(rib.drain(a).announced_count(), 1u);
}

TEST(BgpRib, IterationOrders) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  rib.peer_up(a, ip("192.168.56.11"));
  SourceId direct = rib.add_protocol("direct1", RouteSource::kDevice);
  SourceId kernel = rib.add_protocol("kernel1", RouteSource::kInherit);
  rib.update(a, pfx("10.244.2.0/26"), ibgp("192.168.56.12"));
  rib.update(a, pfx("10.244.1.0/26"), ibgp("192.168.56.11"));
  rib.originate(pfx("10.244.0.0/26"));
  rib.originate(direct, pfx("192.168.56.0/24"), LocalRoute{RouteDest::kUnicast, {}, "enp0s8"});
  rib.originate(kernel, pfx("10.244.0.3/32"), LocalRoute{RouteDest::kUnicast, {}, "cali1234"});
  rib.originate(kernel, pfx("10.244.1.5/32"), LocalRoute{RouteDest::kUnicast, {}, "cali1234"});
  EXPECT_EQ(rib.prefixes(), (std::vector<Ipv4Prefix>{pfx("10.244.0.0/26"), pfx("10.244.0.3/32"), pfx("10.244.1.0/26"),
                                                     pfx("10.244.1.5/32"), pfx("10.244.2.0/26"),
                                                     pfx("192.168.56.0/24")}));
  // The order BIRD 2.0.12's `show route` printed these in (its FIB hash order).
  EXPECT_EQ(rib.prefixes_in_bird_order(),
            (std::vector<Ipv4Prefix>{pfx("10.244.1.0/26"), pfx("10.244.0.0/26"), pfx("10.244.2.0/26"),
                                     pfx("192.168.56.0/24"), pfx("10.244.1.5/32"), pfx("10.244.0.3/32")}));
}

TEST(BgpRib, BestChangeFeedForSubscribers) {
  Rib rib(node_a());
  SourceId a = rib.add_peer(mesh("192.168.56.11"));
  rib.peer_up(a, ip("192.168.56.11"));
  rib.originate(pfx("10.244.0.0/26"));
  SubscriberId sub = rib.subscribe();
  EXPECT_EQ(rib.drain_best_changes(sub), (std::vector<Ipv4Prefix>{pfx("10.244.0.0/26")}));
  rib.update(a, pfx("10.244.1.0/26"), ibgp("192.168.56.11"));
  rib.update(a, pfx("10.244.0.0/26"), ibgp("192.168.56.11"));  // not the best: no change
  rib.update(a, pfx("10.244.1.0/26"), ibgp("192.168.56.11", 300));
  EXPECT_EQ(rib.drain_best_changes(sub), (std::vector<Ipv4Prefix>{pfx("10.244.1.0/26")}));
  EXPECT_TRUE(rib.drain_best_changes(sub).empty());
}

}  // namespace
}  // namespace calisim::bgp
