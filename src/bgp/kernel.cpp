#include <calisim/bgp/kernel.hpp>

#include <algorithm>
#include <map>
#include <unordered_set>

#include <fmt/format.h>

#include <calisim/dataplane/device.hpp>
#include <calisim/dataplane/fib.hpp>

namespace calisim::bgp {

using dataplane::Route;
using dataplane::RouteType;
using wire::Ipv4Address;
using wire::Ipv4Prefix;

namespace {

std::uint64_t key_of(const Ipv4Prefix& p) { return (std::uint64_t{p.network().value()} << 8) | p.length(); }
Ipv4Prefix prefix_of(std::uint64_t key) {
  return Ipv4Prefix(Ipv4Address(static_cast<std::uint32_t>(key >> 8)), static_cast<std::uint8_t>(key & 0xff));
}

// nl_parse_route's "strange class/scope" test (lib/net.c net_classify, lib/ip.c ip4_classify):
// only destinations of host class with a scope wider than link are learned.
bool learnable_destination(const Ipv4Prefix& p) {
  std::uint32_t a = p.network().value();
  if (a == 0) return true;                       // the default route
  std::uint32_t b = a >> 24;
  if (b == 0 || b == 127) return false;          // "this network", loopback (scope host)
  if ((a >> 16) == 0xa9fe) return false;         // 169.254/16: scope link
  if ((a >> 28) == 0xe || (a >> 28) == 0xf) return false;  // multicast, class E, broadcast
  return true;
}

// BIRD logs "Netlink: <strerror>"; the FIB reports what `ip` prints ("RTNETLINK answers: ...",
// or the kernel's extended ack "Error: ..." where there is one, kept as it is).
std::string_view netlink_error(const Error& e) {
  std::string_view m = e.message;
  constexpr std::string_view kPrefix = "RTNETLINK answers: ";
  if (m.starts_with(kPrefix)) m.remove_prefix(kPrefix.size());
  return m;
}

RouteDest dest_of(RouteType type) {
  switch (type) {
    case RouteType::kBlackhole: return RouteDest::kBlackhole;
    case RouteType::kUnreachable: return RouteDest::kUnreachable;
    case RouteType::kProhibit: return RouteDest::kProhibit;
    default: return RouteDest::kUnicast;
  }
}

}  // namespace

// ---- KernelProtocol ---------------------------------------------------------------------------

KernelProtocol::KernelProtocol(Rib& rib, dataplane::Namespace& ns, KernelConfig config)
    : rib_(&rib), ns_(&ns), config_(std::move(config)) {
  source_ = rib_->add_protocol(config_.name, RouteSource::kInherit);
  subscriber_ = rib_->subscribe();
}

std::optional<Route> KernelProtocol::kernel_route(const RibRoute& r) const {
  // krt_import_control: not our own learned routes, no device routes without `device routes`.
  if (r.source == source_) return std::nullopt;
  if (r.kind == RouteSource::kDevice && !config_.device_routes) return std::nullopt;
  FilterRoute fr(r.prefix, r.kind, r.dest, r.attributes, r.interface, r.gateway);
  if (!config_.export_filter.accepts(fr)) return std::nullopt;

  Route k;
  k.destination = Ipv4Prefix(r.prefix.network(), r.prefix.length());
  k.protocol = dataplane::route_protocol::kBird;
  k.table = config_.table;
  // nl_send_route: the protocol's `metric`, else krt_metric.
  k.metric = config_.metric != 0 ? config_.metric : fr.krt_metric.value_or(0);
  switch (r.dest) {
    case RouteDest::kBlackhole: k.type = RouteType::kBlackhole; return k;
    case RouteDest::kUnreachable: k.type = RouteType::kUnreachable; return k;
    case RouteDest::kProhibit: k.type = RouteType::kProhibit; return k;
    case RouteDest::kUnicast: break;
  }
  k.type = RouteType::kUnicast;
  // Calico's fork: "Tunnel attribute is set, so set the route up using the specified tunnel
  // device to the originator of the route" (gateway = BGP next hop, RTNH_F_ONLINK).
  const wire::bgp::PathAttributes* attrs = fr.attributes();
  if (fr.krt_tunnel && !fr.krt_tunnel->empty() && attrs && attrs->next_hop) {
    if (const dataplane::Device* tunnel = ns_->device(*fr.krt_tunnel)) {
      k.ifindex = tunnel->ifindex();
      k.gateway = *attrs->next_hop;
      k.onlink = true;
      return k;
    }
  }
  // krt_capable: a unicast route needs its device.
  if (r.interface.empty()) return std::nullopt;
  const dataplane::Device* dev = ns_->device(r.interface);
  if (!dev) return std::nullopt;
  k.ifindex = dev->ifindex();
  if (r.gateway) {
    k.gateway = *r.gateway;
    k.onlink = r.onlink;
  } else {
    k.scope = dataplane::RouteScope::kLink;  // "Default scope is LINK for device routes"
  }
  return k;
}

bool KernelProtocol::remove_installed(const Route& route) {
  // nl_delete_rte: destination, table, metric and protocol; the rest is not compared.
  dataplane::RouteSelector sel;
  sel.destination = route.destination;
  sel.table = route.table;
  sel.metric = route.metric;
  sel.protocol = dataplane::route_protocol::kBird;
  return ns_->fib().remove_route(sel).has_value();
}

KernelSyncResult KernelProtocol::sync() {
  KernelSyncResult result;
  for (const Ipv4Prefix& prefix : rib_->drain_best_changes(subscriber_)) {
    std::uint64_t key = key_of(prefix);
    std::optional<RibRoute> best = rib_->best(prefix);
    std::optional<Route> desired = best ? kernel_route(*best) : std::nullopt;
    auto it = installed_.find(key);
    bool had = it != installed_.end();
    if (had && desired && it->second == *desired) continue;
    // krt_replace_rte: "We could use NL_OP_REPLACE, but ... we use NL_OP_DELETE and then NL_OP_ADD".
    if (had) {
      remove_installed(it->second);
      installed_.erase(it);
    }
    sync_errors_.erase(key);
    if (!desired) {
      if (had) ++result.removed;
      continue;
    }
    Result<void> added = ns_->fib().add_route(*desired, dataplane::RouteAddMode::kAdd);
    if (!added) {
      result.errors.push_back(fmt::format("{}: Netlink: {}", prefix, netlink_error(added.error())));
      sync_errors_[key] = true;
      if (had) ++result.removed;
      continue;
    }
    installed_.emplace(key, *desired);
    if (had) ++result.replaced;
    else ++result.added;
  }
  return result;
}

std::size_t KernelProtocol::scan() {
  std::size_t changed = 0;
  const dataplane::RouteTable* table = ns_->fib().table(config_.table);
  std::map<std::uint64_t, LocalRoute> seen;  // ordered: changes reach the table in prefix order
  std::unordered_set<std::uint64_t> ours_present;
  if (table) {
    for (const Route* r : table->routes()) {
      std::uint64_t key = key_of(r->destination);
      if (r->protocol == dataplane::route_protocol::kBird) {
        auto it = installed_.find(key);
        if (it != installed_.end() && it->second == *r) ours_present.insert(key);
        continue;
      }
      // KRT_SRC_KERNEL routes are ignored; RTPROT_UNSPEC and redirects are not learned.
      if (r->protocol == dataplane::route_protocol::kKernel || r->protocol == dataplane::route_protocol::kUnspec ||
          r->protocol == dataplane::route_protocol::kRedirect) {
        continue;
      }
      if (!config_.learn || r->tos != 0 || !learnable_destination(r->destination)) continue;
      if (r->type != RouteType::kUnicast && !dataplane::is_reject(r->type)) continue;
      if (r->type == RouteType::kThrow) continue;
      if (seen.contains(key)) continue;  // the first (lowest metric) route of a prefix
      LocalRoute lr;
      lr.dest = dest_of(r->type);
      if (lr.dest == RouteDest::kUnicast) {
        const dataplane::Device* dev = ns_->device(r->ifindex);
        if (!dev) continue;
        lr.interface = dev->name();
        lr.gateway = r->gateway;
        lr.onlink = r->onlink;
      }
      KernelRouteAttributes ka;
      ka.source_protocol = r->protocol;
      ka.metric = r->metric;
      if (r->scope != dataplane::RouteScope::kUniverse) ka.scope = static_cast<std::uint8_t>(r->scope);
      lr.kernel = ka;
      seen.emplace(key, std::move(lr));
    }
  }
  // Learned routes: new or changed ones in, vanished ones out (krt_learn_prune).
  for (auto& [key, lr] : seen) {
    auto it = learned_.find(key);
    if (it != learned_.end() && it->second == lr) continue;
    rib_->originate(source_, prefix_of(key), lr);
    learned_[key] = lr;
    ++changed;
  }
  std::vector<std::uint64_t> gone;
  for (const auto& [key, lr] : learned_) {
    if (!seen.contains(key)) gone.push_back(key);
  }
  std::sort(gone.begin(), gone.end());
  for (std::uint64_t key : gone) {
    rib_->withdraw_local(source_, prefix_of(key));
    learned_.erase(key);
    ++changed;
  }
  // Own routes someone deleted, and routes the kernel refused, are sent again ("will be
  // updated", KRF_SYNC_ERROR retried at the next scan).
  std::vector<std::uint64_t> retry;
  for (const auto& [key, route] : installed_) {
    if (!ours_present.contains(key)) retry.push_back(key);
  }
  for (const auto& [key, error] : sync_errors_) retry.push_back(key);
  std::sort(retry.begin(), retry.end());
  for (std::uint64_t key : retry) {
    Ipv4Prefix prefix = prefix_of(key);
    auto it = installed_.find(key);
    if (it != installed_.end()) {
      remove_installed(it->second);
      installed_.erase(it);
    }
    std::optional<RibRoute> best = rib_->best(prefix);
    std::optional<Route> desired = best ? kernel_route(*best) : std::nullopt;
    sync_errors_.erase(key);
    if (!desired) continue;
    if (ns_->fib().add_route(*desired, dataplane::RouteAddMode::kAdd)) {
      installed_.emplace(key, *desired);
    } else {
      sync_errors_[key] = true;
    }
  }
  return changed;
}

std::size_t KernelProtocol::flush() {
  std::size_t n = 0;
  for (const auto& [key, route] : installed_) n += remove_installed(route) ? 1 : 0;
  installed_.clear();
  sync_errors_.clear();
  return n;
}

const Route* KernelProtocol::installed(Ipv4Prefix prefix) const {
  auto it = installed_.find(key_of(prefix));
  return it == installed_.end() ? nullptr : &it->second;
}

bool KernelProtocol::sync_error(Ipv4Prefix prefix) const { return sync_errors_.contains(key_of(prefix)); }

// ---- DirectProtocol ---------------------------------------------------------------------------

DirectProtocol::DirectProtocol(Rib& rib, const dataplane::Namespace& ns, DirectConfig config)
    : rib_(&rib), ns_(&ns), config_(std::move(config)) {
  source_ = rib_->add_protocol(config_.name, RouteSource::kDevice);
}

std::size_t DirectProtocol::sync() {
  auto wanted_interface = [this](std::string_view name) {
    for (const std::string& pattern : config_.interfaces) {  // iface_patt_find: first match decides
      bool exclude = !pattern.empty() && pattern.front() == '-';
      std::string_view p = exclude ? std::string_view(pattern).substr(1) : std::string_view(pattern);
      if (pattern_match(p, name)) return !exclude;
    }
    return false;
  };
  std::map<std::uint64_t, LocalRoute> now;
  for (const dataplane::Namespace::Address& a : ns_->addresses()) {
    if (a.secondary) continue;
    const dataplane::Device* dev = ns_->device(a.ifindex);
    if (!dev || !dev->admin_up() || !dev->carrier() || !wanted_interface(dev->name())) continue;
    Ipv4Prefix net(a.prefix.network(), a.prefix.length());
    // dev_ifa_notify: addresses of host or link scope make no route.
    std::uint32_t b = a.prefix.address().value() >> 24;
    if (b == 127 || a.prefix.address().is_link_local()) continue;
    LocalRoute lr;
    lr.dest = RouteDest::kUnicast;
    lr.interface = dev->name();
    now.emplace(key_of(net), std::move(lr));
  }
  std::size_t changed = 0;
  for (auto& [key, lr] : now) {
    auto it = routes_.find(key);
    if (it != routes_.end() && it->second == lr) continue;
    rib_->originate(source_, prefix_of(key), lr);
    routes_[key] = lr;
    ++changed;
  }
  std::vector<std::uint64_t> gone;
  for (const auto& [key, lr] : routes_) {
    if (!now.contains(key)) gone.push_back(key);
  }
  std::sort(gone.begin(), gone.end());
  for (std::uint64_t key : gone) {
    rib_->withdraw_local(source_, prefix_of(key));
    routes_.erase(key);
    ++changed;
  }
  return changed;
}

NextHopResolver kernel_resolver(const dataplane::Namespace& ns) {
  return [&ns](Ipv4Address next_hop) -> std::optional<ResolvedNextHop> {
    dataplane::FlowKey flow;
    flow.destination = next_hop;
    dataplane::FibLookup found = ns.fib().lookup_table(dataplane::kMainTable, flow);
    if (!found.ok() || !found.route || found.route->type != RouteType::kUnicast ||
        found.route->protocol == dataplane::route_protocol::kBird) {
      return std::nullopt;
    }
    const dataplane::Device* dev = ns.device(found.route->ifindex);
    if (!dev) return std::nullopt;
    return ResolvedNextHop{dev->name(), found.route->gateway};
  };
}

}  // namespace calisim::bgp
