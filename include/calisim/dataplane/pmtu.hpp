#pragma once
// Path MTU exceptions: what the kernel learns from a Frag-Needed (or a tunnel's own PMTU check)
// and keeps per destination, next to the route (net/ipv4/route.c `__ip_rt_update_pmtu`,
// `update_or_create_fnhe`: a fib_nh_exception hanging off the route's nexthop). Locally generated
// packets use it (`dst_mtu`); forwarded ones do not (`ip_dst_mtu_maybe_forward` with
// ip_forward_use_pmtu 0). `ip route get` shows one as `cache expires 599sec mtu 1400`.

#include <cstdint>
#include <optional>
#include <unordered_map>

#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::dataplane {

struct PmtuException {
  // The nexthop the exception belongs to: it is only used while the route to the destination
  // still leaves through it (fnhe lives on a fib_nh).
  std::uint32_t ifindex = 0;
  std::uint32_t gateway = 0;  // 0 for a directly connected destination
  std::uint32_t mtu = 0;
  bool locked = false;  // below min_pmtu: DF no longer set, no further updates
  Time expires;
};

class PmtuCache {
 public:
  // net.ipv4.route.mtu_expires (600 s) and net.ipv4.route.min_pmtu (552).
  static constexpr Duration kExpires = Duration::seconds(600);
  static constexpr std::uint32_t kMinPmtu = 552;

  // The live exception for `destination` through (ifindex, gateway), if any.
  const PmtuException* find(wire::Ipv4Address destination, std::uint32_t ifindex,
                            std::uint32_t gateway, Time now) const;

  // __ip_rt_update_pmtu: `old_mtu` is what the route gives now (ipv4_mtu: a live exception, the
  // route's mtu metric, or the device MTU). Ignored when the current MTU is locked or smaller
  // than `mtu`; below min_pmtu the MTU becomes min(old, 552) and is locked; an equal MTU only
  // refreshes the expiry once half of it has passed. Returns whether an entry was written.
  bool update(wire::Ipv4Address destination, std::uint32_t ifindex, std::uint32_t gateway,
              std::uint32_t old_mtu, bool old_locked, std::uint32_t mtu, Time now);

  // Power loss empties it (it lives in memory only); a device going down flushes its own
  // (fnhe are flushed with the nexthop: fib_sync_down_dev -> fnhe_flush_routes).
  void clear() {
    entries_.clear();
    any_locked_ = false;
  }
  void flush_device(std::uint32_t ifindex);
  std::size_t size() const { return entries_.size(); }
  // Whether a locked entry may exist (cleared only with clear()): lets the hot path skip the
  // lookup that ip_mtu_locked needs.
  bool any_locked() const { return any_locked_; }

 private:
  std::unordered_map<std::uint32_t, PmtuException> entries_;
  bool any_locked_ = false;
};

}  // namespace calisim::dataplane
