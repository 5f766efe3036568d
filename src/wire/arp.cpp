#include <calisim/wire/arp.hpp>

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

namespace calisim::wire {
namespace {

void store_mac(std::uint8_t* p, const MacAddress& mac) {
  std::copy(mac.bytes().begin(), mac.bytes().end(), p);
}

}  // namespace

Result<ArpView> ArpView::parse(Bytes bytes) {
  // The format fields come first and decide the layout, so check them before the full length:
  // an unsupported hardware type is "unsupported", not "truncated".
  if (bytes.size() < kFixedLength) {
    return make_error(Errc::kTruncated,
                      fmt::format("arp: {} bytes is shorter than the {}-byte fixed part",
                                  bytes.size(), kFixedLength));
  }
  const std::uint16_t htype = load_be16(bytes.data() + kHardwareTypeOffset);
  const std::uint16_t ptype = load_be16(bytes.data() + kProtocolTypeOffset);
  if (htype != kHardwareTypeEthernet || ptype != kProtocolTypeIpv4) {
    return make_error(Errc::kUnsupported,
                      fmt::format("arp: hardware type {} / protocol type 0x{:04x}; calisim models "
                                  "only Ethernet (1) / IPv4 (0x0800)",
                                  htype, ptype));
  }
  const std::uint8_t hlen = bytes[kHardwareLengthOffset];
  const std::uint8_t plen = bytes[kProtocolLengthOffset];
  if (hlen != kHardwareLengthEthernet || plen != kProtocolLengthIpv4) {
    return make_error(Errc::kMalformed,
                      fmt::format("arp: Ethernet/IPv4 with address lengths {}/{} in bytes 4-5, "
                                  "expected 6/4",
                                  hlen, plen));
  }
  if (bytes.size() < kLength) {
    return make_error(Errc::kTruncated,
                      fmt::format("arp: {} bytes is shorter than the {}-byte Ethernet/IPv4 packet",
                                  bytes.size(), kLength));
  }
  return ArpView(bytes.first(kLength));
}

MacAddress ArpView::load_mac(std::size_t offset) const {
  std::array<std::uint8_t, 6> mac{};
  std::copy_n(packet_.data() + offset, mac.size(), mac.begin());
  return MacAddress(mac);
}

Result<ArpPacket> ArpPacket::parse(Bytes bytes) {
  auto view = ArpView::parse(bytes);
  if (!view) return std::unexpected(std::move(view.error()));
  return from_view(*view);
}

Result<ArpPacket> ArpPacket::from_view(const ArpView& view) {
  const std::uint16_t op = view.operation();
  if (op != static_cast<std::uint16_t>(ArpOperation::kRequest) &&
      op != static_cast<std::uint16_t>(ArpOperation::kReply)) {
    return make_error(Errc::kUnsupported,
                      fmt::format("arp: operation {} at offset {}; calisim models request (1) and "
                                  "reply (2) only",
                                  op, ArpView::kOperationOffset));
  }
  return ArpPacket{ArpOperation{op}, view.sender_mac(), view.sender_ip(), view.target_mac(),
                   view.target_ip()};
}

ArpPacket ArpPacket::request(MacAddress sender_mac, Ipv4Address sender_ip, Ipv4Address target_ip) {
  return ArpPacket{ArpOperation::kRequest, sender_mac, sender_ip, MacAddress(), target_ip};
}

ArpPacket ArpPacket::reply_to(const ArpPacket& request, MacAddress my_mac) {
  // RFC 826 "Packet Reception": swap sender and target, fill in the local hardware address.
  return ArpPacket{ArpOperation::kReply, my_mac, request.target_ip, request.sender_mac,
                   request.sender_ip};
}

void ArpPacket::emit(MutableBytes out) const {
  CALISIM_CHECK(out.size() >= kLength, "arp: emit needs 28 bytes");
  std::uint8_t* p = out.data();
  store_be16(p + ArpView::kHardwareTypeOffset, ArpView::kHardwareTypeEthernet);
  store_be16(p + ArpView::kProtocolTypeOffset, ArpView::kProtocolTypeIpv4);
  p[ArpView::kHardwareLengthOffset] = ArpView::kHardwareLengthEthernet;
  p[ArpView::kProtocolLengthOffset] = ArpView::kProtocolLengthIpv4;
  store_be16(p + ArpView::kOperationOffset, static_cast<std::uint16_t>(operation));
  store_mac(p + ArpView::kSenderMacOffset, sender_mac);
  store_be32(p + ArpView::kSenderIpOffset, sender_ip.value());
  store_mac(p + ArpView::kTargetMacOffset, target_mac);
  store_be32(p + ArpView::kTargetIpOffset, target_ip.value());
}

}  // namespace calisim::wire
