#include <calisim/dataplane/fib.hpp>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

constexpr std::uint8_t kRouteTosMask = 0x1c;  // IPTOS_RT_MASK

std::unexpected<Error> kernel_error(Errc code, std::string_view extack) {
  return std::unexpected(Error{code, fmt::format("Error: {}.", extack)});
}
std::unexpected<Error> errno_error(Errc code, std::string_view strerror_text) {
  return std::unexpected(Error{code, fmt::format("RTNETLINK answers: {}", strerror_text)});
}

bool is_zeronet(Ipv4Address a) { return (a.value() >> 24) == 0; }

bool prefix_matches(const std::optional<Ipv4Prefix>& p, Ipv4Address a) {
  return !p || p->contains(a);
}

// fib_rule_match + fib4_rule_match, before `not` is applied.
bool selectors_match(const Rule& rule, const FlowKey& flow) {
  if (rule.iif && *rule.iif != (flow.iif.empty() ? std::string_view("lo") : flow.iif)) {
    return false;
  }
  if (rule.oif && *rule.oif != flow.oif) return false;
  if (rule.fwmark && ((rule.fwmark->value ^ flow.mark) & rule.fwmark->mask) != 0) return false;
  if (!prefix_matches(rule.from, flow.source) || !prefix_matches(rule.to, flow.destination)) {
    return false;
  }
  return rule.tos == 0 || rule.tos == (flow.tos & kRouteTosMask);
}

// fib_table_lookup's -EAGAIN: no route, or a throw route.
bool is_miss(const FibLookup& r) {
  return r.route == nullptr || r.route->type == RouteType::kThrow;
}

bool rule_matches(const Rule& rule, const FlowKey& flow) {
  return selectors_match(rule, flow) != rule.invert;
}

// rule_exists: every field but `not` and the goto target.
bool same_rule(const Rule& a, const Rule& b) {
  return a.priority == b.priority && a.from == b.from && a.to == b.to && a.fwmark == b.fwmark &&
         a.iif == b.iif && a.oif == b.oif && a.tos == b.tos && a.action == b.action &&
         a.table == b.table && a.suppress_prefixlength == b.suppress_prefixlength;
}

// rule_find + fib4_rule_compare: given fields only.
bool selector_matches(const RuleSelector& s, const Rule& r) {
  const auto prefix_ok = [](const std::optional<Ipv4Prefix>& want,
                            const std::optional<Ipv4Prefix>& have) {
    return !want || want->length() == 0 || want == have;
  };
  if (s.action && *s.action != r.action) return false;
  if (s.table != kUnspecTable && s.table != r.table) return false;
  if (s.priority && *s.priority != r.priority) return false;
  if (s.iif && s.iif != r.iif) return false;
  if (s.oif && s.oif != r.oif) return false;
  if (s.fwmark) {
    const FwMark have = r.fwmark.value_or(FwMark{0, 0});
    if (s.fwmark->value != 0 && s.fwmark->value != have.value) return false;
    if (s.fwmark->mask != 0 && s.fwmark->mask != have.mask) return false;
  }
  if (s.suppress_prefixlength && s.suppress_prefixlength != r.suppress_prefixlength) return false;
  if (s.tos != 0 && s.tos != r.tos) return false;
  return prefix_ok(s.from, r.from) && prefix_ok(s.to, r.to);
}

}  // namespace

std::string_view error_text(FibLookup::Kind kind) {
  switch (kind) {
    case FibLookup::Kind::kRoute: return "";
    case FibLookup::Kind::kNoRoute: return "Network is unreachable";
    case FibLookup::Kind::kBlackhole: return "Invalid argument";
    case FibLookup::Kind::kUnreachable: return "No route to host";
    case FibLookup::Kind::kProhibit: return "Permission denied";
  }
  return "";
}

Fib::Fib() {
  ensure_table(kMainTable);
  ensure_table(kLocalTable);
  ensure_table(kDefaultTable);
  // fib_default_rules_init
  rules_.push_back(Rule{.priority = 0, .table = kLocalTable});
  rules_.push_back(Rule{.priority = 32766, .table = kMainTable});
  rules_.push_back(Rule{.priority = 32767, .table = kDefaultTable});
}

// ---- tables --------------------------------------------------------------------------------

RouteTable& Fib::ensure_table(std::uint32_t id) {
  auto [it, inserted] = tables_.try_emplace(id, TableSlot{RouteTable(id), next_created_});
  if (inserted) {
    ++next_created_;
    if (id < small_tables_.size()) small_tables_[id] = &it->second.table;
  }
  return it->second.table;
}

RouteTable* Fib::find_table(std::uint32_t id) {
  if (id < small_tables_.size()) return small_tables_[id];
  auto it = tables_.find(id);
  return it == tables_.end() ? nullptr : &it->second.table;
}

const RouteTable* Fib::find_table(std::uint32_t id) const {
  if (id < small_tables_.size()) return small_tables_[id];
  auto it = tables_.find(id);
  return it == tables_.end() ? nullptr : &it->second.table;
}

const RouteTable* Fib::table(std::uint32_t id) const { return find_table(id); }

std::vector<const RouteTable*> Fib::tables() const {
  std::vector<const TableSlot*> slots;
  slots.reserve(tables_.size());
  for (const auto& [id, slot] : tables_) slots.push_back(&slot);
  // inet_dump_fib walks fib_table_hash[id & 255]; fib_new_table adds at each bucket's head.
  std::sort(slots.begin(), slots.end(), [](const TableSlot* a, const TableSlot* b) {
    const std::uint32_t ha = a->table.id() & 0xff;
    const std::uint32_t hb = b->table.id() & 0xff;
    if (ha != hb) return ha < hb;
    return a->created > b->created;
  });
  std::vector<const RouteTable*> out;
  out.reserve(slots.size());
  for (const TableSlot* s : slots) out.push_back(&s->table);
  return out;
}

// ---- lookups -------------------------------------------------------------------------------

FibLookup Fib::finish(const Route* route, std::uint32_t table) const {
  FibLookup out;
  out.route = route;
  out.table = table;
  if (route == nullptr) return out;
  switch (route->type) {
    case RouteType::kThrow: out.kind = FibLookup::Kind::kNoRoute; break;
    case RouteType::kBlackhole: out.kind = FibLookup::Kind::kBlackhole; break;
    case RouteType::kUnreachable: out.kind = FibLookup::Kind::kUnreachable; break;
    case RouteType::kProhibit: out.kind = FibLookup::Kind::kProhibit; break;
    default: out.kind = FibLookup::Kind::kRoute; break;
  }
  return out;
}

FibLookup Fib::lookup_table(std::uint32_t table, const FlowKey& flow) const {
  if (!custom_rules_ && (table == kLocalTable || table == kMainTable)) {
    // One trie: the longest prefix over both; at equal length local's route comes first
    // (fib_find_alias orders a leaf's aliases by table id, descending).
    const Route* local = find_table(kLocalTable)->lookup(flow.destination, flow.tos, flow.scope,
                                                        flow.oif_ifindex);
    const int length = local == nullptr ? -1 : local->destination.length();
    const Route* main = find_table(kMainTable)->lookup_longer_than(
        flow.destination, flow.tos, flow.scope, flow.oif_ifindex, length);
    return finish(main != nullptr ? main : local, table);
  }
  const RouteTable* t = find_table(table);
  if (t == nullptr) return FibLookup{.table = table};
  return finish(t->lookup(flow.destination, flow.tos, flow.scope, flow.oif_ifindex), table);
}

// fib4_rule_action (+ fib4_rule_suppress) for a matching rule other than goto: a decision, or
// nothing to go on with the next rule (-EAGAIN: no table, no match, throw, suppressed).
std::optional<FibLookup> Fib::apply_rule(const Rule& rule, const FlowKey& flow) const {
  FibLookup out{.rule = &rule};
  switch (rule.action) {
    case RuleAction::kBlackhole: out.kind = FibLookup::Kind::kBlackhole; return out;
    case RuleAction::kUnreachable: out.kind = FibLookup::Kind::kNoRoute; return out;
    case RuleAction::kProhibit: out.kind = FibLookup::Kind::kProhibit; return out;
    case RuleAction::kNop:
    case RuleAction::kGoto: return std::nullopt;
    case RuleAction::kLookup: break;
  }
  FibLookup r = lookup_table(rule.table, flow);
  if (is_miss(r)) return std::nullopt;
  // Suppression applies to successful lookups only: a blackhole route still decides.
  if (r.ok() && rule.suppress_prefixlength &&
      r.route->destination.length() <= *rule.suppress_prefixlength) {
    return std::nullopt;
  }
  r.rule = &rule;
  return r;
}

FibLookup Fib::lookup(const FlowKey& flow) const {
  if (!custom_rules_) {
    // fib_lookup without custom rules: merged main+local, then default; rules are not read.
    FibLookup r = lookup_table(kMainTable, flow);
    if (!is_miss(r)) return r;
    r = lookup_table(kDefaultTable, flow);
    if (!is_miss(r)) return r;
    return FibLookup{};
  }

  // fib_rules_lookup
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    if (!rule_matches(rule, flow)) continue;
    if (rule.action == RuleAction::kGoto) {
      // ctarget: the first rule with the target priority; none (unresolved) = go on. The
      // target is then matched like any rule, so continue just before it (it lies after i:
      // backward gotos are refused).
      const auto target = std::lower_bound(
          rules_.begin(), rules_.end(), rule.goto_target,
          [](const Rule& r, std::uint32_t priority) { return r.priority < priority; });
      if (target != rules_.end() && target->priority == rule.goto_target) {
        i = static_cast<std::size_t>(target - rules_.begin()) - 1;
      }
      continue;
    }
    if (auto decided = apply_rule(rule, flow)) return *decided;
  }
  return FibLookup{};  // -ESRCH becomes -ENETUNREACH
}

RouteType Fib::address_type(Ipv4Address address) const {
  if (is_zeronet(address) || address.is_broadcast()) return RouteType::kBroadcast;
  if (address.is_multicast()) return RouteType::kMulticast;
  const FibLookup r = lookup_table(kLocalTable, FlowKey{.destination = address});
  return r.ok() ? r.route->type : RouteType::kUnicast;
}

// ---- routes --------------------------------------------------------------------------------

Result<std::uint32_t> Fib::check_nexthop(const Route& route) const {
  if (is_reject(route.type) || !route.gateway || route.scope == RouteScope::kHost) {
    return route.ifindex;
  }
  const Ipv4Address gateway = *route.gateway;
  if (route.onlink) {
    // fib_check_nh_v4_gw, onlink: the gateway only must not be local or broadcast here.
    if (route.ifindex == 0) {
      return kernel_error(Errc::kInvalidArgument, "Nexthop device required for onlink");
    }
    RouteType type = RouteType::kUnicast;
    if (is_zeronet(gateway) || gateway.is_broadcast()) {
      type = RouteType::kBroadcast;
    } else if (gateway.is_multicast()) {
      type = RouteType::kMulticast;
    } else {
      // inet_addr_type_dev_table: a route through another device does not count.
      const FibLookup r = lookup_table(kLocalTable, FlowKey{.destination = gateway});
      if (r.ok() && r.route->ifindex == route.ifindex) type = r.route->type;
    }
    if (type != RouteType::kUnicast) {
      return kernel_error(Errc::kInvalidArgument, "Nexthop has invalid gateway");
    }
    return route.ifindex;
  }
  // The gateway must be reachable by a route of a narrower scope than this one's: for the usual
  // scope-global route, a connected (scope link) route or a local address.
  const auto wanted = static_cast<std::uint8_t>(static_cast<std::uint8_t>(route.scope) + 1);
  const FlowKey flow{
      .destination = gateway,
      .oif_ifindex = route.ifindex,
      .scope =
          static_cast<RouteScope>(std::max(wanted, static_cast<std::uint8_t>(RouteScope::kLink))),
  };
  FibLookup r;
  if (route.table != kMainTable && find_table(route.table) != nullptr) {
    r = lookup_table(route.table, flow);
  }
  if (!r.ok()) r = lookup(flow);
  if (!r.ok() || (r.route->type != RouteType::kUnicast && r.route->type != RouteType::kLocal)) {
    return kernel_error(Errc::kInvalidArgument, "Nexthop has invalid gateway");
  }
  return r.route->ifindex;  // FIB_RES_OIF: the device the gateway is reached through
}

bool Fib::valid_prefsrc(const Route& route) const {
  // fib_valid_prefsrc: a local route to its own address is its own proof.
  const Ipv4Address src = *route.preferred_source;
  if (route.type == RouteType::kLocal && !route.destination.address().is_unspecified() &&
      src == route.destination.address()) {
    return true;
  }
  const auto type_in = [&](std::uint32_t table) {
    if (is_zeronet(src) || src.is_broadcast()) return RouteType::kBroadcast;
    if (src.is_multicast()) return RouteType::kMulticast;
    if (find_table(table) == nullptr) return RouteType::kBroadcast;
    const FibLookup r = lookup_table(table, FlowKey{.destination = src});
    return r.ok() ? r.route->type : RouteType::kUnicast;
  };
  const std::uint32_t table = route.table == kMainTable ? kLocalTable : route.table;
  RouteType type = type_in(table);
  if (type != RouteType::kLocal && table != kLocalTable) type = type_in(kLocalTable);
  return type == RouteType::kLocal;
}

Result<void> Fib::add_route(Route route, RouteAddMode mode) {
  if (auto error = RouteTable::validate(route)) return std::unexpected(std::move(*error));
  auto ifindex = check_nexthop(route);
  if (!ifindex) return std::unexpected(std::move(ifindex.error()));
  route.ifindex = *ifindex;
  if (!is_reject(route.type) && route.preferred_source && !valid_prefsrc(route)) {
    return kernel_error(Errc::kInvalidArgument, "Invalid prefsrc address");
  }
  return ensure_table(route.table).add(route, mode);
}

Result<Route> Fib::remove_route(const RouteSelector& selector) {
  RouteTable* t = find_table(selector.table);
  if (t == nullptr) return kernel_error(Errc::kNotFound, "FIB table does not exist");
  return t->remove(selector);
}

// ---- addresses and devices -----------------------------------------------------------------

void Fib::add_kernel_route(const Route& route) {
  // fib_magic: NLM_F_CREATE|NLM_F_APPEND, so an identical route already there is left alone.
  auto added = ensure_table(route.table).add(route, RouteAddMode::kAppend);
  CALISIM_CHECK(added || added.error().code == Errc::kExists, "fib: kernel route refused");
}

void Fib::remove_kernel_route(const Route& route) {
  RouteTable* t = find_table(route.table);
  if (t == nullptr) return;
  (void)t->remove(RouteSelector{
      .destination = route.destination,
      .table = route.table,
      .type = route.type,
      .scope = route.scope,
      .protocol = route_protocol::kKernel,
      .ifindex = route.ifindex,
      .preferred_source = route.preferred_source,
  });
}

namespace {

struct KernelRoutes {
  std::optional<Route> local;
  std::optional<Route> explicit_broadcast;
  std::optional<Route> prefix;
  std::optional<Route> broadcast;
};

// The routes fib_add_ifaddr makes for one address (fib_magic fills the fields).
KernelRoutes kernel_routes(std::uint32_t ifindex, Ipv4Prefix address,
                           const AddressRouteOptions& options) {
  const Ipv4Address local = address.address();
  const Ipv4Address src = options.primary.value_or(local);
  const auto make = [&](RouteType type, Ipv4Prefix destination, std::uint32_t metric) {
    return Route{
        .destination = destination,
        .type = type,
        .ifindex = ifindex,
        .scope = type == RouteType::kLocal ? RouteScope::kHost : RouteScope::kLink,
        .protocol = route_protocol::kKernel,
        .metric = metric,
        .preferred_source = src,
        .table = type == RouteType::kUnicast ? kMainTable : kLocalTable,
    };
  };
  KernelRoutes out;
  out.local = make(RouteType::kLocal, Ipv4Prefix(local, 32), 0);
  if (!options.device_up) return out;
  if (options.broadcast && !options.broadcast->is_broadcast() &&
      !options.broadcast->is_unspecified()) {
    out.explicit_broadcast = make(RouteType::kBroadcast, Ipv4Prefix(*options.broadcast, 32), 0);
  }
  const Ipv4Address network = address.network();
  if (!is_zeronet(network) && !options.primary &&
      (network != local || address.length() < 32)) {
    if (!options.noprefixroute) {
      const RouteType type =
          ifindex == kLoopbackIfindex ? RouteType::kLocal : RouteType::kUnicast;
      out.prefix = make(type, Ipv4Prefix(network, address.length()), options.metric);
    }
    // Only the last address: the network-address broadcast route is gone since Linux 5.x's
    // "lowest address" change (older kernels still list `broadcast 10.200.1.0`).
    if (address.length() < 31) {
      out.broadcast = make(RouteType::kBroadcast, Ipv4Prefix(address.broadcast(), 32), 0);
    }
  }
  return out;
}

}  // namespace

void Fib::add_address_routes(std::uint32_t ifindex, Ipv4Prefix address,
                             const AddressRouteOptions& options) {
  const KernelRoutes routes = kernel_routes(ifindex, address, options);
  for (const auto* r : {&routes.local, &routes.explicit_broadcast, &routes.prefix,
                        &routes.broadcast}) {
    if (*r) add_kernel_route(**r);
  }
}

void Fib::remove_address_routes(std::uint32_t ifindex, Ipv4Prefix address,
                                const AddressRouteOptions& options) {
  AddressRouteOptions up = options;
  up.device_up = true;  // whatever was added while up goes; the rest is simply not found
  const KernelRoutes routes = kernel_routes(ifindex, address, up);
  for (const auto* r : {&routes.prefix, &routes.explicit_broadcast, &routes.broadcast,
                        &routes.local}) {
    if (*r) remove_kernel_route(**r);
  }
  // fib_del_ifaddr: once the address is not local on this device any more, routes in table
  // main that use it as src are stale (fib_sync_down_addr).
  const Ipv4Address local = address.address();
  const FibLookup r = lookup_table(kLocalTable, FlowKey{.destination = local});
  const bool still_local =
      r.ok() && r.route->type == RouteType::kLocal && r.route->ifindex == ifindex;
  if (!still_local) find_table(kMainTable)->remove_preferred_source(local);
}

std::size_t Fib::remove_everywhere(std::uint32_t ifindex, bool keep_host_scope) {
  std::size_t removed = 0;
  for (auto& [id, slot] : tables_)
    removed += slot.table.remove_device_routes(ifindex, keep_host_scope);
  return removed;
}

std::size_t Fib::device_down(std::uint32_t ifindex) { return remove_everywhere(ifindex, true); }

std::size_t Fib::clear_device(std::uint32_t ifindex) { return remove_everywhere(ifindex, false); }

// ---- rules ---------------------------------------------------------------------------------

std::uint32_t Fib::default_rule_priority() const {
  if (rules_.size() >= 2 && rules_[1].priority != 0) return rules_[1].priority - 1;
  return 0;
}

Result<void> Fib::add_rule(Rule rule) {
  if ((rule.tos & 0x03) != 0) {
    return kernel_error(Errc::kInvalidArgument, "Invalid dsfield (tos): ECN bits must be 0");
  }
  if ((rule.tos & ~kRouteTosMask) != 0) return kernel_error(Errc::kInvalidArgument, "Invalid tos");
  if (rule.action == RuleAction::kGoto && rule.goto_target <= rule.priority) {
    return kernel_error(Errc::kInvalidArgument, "Backward goto not supported");
  }
  // What the kernel keeps: a /0 selector is no selector, a mark of 0/0 matches everything.
  if (rule.from && rule.from->length() == 0) rule.from.reset();
  if (rule.to && rule.to->length() == 0) rule.to.reset();
  if (rule.fwmark && rule.fwmark->value == 0 && rule.fwmark->mask == 0) rule.fwmark.reset();
  if (rule.action != RuleAction::kLookup) rule.table = kUnspecTable;
  if (rule.action != RuleAction::kGoto) rule.goto_target = 0;
  for (const Rule& r : rules_) {
    if (same_rule(r, rule)) return errno_error(Errc::kExists, "File exists");
  }
  if (rule.action == RuleAction::kLookup && rule.table == kUnspecTable) {
    // `lookup 0`: fib4_rule_configure takes a new table from fib_empty_table (lowest free id).
    std::uint32_t id = 1;
    while (find_table(id) != nullptr) ++id;
    rule.table = id;
    ensure_table(id);
  }
  auto at = std::upper_bound(rules_.begin(), rules_.end(), rule.priority,
                             [](std::uint32_t p, const Rule& r) { return p < r.priority; });
  rules_.insert(at, std::move(rule));
  custom_rules_ = true;  // fib4_rule_configure -> fib_unmerge
  return {};
}

Result<Rule> Fib::remove_rule(const RuleSelector& selector) {
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (!selector_matches(selector, *it)) continue;
    Rule removed = std::move(*it);
    rules_.erase(it);
    custom_rules_ = true;  // fib4_rule_delete -> fib_unmerge
    return removed;
  }
  return errno_error(Errc::kNotFound, "No such file or directory");
}

}  // namespace calisim::dataplane
