#include <calisim/dataplane/icmp_rate_limit.hpp>

#include <algorithm>

namespace calisim::dataplane {

std::int64_t IcmpRateLimiter::jiffies(Time t) {
  return t.ns() / (1'000'000'000 / kHz);
}

bool IcmpRateLimiter::unlimited(std::uint8_t type, std::uint8_t code) const {
  if (type > 18) return true;               // > NR_ICMP_TYPES
  if (type == 3 && code == 4) return true;  // frag needed: never slow PMTU discovery
  return ((1u << type) & sysctls_.ratemask) == 0;
}

bool IcmpRateLimiter::global_allow(Time t) {
  if (credit_ > 0) return true;
  const std::int64_t now = jiffies(t);
  const std::int64_t delta = std::min(now - stamp_, kHz);
  if (delta < kHz / 50) return false;
  const std::int64_t incr = std::int64_t{sysctls_.msgs_per_sec} * delta / kHz;
  if (incr == 0) return false;
  stamp_ = now;
  credit_ = std::min(credit_ + incr, std::int64_t{sysctls_.msgs_burst});
  return true;
}

void IcmpRateLimiter::global_consume() {
  credit_ -= static_cast<std::int64_t>(rng_.uniform(3));
}

IcmpRateLimiter::Peer& IcmpRateLimiter::peer(wire::Ipv4Address a, std::int64_t now) {
  // inet_getpeer: rate_tokens 0, rate_last = jiffies - 60 * HZ.
  return peers_.try_emplace(a.value(), Peer{0, now - 60 * kHz}).first->second;
}

bool IcmpRateLimiter::peer_allow(wire::Ipv4Address destination, Time t) {
  const std::int64_t now = jiffies(t);
  const std::int64_t timeout = ms_to_jiffies(sysctls_.ratelimit_ms);
  Peer& p = peer(destination, now);
  std::int64_t token = std::min(p.tokens + (now - p.last), 6 * timeout);  // XRLIM_BURST_FACTOR
  p.last = now;
  const bool allow = token >= timeout;
  if (allow) token -= timeout;
  p.tokens = token;
  return allow;
}

bool IcmpRateLimiter::ip_error_allow(wire::Ipv4Address source, Time t) {
  const std::int64_t now = jiffies(t);
  const std::int64_t cost = ms_to_jiffies(sysctls_.error_cost_ms);
  Peer& p = peer(source, now);
  p.tokens = std::min(p.tokens + (now - p.last), ms_to_jiffies(sysctls_.error_burst_ms));
  p.last = now;
  if (p.tokens < cost) return false;
  p.tokens -= cost;
  return true;
}

void IcmpRateLimiter::reset() {
  peers_.clear();
  credit_ = 0;
  stamp_ = kLongAgo;
}

}  // namespace calisim::dataplane
