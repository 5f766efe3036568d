#pragma once
// Linux's default limits on the ICMP messages a namespace sends (kernel 6.12+, checked against
// 6.18). Three limiters, all counted in jiffies (HZ=250):
//
//  - icmpv4_mask_allow (net/ipv4/icmp.c): only the types in icmp_ratemask (0x1818: dest
//    unreachable, source quench, time exceeded, parameter problem) are limited, and never
//    frag-needed (3/4), so PMTU discovery is not slowed.
//  - icmp_global_allow / icmp_global_consume: one bucket per namespace, icmp_msgs_per_sec
//    (1000) refilled at most every HZ/50 and only once it is empty, capped at icmp_msgs_burst
//    (50); each message sent takes 0, 1 or 2 credits at random (get_random_u32_below(3)), so
//    the credit may go negative. Skipped for errors about packets that came in on loopback.
//  - inet_peer_xrlim_allow, per destination host: a token per jiffy, capped at 6 x
//    icmp_ratelimit (1000 ms), each message costs icmp_ratelimit. No limit when the error
//    leaves through loopback.
//
// ip_error (net/ipv4/route.c) adds its own limiter for forwarded packets that hit no route or
// an unreachable/prohibit route: error_cost (1 s) from a bucket capped at error_burst (5 s),
// on the inet_peer of the packet's *source* — the very peer icmp_send then charges again as the
// error's destination. Each such error thus costs two tokens; a new peer starts with
// rate_last = now - 60 s (inet_getpeer), i.e. full.
//
// Measured on Linux 6.18 (3 namespaces S - R - D with veths, R forwarding, no route on R for
// 192.0.2.0/24, unreachable 198.51.100.0/24, prohibit 203.0.113.0/24; tcpdump on S counting
// ICMP errors):
//   ping -f -c 50 192.0.2.1 (or 198.51.100.1, 203.0.113.1)   2 errors
//   ping -i 0.5 -c 20 192.0.2.1                               3 errors (at 0, 0.5, 1.0 s)
//   ping -i 1 -c 10 192.0.2.1                                 4 errors (at 0, 1, 2, 3 s)
//   ping -i 0.2 -c 40 192.0.2.1                               2 errors
//   ping -f -c 50 -t 1 10.1.0.2 (time exceeded from R)        6 errors
//   ping -i 0.2 -c 40 -t 1 10.1.0.2                           14 errors (7 in the first 1.3 s,
//                                                             then 1 a second until 8.06 s)
// (iputils' -i 0.2 and -i 0.5 spaced the requests 213 and 526 ms apart on the wire.)
//   400 UDP datagrams with TTL 1 from 400 source addresses within 1.5 ms: 41, 48, 55 errors
//   (the global bucket; when sending took 30 ms, 72-84: one refill).
// The model below gives the same counts (tests/dataplane/icmp_ratelimit_test.cpp).

#include <cstdint>
#include <unordered_map>

#include <calisim/sim/random.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::dataplane {

// net.ipv4.icmp_* and net.ipv4.route.error_* (per namespace since 6.12), in ms as sysctl
// shows them.
struct IcmpSysctls {
  std::uint32_t ratelimit_ms = 1000;
  std::uint32_t ratemask = 0x1818;
  std::uint32_t msgs_per_sec = 1000;
  std::uint32_t msgs_burst = 50;
  std::uint32_t error_cost_ms = 1000;
  std::uint32_t error_burst_ms = 5000;
};

class IcmpRateLimiter {
 public:
  static constexpr std::int64_t kHz = 250;

  explicit IcmpRateLimiter(RandomStream rng) : rng_(rng) {}

  IcmpSysctls& sysctls() { return sysctls_; }
  const IcmpSysctls& sysctls() const { return sysctls_; }

  // icmpv4_mask_allow: true when this type/code is never limited.
  bool unlimited(std::uint8_t type, std::uint8_t code) const;
  // icmp_global_allow: may a limited message go out? (No credit is taken yet.)
  bool global_allow(Time now);
  // icmp_global_consume: after the per-peer check let the message out.
  void global_consume();
  // inet_peer_xrlim_allow for the error's destination.
  bool peer_allow(wire::Ipv4Address destination, Time now);
  // ip_error's per-source check (route.c).
  bool ip_error_allow(wire::Ipv4Address source, Time now);

  // A crash loses it all: peers are forgotten, the global bucket starts again.
  void reset();

 private:
  struct Peer {
    std::int64_t tokens = 0;  // jiffies
    std::int64_t last = 0;    // jiffy of rate_last
  };
  static std::int64_t jiffies(Time t);
  static std::int64_t ms_to_jiffies(std::uint32_t ms) { return ms * kHz / 1000; }
  Peer& peer(wire::Ipv4Address a, std::int64_t now);

  RandomStream rng_;
  IcmpSysctls sysctls_;
  // Empty, with a stamp long past: the first limited message refills the bucket to the burst
  // and sets the stamp, so a second refill needs HZ/50 more (as the kernel's zeroed netns
  // fields behave; measured: a 1.5 ms burst got one bucket, not two).
  static constexpr std::int64_t kLongAgo = -(std::int64_t{1} << 40);
  std::int64_t credit_ = 0;
  std::int64_t stamp_ = kLongAgo;
  std::unordered_map<std::uint32_t, Peer> peers_;
};

}  // namespace calisim::dataplane
