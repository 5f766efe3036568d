#include <calisim/bgp/policy.hpp>

#include <algorithm>
#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace calisim::bgp {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::bgp::PathAttributes;

std::string_view to_string(RouteSource source) {
  switch (source) {
    case RouteSource::kStatic: return "static";
    case RouteSource::kInherit: return "inherit";
    case RouteSource::kDevice: return "device";
    case RouteSource::kBgp: return "BGP";
  }
  return "?";
}

std::string_view to_string(RouteDest dest) {
  switch (dest) {
    case RouteDest::kUnicast: return "unicast";
    case RouteDest::kBlackhole: return "blackhole";
    case RouteDest::kUnreachable: return "unreachable";
    case RouteDest::kProhibit: return "prohibited";
  }
  return "???";
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kContinue: return "continue";
    case Verdict::kAccept: return "accept";
    case Verdict::kReject: return "reject";
  }
  return "?";
}

// ---- PrefixPattern --------------------------------------------------------------------------

namespace {

Ipv4Prefix masked(Ipv4Prefix p) { return Ipv4Prefix(p.network(), p.length()); }

}  // namespace

PrefixPattern PrefixPattern::subnets_of(Ipv4Prefix prefix) {
  return PrefixPattern{masked(prefix), prefix.length(), 32};
}

PrefixPattern PrefixPattern::exact(Ipv4Prefix prefix) {
  return PrefixPattern{masked(prefix), prefix.length(), prefix.length()};
}

Result<PrefixPattern> PrefixPattern::range(Ipv4Prefix prefix, std::uint8_t low, std::uint8_t high) {
  if (low > high || high > 32) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("prefix pattern {}{{{},{}}}: need low <= high <= 32", prefix, low, high));
  }
  return PrefixPattern{masked(prefix), low, high};
}

Result<PrefixPattern> PrefixPattern::parse(std::string_view text) {
  std::string_view base = text;
  std::string_view suffix;
  if (auto brace = text.find('{'); brace != std::string_view::npos) {
    base = text.substr(0, brace);
    suffix = text.substr(brace);
  } else if (!text.empty() && (text.back() == '+' || text.back() == '-')) {
    base = text.substr(0, text.size() - 1);
    suffix = text.substr(text.size() - 1);
  }
  auto prefix = Ipv4Prefix::parse(base);
  if (!prefix) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("prefix pattern \"{}\": {}", text, prefix.error().message));
  }
  if (suffix.empty()) return subnets_of(*prefix);
  if (suffix == "+") return subnets_of(*prefix);
  if (suffix == "-") return PrefixPattern{masked(*prefix), 0, prefix->length()};
  // "{low,high}"
  if (suffix.size() < 5 || suffix.back() != '}') {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("prefix pattern \"{}\": expected {{low,high}}", text));
  }
  std::string_view inner = suffix.substr(1, suffix.size() - 2);
  auto comma = inner.find(',');
  if (comma == std::string_view::npos) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("prefix pattern \"{}\": expected {{low,high}}", text));
  }
  auto number = [](std::string_view s, unsigned& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  unsigned low = 0;
  unsigned high = 0;
  if (!number(inner.substr(0, comma), low) || !number(inner.substr(comma + 1), high) || high > 32) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("prefix pattern \"{}\": lengths must be 0..32", text));
  }
  return range(*prefix, static_cast<std::uint8_t>(low), static_cast<std::uint8_t>(high));
}

bool PrefixPattern::matches(const Ipv4Prefix& net) const {
  if (net.length() < min_length || net.length() > max_length) return false;
  std::uint8_t bits = std::min(prefix.length(), net.length());
  std::uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
  return (net.address().value() & mask) == (prefix.address().value() & mask);
}

std::string PrefixPattern::to_string() const {
  if (min_length == prefix.length() && max_length == 32) return prefix.to_string();
  return fmt::format("{}{{{},{}}}", prefix, min_length, max_length);
}

// lib/patmatch.c: `*` matches any run (also empty), `?` one character.
bool pattern_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// ---- FilterRoute, Filter ----------------------------------------------------------------------

PathAttributes& FilterRoute::mutable_attributes() {
  if (!changed_) changed_ = base_ ? *base_ : PathAttributes{};
  return *changed_;
}

Filter Filter::accept_all() {
  Filter f("all");
  f.kind_ = Kind::kAcceptAll;
  return f;
}

Filter Filter::reject_all() {
  Filter f("none");
  f.kind_ = Kind::kRejectAll;
  return f;
}

void Filter::own_statements() {
  if (statements_.use_count() > 1) statements_ = std::make_shared<std::vector<RouteAction>>(*statements_);
  kind_ = Kind::kStatements;
}

Filter& Filter::then(RouteAction action) {
  own_statements();
  statements_->push_back(std::move(action));
  return *this;
}

Filter& Filter::when(RoutePredicate condition, RouteAction action) {
  return then([condition = std::move(condition), action = std::move(action)](FilterRoute& r) {
    return condition(r) ? action(r) : Verdict::kContinue;
  });
}

Filter& Filter::when(RoutePredicate condition, std::vector<RouteAction> actions) {
  return when(std::move(condition), sequence(std::move(actions)));
}

Filter& Filter::call(Filter function) {
  return then([function = std::move(function)](FilterRoute& r) { return function.run(r); });
}

Filter& Filter::accept() { return then(bgp::accept()); }
Filter& Filter::reject() { return then(bgp::reject()); }

Verdict Filter::run(FilterRoute& route) const {
  switch (kind_) {
    case Kind::kAcceptAll: return Verdict::kAccept;
    case Kind::kRejectAll: return Verdict::kReject;
    case Kind::kStatements: break;
  }
  for (const RouteAction& statement : *statements_) {
    Verdict v = statement(route);
    if (v != Verdict::kContinue) return v;
  }
  return Verdict::kContinue;
}

// ---- predicates -------------------------------------------------------------------------------

namespace {

bool compare(Compare op, std::uint64_t a, std::uint64_t b) {
  switch (op) {
    case Compare::kEqual: return a == b;
    case Compare::kNotEqual: return a != b;
    case Compare::kLess: return a < b;
    case Compare::kLessEqual: return a <= b;
    case Compare::kGreater: return a > b;
    case Compare::kGreaterEqual: return a >= b;
  }
  return false;
}

}  // namespace

RoutePredicate net_matches(PrefixPattern pattern) {
  return [pattern](const FilterRoute& r) { return pattern.matches(r.net()); };
}

RoutePredicate net_matches_any(std::vector<PrefixPattern> set) {
  return [set = std::move(set)](const FilterRoute& r) {
    return std::any_of(set.begin(), set.end(), [&](const PrefixPattern& p) { return p.matches(r.net()); });
  };
}

RoutePredicate net_in(Ipv4Prefix prefix) { return net_matches(PrefixPattern::subnets_of(prefix)); }

RoutePredicate net_is(Ipv4Prefix prefix) {
  Ipv4Prefix want = masked(prefix);
  return [want](const FilterRoute& r) { return masked(r.net()) == want; };
}

RoutePredicate source_is(RouteSource source) {
  return [source](const FilterRoute& r) { return r.source() == source; };
}

RoutePredicate dest_is(RouteDest dest) {
  return [dest](const FilterRoute& r) { return r.dest() == dest; };
}

RoutePredicate has_ifname() {
  return [](const FilterRoute& r) { return !r.ifname().empty(); };
}

RoutePredicate ifname_matches(std::string pattern) {
  return [pattern = std::move(pattern)](const FilterRoute& r) {
    return !r.ifname().empty() && pattern_match(pattern, r.ifname());
  };
}

RoutePredicate has_attributes() {
  return [](const FilterRoute& r) { return r.attributes() != nullptr; };
}

RoutePredicate next_hop_in(Ipv4Prefix prefix) {
  return [prefix](const FilterRoute& r) {
    const PathAttributes* a = r.attributes();
    return a && a->next_hop && prefix.contains(*a->next_hop);
  };
}

RoutePredicate local_pref_is(Compare op, std::uint32_t value) {
  return [op, value](const FilterRoute& r) {
    const PathAttributes* a = r.attributes();
    return a && a->local_pref && compare(op, *a->local_pref, value);
  };
}

RoutePredicate med_is(Compare op, std::uint32_t value) {
  return [op, value](const FilterRoute& r) {
    const PathAttributes* a = r.attributes();
    return a && a->multi_exit_disc && compare(op, *a->multi_exit_disc, value);
  };
}

RoutePredicate as_path_length_is(Compare op, std::uint32_t value) {
  return [op, value](const FilterRoute& r) {
    const PathAttributes* a = r.attributes();
    return a && a->as_path && compare(op, a->as_path->path_length(), value);
  };
}

RoutePredicate origin_is(wire::bgp::Origin origin) {
  return [origin](const FilterRoute& r) {
    const PathAttributes* a = r.attributes();
    return a && a->origin && *a->origin == origin;
  };
}

RoutePredicate community_contains(std::uint32_t community) {
  return [community](const FilterRoute& r) {
    const PathAttributes* a = r.attributes();
    return a && std::find(a->communities.begin(), a->communities.end(), community) != a->communities.end();
  };
}

RoutePredicate as_path_contains(std::uint32_t as_number) {
  return [as_number](const FilterRoute& r) {
    const PathAttributes* a = r.attributes();
    if (!a || !a->as_path) return false;
    for (const auto& segment : a->as_path->segments) {
      if (std::find(segment.as_numbers.begin(), segment.as_numbers.end(), as_number) !=
          segment.as_numbers.end()) {
        return true;
      }
    }
    return false;
  };
}

RoutePredicate krt_metric_is(Compare op, std::uint32_t value) {
  return [op, value](const FilterRoute& r) { return r.krt_metric && compare(op, *r.krt_metric, value); };
}

RoutePredicate all_of(std::vector<RoutePredicate> predicates) {
  return [predicates = std::move(predicates)](const FilterRoute& r) {
    return std::all_of(predicates.begin(), predicates.end(), [&](const RoutePredicate& p) { return p(r); });
  };
}

RoutePredicate any_of(std::vector<RoutePredicate> predicates) {
  return [predicates = std::move(predicates)](const FilterRoute& r) {
    return std::any_of(predicates.begin(), predicates.end(), [&](const RoutePredicate& p) { return p(r); });
  };
}

RoutePredicate negate(RoutePredicate predicate) {
  return [predicate = std::move(predicate)](const FilterRoute& r) { return !predicate(r); };
}

// ---- actions -----------------------------------------------------------------------------------

RouteAction accept() {
  return [](FilterRoute&) { return Verdict::kAccept; };
}

RouteAction reject() {
  return [](FilterRoute&) { return Verdict::kReject; };
}

RouteAction set_local_pref(std::uint32_t value) {
  return [value](FilterRoute& r) {
    r.mutable_attributes().local_pref = value;
    return Verdict::kContinue;
  };
}

RouteAction set_med(std::uint32_t value) {
  return [value](FilterRoute& r) {
    r.mutable_attributes().multi_exit_disc = value;
    r.mark_fresh(kFreshMed);
    return Verdict::kContinue;
  };
}

RouteAction set_origin(wire::bgp::Origin origin) {
  return [origin](FilterRoute& r) {
    r.mutable_attributes().origin = origin;
    return Verdict::kContinue;
  };
}

RouteAction set_next_hop(Ipv4Address next_hop) {
  return [next_hop](FilterRoute& r) {
    r.mutable_attributes().next_hop = next_hop;
    r.mark_fresh(kFreshNextHop);
    return Verdict::kContinue;
  };
}

RouteAction add_community(std::uint32_t community) {
  return [community](FilterRoute& r) {
    // int_set_add: a set, no duplicates; appended at the end.
    const PathAttributes* a = r.attributes();
    if (a && std::find(a->communities.begin(), a->communities.end(), community) != a->communities.end()) {
      return Verdict::kContinue;
    }
    r.mutable_attributes().communities.push_back(community);
    return Verdict::kContinue;
  };
}

RouteAction delete_community(std::uint32_t community) {
  return [community](FilterRoute& r) {
    const PathAttributes* a = r.attributes();
    if (!a || std::find(a->communities.begin(), a->communities.end(), community) == a->communities.end()) {
      return Verdict::kContinue;
    }
    auto& c = r.mutable_attributes().communities;
    c.erase(std::remove(c.begin(), c.end(), community), c.end());
    return Verdict::kContinue;
  };
}

RouteAction prepend_as(std::uint32_t as_number, std::uint32_t count) {
  return [as_number, count](FilterRoute& r) {
    auto& attrs = r.mutable_attributes();
    if (!attrs.as_path) attrs.as_path = wire::bgp::AsPath{};
    auto& segments = attrs.as_path->segments;
    if (segments.empty() || segments.front().type != wire::bgp::AsPathSegmentType::kAsSequence) {
      segments.insert(segments.begin(), wire::bgp::AsPathSegment{});
    }
    auto& numbers = segments.front().as_numbers;
    numbers.insert(numbers.begin(), count, as_number);
    return Verdict::kContinue;
  };
}

RouteAction set_krt_tunnel(std::string device) {
  return [device = std::move(device)](FilterRoute& r) {
    r.krt_tunnel = device;
    return Verdict::kContinue;
  };
}

RouteAction set_krt_metric(std::uint32_t metric) {
  return [metric](FilterRoute& r) {
    r.krt_metric = metric;
    return Verdict::kContinue;
  };
}

RouteAction if_else(RoutePredicate condition, RouteAction then_action, RouteAction else_action) {
  return [condition = std::move(condition), then_action = std::move(then_action),
          else_action = std::move(else_action)](FilterRoute& r) {
    return condition(r) ? then_action(r) : else_action(r);
  };
}

RouteAction sequence(std::vector<RouteAction> actions) {
  return [actions = std::move(actions)](FilterRoute& r) {
    for (const RouteAction& a : actions) {
      Verdict v = a(r);
      if (v != Verdict::kContinue) return v;
    }
    return Verdict::kContinue;
  };
}

// ---- Calico ------------------------------------------------------------------------------------

namespace {

// confd ranges over etcd keys, which sort as the CIDR with '/' written '-' ("10.244.0.0-16").
std::string key_of(const Ipv4Prefix& cidr) {
  std::string s = cidr.to_string();
  std::replace(s.begin(), s.end(), '/', '-');
  return s;
}

template <class T>
std::vector<T> in_key_order(std::vector<T> items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const T& a, const T& b) { return key_of(a.cidr) < key_of(b.cidr); });
  return items;
}

bool uses_vxlan(const CalicoIpPool& pool) { return pool.vxlan_mode != EncapMode::kNever; }

}  // namespace

Filter calico_aggr(const CalicoBirdConfig& config) {
  Filter f("calico_aggr");
  for (const CalicoBlock& block : in_key_order(config.blocks)) {
    if (block.state != BlockAffinityState::kImplicit && block.state != BlockAffinityState::kConfirmed) {
      continue;  // "# Block X is pending": no statements
    }
    f.when(net_is(block.cidr), accept());
    f.when(net_in(block.cidr), reject());
  }
  return f;
}

Filter calico_export_to_bgp_peers(const CalicoBirdConfig& config, bool internal_peer) {
  Filter f("calico_export_to_bgp_peers");
  auto pools = in_key_order(config.pools);
  // reject_disabled_pools()
  for (const CalicoIpPool& pool : pools) {
    if (pool.disable_bgp_export) f.when(net_in(pool.cidr), reject());
  }
  // reject_tunnel_routes(): Felix programs VXLAN and WireGuard routes; BIRD learns them from the
  // kernel table but must not pass them to other nodes.
  if (internal_peer) {
    f.when(any_of({ifname_matches("*.cali"), ifname_matches("*.calico")}), reject());
  }
  // apply_communities() (bird.cfg.template)
  for (const CalicoCommunityRule& rule : config.communities) {
    std::vector<RouteAction> adds;
    for (std::uint32_t c : rule.communities) adds.push_back(add_community(c));
    f.when(net_in(rule.cidr), std::move(adds));
  }
  f.call(calico_aggr(config));
  for (const Ipv4Prefix& cidr : config.static_routes) f.when(net_in(cidr), accept());
  for (const CalicoIpPool& pool : pools) {
    if (!pool.disable_bgp_export) f.when(net_in(pool.cidr), accept());
  }
  return f;
}

Filter calico_peer_export(const CalicoBirdConfig& config, bool internal_peer) {
  Filter f("calico_peer_export");
  f.call(calico_export_to_bgp_peers(config, internal_peer));
  f.reject();
  return f;
}

Filter calico_kernel_programming(const CalicoBirdConfig& config) {
  Filter f("calico_kernel_programming");
  for (const Ipv4Prefix& cidr : config.reject_cidrs) f.when(net_in(cidr), reject());
  if (config.network) {
    Ipv4Prefix subnet(config.network->network(), config.network->length());
    for (const CalicoIpPool& pool : in_key_order(config.pools)) {
      if (uses_vxlan(pool)) {
        f.when(net_in(pool.cidr), reject());  // "Don't program VXLAN routes into the kernel"
        continue;
      }
      std::string tunnel = pool.ipip_mode == EncapMode::kNever ? "" : config.ipip_device;
      RouteAction set_tunnel = set_krt_tunnel(tunnel);
      if (pool.ipip_mode == EncapMode::kCrossSubnet) {
        // `if defined(bgp_next_hop) && (bgp_next_hop ~ <network>) then krt_tunnel = "";
        //  else krt_tunnel = "tunl0";`
        set_tunnel = if_else(next_hop_in(subnet), set_krt_tunnel(""), set_krt_tunnel(tunnel));
      }
      f.when(net_in(pool.cidr), {std::move(set_tunnel), accept()});
    }
  }
  f.accept();
  return f;
}

std::vector<Ipv4Prefix> calico_static_blackholes(const CalicoBirdConfig& config) {
  std::vector<Ipv4Prefix> routes;
  for (const CalicoBlock& block : in_key_order(config.blocks)) {
    if (block.cidr.length() != 32) routes.push_back(block.cidr);
  }
  for (const Ipv4Prefix& cidr : config.static_routes) routes.push_back(cidr);
  return routes;
}

}  // namespace calisim::bgp
