#include <calisim/dataplane/route.hpp>

#include <algorithm>
#include <bit>
#include <utility>

#include <fmt/format.h>

namespace calisim::dataplane {
namespace {

// IPTOS_RT_MASK: the TOS bits routing looks at (fib_dscp_masked_match).
constexpr std::uint8_t kRouteTosMask = 0x1c;

// fib_props[type].scope: the narrowest scope a route of this type may have.
RouteScope minimum_scope(RouteType type) {
  switch (type) {
    case RouteType::kLocal: return RouteScope::kHost;
    case RouteType::kBroadcast: return RouteScope::kLink;
    default: return RouteScope::kUniverse;
  }
}

std::uint8_t raw(RouteScope s) { return static_cast<std::uint8_t>(s); }

Error kernel_error(Errc code, std::string_view extack) {
  // iproute2 prints the kernel's extended ack as "Error: <msg>." (nl_dump_ext_ack).
  return Error{code, fmt::format("Error: {}.", extack)};
}
Error errno_error(Errc code, std::string_view strerror_text) {
  // No extended ack: iproute2 prints "RTNETLINK answers: <strerror(errno)>".
  return Error{code, fmt::format("RTNETLINK answers: {}", strerror_text)};
}

// fib_create_info's checks that need no other table (the order is the kernel's).
std::optional<Error> check_route(const Route& r) {
  if ((r.tos & 0x03) != 0) {
    return kernel_error(Errc::kInvalidArgument, "Invalid dsfield (tos): ECN bits must be 0");
  }
  if (r.destination.address() != r.destination.network()) {
    return kernel_error(Errc::kInvalidArgument, "Invalid prefix for given prefix length");
  }
  if (raw(minimum_scope(r.type)) > raw(r.scope)) {
    return kernel_error(Errc::kInvalidArgument, "Invalid scope");
  }
  if (is_reject(r.type)) {
    if (r.gateway || r.ifindex != 0) {
      return kernel_error(Errc::kInvalidArgument,
                          "Gateway, device and multipath can not be specified for this route type");
    }
    return std::nullopt;
  }
  if (r.scope == RouteScope::kNowhere) return kernel_error(Errc::kInvalidArgument, "Invalid scope");
  if (r.scope == RouteScope::kHost) {
    if (r.gateway) {
      return kernel_error(Errc::kInvalidArgument, "Route with host scope can not have a gateway");
    }
  } else if (r.gateway) {
    if (r.onlink && raw(r.scope) >= raw(RouteScope::kLink)) {
      return kernel_error(Errc::kInvalidArgument, "Nexthop has invalid scope");
    }
  } else if (r.onlink) {
    return kernel_error(Errc::kInvalidArgument,
                        "Invalid flags for nexthop - PERVASIVE and ONLINK can not be set");
  }
  if (r.ifindex == 0 && !r.gateway) return errno_error(Errc::kNotFound, "No such device");
  return std::nullopt;
}

// Same fib_info and type: the kernel refuses such a twin even where the key may repeat.
bool same_route(const Route& a, const Route& b) {
  return a.type == b.type && a.gateway == b.gateway && a.ifindex == b.ifindex &&
         a.scope == b.scope && a.protocol == b.protocol && a.metric == b.metric &&
         a.preferred_source == b.preferred_source && a.onlink == b.onlink && a.mtu == b.mtu;
}

bool selector_matches(const RouteSelector& s, const Route& r) {
  return (!s.type || *s.type == r.type) && (!s.scope || *s.scope == r.scope) &&
         (!s.preferred_source || s.preferred_source == r.preferred_source) &&
         (!s.protocol || *s.protocol == r.protocol) && (s.metric == 0 || s.metric == r.metric) &&
         (s.ifindex == 0 || s.ifindex == r.ifindex) && (!s.gateway || s.gateway == r.gateway);
}

}  // namespace

std::string route_protocol_name(std::uint8_t protocol) {
  // /etc/iproute2/rt_protos of iproute2 6.1 (Debian 12).
  switch (protocol) {
    case 0: return "unspec";
    case 1: return "redirect";
    case 2: return "kernel";
    case 3: return "boot";
    case 4: return "static";
    case 8: return "gated";
    case 9: return "ra";
    case 10: return "mrt";
    case 11: return "zebra";
    case 12: return "bird";
    case 13: return "dnrouted";
    case 14: return "xorp";
    case 15: return "ntk";
    case 16: return "dhcp";
    case 18: return "keepalived";
    case 42: return "babel";
    case 99: return "openr";
    case 186: return "bgp";
    case 187: return "isis";
    case 188: return "ospf";
    case 189: return "rip";
    case 192: return "eigrp";
    default: return fmt::format("{}", protocol);
  }
}

std::string route_table_name(std::uint32_t table) {
  switch (table) {
    case kUnspecTable: return "unspec";
    case kDefaultTable: return "default";
    case kMainTable: return "main";
    case kLocalTable: return "local";
    default: return fmt::format("{}", table);
  }
}

std::string route_scope_name(RouteScope scope) {
  switch (scope) {
    case RouteScope::kUniverse: return "global";
    case RouteScope::kSite: return "site";
    case RouteScope::kLink: return "link";
    case RouteScope::kHost: return "host";
    case RouteScope::kNowhere: return "nowhere";
  }
  return fmt::format("{}", raw(scope));
}

std::string_view to_string(RouteType type) {
  switch (type) {
    case RouteType::kUnicast: return "unicast";
    case RouteType::kLocal: return "local";
    case RouteType::kBroadcast: return "broadcast";
    case RouteType::kBlackhole: return "blackhole";
    case RouteType::kUnreachable: return "unreachable";
    case RouteType::kProhibit: return "prohibit";
    case RouteType::kThrow: return "throw";
    case RouteType::kMulticast: return "multicast";
  }
  return "unknown";
}

std::string dsfield_name(std::uint8_t tos) {
  // /etc/iproute2/rt_dsfield (Debian 12), else "0x%02x" (rtnl_dsfield_n2a).
  switch (tos) {
    case 0x00: return "default";
    case 0x20: return "CS1";
    case 0x28: return "AF11";
    case 0x30: return "AF12";
    case 0x38: return "AF13";
    case 0x40: return "CS2";
    case 0x48: return "AF21";
    case 0x50: return "AF22";
    case 0x58: return "AF23";
    case 0x60: return "CS3";
    case 0x68: return "AF31";
    case 0x70: return "AF32";
    case 0x78: return "AF33";
    case 0x80: return "CS4";
    case 0x88: return "AF41";
    case 0x90: return "AF42";
    case 0x98: return "AF43";
    case 0xa0: return "CS5";
    case 0xb8: return "EF";
    case 0xc0: return "CS6";
    case 0xe0: return "CS7";
    default: return fmt::format("0x{:02x}", tos);
  }
}

RouteScope default_scope(RouteType type, bool has_gateway) {
  switch (type) {
    case RouteType::kLocal: return RouteScope::kHost;
    case RouteType::kBroadcast:
    case RouteType::kMulticast: return RouteScope::kLink;
    case RouteType::kUnicast: return has_gateway ? RouteScope::kUniverse : RouteScope::kLink;
    default: return RouteScope::kUniverse;
  }
}

std::uint32_t default_table(RouteType type) {
  return (type == RouteType::kLocal || type == RouteType::kBroadcast) ? kLocalTable : kMainTable;
}

// ---- LengthIndex ---------------------------------------------------------------------------

std::size_t RouteTable::LengthIndex::slot_of(std::uint32_t network) const {
  // Fibonacci hashing: the top bits of the product mix every bit of the key, so networks that
  // differ only in their high bits (all /8s) still spread.
  return static_cast<std::size_t>((std::uint64_t{network} * 0x9e3779b97f4a7c15ull) >>
                                  (64 - bits_));
}

RouteTable::Leaf* RouteTable::LengthIndex::find(std::uint32_t network) const {
  if (size_ == 0) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = slot_of(network);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.leaf == nullptr) return nullptr;
    if (s.network == network) return s.leaf;
  }
}

void RouteTable::LengthIndex::grow() {
  std::vector<Slot> old = std::move(slots_);
  bits_ = old.empty() ? 3 : bits_ + 1;
  slots_.assign(std::size_t{1} << bits_, Slot{});
  size_ = 0;
  for (const Slot& s : old) {
    if (s.leaf != nullptr) insert(s.network, s.leaf);
  }
}

void RouteTable::LengthIndex::insert(std::uint32_t network, Leaf* leaf) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = slot_of(network);
  while (slots_[i].leaf != nullptr) {
    CALISIM_CHECK(slots_[i].network != network, "route index: network inserted twice");
    i = (i + 1) & mask;
  }
  slots_[i] = Slot{network, leaf};
  ++size_;
}

void RouteTable::LengthIndex::erase(std::uint32_t network) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = slot_of(network);
  while (slots_[i].network != network || slots_[i].leaf == nullptr) {
    CALISIM_CHECK(slots_[i].leaf != nullptr, "route index: erasing a missing network");
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: pull later entries of the probe run into the hole.
  std::size_t hole = i;
  for (std::size_t j = (hole + 1) & mask; slots_[j].leaf != nullptr; j = (j + 1) & mask) {
    const std::size_t home = slot_of(slots_[j].network);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool stays = (hole < j) ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

// ---- RouteTable ----------------------------------------------------------------------------

std::uint64_t RouteTable::leaf_key(const wire::Ipv4Prefix& prefix) {
  // Network ascending, then the longer prefix first: the kernel's dump order.
  return (std::uint64_t{prefix.network().value()} << 6) | (32u - prefix.length());
}

RouteTable::Leaf& RouteTable::leaf_for(const wire::Ipv4Prefix& prefix) {
  auto [it, inserted] = leaves_.try_emplace(leaf_key(prefix));
  if (inserted) {
    by_length_[prefix.length()].insert(prefix.network().value(), &it->second);
    lengths_present_ |= std::uint64_t{1} << prefix.length();
  }
  return it->second;
}

void RouteTable::drop_leaf_if_empty(std::map<std::uint64_t, Leaf>::iterator it) {
  if (!it->second.routes.empty()) return;
  const auto length = static_cast<std::uint8_t>(32u - (it->first & 0x3f));
  const auto network = static_cast<std::uint32_t>(it->first >> 6);
  by_length_[length].erase(network);
  if (by_length_[length].empty()) lengths_present_ &= ~(std::uint64_t{1} << length);
  leaves_.erase(it);
}

std::optional<Error> RouteTable::validate(const Route& route) { return check_route(route); }

Result<void> RouteTable::add(const Route& route, RouteAddMode mode) {
  if (auto error = check_route(route)) return std::unexpected(std::move(*error));
  if (!is_reject(route.type) && route.ifindex == 0) {
    return std::unexpected(Error{
        Errc::kInvalidArgument,
        fmt::format("route {} via {} has no device (Fib::add_route finds it from the gateway)",
                    route.destination, route.gateway.value_or(wire::Ipv4Address()))});
  }
  Route stored = route;
  stored.table = id_;

  auto it = leaves_.find(leaf_key(route.destination));
  std::vector<Route>* routes = it == leaves_.end() ? nullptr : &it->second.routes;

  // The group of routes with the same key (tos, metric); routes are sorted by tos descending,
  // then metric ascending (fib_find_alias).
  std::size_t first = 0;
  std::size_t last = 0;
  if (routes != nullptr) {
    const auto before = [&](const Route& r) {
      return r.tos > route.tos || (r.tos == route.tos && r.metric < route.metric);
    };
    while (first < routes->size() && before((*routes)[first])) ++first;
    last = first;
    while (last < routes->size() && (*routes)[last].tos == route.tos &&
           (*routes)[last].metric == route.metric) {
      ++last;
    }
  }

  if (first != last) {
    if (mode == RouteAddMode::kAdd)
      return std::unexpected(errno_error(Errc::kExists, "File exists"));
    std::optional<std::size_t> twin;
    for (std::size_t i = first; i < last; ++i) {
      if (same_route((*routes)[i], stored)) {
        twin = i;
        break;
      }
    }
    if (mode == RouteAddMode::kReplace || mode == RouteAddMode::kChange) {
      // Replacing the first route with its own twin is a no-op; a twin further down is EEXIST.
      if (twin) {
        if (*twin == first) return {};
        return std::unexpected(errno_error(Errc::kExists, "File exists"));
      }
      (*routes)[first] = stored;
      return {};
    }
    if (twin) return std::unexpected(errno_error(Errc::kExists, "File exists"));
    const std::size_t at = mode == RouteAddMode::kAppend ? last : first;
    routes->insert(routes->begin() + static_cast<std::ptrdiff_t>(at), stored);
    ++size_;
    return {};
  }

  if (mode == RouteAddMode::kChange) {
    return std::unexpected(errno_error(Errc::kNotFound, "No such file or directory"));
  }
  std::vector<Route>& target = routes != nullptr ? *routes : leaf_for(route.destination).routes;
  target.insert(target.begin() + static_cast<std::ptrdiff_t>(first), stored);
  ++size_;
  return {};
}

Result<Route> RouteTable::remove(const RouteSelector& selector) {
  if (selector.destination.address() != selector.destination.network()) {
    return std::unexpected(
        kernel_error(Errc::kInvalidArgument, "Invalid prefix for given prefix length"));
  }
  auto it = leaves_.find(leaf_key(selector.destination));
  if (it != leaves_.end()) {
    auto& routes = it->second.routes;
    for (auto r = routes.begin(); r != routes.end(); ++r) {
      if (r->tos != selector.tos || !selector_matches(selector, *r)) continue;
      Route removed = std::move(*r);
      routes.erase(r);
      --size_;
      drop_leaf_if_empty(it);
      return removed;
    }
  }
  return std::unexpected(errno_error(Errc::kNotFound, "No such process"));
}

const Route* RouteTable::lookup_longer_than(wire::Ipv4Address destination, std::uint8_t tos,
                                            RouteScope min_scope, std::uint32_t oif_ifindex,
                                            int length) const {
  std::uint64_t lengths = lengths_present_;
  if (length >= 0) lengths &= ~((std::uint64_t{2} << length) - 1);  // keep lengths > `length`
  const std::uint8_t route_tos = tos & kRouteTosMask;
  while (lengths != 0) {
    const int len = 63 - std::countl_zero(lengths);
    lengths &= ~(std::uint64_t{1} << len);
    const std::uint32_t mask = len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
    const Leaf* leaf = by_length_[static_cast<std::size_t>(len)].find(destination.value() & mask);
    if (leaf == nullptr) continue;
    for (const Route& r : leaf->routes) {
      if (r.tos != 0 && r.tos != route_tos) continue;
      if (raw(r.scope) < raw(min_scope)) continue;
      if (is_reject(r.type)) return &r;  // fib_props error: ends the lookup, device or not
      if (oif_ifindex != 0 && r.ifindex != oif_ifindex) continue;
      return &r;
    }
  }
  return nullptr;
}

template <class Pred>
std::size_t RouteTable::remove_where(Pred pred) {
  std::size_t removed = 0;
  for (auto it = leaves_.begin(); it != leaves_.end();) {
    auto next = std::next(it);
    auto& routes = it->second.routes;
    const auto gone = std::erase_if(routes, pred);
    removed += gone;
    if (gone != 0) drop_leaf_if_empty(it);
    it = next;
  }
  size_ -= removed;
  return removed;
}

std::size_t RouteTable::remove_device_routes(std::uint32_t ifindex, bool keep_host_scope) {
  return remove_where([&](const Route& r) {
    return r.ifindex == ifindex && !(keep_host_scope && r.scope == RouteScope::kHost);
  });
}

std::size_t RouteTable::remove_preferred_source(wire::Ipv4Address source) {
  return remove_where([&](const Route& r) { return r.preferred_source == source; });
}

std::vector<const Route*> RouteTable::routes() const {
  std::vector<const Route*> out;
  out.reserve(size_);
  for (const auto& [key, leaf] : leaves_) {
    for (const Route& r : leaf.routes) out.push_back(&r);
  }
  return out;
}

}  // namespace calisim::dataplane
