#include <calisim/dataplane/namespace.hpp>

#include <algorithm>

namespace calisim::dataplane {

using wire::Ipv4Address;
using wire::Ipv4View;
using wire::Packet;

// Where the receive path asks whether a packet may be believed (source validation), and where
// it runs the netfilter hooks.

// ip_route_input_slow (net/ipv4/route.c) drops these before the FIB lookup: multicast, limited
// broadcast and 0/8 sources, and loopback addresses on any device but lo unless route_localnet
// (IN_DEV_NET_ROUTE_LOCALNET: conf/all or conf/<dev>). Packets received on lo never get here in
// Linux: they keep the route they were sent with.
bool Namespace::source_is_martian(const Device& in, const Ipv4View& ip) const {
  const Ipv4Address src = ip.source();
  if (src.is_multicast() || src.is_broadcast() || (src.value() >> 24) == 0) return true;
  if (ip.destination().is_loopback() || src.is_loopback()) {
    return !(conf_all_.route_localnet || conf_[in.ifindex()].route_localnet);
  }
  return false;
}

// fib_validate_source (net/ipv4/fib_frontend.c) for a packet that arrived on `in` and is
// delivered locally (`oif` 0) or forwarded through `oif`. rp_filter is the max of conf/all and
// conf/<dev>, accept_local either of them.
std::optional<DropReason> Namespace::validate_source(const Device& in, const Ipv4View& ip,
                                                     std::uint32_t oif) const {
  const auto& c = conf_[in.ifindex()];
  const std::uint8_t rpf = std::max(conf_all_.rp_filter, c.rp_filter);
  const bool accept_local = conf_all_.accept_local || c.accept_local;
  // The fast path without rp_filter (send_redirects is on by default, so traffic forwarded back
  // out of its input device takes the full check): a source that is one of this namespace's
  // own addresses is martian unless accept_local ("within the same container, it is regarded
  // as a martian source"); with custom rules the FIB decides instead.
  if (rpf == 0 && in.ifindex() != oif) {
    if (accept_local) return std::nullopt;
    if (!fib_.has_custom_rules()) {
      if (is_local_address(ip.source())) return DropReason::kMartian;
      return std::nullopt;
    }
  }
  // __fib_validate_source: the route back to the source, as if it arrived on `in`.
  FlowKey back{};
  back.destination = ip.source();
  back.source = ip.destination();
  back.iif = in.name();
  const FibLookup r = fib_.lookup(back);
  if (r.kind != FibLookup::Kind::kRoute) {  // last_resort
    return rpf != 0 ? std::optional(DropReason::kRpFilter) : std::nullopt;
  }
  const RouteType type = r.route->type;
  if (type != RouteType::kUnicast && !(type == RouteType::kLocal && accept_local)) {
    return DropReason::kMartian;  // e_inval
  }
  if (r.route->ifindex == in.ifindex()) return std::nullopt;  // dev_match
  if (rpf == 1) return DropReason::kRpFilter;                  // strict
  return std::nullopt;                                         // loose or off: a route back
}

bool Namespace::nf_hook_slow(NfHook hook, Packet& datagram, const Device* in, const Device* out) {
  if (netfilter_.run(datagram, NfHookState{hook, in, out, sim_->now()}) == NfVerdict::kAccept) {
    return true;
  }
  // nf_hook_slow: NF_DROP frees the skb with SKB_DROP_REASON_NETFILTER_DROP.
  count_drop(DropReason::kNetfilterDrop, in != nullptr ? in : out);
  return false;
}

}  // namespace calisim::dataplane
