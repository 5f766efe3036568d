// Path MTU exceptions (pmtu.hpp) and the namespace's use of them: the MTU a locally generated
// packet gets (dst_mtu), and learning from a Frag-Needed (icmp_unreach -> the protocol's err
// handler -> ipv4_update_pmtu / ipv4_sk_update_pmtu -> __ip_rt_update_pmtu).

#include <calisim/dataplane/pmtu.hpp>

#include <calisim/dataplane/namespace.hpp>
#include <calisim/wire/icmp.hpp>

namespace calisim::dataplane {

const PmtuException* PmtuCache::find(wire::Ipv4Address destination, std::uint32_t ifindex,
                                     std::uint32_t gateway, Time now) const {
  auto it = entries_.find(destination.value());
  if (it == entries_.end()) return nullptr;
  const PmtuException& e = it->second;
  // ipv4_mtu: an expired rt_pmtu is not used (the fnhe is reaped later, fnhe_remove_oldest /
  // find_exception's expiry check).
  if (e.ifindex != ifindex || e.gateway != gateway || now >= e.expires) return nullptr;
  return &e;
}

bool PmtuCache::update(wire::Ipv4Address destination, std::uint32_t ifindex, std::uint32_t gateway,
                       std::uint32_t old_mtu, bool old_locked, std::uint32_t mtu, Time now) {
  if (old_locked) return false;     // ip_mtu_locked(dst)
  if (old_mtu < mtu) return false;  // "don't let PMTU updates increase route MTU"
  bool lock = false;
  if (mtu < kMinPmtu) {
    lock = true;
    mtu = std::min(old_mtu, kMinPmtu);
  }
  if (const PmtuException* e = find(destination, ifindex, gateway, now)) {
    // rt->rt_pmtu == mtu && time_before(jiffies, dst->expires - mtu_expires / 2)
    if (e->mtu == mtu && !lock && now < e->expires - kExpires / 2) return false;
  }
  entries_[destination.value()] = PmtuException{ifindex, gateway, mtu, lock, now + kExpires};
  any_locked_ = any_locked_ || lock;
  return true;
}

void PmtuCache::flush_device(std::uint32_t ifindex) {
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.ifindex == ifindex; });
}

// ---------------------------------------------------------------------------------------------

namespace {

std::uint32_t gateway_of(const Route& route) {
  return route.gateway ? route.gateway->value() : 0;
}

}  // namespace

const PmtuException* Namespace::pmtu_exception(wire::Ipv4Address destination) const {
  const FibLookup r = route_output(destination);
  if (!r.ok() || r.route->type != RouteType::kUnicast) return nullptr;
  return pmtu_.find(destination, r.route->ifindex, gateway_of(*r.route), sim_->now());
}

std::uint32_t Namespace::record_tunnel_pmtu(wire::Ipv4Address destination,
                                            std::optional<std::uint32_t> limit,
                                            std::uint32_t fallback) {
  const FibLookup r = route_output(destination);
  if (!r.ok()) return limit.value_or(fallback);
  const auto current = path_mtu_of(*r.route, destination);
  const std::uint32_t mtu = limit ? *limit : (current ? current->mtu : fallback);
  if (r.route->type == RouteType::kUnicast && current) {
    pmtu_.update(destination, r.route->ifindex, gateway_of(*r.route), current->mtu, current->locked,
                 mtu, sim_->now());
  }
  return mtu;
}

std::optional<Namespace::PathMtu> Namespace::path_mtu(wire::Ipv4Address destination) const {
  const FibLookup r = route_output(destination);
  if (!r.ok()) return std::nullopt;
  return path_mtu_of(*r.route, destination);
}

std::optional<Namespace::PathMtu> Namespace::path_mtu_of(const Route& route,
                                                         wire::Ipv4Address destination) const {
  // ipv4_mtu: a live exception, else the route's mtu metric, else the device's MTU.
  if (route.type == RouteType::kUnicast) {
    if (const PmtuException* e =
            pmtu_.find(destination, route.ifindex, gateway_of(route), sim_->now())) {
      return PathMtu{e->mtu, e->locked};
    }
  }
  if (route.mtu != 0) return PathMtu{route.mtu, false};
  const Device* out = route.type == RouteType::kLocal ? loopback_ : device(route.ifindex);
  if (out == nullptr) return std::nullopt;
  return PathMtu{out->mtu(), false};
}

void Namespace::update_pmtu(wire::Ipv4Address destination, std::uint32_t mtu) {
  const FibLookup r = route_output(destination);
  if (!r.ok() || r.route->type != RouteType::kUnicast) return;
  const auto current = path_mtu_of(*r.route, destination);
  if (!current) return;
  pmtu_.update(destination, r.route->ifindex, gateway_of(*r.route), current->mtu, current->locked,
               mtu, sim_->now());
}

std::uint32_t Namespace::output_mtu(const Route& route, const Device& out,
                                    wire::Ipv4Address destination, bool local) const {
  // ip_skb_dst_mtu -> ip_dst_mtu_maybe_forward: a local packet takes the learned PMTU, a
  // forwarded one the route's mtu metric or the device MTU (ip_forward_use_pmtu is 0).
  if (local && route.type == RouteType::kUnicast) {
    if (const PmtuException* e =
            pmtu_.find(destination, route.ifindex, gateway_of(route), sim_->now())) {
      return e->mtu;
    }
  }
  return route.mtu != 0 ? route.mtu : out.mtu();
}

void Namespace::learn_pmtu(const wire::Ipv4View& ip) {
  // A Frag-Needed about a datagram we sent: TCP (tcp_v4_err), UDP and raw/ping sockets
  // (ipv4_sk_update_pmtu) and the IPIP tunnel (ipip_err -> ipv4_update_pmtu) all record the
  // exception for the quoted destination. With ip_no_pmtu_disc 0 the MTU is taken as given.
  auto icmp = wire::IcmpView::parse(ip.payload());
  if (!icmp || icmp->type() != wire::IcmpType::kDestinationUnreachable || icmp->code() != 4) {
    return;
  }
  auto quoted = wire::Ipv4View::parse_quoted(icmp->payload());
  if (!quoted || !is_local_address(quoted->source())) return;
  update_pmtu(quoted->destination(), icmp->next_hop_mtu());
}

}  // namespace calisim::dataplane
