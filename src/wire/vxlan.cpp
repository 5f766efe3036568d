#include <calisim/wire/vxlan.hpp>

#include <array>
#include <utility>

#include <fmt/format.h>

namespace calisim::wire {

Result<VxlanView> VxlanView::parse(Bytes bytes) {
  if (bytes.size() < kHeaderLength) {
    return make_error(Errc::kTruncated,
                      fmt::format("vxlan: {} bytes present, the header needs {}", bytes.size(),
                                  kHeaderLength));
  }
  if ((bytes[kFlagsOffset] & kFlagI) == 0) {
    return make_error(Errc::kMalformed,
                      fmt::format("vxlan: I flag clear (flags 0x{:02x}): no valid VNI",
                                  bytes[kFlagsOffset]));
  }
  return VxlanView(bytes);
}

Result<VxlanHeader> VxlanHeader::parse(Bytes bytes) {
  auto view = VxlanView::parse(bytes);
  if (!view) return std::unexpected(view.error());
  return from_view(*view);
}

void VxlanHeader::emit(MutableBytes out) const {
  CALISIM_CHECK(out.size() >= kLength, "vxlan: no room for the 8-byte header");
  CALISIM_CHECK(vni <= kMaxVni, "vxlan: VNI wider than 24 bits");
  std::uint8_t* p = out.data();
  p[VxlanView::kFlagsOffset] = VxlanView::kFlagI;
  p[1] = 0;
  p[2] = 0;
  p[3] = 0;
  store_be24(p + VxlanView::kVniOffset, vni);
  p[7] = 0;
}

std::uint16_t vxlan_source_port(std::uint32_t flow_hash, std::uint16_t port_min,
                                std::uint16_t port_max) {
  std::uint32_t min = port_min;
  std::uint32_t max = port_max;
  if (min >= max) {
    min = kVxlanSourcePortMin;
    max = kVxlanSourcePortMax;
  }
  std::uint32_t hash = flow_hash;
  hash ^= hash << 16;  // "obfuscate hash a bit": only the upper 16 bits matter below
  return static_cast<std::uint16_t>(((std::uint64_t{hash} * (max - min)) >> 32) + min);
}

std::uint32_t flow_hash(Ipv4Address source, Ipv4Address destination, std::uint8_t protocol,
                        std::uint16_t source_port, std::uint16_t destination_port) {
  // Symmetric: the lower endpoint first, whichever direction the packet goes.
  if (std::pair(destination, destination_port) < std::pair(source, source_port)) {
    std::swap(source, destination);
    std::swap(source_port, destination_port);
  }
  std::array<std::uint8_t, 13> key{};
  store_be32(key.data(), source.value());
  store_be32(key.data() + 4, destination.value());
  key[8] = protocol;
  store_be16(key.data() + 9, source_port);
  store_be16(key.data() + 11, destination_port);
  // FNV-1a, 32 bits.
  std::uint32_t h = 2166136261u;
  for (std::uint8_t b : key) {
    h ^= b;
    h *= 16777619u;
  }
  // MurmurHash3 fmix32: every input bit reaches the upper 16 bits vxlan_source_port uses.
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

}  // namespace calisim::wire
