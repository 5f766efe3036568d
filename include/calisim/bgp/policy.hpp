#pragma once
// Route filters as BIRD runs them (filter/filter.c), and the filters Calico's confd writes into
// bird.cfg / bird_ipam.cfg / bird_aggr.cfg (calico.md §4.2-4.3; templates under
// confd/etc/calico/confd/templates/ at v3.28, DESIGN.md's reference version).
//
// A filter is a list of statements run in order against one route. A statement may change the
// route's attributes and may end the filter with accept or reject; falling off the end rejects,
// as BIRD does ("Filter ... did not return accept nor reject"). BIRD functions that end the
// caller's filter too (Calico's `calico_aggr()`, `calico_export_to_bgp_peers()`) are Filters run
// with Filter::call.
//
//   Filter f;
//   f.when(net_matches(*PrefixPattern::parse("10.0.0.0/8{26,32}")), set_local_pref(200))
//    .when(net_in(pool), {add_community(community(64512, 100)), accept()})
//    .reject();
//
// Attributes are copy-on-write: a filter that only looks costs no copy.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bgp.hpp>

namespace calisim::bgp {

// Where a route came from (nest/route.h RTS_*): what `show route all` prints as "Type: static
// univ" and the filter symbol `source`.
enum class RouteSource : std::uint8_t {
  kStatic,   // RTS_STATIC: `protocol static` (Calico's own blocks, static routes)
  kInherit,  // RTS_INHERIT: learned from the kernel table (`protocol kernel { learn; }`)
  kDevice,   // RTS_DEVICE: `protocol direct` (connected networks)
  kBgp,      // RTS_BGP
};
std::string_view to_string(RouteSource source);  // rta_src_names: "static", "inherit", "device", "BGP"

// What a route does with packets (nest/route.h RTD_*), printed after the prefix by `show route`.
enum class RouteDest : std::uint8_t { kUnicast, kBlackhole, kUnreachable, kProhibit };
std::string_view to_string(RouteDest dest);  // rta_dest_names: "unicast", "blackhole", ...

// A prefix pattern as BIRD's filter language writes it (doc/bird.sgml, "Prefix sets"):
// `10.0.0.0/8` alone in `net ~ 10.0.0.0/8` means the prefix and everything inside it;
// `10.0.0.0/8{26,32}` those inside it with length 26 to 32; `+` is {len,32}, `-` is {0,len}.
// A net matches when its first min(len, net length) bits equal the pattern's and its length is
// within the range.
struct PrefixPattern {
  wire::Ipv4Prefix prefix;  // masked
  std::uint8_t min_length = 0;
  std::uint8_t max_length = 32;

  static PrefixPattern subnets_of(wire::Ipv4Prefix prefix);  // `net ~ p`, `p+`
  static PrefixPattern exact(wire::Ipv4Prefix prefix);       // `p{len,len}`, `net = p`
  // `p{low,high}`; kInvalidArgument unless low <= high <= 32.
  [[nodiscard]] static Result<PrefixPattern> range(wire::Ipv4Prefix prefix, std::uint8_t low,
                                                   std::uint8_t high);
  // "10.0.0.0/8", "10.0.0.0/8+", "10.0.0.0/8-", "10.0.0.0/8{26,32}".
  [[nodiscard]] static Result<PrefixPattern> parse(std::string_view text);

  bool matches(const wire::Ipv4Prefix& net) const;
  std::string to_string() const;  // as parse() reads it
  bool operator==(const PrefixPattern&) const = default;
};

// BIRD's shell-like string match (lib/patmatch.c): `*` any run, `?` one character.
bool pattern_match(std::string_view pattern, std::string_view text);

// Attributes a filter set in this run (BIRD's eattr `fresh` flag): bgp_update_attrs keeps a
// NEXT_HOP or sends a MED to an external peer only when the export filter set it.
enum FreshAttribute : std::uint8_t {
  kFreshNone = 0,
  kFreshNextHop = 1,
  kFreshMed = 2,
};

// One route as a filter sees it: the symbols `net`, `source`, `dest`, `ifname`, `gw`, the
// bgp_* attributes, and the kernel protocol's krt_* attributes.
class FilterRoute {
 public:
  FilterRoute(wire::Ipv4Prefix net, RouteSource source, RouteDest dest,
              const wire::bgp::PathAttributes* attributes, std::string_view ifname = {},
              std::optional<wire::Ipv4Address> gateway = std::nullopt)
      : net_(net), source_(source), dest_(dest), base_(attributes), ifname_(ifname),
        gateway_(gateway) {}

  const wire::Ipv4Prefix& net() const { return net_; }
  RouteSource source() const { return source_; }
  RouteDest dest() const { return dest_; }
  // "" when the route has no interface (`defined(ifname)` is false: blackholes).
  std::string_view ifname() const { return ifname_; }
  const std::optional<wire::Ipv4Address>& gateway() const { return gateway_; }

  // The BGP attributes as they stand (changed or not); null for a non-BGP route no statement
  // has given any.
  const wire::bgp::PathAttributes* attributes() const {
    return changed_ ? &*changed_ : base_;
  }
  // For writing: copies the attributes on first use (an empty set for a route without any).
  wire::bgp::PathAttributes& mutable_attributes();
  bool attributes_changed() const { return changed_.has_value(); }
  std::optional<wire::bgp::PathAttributes>& changed_attributes() { return changed_; }
  std::uint8_t fresh() const { return fresh_; }
  void mark_fresh(FreshAttribute attribute) { fresh_ |= attribute; }

  // Kernel attributes (sysdep/linux/krt-sys.h). krt_tunnel is Calico's fork (projectcalico/bird
  // sysdep/linux/netlink.c nl_send_route): the device a `via` route is sent through, onlink.
  std::optional<std::string> krt_tunnel;
  std::optional<std::uint32_t> krt_metric;

 private:
  wire::Ipv4Prefix net_;
  RouteSource source_;
  RouteDest dest_;
  const wire::bgp::PathAttributes* base_;
  std::optional<wire::bgp::PathAttributes> changed_;
  std::string_view ifname_;
  std::optional<wire::Ipv4Address> gateway_;
  std::uint8_t fresh_ = kFreshNone;
};

enum class Verdict : std::uint8_t { kContinue, kAccept, kReject };
std::string_view to_string(Verdict verdict);  // "continue", "accept", "reject"

using RoutePredicate = std::function<bool(const FilterRoute&)>;
// A statement: changes the route and/or decides. kContinue goes on with the next statement.
using RouteAction = std::function<Verdict(FilterRoute&)>;

class Filter {
 public:
  // An empty filter: every route falls off the end and is rejected.
  Filter() = default;
  explicit Filter(std::string name) : name_(std::move(name)) {}

  static Filter accept_all();  // `import all` / `export all`
  static Filter reject_all();  // `import none` / `export none`

  // Appends a statement.
  Filter& then(RouteAction action);
  // `if <condition> then { <actions> }`.
  Filter& when(RoutePredicate condition, RouteAction action);
  Filter& when(RoutePredicate condition, std::vector<RouteAction> actions);
  // Runs `function`'s statements here; an accept or reject inside it ends this filter too.
  Filter& call(Filter function);
  Filter& accept();
  Filter& reject();

  // kAccept or kReject; kContinue when no statement decided (the caller's function goes on).
  Verdict run(FilterRoute& route) const;
  // A filter's result: falling off the end is a reject.
  bool accepts(FilterRoute& route) const { return run(route) == Verdict::kAccept; }

  // True for accept_all(): callers skip running it.
  bool is_accept_all() const { return kind_ == Kind::kAcceptAll; }
  bool is_reject_all() const { return kind_ == Kind::kRejectAll; }
  const std::string& name() const { return name_; }

 private:
  enum class Kind : std::uint8_t { kStatements, kAcceptAll, kRejectAll };
  std::string name_;
  Kind kind_ = Kind::kStatements;
  std::shared_ptr<std::vector<RouteAction>> statements_ = std::make_shared<std::vector<RouteAction>>();
  void own_statements();  // copy-on-write before appending to a shared list
};

// ---- predicates ---------------------------------------------------------------------------------

RoutePredicate net_matches(PrefixPattern pattern);             // net ~ p{a,b}
RoutePredicate net_matches_any(std::vector<PrefixPattern> set);  // net ~ [ p1, p2{a,b}, ... ]
RoutePredicate net_in(wire::Ipv4Prefix prefix);                 // net ~ p
RoutePredicate net_is(wire::Ipv4Prefix prefix);                 // net = p
RoutePredicate source_is(RouteSource source);                   // source = RTS_*
RoutePredicate dest_is(RouteDest dest);                         // dest = RTD_*
RoutePredicate has_ifname();                                    // defined(ifname)
RoutePredicate ifname_matches(std::string pattern);             // defined(ifname) && ifname ~ "p"
RoutePredicate has_attributes();                                // a BGP route (or given BGP attributes)
// defined(bgp_next_hop) && bgp_next_hop ~ prefix.
RoutePredicate next_hop_in(wire::Ipv4Prefix prefix);

enum class Compare : std::uint8_t { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };
// Comparisons with an attribute; false when the attribute is not defined.
RoutePredicate local_pref_is(Compare op, std::uint32_t value);
RoutePredicate med_is(Compare op, std::uint32_t value);
RoutePredicate as_path_length_is(Compare op, std::uint32_t value);  // bgp_path.len
RoutePredicate origin_is(wire::bgp::Origin origin);
RoutePredicate community_contains(std::uint32_t community);  // (a,b) ~ bgp_community
RoutePredicate as_path_contains(std::uint32_t as_number);    // bgp_path ~ [= * N * =]
RoutePredicate krt_metric_is(Compare op, std::uint32_t value);

RoutePredicate all_of(std::vector<RoutePredicate> predicates);
RoutePredicate any_of(std::vector<RoutePredicate> predicates);
RoutePredicate negate(RoutePredicate predicate);

// ---- actions ------------------------------------------------------------------------------------

RouteAction accept();
RouteAction reject();
RouteAction set_local_pref(std::uint32_t value);
RouteAction set_med(std::uint32_t value);
RouteAction set_origin(wire::bgp::Origin origin);
RouteAction set_next_hop(wire::Ipv4Address next_hop);
RouteAction add_community(std::uint32_t community);     // bgp_community.add((a,b))
RouteAction delete_community(std::uint32_t community);  // bgp_community.delete((a,b))
RouteAction prepend_as(std::uint32_t as_number, std::uint32_t count = 1);  // bgp_path.prepend(N)
RouteAction set_krt_tunnel(std::string device);  // krt_tunnel = "tunl0" ("" = no tunnel)
RouteAction set_krt_metric(std::uint32_t metric);
RouteAction if_else(RoutePredicate condition, RouteAction then_action, RouteAction else_action);
RouteAction sequence(std::vector<RouteAction> actions);

// ---- Calico's filters ---------------------------------------------------------------------------

enum class EncapMode : std::uint8_t { kNever, kAlways, kCrossSubnet };

// The pool fields confd reads (/v1/ipam/v4/pool/<cidr>).
struct CalicoIpPool {
  wire::Ipv4Prefix cidr;
  EncapMode ipip_mode = EncapMode::kNever;
  EncapMode vxlan_mode = EncapMode::kNever;
  bool disable_bgp_export = false;
};

// A block affine to this node (/ipam/v2/host/<node>/ipv4/block/<cidr>) and its affinity state:
// only confirmed blocks (or blocks without a state, "implicitly confirmed") aggregate.
enum class BlockAffinityState : std::uint8_t { kImplicit, kConfirmed, kPending, kPendingDeletion };
struct CalicoBlock {
  wire::Ipv4Prefix cidr;
  BlockAffinityState state = BlockAffinityState::kConfirmed;
};

// BGPConfiguration communities / prefixAdvertisements: communities added to routes in a CIDR.
struct CalicoCommunityRule {
  wire::Ipv4Prefix cidr;
  std::vector<std::uint32_t> communities;
};

// What confd puts into one node's BIRD filters.
struct CalicoBirdConfig {
  std::vector<CalicoIpPool> pools;
  std::vector<CalicoBlock> blocks;  // this node's affine blocks
  // network_v4: the node's BGP address with its prefix length (node.spec.bgp.ipv4Address,
  // 192.168.56.10/24). Without it confd writes no pool statements into the kernel filter.
  std::optional<wire::Ipv4Prefix> network;
  std::vector<wire::Ipv4Prefix> static_routes;  // /staticroutes: advertised service CIDRs
  std::vector<wire::Ipv4Prefix> reject_cidrs;   // /rejectcidrs: not programmed into the kernel
  std::vector<CalicoCommunityRule> communities;
  std::string ipip_device = "tunl0";
};

// `function calico_aggr()` (bird_aggr.cfg.template): for each confirmed (or implicitly
// confirmed) block, `if net = block then accept; if net ~ block then reject;`.
Filter calico_aggr(const CalicoBirdConfig& config);
// `function calico_export_to_bgp_peers(internal_peer)` (bird_ipam.cfg.template): disabled pools
// rejected; for internal peers, routes through Felix's tunnel devices (`*.cali`, `*.calico`)
// rejected; communities applied; calico_aggr(); static routes and pools accepted. Routes it does
// not decide fall through (kContinue).
Filter calico_export_to_bgp_peers(const CalicoBirdConfig& config, bool internal_peer);
// A mesh peer's export: `export filter { calico_export_to_bgp_peers(true); reject; }`.
Filter calico_peer_export(const CalicoBirdConfig& config, bool internal_peer);
// `filter calico_kernel_programming` (bird_ipam.cfg.template): reject_cidrs rejected; then, when
// `network` is known, per pool: VXLAN pools rejected (Felix programs them); IPIP Always sets
// krt_tunnel = "tunl0"; IPIP CrossSubnet sets it unless bgp_next_hop is within `network`;
// otherwise krt_tunnel = ""; each accepted. Everything else accepted.
Filter calico_kernel_programming(const CalicoBirdConfig& config);
// `protocol static` of bird_aggr.cfg.template: `route <block> blackhole` for each affine block
// that is not a /32, then each static route.
std::vector<wire::Ipv4Prefix> calico_static_blackholes(const CalicoBirdConfig& config);

}  // namespace calisim::bgp
