// The FIB's semantics against what kernel 6.18 did with the same commands in a throw-away
// namespace (`ip route add/replace/append/prepend/del`, `ip rule add/del`, `ip route get`).

#include <calisim/dataplane/fib.hpp>
#include <calisim/dataplane/route.hpp>
#include <calisim/dataplane/route_views.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

Ipv4Address A(std::string_view text) { return Ipv4Address::parse(text).value(); }
Ipv4Prefix P(std::string_view text) { return Ipv4Prefix::parse(text).value(); }

void must(Result<void> r) { ASSERT_TRUE(r.has_value()) << r.error().message; }

template <class T>
std::string error_of(const Result<T>& r) {
  return r ? std::string("ok") : r.error().message;
}

constexpr std::uint32_t kA0 = 2;
constexpr std::uint32_t kV1 = 3;

IfNames names() {
  return IfNames{.name = [](std::uint32_t i) -> std::string {
    switch (i) {
      case kLoopbackIfindex: return "lo";
      case kA0: return "a0";
      case kV1: return "v1";
      default: return "";
    }
  }};
}

Route via(std::string_view dst, std::string_view gw, std::uint32_t metric = 0) {
  return Route{.destination = P(dst), .gateway = A(gw), .ifindex = kA0, .metric = metric};
}

Route on_link(std::string_view dst, std::uint32_t ifindex) {
  return Route{.destination = P(dst), .ifindex = ifindex, .scope = RouteScope::kLink};
}

// a0 10.200.1.2/24 and v1 192.168.50.1/24, lo up.
Fib host() {
  Fib fib;
  fib.add_address_routes(kLoopbackIfindex, P("127.0.0.1/8"));
  fib.add_address_routes(kA0, P("10.200.1.2/24"));
  fib.add_address_routes(kV1, P("192.168.50.1/24"));
  return fib;
}

FlowKey to(std::string_view dst) { return FlowKey{.destination = A(dst)}; }

// Where a lookup went, as a short string: "a0 via 10.200.1.1 table 254", "local lo", "error:...".
std::string where(const FibLookup& r) {
  if (!r.ok()) return std::string("error: ") + std::string(error_text(r.kind));
  std::string out = r.route->ifindex == kA0 ? "a0" : r.route->ifindex == kV1 ? "v1" : "lo";
  if (r.route->type != RouteType::kUnicast) out = std::string(to_string(r.route->type)) + " " + out;
  if (r.route->gateway) out += " via " + r.route->gateway->to_string();
  out += " " + r.route->destination.to_string();
  if (r.table != kMainTable) out += " table " + route_table_name(r.table);
  return out;
}

// ---- RouteTable: add / replace / append / prepend / del ------------------------------------

TEST(RouteTable, SameKeyIsExistsWhateverTheType) {
  RouteTable t(kMainTable);
  must(t.add(on_link("10.9.7.0/24", kA0)));
  // `ip route add blackhole 10.9.7.0/24` after a unicast one: the key is (prefix, tos, metric).
  auto dup = t.add(Route{.destination = P("10.9.7.0/24"), .type = RouteType::kBlackhole});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::kExists);
  EXPECT_EQ(dup.error().message, "RTNETLINK answers: File exists");
  // A different metric or tos is another key.
  must(t.add(Route{.destination = P("10.9.7.0/24"), .type = RouteType::kBlackhole, .metric = 1}));
  Route tos = on_link("10.9.7.0/24", kA0);
  tos.tos = 0x08;
  must(t.add(tos));
  EXPECT_EQ(t.size(), 3u);
}

TEST(RouteTable, AddModesOrderLikeTheKernel) {
  // The sequence run against the kernel: add static m100, add .3 m100 (exists), add .3 m50,
  // add tos 0x08 .3 m100, append .4 m50, prepend .5 m50, replace .6 m50, then three dels.
  Fib fib = host();
  const auto show = [&] {
    std::string out;
    for (const Route* r : fib.table(kMainTable)->routes()) {
      if (r->destination == P("10.9.1.0/24")) out += format_route(*r, names(), false);
    }
    return out;
  };
  Route statik = via("10.9.1.0/24", "10.200.1.1", 100);
  statik.protocol = route_protocol::kStatic;
  must(fib.add_route(statik));
  Route m100 = via("10.9.1.0/24", "10.200.1.3", 100);
  m100.protocol = route_protocol::kStatic;
  EXPECT_EQ(error_of(fib.add_route(m100)), "RTNETLINK answers: File exists");
  must(fib.add_route(via("10.9.1.0/24", "10.200.1.3", 50)));
  Route tos = via("10.9.1.0/24", "10.200.1.3", 100);
  tos.tos = 0x08;
  must(fib.add_route(tos));
  must(fib.add_route(via("10.9.1.0/24", "10.200.1.4", 50), RouteAddMode::kAppend));
  must(fib.add_route(via("10.9.1.0/24", "10.200.1.5", 50), RouteAddMode::kPrepend));
  EXPECT_EQ(show(),
            "10.9.1.0/24 tos 0x08 via 10.200.1.3 dev a0 metric 100 \n"
            "10.9.1.0/24 via 10.200.1.5 dev a0 metric 50 \n"
            "10.9.1.0/24 via 10.200.1.3 dev a0 metric 50 \n"
            "10.9.1.0/24 via 10.200.1.4 dev a0 metric 50 \n"
            "10.9.1.0/24 via 10.200.1.1 dev a0 proto static metric 100 \n");
  must(fib.add_route(via("10.9.1.0/24", "10.200.1.6", 50), RouteAddMode::kReplace));
  EXPECT_EQ(show(),
            "10.9.1.0/24 tos 0x08 via 10.200.1.3 dev a0 metric 100 \n"
            "10.9.1.0/24 via 10.200.1.6 dev a0 metric 50 \n"
            "10.9.1.0/24 via 10.200.1.3 dev a0 metric 50 \n"
            "10.9.1.0/24 via 10.200.1.4 dev a0 metric 50 \n"
            "10.9.1.0/24 via 10.200.1.1 dev a0 proto static metric 100 \n");
  // `ip route del 10.9.1.0/24`: tos 0, any metric: the first such route.
  ASSERT_TRUE(fib.remove_route(RouteSelector{.destination = P("10.9.1.0/24")}));
  // `ip route del 10.9.1.0/24 via 10.200.1.4`
  ASSERT_TRUE(fib.remove_route(
      RouteSelector{.destination = P("10.9.1.0/24"), .gateway = A("10.200.1.4")}));
  // `ip route del 10.9.1.0/24 metric 100`: the tos 0x08 route has the metric but not the tos.
  ASSERT_TRUE(fib.remove_route(RouteSelector{.destination = P("10.9.1.0/24"), .metric = 100}));
  EXPECT_EQ(show(),
            "10.9.1.0/24 tos 0x08 via 10.200.1.3 dev a0 metric 100 \n"
            "10.9.1.0/24 via 10.200.1.3 dev a0 metric 50 \n");
  // `ip route del blackhole 10.9.1.0/24`: no such route.
  auto gone = fib.remove_route(
      RouteSelector{.destination = P("10.9.1.0/24"), .type = RouteType::kBlackhole});
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message, "RTNETLINK answers: No such process");
}

TEST(RouteTable, ReplaceAndChangeEdgeCases) {
  RouteTable t(kMainTable);
  const Route a = on_link("10.1.0.0/16", kA0);
  Route b = a;
  b.ifindex = kV1;
  must(t.add(a));
  must(t.add(b, RouteAddMode::kAppend));
  // Replacing with the first route's twin changes nothing; with a later route's twin: EEXIST.
  must(t.add(a, RouteAddMode::kReplace));
  EXPECT_EQ(error_of(t.add(b, RouteAddMode::kReplace)), "RTNETLINK answers: File exists");
  EXPECT_EQ(error_of(t.add(a, RouteAddMode::kAppend)), "RTNETLINK answers: File exists");
  // `ip route change` needs something to change; `replace` creates.
  EXPECT_EQ(error_of(t.add(on_link("10.2.0.0/16", kA0), RouteAddMode::kChange)),
            "RTNETLINK answers: No such file or directory");
  must(t.add(on_link("10.2.0.0/16", kA0), RouteAddMode::kReplace));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.routes()[0]->ifindex, kA0);
  EXPECT_EQ(t.routes()[0]->table, kMainTable);
}

TEST(RouteTable, RejectsWhatTheKernelRejects) {
  RouteTable t(kMainTable);
  Route r = on_link("10.9.31.5/24", kA0);
  EXPECT_EQ(error_of(t.add(r)), "Error: Invalid prefix for given prefix length.");
  r = on_link("10.9.30.0/24", kA0);
  r.tos = 0x01;
  EXPECT_EQ(error_of(t.add(r)), "Error: Invalid dsfield (tos): ECN bits must be 0.");
  EXPECT_EQ(error_of(t.add(Route{
                .destination = P("10.9.82.0/24"), .type = RouteType::kBlackhole, .ifindex = kA0})),
            "Error: Gateway, device and multipath can not be specified for this route type.");
  r = via("10.9.81.0/24", "10.200.1.1");
  r.scope = RouteScope::kHost;
  EXPECT_EQ(error_of(t.add(r)), "Error: Route with host scope can not have a gateway.");
  r = on_link("10.9.97.0/24", kA0);
  r.onlink = true;
  EXPECT_EQ(error_of(t.add(r)),
            "Error: Invalid flags for nexthop - PERVASIVE and ONLINK can not be set.");
  r = via("10.9.98.0/24", "10.200.1.1");
  r.onlink = true;
  r.scope = RouteScope::kLink;
  EXPECT_EQ(error_of(t.add(r)), "Error: Nexthop has invalid scope.");
  EXPECT_EQ(error_of(t.add(Route{.destination = P("10.9.99.0/24"),
                                 .type = RouteType::kLocal,
                                 .ifindex = kA0,
                                 .scope = RouteScope::kLink})),
            "Error: Invalid scope.");
  r = on_link("10.9.100.0/24", kA0);
  r.scope = RouteScope::kNowhere;
  EXPECT_EQ(error_of(t.add(r)), "Error: Invalid scope.");
  EXPECT_EQ(error_of(t.add(Route{.destination = P("10.9.83.0/24")})),
            "RTNETLINK answers: No such device");
  EXPECT_TRUE(t.empty());
  auto bad = t.remove(RouteSelector{.destination = P("10.9.31.5/24")});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Error: Invalid prefix for given prefix length.");
}

// ---- RouteTable: lookup --------------------------------------------------------------------

TEST(RouteTable, LongestPrefixThenMetricThenTos) {
  RouteTable t(kMainTable);
  must(t.add(via("0.0.0.0/0", "10.200.1.1")));
  must(t.add(via("10.0.0.0/8", "10.200.1.8")));
  must(t.add(via("10.0.0.0/16", "10.200.1.16")));
  must(t.add(via("10.0.0.0/24", "10.200.1.24", 5)));
  must(t.add(via("10.0.0.0/24", "10.200.1.25", 3)));
  Route tos = via("10.0.0.0/24", "10.200.1.26", 7);
  tos.tos = 0x10;
  must(t.add(tos));
  must(t.add(via("10.0.0.7/32", "10.200.1.32")));
  const auto gw = [&](std::string_view dst, std::uint8_t flow_tos = 0) {
    const Route* r = t.lookup(A(dst), flow_tos);
    return r == nullptr ? std::string("none") : r->gateway->to_string();
  };
  EXPECT_EQ(gw("10.0.0.7"), "10.200.1.32");
  EXPECT_EQ(gw("10.0.0.8"), "10.200.1.25");         // /24, metric 3 before 5
  EXPECT_EQ(gw("10.0.0.8", 0x10), "10.200.1.26");   // the tos route comes first and matches
  EXPECT_EQ(gw("10.0.0.8", 0x12), "10.200.1.26");   // ECN bits are not looked at
  EXPECT_EQ(gw("10.0.0.8", 0x14), "10.200.1.25");   // another tos: not that route
  EXPECT_EQ(gw("10.0.0.8", 0xb0), "10.200.1.26");   // only tos & 0x1c counts
  EXPECT_EQ(gw("10.0.1.1"), "10.200.1.16");
  EXPECT_EQ(gw("10.1.0.0"), "10.200.1.8");
  EXPECT_EQ(gw("11.0.0.1"), "10.200.1.1");
  RouteTable empty(100);
  EXPECT_EQ(empty.lookup(A("10.0.0.1"), 0), nullptr);
}

TEST(RouteTable, HighDscpTosRouteNeverMatches) {
  // `ip route add 10.9.30.0/24 tos 0x20 dev a0` is accepted (shown as `tos CS1`) but no packet
  // ever matches it: routes compare with tos & 0x1c.
  RouteTable t(kMainTable);
  Route cs1 = on_link("10.9.30.0/24", kA0);
  cs1.tos = 0x20;
  must(t.add(cs1));
  EXPECT_EQ(t.lookup(A("10.9.30.1"), 0x20), nullptr);
  EXPECT_EQ(t.lookup(A("10.9.30.1"), 0), nullptr);
  Route low = cs1;
  low.tos = 0x04;
  must(t.add(low));
  ASSERT_NE(t.lookup(A("10.9.30.1"), 0x24), nullptr);
  EXPECT_EQ(t.lookup(A("10.9.30.1"), 0x24)->tos, 0x04);
  EXPECT_EQ(t.lookup(A("10.9.30.1"), 0x05)->tos, 0x04);
}

TEST(RouteTable, OifAndScopeFilters) {
  RouteTable t(kMainTable);
  must(t.add(via("10.9.70.0/24", "10.200.1.1")));
  Route other = via("10.9.0.0/16", "192.168.50.9", 9);
  other.ifindex = kV1;
  must(t.add(other));
  must(t.add(Route{.destination = P("10.9.2.0/24"), .type = RouteType::kBlackhole}));
  must(t.add(on_link("10.200.1.0/24", kA0)));
  // `ip route get 10.9.70.1 oif v1` took the /16 via v1: routes through other devices are
  // skipped.
  EXPECT_EQ(t.lookup(A("10.9.70.1"), 0, RouteScope::kUniverse, kV1)->ifindex, kV1);
  EXPECT_EQ(t.lookup(A("10.9.70.1"), 0, RouteScope::kUniverse, kA0)->ifindex, kA0);
  // Reject routes end the lookup whatever the device.
  EXPECT_EQ(t.lookup(A("10.9.2.1"), 0, RouteScope::kUniverse, kV1)->type, RouteType::kBlackhole);
  // Scope link finds connected routes only (how a gateway is checked).
  EXPECT_EQ(t.lookup(A("10.9.70.1"), 0, RouteScope::kLink), nullptr);
  EXPECT_EQ(t.lookup(A("10.200.1.1"), 0, RouteScope::kLink)->destination, P("10.200.1.0/24"));
}

TEST(RouteTable, DeviceRemoval) {
  RouteTable t(kMainTable);
  must(t.add(on_link("10.1.0.0/16", kA0)));
  Route host = on_link("10.2.0.0/16", kA0);
  host.scope = RouteScope::kHost;
  must(t.add(host));
  must(t.add(on_link("10.3.0.0/16", kV1)));
  EXPECT_EQ(t.remove_device_routes(kA0, true), 1u);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.lookup(A("10.1.0.1"), 0), nullptr);
  EXPECT_NE(t.lookup(A("10.2.0.1"), 0), nullptr);
  EXPECT_EQ(t.remove_device_routes(kA0, false), 1u);
  EXPECT_EQ(t.lookup(A("10.2.0.1"), 0), nullptr);
  EXPECT_EQ(t.lookup(A("10.3.0.1"), 0)->ifindex, kV1);
}

TEST(RouteTable, RandomRoutesAgreeWithALinearScan) {
  // Many routes of many lengths, half removed again: the per-length hash index (including its
  // backward-shift deletion) must give what a scan over the dump gives.
  std::mt19937 rng(7);
  RouteTable t(kMainTable);
  std::vector<Ipv4Prefix> added;
  const std::uint8_t lengths[] = {0, 8, 12, 16, 20, 24, 26, 28, 30, 32};
  for (int i = 0; i < 6000; ++i) {
    const std::uint8_t len = lengths[rng() % std::size(lengths)];
    // Few distinct high bits, so prefixes nest and collide.
    const std::uint32_t addr = 0x0a000000u | (rng() & 0x00ff0fffu);
    const Ipv4Prefix p(Ipv4Address(Ipv4Prefix(Ipv4Address(addr), len).network()), len);
    Route r{.destination = p,
            .ifindex = 1 + static_cast<std::uint32_t>(rng() % 3),
            .scope = RouteScope::kLink,
            .metric = static_cast<std::uint32_t>(rng() % 3)};
    if (t.add(r)) added.push_back(p);
  }
  std::shuffle(added.begin(), added.end(), rng);
  for (std::size_t i = 0; i < added.size() / 2; ++i) {
    ASSERT_TRUE(t.remove(RouteSelector{.destination = added[i]}));
  }
  const auto all = t.routes();
  // Probe every remaining prefix's first and last address, then random ones.
  std::vector<Ipv4Address> probes;
  for (const Route* r : all) {
    probes.push_back(r->destination.network());
    probes.push_back(r->destination.broadcast());
  }
  for (int i = 0; i < 20000; ++i) probes.emplace_back(0x0a000000u | (rng() & 0x00ff0fffu));
  for (const Ipv4Address dst : probes) {
    const std::uint32_t oif = rng() % 4;  // 0 = any
    const Route* expected = nullptr;
    for (const Route* r : all) {
      if (!r->destination.contains(dst) || (oif != 0 && r->ifindex != oif)) continue;
      if (expected == nullptr || r->destination.length() > expected->destination.length()) {
        expected = r;
      }
    }
    ASSERT_EQ(t.lookup(dst, 0, RouteScope::kUniverse, oif), expected) << dst.to_string();
  }
  // Dump order: network ascending, longer prefix first, lower metric first.
  for (std::size_t i = 1; i < all.size(); ++i) {
    const auto& a = *all[i - 1];
    const auto& b = *all[i];
    const bool ordered =
        a.destination.address() < b.destination.address() ||
        (a.destination.address() == b.destination.address() &&
         (a.destination.length() > b.destination.length() ||
          (a.destination.length() == b.destination.length() && a.metric <= b.metric)));
    ASSERT_TRUE(ordered) << i;
  }
}

TEST(RouteTable, ManyHostRoutesAddedAndRemoved) {
  // A busy node's pod /32s: every remaining one stays findable while others come and go (the
  // hash index grows, and deletions shift probe runs back, also across the end of the slots).
  std::mt19937 rng(11);
  RouteTable t(kMainTable);
  std::vector<Ipv4Address> live;
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 300; ++i) {
      const Ipv4Address a(0x0a600000u | (rng() & 0xffffu));
      if (t.add(on_link(Ipv4Prefix(a, 32).to_string(), kA0))) live.push_back(a);
    }
    std::shuffle(live.begin(), live.end(), rng);
    for (int i = 0; i < 200 && !live.empty(); ++i) {
      ASSERT_TRUE(t.remove(RouteSelector{.destination = Ipv4Prefix(live.back(), 32)}));
      EXPECT_EQ(t.lookup(live.back(), 0), nullptr);
      live.pop_back();
    }
    for (const Ipv4Address a : live) {
      const Route* r = t.lookup(a, 0);
      ASSERT_NE(r, nullptr) << a.to_string() << " round " << round;
      ASSERT_EQ(r->destination.address(), a);
    }
  }
  EXPECT_EQ(t.size(), live.size());
  // Small tables (eight hash slots for up to four prefixes of a length) wrap their probe runs
  // around the end of the slots all the time: every deletion order must keep the rest.
  for (int trial = 0; trial < 20000; ++trial) {
    RouteTable small(kMainTable);
    std::vector<Ipv4Address> in;
    while (in.size() < 4) {
      const Ipv4Address a(0x0a000000u | (rng() & 0xffu));
      if (small.add(on_link(Ipv4Prefix(a, 32).to_string(), kA0))) in.push_back(a);
    }
    std::shuffle(in.begin(), in.end(), rng);
    while (!in.empty()) {
      ASSERT_TRUE(small.remove(RouteSelector{.destination = Ipv4Prefix(in.back(), 32)}));
      in.pop_back();
      for (const Ipv4Address a : in) ASSERT_NE(small.lookup(a, 0), nullptr) << trial;
    }
  }
}

// ---- Fib: lookups without rules (local and main merged) ------------------------------------

TEST(FibLookup, LocalTableWinsForOwnAddresses) {
  Fib fib = host();
  must(fib.add_route(via("0.0.0.0/0", "10.200.1.1")));
  EXPECT_EQ(where(fib.lookup(to("10.200.1.2"))), "local a0 10.200.1.2/32");
  EXPECT_EQ(where(fib.lookup(to("10.200.1.255"))), "broadcast a0 10.200.1.255/32");
  EXPECT_EQ(where(fib.lookup(to("10.200.1.7"))), "a0 10.200.1.0/24");
  EXPECT_EQ(where(fib.lookup(to("127.0.0.6"))), "local lo 127.0.0.0/8");
  EXPECT_EQ(where(fib.lookup(to("8.8.8.8"))), "a0 via 10.200.1.1 0.0.0.0/0");
  // A main /32 to an own address: same length, local still first (`ip route get 10.200.1.2`
  // answered `local 10.200.1.2 dev lo`).
  must(fib.add_route(via("10.200.1.2/32", "10.200.1.1")));
  EXPECT_EQ(where(fib.lookup(to("10.200.1.2"))), "local a0 10.200.1.2/32");
  EXPECT_EQ(fib.address_type(A("10.200.1.2")), RouteType::kLocal);
  EXPECT_EQ(fib.address_type(A("10.200.1.255")), RouteType::kBroadcast);
  EXPECT_EQ(fib.address_type(A("10.200.1.3")), RouteType::kUnicast);
  EXPECT_EQ(fib.address_type(A("0.1.2.3")), RouteType::kBroadcast);
  EXPECT_EQ(fib.address_type(A("224.0.0.1")), RouteType::kMulticast);
}

TEST(FibLookup, MergedTablesUntilTheFirstRuleChange) {
  // Kernel: with no custom rules main's 127.0.0.5/32 beat local's 127.0.0.0/8; after one
  // `ip rule add` + `ip rule del` table local came first for good.
  Fib fib = host();
  must(fib.add_route(on_link("127.0.0.5/32", kA0)));
  EXPECT_FALSE(fib.has_custom_rules());
  EXPECT_EQ(where(fib.lookup(to("127.0.0.5"))), "a0 127.0.0.5/32");
  EXPECT_EQ(where(fib.lookup(to("127.0.0.6"))), "local lo 127.0.0.0/8");
  must(fib.add_rule(Rule{.priority = 32765, .from = P("10.1.1.1/32"), .table = 100}));
  ASSERT_TRUE(fib.remove_rule(RuleSelector{.from = P("10.1.1.1/32"), .table = 100}));
  EXPECT_TRUE(fib.has_custom_rules());
  const FibLookup r = fib.lookup(to("127.0.0.5"));
  EXPECT_EQ(where(r), "local lo 127.0.0.0/8 table local");
  ASSERT_NE(r.rule, nullptr);
  EXPECT_EQ(r.rule->priority, 0u);
}

TEST(FibLookup, RejectRoutesAndThrow) {
  Fib fib = host();
  must(fib.add_route(Route{.destination = P("10.9.2.0/24"), .type = RouteType::kBlackhole}));
  must(fib.add_route(Route{.destination = P("10.9.3.0/24"), .type = RouteType::kUnreachable}));
  must(fib.add_route(Route{.destination = P("10.9.4.0/24"), .type = RouteType::kProhibit}));
  must(fib.add_route(Route{.destination = P("10.9.5.0/24"), .type = RouteType::kThrow}));
  // `ip route get`: Invalid argument, No route to host, Permission denied, Network is
  // unreachable.
  EXPECT_EQ(fib.lookup(to("10.9.2.1")).kind, FibLookup::Kind::kBlackhole);
  EXPECT_EQ(fib.lookup(to("10.9.3.1")).kind, FibLookup::Kind::kUnreachable);
  EXPECT_EQ(fib.lookup(to("10.9.4.1")).kind, FibLookup::Kind::kProhibit);
  EXPECT_EQ(fib.lookup(to("10.9.5.1")).kind, FibLookup::Kind::kNoRoute);
  EXPECT_EQ(fib.lookup(to("10.77.0.1")).kind, FibLookup::Kind::kNoRoute);
  EXPECT_EQ(fib.lookup(to("10.9.3.1")).route->type, RouteType::kUnreachable);
  EXPECT_EQ(error_text(FibLookup::Kind::kBlackhole), "Invalid argument");
  EXPECT_EQ(error_text(FibLookup::Kind::kUnreachable), "No route to host");
  EXPECT_EQ(error_text(FibLookup::Kind::kProhibit), "Permission denied");
  EXPECT_EQ(error_text(FibLookup::Kind::kNoRoute), "Network is unreachable");
  // A throw in main goes on to table default; a blackhole does not.
  Route in_default = on_link("10.9.5.0/24", kA0);
  in_default.table = kDefaultTable;
  must(fib.add_route(in_default));
  in_default.destination = P("10.9.2.0/24");
  must(fib.add_route(in_default));
  EXPECT_EQ(where(fib.lookup(to("10.9.5.1"))), "a0 10.9.5.0/24 table default");
  EXPECT_EQ(fib.lookup(to("10.9.2.1")).kind, FibLookup::Kind::kBlackhole);
}

TEST(FibLookup, LookupIsStableAcrossManyCalls) {
  // The result points into the FIB: two lookups of the same flow give the same route object.
  Fib fib = host();
  must(fib.add_route(via("0.0.0.0/0", "10.200.1.1")));
  EXPECT_EQ(fib.lookup(to("1.2.3.4")).route, fib.lookup(to("5.6.7.8")).route);
}

// ---- Fib: policy rules ---------------------------------------------------------------------

// linux.md's rule set on linux.md's host; every answer below is `ip route get` on the kernel.
Fib linux_rules() {
  Fib fib = host();
  EXPECT_TRUE(fib.add_route(via("0.0.0.0/0", "10.200.1.1")));
  EXPECT_TRUE(fib.add_route(via("10.0.0.0/8", "10.200.1.1")));
  Route t100 = via("10.9.8.0/24", "10.200.1.1");
  t100.table = 100;
  EXPECT_TRUE(fib.add_route(t100));
  EXPECT_TRUE(fib.add_route(Route{.destination = P("0.0.0.0/0"),
                                  .type = RouteType::kUnreachable,
                                  .metric = 4278198272u,
                                  .table = 100}));
  EXPECT_TRUE(fib.add_rule(Rule{.priority = 100, .from = P("10.200.1.0/24"), .table = 100}));
  Rule r99{.to = P("10.9.0.0/16"), .iif = "a0", .table = 100};
  r99.priority = fib.default_rule_priority();
  EXPECT_EQ(r99.priority, 99u);
  EXPECT_TRUE(fib.add_rule(r99));
  EXPECT_TRUE(fib.add_rule(Rule{.priority = 200, .fwmark = FwMark{0x1, 0xff}, .table = 100}));
  EXPECT_TRUE(fib.add_rule(
      Rule{.priority = 300, .invert = true, .from = P("10.200.1.5/32"), .table = kMainTable}));
  EXPECT_TRUE(fib.add_rule(Rule{.priority = 400, .oif = "a0", .table = 100}));
  return fib;
}

TEST(FibRules, LinuxRuleSetDecidesLikeTheKernel) {
  const Fib fib = linux_rules();
  // from 10.200.1.9 iif a0 -> rule 99 -> table 100.
  FlowKey f{.destination = A("10.9.8.7"), .source = A("10.200.1.9"), .iif = "a0"};
  FibLookup r = fib.lookup(f);
  EXPECT_EQ(where(r), "a0 via 10.200.1.1 10.9.8.0/24 table 100");
  EXPECT_EQ(r.rule->priority, 99u);
  // from 192.168.50.9 iif v1 -> rule 300 (`not from 10.200.1.5`) -> main.
  f = FlowKey{.destination = A("10.9.8.7"), .source = A("192.168.50.9"), .iif = "v1"};
  r = fib.lookup(f);
  EXPECT_EQ(where(r), "a0 via 10.200.1.1 10.0.0.0/8");
  EXPECT_EQ(r.rule->priority, 300u);
  // The same with mark 0x101 -> rule 200 (0x101 & 0xff == 0x1) -> table 100.
  f.mark = 0x101;
  EXPECT_EQ(where(fib.lookup(f)), "a0 via 10.200.1.1 10.9.8.0/24 table 100");
  f.mark = 0x100;
  EXPECT_EQ(where(fib.lookup(f)), "a0 via 10.200.1.1 10.0.0.0/8");
  // from 10.200.1.5 iif v1 -> rule 100 -> table 100.
  f = FlowKey{.destination = A("10.9.8.7"), .source = A("10.200.1.5"), .iif = "v1"};
  EXPECT_EQ(where(fib.lookup(f)), "a0 via 10.200.1.1 10.9.8.0/24 table 100");
  // ... and to 8.8.8.8: table 100's `unreachable default` -> No route to host.
  f.destination = A("8.8.8.8");
  r = fib.lookup(f);
  EXPECT_EQ(r.kind, FibLookup::Kind::kUnreachable);
  EXPECT_EQ(r.table, 100u);
}

TEST(FibRules, RuleActionsAndErrnos) {
  Fib fib = host();
  must(fib.add_route(via("10.0.0.0/8", "10.200.1.1")));
  must(fib.add_rule(
      Rule{.priority = 50, .to = P("10.5.5.1/32"), .action = RuleAction::kUnreachable}));
  must(fib.add_rule(Rule{.priority = 51, .to = P("10.5.5.2/32"), .action = RuleAction::kProhibit}));
  must(
      fib.add_rule(Rule{.priority = 52, .to = P("10.5.5.3/32"), .action = RuleAction::kBlackhole}));
  must(fib.add_rule(Rule{.priority = 53, .to = P("10.5.5.4/32"), .action = RuleAction::kNop}));
  // The kernel: Network is unreachable (not No route to host), Permission denied, Invalid
  // argument; nop goes on.
  FibLookup r = fib.lookup(to("10.5.5.1"));
  EXPECT_EQ(r.kind, FibLookup::Kind::kNoRoute);
  ASSERT_NE(r.rule, nullptr);
  EXPECT_EQ(r.rule->priority, 50u);
  EXPECT_EQ(r.route, nullptr);
  EXPECT_EQ(fib.lookup(to("10.5.5.2")).kind, FibLookup::Kind::kProhibit);
  EXPECT_EQ(fib.lookup(to("10.5.5.3")).kind, FibLookup::Kind::kBlackhole);
  EXPECT_EQ(where(fib.lookup(to("10.5.5.4"))), "a0 via 10.200.1.1 10.0.0.0/8");
}

// A Calico WireGuard node (calico.md §3.3): rule 99 `not from all fwmark 0x100000/0x100000
// lookup 1`, table 1 with remote pod blocks on wireguard.cali and a throw route for a peer
// without WireGuard.
struct WireguardNode {
  static constexpr std::uint32_t kEth0 = 2;
  static constexpr std::uint32_t kWg = 3;
  Fib fib;
  WireguardNode() {
    fib.add_address_routes(kLoopbackIfindex, P("127.0.0.1/8"));
    fib.add_address_routes(kEth0, P("10.100.99.21/24"));
    EXPECT_TRUE(fib.add_route(
        Route{.destination = P("0.0.0.0/0"), .gateway = A("10.100.99.1"), .ifindex = kEth0}));
    EXPECT_TRUE(fib.add_route(Route{.destination = P("10.96.5.128/26"),
                                    .ifindex = kWg,
                                    .scope = RouteScope::kLink,
                                    .table = 1}));
    EXPECT_TRUE(fib.add_route(
        Route{.destination = P("10.96.7.0/26"), .type = RouteType::kThrow, .table = 1}));
    EXPECT_TRUE(fib.add_rule(Rule{.priority = 99,
                                  .invert = true,
                                  .fwmark = FwMark{0x100000, 0x100000},
                                  .table = 1}));
  }
};

TEST(FibRules, WireguardMarkRuleAndThrow) {
  WireguardNode n;
  // Unmarked traffic to a remote pod: table 1, into the tunnel.
  FibLookup r = n.fib.lookup(to("10.96.5.130"));
  EXPECT_EQ(r.route->ifindex, WireguardNode::kWg);
  EXPECT_EQ(r.table, 1u);
  EXPECT_EQ(r.rule->priority, 99u);
  // WireGuard's own packets carry the mark: the rule does not match, main routes them out.
  FlowKey marked = to("10.96.5.130");
  marked.mark = 0x100000;
  r = n.fib.lookup(marked);
  EXPECT_EQ(r.route->ifindex, WireguardNode::kEth0);
  EXPECT_EQ(r.table, kMainTable);
  marked.mark = 0x1f0000;  // other bits don't matter
  EXPECT_EQ(n.fib.lookup(marked).table, kMainTable);
  // The throw route sends the lookup on to the next rule (main).
  r = n.fib.lookup(to("10.96.7.5"));
  EXPECT_EQ(r.route->gateway, A("10.100.99.1"));
  EXPECT_EQ(r.rule->priority, 32766u);
}

TEST(FibRules, SuppressPrefixlength) {
  WireguardNode n;
  must(n.fib.add_rule(Rule{.priority = 50, .table = kMainTable, .suppress_prefixlength = 0}));
  // main's default route is suppressed: table 1 still decides for the pod block.
  EXPECT_EQ(n.fib.lookup(to("10.96.5.130")).table, 1u);
  // A longer match in main is accepted at rule 50.
  const FibLookup r = n.fib.lookup(to("10.100.99.7"));
  EXPECT_EQ(r.rule->priority, 50u);
  EXPECT_EQ(r.route->destination, P("10.100.99.0/24"));
}

TEST(FibRules, IifLoMeansLocallyGenerated) {
  WireguardNode n;
  Route r = Route{.destination = P("10.96.5.128/26"),
                  .gateway = A("10.100.99.50"),
                  .ifindex = WireguardNode::kEth0,
                  .table = 7};
  must(n.fib.add_route(r));
  must(n.fib.add_rule(Rule{.priority = 40, .iif = "lo", .table = 7}));
  // Generated here: `iif lo` matches.
  EXPECT_EQ(n.fib.lookup(to("10.96.5.130")).table, 7u);
  // Forwarded from eth0: it does not; rule 99 -> table 1.
  FlowKey fwd{.destination = A("10.96.5.130"), .source = A("10.100.99.9"), .iif = "eth0"};
  EXPECT_EQ(n.fib.lookup(fwd).table, 1u);
  // Arriving on lo (loopback traffic) matches as well.
  fwd.iif = "lo";
  EXPECT_EQ(n.fib.lookup(fwd).table, 7u);
}

TEST(FibRules, OifRuleAndInvertedIif) {
  Fib fib = host();
  must(fib.add_route(via("0.0.0.0/0", "10.200.1.1")));
  Route t5 = via("0.0.0.0/0", "10.200.1.5");
  t5.table = 5;
  must(fib.add_route(t5));
  must(fib.add_rule(Rule{.priority = 10, .oif = "a0", .table = 5}));
  FlowKey bound = to("8.8.8.8");
  EXPECT_EQ(fib.lookup(bound).table, kMainTable);  // not bound: no oif
  bound.oif = "a0";
  bound.oif_ifindex = kA0;
  EXPECT_EQ(fib.lookup(bound).table, 5u);
  // `not iif v1`: everything but packets from v1.
  must(fib.add_rule(Rule{.priority = 20, .invert = true, .iif = "v1", .table = 5}));
  EXPECT_EQ(fib.lookup(to("8.8.8.8")).table, 5u);
  FlowKey from_v1{.destination = A("8.8.8.8"), .source = A("192.168.50.9"), .iif = "v1"};
  EXPECT_EQ(fib.lookup(from_v1).table, kMainTable);
}

TEST(FibRules, GotoJumpsOrIsSkippedWhenUnresolved) {
  // Kernel: goto 45 added before rule 45 existed was passed over (rule 35 prohibit answered);
  // once 45 existed the jump landed on it (blackhole) and skipped 35 and 40.
  WireguardNode n;
  must(n.fib.add_rule(Rule{.priority = 30,
                           .to = P("10.96.5.130/32"),
                           .action = RuleAction::kGoto,
                           .goto_target = 45}));
  must(n.fib.add_rule(
      Rule{.priority = 35, .to = P("10.96.5.130/32"), .action = RuleAction::kProhibit}));
  EXPECT_EQ(n.fib.lookup(to("10.96.5.130")).kind, FibLookup::Kind::kProhibit);
  must(n.fib.add_rule(
      Rule{.priority = 45, .to = P("10.96.5.130/32"), .action = RuleAction::kBlackhole}));
  EXPECT_EQ(n.fib.lookup(to("10.96.5.130")).kind, FibLookup::Kind::kBlackhole);
  // The target is matched like any rule: for .131 rule 30 does not match at all, and rule 45
  // would not either: table 1 via rule 99.
  EXPECT_EQ(n.fib.lookup(to("10.96.5.131")).table, 1u);
  // A goto whose target does not match goes on after the target.
  must(n.fib.add_rule(Rule{.priority = 20, .action = RuleAction::kGoto, .goto_target = 45}));
  EXPECT_EQ(n.fib.lookup(to("10.96.5.131")).table, 1u);
  EXPECT_EQ(n.fib.lookup(to("10.96.5.131")).rule->priority, 99u);
  EXPECT_EQ(error_of(n.fib.add_rule(
                Rule{.priority = 57, .action = RuleAction::kGoto, .goto_target = 50})),
            "Error: Backward goto not supported.");
}

TEST(FibRules, AddAndRemoveRules) {
  Fib fib;
  EXPECT_EQ(fib.default_rule_priority(), 32765u);
  Rule r{.priority = 100, .from = P("10.200.1.0/24"), .table = 100};
  must(fib.add_rule(r));
  EXPECT_EQ(error_of(fib.add_rule(r)), "RTNETLINK answers: File exists");
  // rule_exists ignores `not` (kernel: EEXIST for the inverted twin too).
  Rule inverted = r;
  inverted.invert = true;
  EXPECT_EQ(error_of(fib.add_rule(inverted)), "RTNETLINK answers: File exists");
  // Without `pref` the same rule is another rule (priority 99 then).
  r.priority = fib.default_rule_priority();
  EXPECT_EQ(r.priority, 99u);
  must(fib.add_rule(r));
  EXPECT_EQ(error_of(fib.add_rule(Rule{.priority = 700, .tos = 0x20, .table = 5})),
            "Error: Invalid tos.");
  EXPECT_EQ(error_of(fib.add_rule(Rule{.priority = 701, .tos = 0x01, .table = 5})),
            "Error: Invalid dsfield (tos): ECN bits must be 0.");
  // Equal priorities: the newer goes behind.
  must(fib.add_rule(Rule{.priority = 100, .table = 7}));
  ASSERT_EQ(fib.rules().size(), 6u);
  EXPECT_EQ(fib.rules()[2].table, 100u);
  EXPECT_EQ(fib.rules()[3].table, 7u);
  // `ip rule del pref 100` removes the first rule with that priority.
  auto gone = fib.remove_rule(RuleSelector{.priority = 100});
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->table, 100u);
  EXPECT_EQ(fib.rules()[2].table, 7u);
  auto none = fib.remove_rule(RuleSelector{.priority = 12345});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "RTNETLINK answers: No such file or directory");
  // Selectors given must all match.
  EXPECT_FALSE(fib.remove_rule(RuleSelector{.from = P("10.200.1.0/24"), .table = 7}));
  EXPECT_TRUE(fib.remove_rule(RuleSelector{.from = P("10.200.1.0/24"), .table = 100}));
  // The default rules can go too; then nothing is found.
  ASSERT_TRUE(fib.remove_rule(RuleSelector{.priority = 0}));
  ASSERT_TRUE(fib.remove_rule(RuleSelector{.priority = 32766}));
  ASSERT_TRUE(fib.remove_rule(RuleSelector{.priority = 32767}));
  ASSERT_TRUE(fib.remove_rule(RuleSelector{}));
  EXPECT_TRUE(fib.rules().empty());
  EXPECT_EQ(fib.default_rule_priority(), 0u);
  EXPECT_EQ(fib.lookup(to("127.0.0.1")).kind, FibLookup::Kind::kNoRoute);
}

// ---- Fib: route checks that need the whole FIB ---------------------------------------------

TEST(FibRoutes, GatewayAndPrefsrcChecks) {
  Fib fib = host();
  // Not on a connected subnet.
  EXPECT_EQ(error_of(fib.add_route(via("10.9.84.0/24", "10.99.99.99"))),
            "Error: Nexthop has invalid gateway.");
  // On a subnet, but of another device.
  Route wrong_dev = via("10.9.103.0/24", "10.200.1.1");
  wrong_dev.ifindex = kV1;
  EXPECT_EQ(error_of(fib.add_route(wrong_dev)), "Error: Nexthop has invalid gateway.");
  // Without a device the kernel takes the connected route's.
  Route no_dev = via("10.9.104.0/24", "10.200.1.9");
  no_dev.ifindex = 0;
  must(fib.add_route(no_dev));
  EXPECT_EQ(fib.lookup(to("10.9.104.1")).route->ifindex, kA0);
  // The own address is a valid gateway.
  must(fib.add_route(via("10.9.101.0/24", "10.200.1.2")));
  // Onlink: anything but a local or broadcast address.
  Route onlink = via("10.9.102.0/24", "10.200.1.255");
  onlink.onlink = true;
  EXPECT_EQ(error_of(fib.add_route(onlink)), "Error: Nexthop has invalid gateway.");
  onlink.gateway = A("10.77.0.1");
  must(fib.add_route(onlink));
  onlink.destination = P("10.9.105.0/24");
  onlink.ifindex = 0;
  EXPECT_EQ(error_of(fib.add_route(onlink)), "Error: Nexthop device required for onlink.");
  // src must be an address of this host.
  Route src = on_link("10.9.80.0/24", kA0);
  src.preferred_source = A("10.9.9.9");
  EXPECT_EQ(error_of(fib.add_route(src)), "Error: Invalid prefsrc address.");
  src.preferred_source = A("192.168.50.1");
  must(fib.add_route(src));
  // A gateway in a table other than main is found through the full lookup.
  Route t100 = via("10.9.8.0/24", "10.200.1.1");
  t100.table = 100;
  must(fib.add_route(t100));
  EXPECT_EQ(fib.table(100)->size(), 1u);
  EXPECT_EQ(error_of(fib.remove_route(RouteSelector{.destination = P("10.9.8.0/24"), .table = 9})),
            "Error: FIB table does not exist.");
}

// ---- Fib: address and device events --------------------------------------------------------

TEST(FibAddresses, SecondaryAddressAndRemoval) {
  Fib fib = host();
  // 10.210.0.7/24 is a secondary of 10.210.0.1/24: one local route, with the primary as src.
  fib.add_address_routes(kA0, P("10.210.0.1/24"));
  fib.add_address_routes(kA0, P("10.210.0.7/24"),
                         AddressRouteOptions{.primary = A("10.210.0.1")});
  Route src1 = on_link("10.9.50.0/24", kA0);
  src1.preferred_source = A("10.210.0.1");
  must(fib.add_route(src1));
  src1.table = 100;
  must(fib.add_route(src1));
  Route src7 = via("10.9.51.0/24", "10.200.1.1");
  src7.preferred_source = A("10.210.0.7");
  must(fib.add_route(src7));
  const std::string local = ip_route_show(fib, kLocalTable, names());
  EXPECT_NE(local.find("local 10.210.0.1 dev a0 proto kernel scope host src 10.210.0.1 \n"
                       "local 10.210.0.7 dev a0 proto kernel scope host src 10.210.0.1 \n"
                       "broadcast 10.210.0.255 dev a0 proto kernel scope link src 10.210.0.1 \n"),
            std::string::npos)
      << local;
  // `ip addr del 10.210.0.1/24` (promote_secondaries off: the secondary goes first).
  fib.remove_address_routes(kA0, P("10.210.0.7/24"),
                            AddressRouteOptions{.primary = A("10.210.0.1")});
  fib.remove_address_routes(kA0, P("10.210.0.1/24"));
  EXPECT_EQ(ip_route_show(fib, kLocalTable, names()).find("10.210"), std::string::npos);
  // Main routes using the addresses as src went with them; table 100's stayed (kernel).
  EXPECT_EQ(ip_route_show(fib, kMainTable, names()),
            "10.200.1.0/24 dev a0 proto kernel scope link src 10.200.1.2 \n"
            "192.168.50.0/24 dev v1 proto kernel scope link src 192.168.50.1 \n");
  EXPECT_EQ(ip_route_show(fib, 100, names()), "10.9.50.0/24 dev a0 scope link src 10.210.0.1 \n");
}

TEST(FibAddresses, ReAddingIsIdempotent) {
  Fib fib = host();
  const std::string before = ip_route_show(fib, kAllTables, names());
  fib.add_address_routes(kA0, P("10.200.1.2/24"));  // `ip link set a0 up` again
  EXPECT_EQ(ip_route_show(fib, kAllTables, names()), before);
}

TEST(FibAddresses, PointToPointLengthsAndOptions) {
  Fib fib;
  // /31: prefix route, no broadcast. /32: local route only.
  fib.add_address_routes(kA0, P("10.30.0.0/31"));
  fib.add_address_routes(kV1, P("10.31.0.5/32"));
  // `metric 7 noprefixroute`-style options and an explicit `brd`.
  fib.add_address_routes(4, P("10.32.0.1/24"),
                         AddressRouteOptions{.broadcast = A("10.32.0.255"), .metric = 7});
  fib.add_address_routes(5, P("10.33.0.1/24"), AddressRouteOptions{.noprefixroute = true});
  EXPECT_EQ(ip_route_show(fib, kAllTables, names()),
            "10.30.0.0/31 dev a0 proto kernel scope link src 10.30.0.0 \n"
            "10.32.0.0/24 dev if4 proto kernel scope link src 10.32.0.1 metric 7 \n"
            "local 10.30.0.0 dev a0 table local proto kernel scope host src 10.30.0.0 \n"
            "local 10.31.0.5 dev v1 table local proto kernel scope host src 10.31.0.5 \n"
            "local 10.32.0.1 dev if4 table local proto kernel scope host src 10.32.0.1 \n"
            "broadcast 10.32.0.255 dev if4 table local proto kernel scope link src 10.32.0.1 \n"
            "local 10.33.0.1 dev if5 table local proto kernel scope host src 10.33.0.1 \n"
            "broadcast 10.33.0.255 dev if5 table local proto kernel scope link src 10.33.0.1 \n");
  fib.remove_address_routes(4, P("10.32.0.1/24"),
                            AddressRouteOptions{.broadcast = A("10.32.0.255"), .metric = 7});
  EXPECT_EQ(ip_route_show(fib, kAllTables, names()).find("10.32"), std::string::npos);
}

TEST(FibDevices, DownKeepsHostScopeClearRemovesAll) {
  // Kernel: after `ip link set b0 down` only scope-host routes through b0 remained (in every
  // table); after the device's last address went, nothing through it did.
  Fib fib = host();
  fib.add_address_routes(kV1, P("10.221.0.1/32"));
  Route host_scope = on_link("10.9.60.0/24", kV1);
  host_scope.scope = RouteScope::kHost;
  must(fib.add_route(host_scope));
  Route t100 = on_link("10.9.61.0/24", kV1);
  t100.table = 100;
  must(fib.add_route(t100));
  must(fib.add_route(Route{.destination = P("10.9.62.0/24"),
                           .type = RouteType::kLocal,
                           .ifindex = kV1,
                           .scope = RouteScope::kHost,
                           .table = kLocalTable}));
  EXPECT_EQ(fib.device_down(kV1), 3u);  // prefix, broadcast and 10.9.61.0/24 (table 100)
  EXPECT_EQ(ip_route_show(fib, kAllTables, names()).find("192.168.50.0/24"), std::string::npos);
  const std::string after_down = ip_route_show(fib, kAllTables, names());
  EXPECT_NE(after_down.find("10.9.60.0/24 dev v1 scope host \n"), std::string::npos);
  EXPECT_NE(after_down.find("local 10.9.62.0/24 dev v1 table local scope host \n"),
            std::string::npos);
  EXPECT_NE(after_down.find("local 192.168.50.1 dev v1 table local"), std::string::npos);
  EXPECT_EQ(fib.clear_device(kV1), 4u);
  const std::string after_clear = ip_route_show(fib, kAllTables, names());
  EXPECT_EQ(after_clear.find("dev v1"), std::string::npos) << after_clear;
  EXPECT_NE(after_clear.find("dev a0"), std::string::npos);
}

TEST(FibTables, CreatedOnDemandAndOrdered) {
  Fib fib = host();
  EXPECT_EQ(fib.table(100), nullptr);
  Route r = on_link("10.50.0.0/16", kA0);
  r.table = 100;
  must(fib.add_route(r));
  r.table = 356;
  must(fib.add_route(r));
  ASSERT_NE(fib.table(100), nullptr);
  std::vector<std::uint32_t> ids;
  for (const RouteTable* t : fib.tables()) ids.push_back(t->id());
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{356, 100, kDefaultTable, kMainTable, kLocalTable}));
  // A rule `lookup 0` takes the lowest free table id.
  must(fib.add_rule(Rule{.priority = 5, .table = kUnspecTable}));
  EXPECT_EQ(fib.rules()[1].table, 1u);
  EXPECT_NE(fib.table(1), nullptr);
}

}  // namespace
}  // namespace calisim::dataplane
