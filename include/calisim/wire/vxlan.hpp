#pragma once
// The VXLAN header (RFC 7348 §5) and the outer UDP source port Linux picks for it.
//
// On the wire: outer IPv4, UDP (destination port 4789), this 8-byte header, then the inner
// Ethernet frame without FCS.

#include <cstddef>
#include <cstdint>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

// IANA port (RFC 7348 §5); Linux defaults to 8472 unless told `dstport 4789`, Calico tells it.
inline constexpr std::uint16_t kVxlanPort = 4789;
// Felix's VXLANVNI default: the VNI of vxlan.calico.
inline constexpr std::uint32_t kCalicoVni = 4096;
// VNIs are 24 bits.
inline constexpr std::uint32_t kMaxVni = 0xffffff;

// Read-only view of a VXLAN header and the inner frame after it.
class VxlanView {
 public:
  static constexpr std::size_t kFlagsOffset = 0;
  static constexpr std::size_t kVniOffset = 4;  // 24 bits, then one reserved byte
  static constexpr std::size_t kHeaderLength = 8;
  static constexpr std::uint8_t kFlagI = 0x08;  // "valid VNI"; the other 7 flag bits are reserved

  // `bytes` is the UDP payload. Checks: at least 8 bytes (kTruncated) and the I flag set
  // (kMalformed). Reserved bits are ignored, as RFC 7348 §5 requires of a receiver.
  [[nodiscard]] static Result<VxlanView> parse(Bytes bytes);

  std::uint8_t flags() const { return bytes_[kFlagsOffset]; }
  std::uint32_t vni() const { return load_be24(bytes_.data() + kVniOffset); }

  Bytes header() const { return bytes_.first(kHeaderLength); }
  // The inner Ethernet frame (no FCS).
  Bytes payload() const { return bytes_.subspan(kHeaderLength); }

 private:
  explicit VxlanView(Bytes bytes) : bytes_(bytes) {}

  Bytes bytes_;
};

// A VXLAN header as values: only the VNI carries information.
struct VxlanHeader {
  static constexpr std::size_t kLength = VxlanView::kHeaderLength;

  std::uint32_t vni = 0;

  [[nodiscard]] static Result<VxlanHeader> parse(Bytes bytes);
  static VxlanHeader from_view(const VxlanView& view) { return VxlanHeader{view.vni()}; }

  std::size_t header_length() const { return kLength; }

  // Writes 8 bytes at the front of `out`: flags 0x08, the VNI, reserved fields zero (RFC 7348 §5:
  // "MUST be set to zero on transmission"). Aborts if `out` is shorter or the VNI exceeds 24 bits.
  void emit(MutableBytes out) const;

  bool operator==(const VxlanHeader&) const = default;
};

// Linux's default source port range for tunnels: the netns ip_local_port_range, 32768 60999.
inline constexpr std::uint16_t kVxlanSourcePortMin = 32768;
inline constexpr std::uint16_t kVxlanSourcePortMax = 60999;

// The outer UDP source port of a Linux VXLAN device with `srcport 0 0` (the default, and what
// Calico configures), from the inner flow's hash: udp_flow_src_port() in include/net/udp.h.
//   if (min >= max) use the netns ip_local_port_range;
//   hash ^= hash << 16;                      // 32-bit arithmetic
//   port = ((u64)hash * (max - min) >> 32) + min;
// `max` there is the range's inclusive upper sysctl value as inet_get_local_port_range() returns
// it (60999), used as an exclusive bound, so the ports are in [32768, 60998]: 60999 itself is
// never picked. We assume that default range; a `port_min >= port_max` argument falls back to
// it, as the kernel does.
std::uint16_t vxlan_source_port(std::uint32_t flow_hash,
                                std::uint16_t port_min = kVxlanSourcePortMin,
                                std::uint16_t port_max = kVxlanSourcePortMax);

// A deterministic, symmetric hash of an inner flow for vxlan_source_port. It is ours, not the
// kernel's: Linux uses skb_get_hash(), a jhash of the dissected flow keys with a per-boot random
// seed, so real ports cannot be predicted. Like the kernel's (__flow_hash_consistentify), it
// orders the two endpoints first, so both directions of a flow get the same port (observed on
// Linux 6.18: a ping and its reply both used source port 60485). Ports are 0 for protocols
// without them (ICMP). The hash is FNV-1a over (lower address, upper address, protocol, lower
// endpoint's port, upper endpoint's port), then the MurmurHash3 finaliser to spread the bits.
std::uint32_t flow_hash(Ipv4Address source, Ipv4Address destination, std::uint8_t protocol,
                        std::uint16_t source_port, std::uint16_t destination_port);

}  // namespace calisim::wire
