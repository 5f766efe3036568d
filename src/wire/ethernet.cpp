#include <calisim/wire/ethernet.hpp>

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

namespace calisim::wire {

Result<EthernetView> EthernetView::parse(Bytes frame) {
  if (frame.size() < kHeaderLength) {
    return make_error(Errc::kTruncated,
                      fmt::format("ethernet: {} bytes is shorter than the {}-byte header",
                                  frame.size(), kHeaderLength));
  }
  const std::uint16_t type = load_be16(frame.data() + kEtherTypeOffset);
  if (type < kMinEtherType) {
    return make_error(Errc::kUnsupported,
                      fmt::format("ethernet: type field 0x{:04x} at offset {} is an IEEE 802.3 "
                                  "length, not an EtherType; calisim models Ethernet II only",
                                  type, kEtherTypeOffset));
  }
  return EthernetView(frame);
}

MacAddress EthernetView::load_mac(std::size_t offset) const {
  std::array<std::uint8_t, 6> bytes{};
  std::copy_n(frame_.data() + offset, bytes.size(), bytes.begin());
  return MacAddress(bytes);
}

Result<EthernetHeader> EthernetHeader::parse(Bytes frame) {
  auto view = EthernetView::parse(frame);
  if (!view) return std::unexpected(std::move(view.error()));
  return from_view(*view);
}

EthernetHeader EthernetHeader::from_view(const EthernetView& view) {
  return EthernetHeader{view.destination(), view.source(), view.ethertype()};
}

void EthernetHeader::emit(MutableBytes out) const {
  CALISIM_CHECK(out.size() >= kLength, "ethernet: emit needs 14 bytes");
  std::copy(destination.bytes().begin(), destination.bytes().end(),
            out.data() + EthernetView::kDestinationOffset);
  std::copy(source.bytes().begin(), source.bytes().end(), out.data() + EthernetView::kSourceOffset);
  store_be16(out.data() + EthernetView::kEtherTypeOffset, static_cast<std::uint16_t>(ethertype));
}

}  // namespace calisim::wire
