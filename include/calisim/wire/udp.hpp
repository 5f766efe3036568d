#pragma once
// The UDP header (RFC 768) and its checksum over the IPv4 pseudo-header.

#include <cstddef>
#include <cstdint>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

// IANA protocol number of UDP, as the IPv4 pseudo-header carries it.
inline constexpr std::uint8_t kUdpProtocolNumber = 17;

// Read-only view of a UDP datagram. parse() does every length check once; the accessors then
// cannot read past the buffer. The checksum needs the IPv4 addresses, so parse does not verify
// it: ask checksum_valid(), or use UdpHeader::parse.
class UdpView {
 public:
  static constexpr std::size_t kSourcePortOffset = 0;
  static constexpr std::size_t kDestinationPortOffset = 2;
  static constexpr std::size_t kLengthOffset = 4;
  static constexpr std::size_t kChecksumOffset = 6;
  static constexpr std::size_t kHeaderLength = 8;

  // `bytes` is the IPv4 payload. Checks, in order: at least 8 bytes (kTruncated), length field
  // >= 8 (kMalformed), length field bytes present (kTruncated). Bytes after the length field's
  // end are not part of the datagram (RFC 768: the length counts header and data) and are
  // excluded from datagram() and payload().
  [[nodiscard]] static Result<UdpView> parse(Bytes bytes);

  std::uint16_t source_port() const { return load_be16(bytes_.data() + kSourcePortOffset); }
  std::uint16_t destination_port() const {
    return load_be16(bytes_.data() + kDestinationPortOffset);
  }
  // Header plus data, in bytes: datagram().size().
  std::uint16_t length() const { return load_be16(bytes_.data() + kLengthOffset); }
  std::uint16_t checksum() const { return load_be16(bytes_.data() + kChecksumOffset); }
  // RFC 768: "An all zero transmitted checksum value means that the transmitter generated no
  // checksum".
  bool has_checksum() const { return checksum() != 0; }
  // True when there is no checksum (field 0) or when the ones' complement sum over the
  // pseudo-header, header and data, checksum included, is 0xffff (RFC 1071 §1).
  bool checksum_valid(Ipv4Address source, Ipv4Address destination) const;

  Bytes header() const { return bytes_.first(kHeaderLength); }
  Bytes payload() const { return bytes_.subspan(kHeaderLength); }
  Bytes datagram() const { return bytes_; }

 private:
  explicit UdpView(Bytes bytes) : bytes_(bytes) {}

  Bytes bytes_;  // exactly length() bytes
};

// A UDP header as values. The length and checksum are not fields: emit derives the length from
// the datagram it is given and computes the checksum; parse verifies it.
struct UdpHeader {
  static constexpr std::size_t kLength = UdpView::kHeaderLength;

  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;

  // UdpView::parse, then kBadChecksum if a checksum is present and does not verify against the
  // IPv4 pseudo-header of `source` and `destination`.
  [[nodiscard]] static Result<UdpHeader> parse(Bytes bytes, Ipv4Address source,
                                               Ipv4Address destination);
  // The fields of a view as they are, whatever its checksum.
  static UdpHeader from_view(const UdpView& view);

  std::size_t header_length() const { return kLength; }

  // `datagram` is the whole datagram: 8 header bytes (overwritten) followed by the payload,
  // already in place, so that an encapsulation can write the payload first and the header last.
  // Writes the length (datagram.size()) and, with `with_checksum`, the checksum over the
  // pseudo-header, header and payload; a computed 0 is sent as 0xffff (RFC 768), since 0 means
  // "no checksum", which is what `with_checksum = false` writes. Aborts if the datagram is
  // shorter than 8 bytes or longer than 65535.
  void emit(MutableBytes datagram, Ipv4Address source, Ipv4Address destination,
            bool with_checksum = true) const;

  bool operator==(const UdpHeader&) const = default;
};

}  // namespace calisim::wire
