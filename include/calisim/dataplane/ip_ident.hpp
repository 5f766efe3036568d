#pragma once
// How Linux picks the IPv4 Identification of packets that belong to no connected socket: tunnel
// outer headers (iptunnel_xmit), ICMP replies, forwarded fragments. __ip_select_ident()
// (net/ipv4/route.c) hashes (daddr, saddr, protocol) into one of a fixed set of buckets; each
// bucket holds a counter and the jiffies of its last use, and the counter jumps by a random
// amount below the jiffies elapsed since then (ip_idents_reserve), so that an observer cannot
// count another host's traffic. Packets of one flow sent close together get consecutive IDs.

#include <cstdint>
#include <unordered_map>

#include <calisim/sim/random.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::dataplane {

class IpIdentGenerator {
 public:
  // Debian's kernels are built with CONFIG_HZ=250.
  static constexpr std::int64_t kJiffyNs = 4'000'000;
  // IP_IDENTS_SZ: 2048 buckets (more on big-memory hosts; the count only shapes collisions).
  static constexpr std::uint32_t kBuckets = 2048;

  explicit IpIdentGenerator(RandomStream rng) : rng_(rng) {}

  std::uint16_t next(wire::Ipv4Address source, wire::Ipv4Address destination,
                     std::uint8_t protocol, Time now);

 private:
  struct Bucket {
    std::uint32_t id;
    std::int64_t last_jiffy;
  };
  RandomStream rng_;
  // Only the buckets in use: a node with few peers touches few of them.
  std::unordered_map<std::uint32_t, Bucket> buckets_;
};

}  // namespace calisim::dataplane
