#include <calisim/wire/udp.hpp>

#include <fmt/format.h>

#include <calisim/wire/checksum.hpp>

namespace calisim::wire {

Result<UdpView> UdpView::parse(Bytes bytes) {
  if (bytes.size() < kHeaderLength) {
    return make_error(Errc::kTruncated,
                      fmt::format("udp: {} bytes present, a header needs {}", bytes.size(),
                                  kHeaderLength));
  }
  const std::uint16_t length = load_be16(bytes.data() + kLengthOffset);
  if (length < kHeaderLength) {
    return make_error(Errc::kMalformed,
                      fmt::format("udp: length field {} is less than the {}-byte header", length,
                                  kHeaderLength));
  }
  if (length > bytes.size()) {
    return make_error(Errc::kTruncated,
                      fmt::format("udp: length field {} exceeds the {} bytes present", length,
                                  bytes.size()));
  }
  return UdpView(bytes.first(length));
}

bool UdpView::checksum_valid(Ipv4Address source, Ipv4Address destination) const {
  if (!has_checksum()) return true;
  const std::uint32_t sum = pseudo_header_sum(source, destination, kUdpProtocolNumber, length()) +
                            checksum_accumulate(0, bytes_);
  return checksum_finish(sum) == 0;
}

Result<UdpHeader> UdpHeader::parse(Bytes bytes, Ipv4Address source, Ipv4Address destination) {
  auto view = UdpView::parse(bytes);
  if (!view) return std::unexpected(view.error());
  if (!view->checksum_valid(source, destination)) {
    return make_error(Errc::kBadChecksum,
                      fmt::format("udp: checksum 0x{:04x} does not verify for {}:{} -> {}:{}",
                                  view->checksum(), source, view->source_port(), destination,
                                  view->destination_port()));
  }
  return from_view(*view);
}

UdpHeader UdpHeader::from_view(const UdpView& view) {
  return UdpHeader{.source_port = view.source_port(), .destination_port = view.destination_port()};
}

void UdpHeader::emit(MutableBytes datagram, Ipv4Address source, Ipv4Address destination,
                     bool with_checksum) const {
  CALISIM_CHECK(datagram.size() >= kLength, "udp: datagram shorter than its 8-byte header");
  CALISIM_CHECK(datagram.size() <= 0xffff, "udp: datagram longer than the length field allows");
  const auto length = static_cast<std::uint16_t>(datagram.size());
  std::uint8_t* p = datagram.data();
  store_be16(p + UdpView::kSourcePortOffset, source_port);
  store_be16(p + UdpView::kDestinationPortOffset, destination_port);
  store_be16(p + UdpView::kLengthOffset, length);
  store_be16(p + UdpView::kChecksumOffset, 0);
  if (!with_checksum) return;
  std::uint16_t checksum = checksum_finish(
      pseudo_header_sum(source, destination, kUdpProtocolNumber, length) +
      checksum_accumulate(0, datagram));
  if (checksum == 0) checksum = 0xffff;  // RFC 768: 0 would mean "no checksum"
  store_be16(p + UdpView::kChecksumOffset, checksum);
}

}  // namespace calisim::wire
