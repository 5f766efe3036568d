#include <calisim/wire/ipv4.hpp>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include <calisim/wire/checksum.hpp>

namespace calisim::wire {
namespace {

enum class DataRule { kWhole, kMayBeCut };

// The checks shared by parse() and parse_quoted(); returns the bytes the view covers.
Result<Bytes> check_datagram(Bytes bytes, DataRule rule) {
  if (bytes.size() < Ipv4View::kMinHeaderLength) {
    return make_error(Errc::kTruncated,
                      fmt::format("ipv4: {} bytes is shorter than the {}-byte minimum header",
                                  bytes.size(), Ipv4View::kMinHeaderLength));
  }
  const std::uint8_t version = bytes[Ipv4View::kVersionIhlOffset] >> 4;
  if (version != 4) {
    return make_error(Errc::kMalformed,
                      fmt::format("ipv4: version {} in byte 0, expected 4", version));
  }
  const std::size_t ihl_words = bytes[Ipv4View::kVersionIhlOffset] & 0x0fu;
  const std::size_t header_length = ihl_words * 4;
  if (header_length < Ipv4View::kMinHeaderLength) {
    return make_error(Errc::kMalformed,
                      fmt::format("ipv4: header length field (IHL) {} in byte 0 is below the "
                                  "minimum of 5 (20 bytes)",
                                  ihl_words));
  }
  if (header_length > bytes.size()) {
    return make_error(Errc::kTruncated,
                      fmt::format("ipv4: header length {} bytes (IHL {}) exceeds the {} bytes "
                                  "present",
                                  header_length, ihl_words, bytes.size()));
  }
  const std::size_t total_length = load_be16(bytes.data() + Ipv4View::kTotalLengthOffset);
  if (total_length < header_length) {
    return make_error(Errc::kMalformed,
                      fmt::format("ipv4: total length {} is less than the header length {}",
                                  total_length, header_length));
  }
  if (total_length > bytes.size()) {
    // An ICMP error quotes only the start of the original datagram (RFC 792, RFC 1812
    // §4.3.2.3), so its total length names bytes that were never sent along.
    if (rule == DataRule::kMayBeCut) return bytes;
    return make_error(Errc::kTruncated,
                      fmt::format("ipv4: total length {} exceeds the {} bytes present",
                                  total_length, bytes.size()));
  }
  // Anything after total length is link padding (e.g. an Ethernet minimum frame), not data.
  return bytes.first(total_length);
}

}  // namespace

Result<Ipv4View> Ipv4View::parse(Bytes bytes) {
  auto covered = check_datagram(bytes, DataRule::kWhole);
  if (!covered) return std::unexpected(std::move(covered.error()));
  return Ipv4View(*covered);
}

Result<Ipv4View> Ipv4View::parse_quoted(Bytes bytes) {
  auto covered = check_datagram(bytes, DataRule::kMayBeCut);
  if (!covered) return std::unexpected(std::move(covered.error()));
  return Ipv4View(*covered);
}

bool Ipv4View::checksum_valid() const {
  // checksum_finish complements the folded sum: a header that verifies sums to 0xffff, so the
  // complement is 0 (RFC 1071 §1 "(3)").
  return checksum_finish(checksum_accumulate(0, header())) == 0;
}

Result<Ipv4Header> Ipv4Header::parse(Bytes bytes) {
  auto view = Ipv4View::parse(bytes);
  if (!view) return std::unexpected(std::move(view.error()));
  if (!view->checksum_valid()) {
    return make_error(Errc::kBadChecksum,
                      fmt::format("ipv4: header checksum 0x{:04x} at offset {} does not verify "
                                  "(the header sums to 0x{:04x})",
                                  view->checksum(), Ipv4View::kChecksumOffset,
                                  ipv4_header_checksum(view->header())));
  }
  return from_view(*view);
}

Ipv4Header Ipv4Header::from_view(const Ipv4View& view) {
  Ipv4Header h;
  h.tos = view.tos();
  h.total_length = view.total_length();
  h.identification = view.identification();
  h.reserved_flag = view.reserved_flag();
  h.dont_fragment = view.dont_fragment();
  h.more_fragments = view.more_fragments();
  h.fragment_offset_bytes = view.fragment_offset_bytes();
  h.ttl = view.ttl();
  h.protocol = view.protocol();
  h.source = view.source();
  h.destination = view.destination();
  const Bytes options = view.options();
  std::copy(options.begin(), options.end(), h.options.begin());
  h.options_length = static_cast<std::uint8_t>(options.size());
  return h;
}

void Ipv4Header::emit(MutableBytes out) const {
  const std::size_t length = header_length();
  CALISIM_CHECK(options_length <= kMaxOptionsLength && options_length % 4 == 0,
                "ipv4: options must be 0..40 bytes, a multiple of 4 (pad with EOL/NOP)");
  CALISIM_CHECK(out.size() >= length, "ipv4: emit needs header_length() bytes");
  CALISIM_CHECK(total_length >= length, "ipv4: total length below the header length");
  CALISIM_CHECK(
      fragment_offset_bytes % Ipv4View::kFragmentUnitBytes == 0 &&
          fragment_offset_bytes / Ipv4View::kFragmentUnitBytes <= Ipv4View::kFragmentOffsetMask,
      "ipv4: fragment offset must be a multiple of 8 bytes, at most 65528");
  std::uint8_t* p = out.data();
  p[Ipv4View::kVersionIhlOffset] = static_cast<std::uint8_t>(0x40 | (length / 4));
  p[Ipv4View::kTosOffset] = tos;
  store_be16(p + Ipv4View::kTotalLengthOffset, total_length);
  store_be16(p + Ipv4View::kIdentificationOffset, identification);
  std::uint16_t flags_fragment =
      static_cast<std::uint16_t>(fragment_offset_bytes / Ipv4View::kFragmentUnitBytes);
  if (reserved_flag) flags_fragment |= Ipv4View::kReservedFlag;
  if (dont_fragment) flags_fragment |= Ipv4View::kDontFragment;
  if (more_fragments) flags_fragment |= Ipv4View::kMoreFragments;
  store_be16(p + Ipv4View::kFlagsFragmentOffset, flags_fragment);
  p[Ipv4View::kTtlOffset] = ttl;
  p[Ipv4View::kProtocolOffset] = static_cast<std::uint8_t>(protocol);
  store_be32(p + Ipv4View::kSourceOffset, source.value());
  store_be32(p + Ipv4View::kDestinationOffset, destination.value());
  std::copy_n(options.begin(), options_length, p + Ipv4View::kOptionsOffset);
  ipv4_set_checksum(out.first(length));
}

std::uint16_t ipv4_header_checksum(Bytes header) {
  CALISIM_CHECK(header.size() >= Ipv4View::kMinHeaderLength, "ipv4: header under 20 bytes");
  const std::size_t length = std::size_t{header[Ipv4View::kVersionIhlOffset] & 0x0fu} * 4;
  CALISIM_CHECK(length >= Ipv4View::kMinHeaderLength && length <= header.size(),
                "ipv4: IHL outside 5..15 or beyond the bytes given");
  // Sum around the checksum field rather than copying the header to zero it.
  std::uint32_t sum = checksum_accumulate(0, header.first(Ipv4View::kChecksumOffset));
  sum = checksum_accumulate(
      sum, header.subspan(Ipv4View::kChecksumOffset + 2, length - Ipv4View::kChecksumOffset - 2));
  return checksum_finish(sum);
}

void ipv4_set_checksum(MutableBytes header) {
  const std::uint16_t checksum = ipv4_header_checksum(header);
  store_be16(header.data() + Ipv4View::kChecksumOffset, checksum);
}

void ipv4_decrement_ttl(MutableBytes header) {
  CALISIM_CHECK(header.size() >= Ipv4View::kMinHeaderLength, "ipv4: header under 20 bytes");
  std::uint8_t* p = header.data();
  CALISIM_CHECK(p[Ipv4View::kTtlOffset] > 0, "ipv4: decrementing a TTL of 0");
  // TTL and protocol share one 16-bit word; only that word changes (RFC 1624 §3, eqn. 3).
  const std::uint16_t old_word = load_be16(p + Ipv4View::kTtlOffset);
  --p[Ipv4View::kTtlOffset];
  const std::uint16_t new_word = load_be16(p + Ipv4View::kTtlOffset);
  const std::uint16_t old_checksum = load_be16(p + Ipv4View::kChecksumOffset);
  store_be16(p + Ipv4View::kChecksumOffset, checksum_adjust(old_checksum, old_word, new_word));
}

}  // namespace calisim::wire
