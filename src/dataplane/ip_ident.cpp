#include <calisim/dataplane/ip_ident.hpp>

namespace calisim::dataplane {

std::uint16_t IpIdentGenerator::next(wire::Ipv4Address source, wire::Ipv4Address destination,
                                     std::uint8_t protocol, Time now) {
  // Linux keys a per-boot siphash with (daddr, saddr, protocol); any fixed mix of the three
  // reproduces the behaviour that matters: same flow, same bucket.
  std::uint64_t h = (std::uint64_t{destination.value()} << 32) ^ source.value() ^
                    (std::uint64_t{protocol} << 56);
  const auto bucket = static_cast<std::uint32_t>(splitmix64(h) % kBuckets);
  const std::int64_t jiffy = now.ns() / kJiffyNs;
  auto [it, fresh] = buckets_.try_emplace(bucket);
  Bucket& b = it->second;
  if (fresh) {
    // Boot-time random counter; the bucket has never been used.
    b.id = rng_.next_u32();
    b.last_jiffy = jiffy;
  } else if (jiffy != b.last_jiffy) {
    b.id += static_cast<std::uint32_t>(rng_.uniform(static_cast<std::uint64_t>(jiffy - b.last_jiffy)));
    b.last_jiffy = jiffy;
  }
  // atomic_add_return(segs + delta, p_id) - segs: this packet takes the old value + delta.
  const std::uint32_t id = b.id;
  b.id += 1;
  return static_cast<std::uint16_t>(id);
}

}  // namespace calisim::dataplane
