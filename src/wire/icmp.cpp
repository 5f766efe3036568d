#include <calisim/wire/icmp.hpp>

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include <calisim/wire/checksum.hpp>
#include <calisim/wire/ipv4.hpp>

namespace calisim::wire {

Result<IcmpView> IcmpView::parse(Bytes message) {
  if (message.size() < kHeaderLength) {
    return make_error(Errc::kTruncated,
                      fmt::format("icmp: {} bytes is shorter than the {}-byte header",
                                  message.size(), kHeaderLength));
  }
  return IcmpView(message);
}

bool IcmpView::is_error() const {
  switch (type()) {
    case IcmpType::kDestinationUnreachable:
    case IcmpType::kRedirect:
    case IcmpType::kTimeExceeded:
    case IcmpType::kParameterProblem:
      return true;
    default:
      return false;
  }
}

bool IcmpView::checksum_valid() const {
  // Over the whole message, checksum included: a message that verifies sums to 0xffff.
  return checksum_finish(checksum_accumulate(0, message_)) == 0;
}

Result<IcmpMessage> IcmpMessage::parse(Bytes message) {
  auto view = IcmpView::parse(message);
  if (!view) return std::unexpected(std::move(view.error()));
  if (!view->checksum_valid()) {
    // What the checksum should have been: the sum with the field itself taken as zero.
    std::uint32_t sum = checksum_accumulate(0, message.first(IcmpView::kChecksumOffset));
    sum = checksum_accumulate(sum, message.subspan(IcmpView::kRestOfHeaderOffset));
    return make_error(Errc::kBadChecksum,
                      fmt::format("icmp: checksum 0x{:04x} at offset {} does not verify over "
                                  "the {} message bytes (expected 0x{:04x})",
                                  view->checksum(), IcmpView::kChecksumOffset, message.size(),
                                  checksum_finish(sum)));
  }
  return from_view(*view);
}

Result<IcmpMessage> IcmpMessage::from_view(const IcmpView& view) {
  IcmpMessage m;
  m.type = view.type();
  m.code = view.code();
  m.data = view.payload();
  switch (m.type) {
    case IcmpType::kEchoRequest:
    case IcmpType::kEchoReply:
      m.identifier = view.identifier();
      m.sequence = view.sequence();
      return m;
    case IcmpType::kDestinationUnreachable:
      // RFC 1191 §4 defines bytes 6-7 for code 4 only; for other codes they are unused.
      if (m.code == static_cast<std::uint8_t>(IcmpUnreachableCode::kFragmentationNeeded)) {
        m.next_hop_mtu = view.next_hop_mtu();
      }
      return m;
    case IcmpType::kTimeExceeded:
      return m;
    default:
      return make_error(Errc::kUnsupported,
                        fmt::format("icmp: type {} (code {}); calisim models echo (0, 8), "
                                    "destination unreachable (3) and time exceeded (11)",
                                    static_cast<unsigned>(m.type), m.code));
  }
}

IcmpMessage IcmpMessage::echo_request(std::uint16_t identifier, std::uint16_t sequence,
                                      Bytes data) {
  IcmpMessage m;
  m.type = IcmpType::kEchoRequest;
  m.identifier = identifier;
  m.sequence = sequence;
  m.data = data;
  return m;
}

IcmpMessage IcmpMessage::echo_reply(std::uint16_t identifier, std::uint16_t sequence, Bytes data) {
  IcmpMessage m = echo_request(identifier, sequence, data);
  m.type = IcmpType::kEchoReply;
  return m;
}

IcmpMessage IcmpMessage::time_exceeded(IcmpTimeExceededCode code, Bytes quote) {
  IcmpMessage m;
  m.type = IcmpType::kTimeExceeded;
  m.code = static_cast<std::uint8_t>(code);
  m.data = quote;
  return m;
}

IcmpMessage IcmpMessage::destination_unreachable(IcmpUnreachableCode code, Bytes quote,
                                                 std::uint16_t next_hop_mtu) {
  IcmpMessage m;
  m.type = IcmpType::kDestinationUnreachable;
  m.code = static_cast<std::uint8_t>(code);
  m.data = quote;
  if (code == IcmpUnreachableCode::kFragmentationNeeded) m.next_hop_mtu = next_hop_mtu;
  return m;
}

void IcmpMessage::emit(MutableBytes out) const {
  const std::size_t length = size();
  CALISIM_CHECK(out.size() >= length, "icmp: emit needs size() bytes");
  std::uint8_t* p = out.data();
  // Data first, with memmove: a router may build the error in place, over the buffer that holds
  // the datagram it quotes; the header bytes are written only once the data has moved away.
  if (!data.empty()) std::memmove(p + kHeaderLength, data.data(), data.size());
  p[IcmpView::kTypeOffset] = static_cast<std::uint8_t>(type);
  p[IcmpView::kCodeOffset] = code;
  store_be16(p + IcmpView::kChecksumOffset, 0);
  std::uint32_t rest = 0;  // "unused" in errors: must be zero on transmission (RFC 792)
  switch (type) {
    case IcmpType::kEchoRequest:
    case IcmpType::kEchoReply:
      rest = (std::uint32_t{identifier} << 16) | sequence;
      break;
    case IcmpType::kDestinationUnreachable:
      if (code == static_cast<std::uint8_t>(IcmpUnreachableCode::kFragmentationNeeded)) {
        rest = next_hop_mtu;  // low 16 bits: bytes 6-7 (RFC 1191 §4)
      }
      break;
    default:
      break;
  }
  store_be32(p + IcmpView::kRestOfHeaderOffset, rest);
  store_be16(p + IcmpView::kChecksumOffset, internet_checksum(out.first(length)));
}

bool IcmpMessage::operator==(const IcmpMessage& other) const {
  return type == other.type && code == other.code && identifier == other.identifier &&
         sequence == other.sequence && next_hop_mtu == other.next_hop_mtu &&
         std::ranges::equal(data, other.data);
}

Bytes icmp_error_quote(Bytes original_ip_datagram, std::size_t max_bytes) {
  auto view = Ipv4View::parse_quoted(original_ip_datagram);
  if (!view) return original_ip_datagram.first(std::min(original_ip_datagram.size(), max_bytes));
  // datagram() already stops at total length, so link padding is never quoted.
  const Bytes datagram = view->datagram();
  const std::size_t length = std::min(datagram.size(), std::max(max_bytes, view->header_length()));
  return datagram.first(length);
}

}  // namespace calisim::wire
