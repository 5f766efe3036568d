#pragma once
// The IPv4 header (RFC 791 §3.1) and the two in-place edits a router makes to it: TTL decrement
// with an incremental checksum update (RFC 1624) and a full checksum recompute (RFC 1071).

#include <array>
#include <cstddef>
#include <cstdint>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

// The protocol field (IANA "Assigned Internet Protocol Numbers"). Other values are legal and
// carried as they are.
enum class IpProtocol : std::uint8_t {
  kIcmp = 1,
  kIpip = 4,  // IPv4-in-IPv4, RFC 2003: what Calico's tunl0 sends
  kTcp = 6,
  kUdp = 17,
};

// Read-only view of an IPv4 datagram. parse() does every length and consistency check once; the
// accessors then cannot read past the buffer. The checksum is not checked by parse (a router
// may still want to look at a corrupt header): ask checksum_valid(), or use Ipv4Header::parse.
class Ipv4View {
 public:
  static constexpr std::size_t kVersionIhlOffset = 0;
  static constexpr std::size_t kTosOffset = 1;
  static constexpr std::size_t kTotalLengthOffset = 2;
  static constexpr std::size_t kIdentificationOffset = 4;
  static constexpr std::size_t kFlagsFragmentOffset = 6;
  static constexpr std::size_t kTtlOffset = 8;
  static constexpr std::size_t kProtocolOffset = 9;
  static constexpr std::size_t kChecksumOffset = 10;
  static constexpr std::size_t kSourceOffset = 12;
  static constexpr std::size_t kDestinationOffset = 16;
  static constexpr std::size_t kOptionsOffset = 20;

  static constexpr std::size_t kMinHeaderLength = 20;  // IHL 5
  static constexpr std::size_t kMaxHeaderLength = 60;  // IHL 15
  // Bits of the 16-bit word at offset 6. The low 13 bits are the fragment offset in 8-byte units.
  static constexpr std::uint16_t kReservedFlag = 0x8000;  // RFC 791: must be zero
  static constexpr std::uint16_t kDontFragment = 0x4000;
  static constexpr std::uint16_t kMoreFragments = 0x2000;
  static constexpr std::uint16_t kFragmentOffsetMask = 0x1fff;
  static constexpr std::size_t kFragmentUnitBytes = 8;

  // Checks, in order: at least 20 bytes (kTruncated), version 4 (kMalformed), IHL >= 5
  // (kMalformed), IHL*4 bytes present (kTruncated), total length >= IHL*4 (kMalformed), total
  // length bytes present (kTruncated). Bytes after total length are link padding: excluded from
  // datagram() and payload(). Options are not interpreted (calisim acts on none of them).
  [[nodiscard]] static Result<Ipv4View> parse(Bytes bytes);

  // For the original datagram quoted inside an ICMP error (RFC 792): the header must be whole
  // and consistent, but the data may be cut short, so total length may exceed the bytes present.
  // payload() then holds what was quoted: min(total length, bytes present) - header length.
  [[nodiscard]] static Result<Ipv4View> parse_quoted(Bytes bytes);

  std::uint8_t version() const { return bytes_[kVersionIhlOffset] >> 4; }
  std::size_t header_length() const { return std::size_t{bytes_[kVersionIhlOffset] & 0x0fu} * 4; }
  std::uint8_t tos() const { return bytes_[kTosOffset]; }
  std::uint8_t dscp() const { return static_cast<std::uint8_t>(tos() >> 2); }   // RFC 2474
  std::uint8_t ecn() const { return static_cast<std::uint8_t>(tos() & 0x03); }  // RFC 3168
  std::uint16_t total_length() const { return load_be16(bytes_.data() + kTotalLengthOffset); }
  std::uint16_t identification() const { return load_be16(bytes_.data() + kIdentificationOffset); }
  bool reserved_flag() const { return (flags_fragment() & kReservedFlag) != 0; }
  bool dont_fragment() const { return (flags_fragment() & kDontFragment) != 0; }
  bool more_fragments() const { return (flags_fragment() & kMoreFragments) != 0; }
  // In bytes (the wire field is in 8-byte units): 0..65528, always a multiple of 8.
  std::uint32_t fragment_offset_bytes() const {
    return std::uint32_t{static_cast<std::uint16_t>(flags_fragment() & kFragmentOffsetMask)} *
           kFragmentUnitBytes;
  }
  // A fragment is any datagram but a whole one: MF set or a non-zero offset (RFC 791 §2.3).
  bool is_fragment() const { return more_fragments() || fragment_offset_bytes() != 0; }
  std::uint8_t ttl() const { return bytes_[kTtlOffset]; }
  IpProtocol protocol() const { return IpProtocol{bytes_[kProtocolOffset]}; }
  std::uint16_t checksum() const { return load_be16(bytes_.data() + kChecksumOffset); }
  Ipv4Address source() const { return Ipv4Address(load_be32(bytes_.data() + kSourceOffset)); }
  Ipv4Address destination() const {
    return Ipv4Address(load_be32(bytes_.data() + kDestinationOffset));
  }
  // The ones' complement sum over the whole header, checksum included, is 0xffff (RFC 1071 §1).
  bool checksum_valid() const;

  Bytes header() const { return bytes_.first(header_length()); }
  Bytes options() const { return header().subspan(kOptionsOffset); }
  Bytes payload() const { return bytes_.subspan(header_length()); }
  // Header and payload: total length bytes (fewer for a parse_quoted() view of a cut quote).
  Bytes datagram() const { return bytes_; }

 private:
  explicit Ipv4View(Bytes bytes) : bytes_(bytes) {}
  std::uint16_t flags_fragment() const { return load_be16(bytes_.data() + kFlagsFragmentOffset); }

  Bytes bytes_;  // from the version byte to total length (or to the end of a cut quote)
};

// An IPv4 header as values. The checksum is not a field: parse verifies it, emit computes it.
struct Ipv4Header {
  static constexpr std::size_t kMinLength = Ipv4View::kMinHeaderLength;
  static constexpr std::size_t kMaxOptionsLength = 40;

  std::uint8_t tos = 0;  // DSCP (high 6 bits) and ECN (low 2): Linux handles them as one byte
  std::uint16_t total_length = 0;  // header + payload, bytes
  std::uint16_t identification = 0;
  bool reserved_flag = false;  // "must be zero"; kept so that emit reproduces what was received
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint32_t fragment_offset_bytes = 0;  // a multiple of 8, at most 65528
  std::uint8_t ttl = 64;
  IpProtocol protocol = IpProtocol::kIcmp;
  Ipv4Address source;
  Ipv4Address destination;
  // Raw option bytes (RFC 791 §3.1 "Options"), kept verbatim; length a multiple of 4.
  std::array<std::uint8_t, kMaxOptionsLength> options{};
  std::uint8_t options_length = 0;

  // Ipv4View::parse, then kBadChecksum if the header checksum does not verify.
  [[nodiscard]] static Result<Ipv4Header> parse(Bytes bytes);
  // The fields of a view as they are, whatever its checksum (e.g. a quote inside an ICMP error).
  static Ipv4Header from_view(const Ipv4View& view);

  std::uint8_t dscp() const { return static_cast<std::uint8_t>(tos >> 2); }
  std::uint8_t ecn() const { return static_cast<std::uint8_t>(tos & 0x03); }
  Bytes options_bytes() const { return Bytes(options).first(options_length); }
  std::size_t header_length() const { return kMinLength + options_length; }
  // Requires total_length >= header_length(), as emit does.
  std::size_t payload_length() const { return total_length - header_length(); }

  // Writes header_length() bytes at the front of `out`, with the header checksum computed.
  // Broken invariants abort: out too small, options not a multiple of 4, total length below the
  // header length, fragment offset not a multiple of 8 or beyond 65528.
  void emit(MutableBytes out) const;

  bool operator==(const Ipv4Header&) const = default;
};

// The checksum of an IPv4 header (IHL*4 bytes) as it should be on the wire, computed with the
// checksum field taken as zero (RFC 791 §3.1).
[[nodiscard]] std::uint16_t ipv4_header_checksum(Bytes header);

// Recomputes and stores the header checksum in place (after editing a field such as TOS or the
// addresses). `header` holds at least IHL*4 bytes of a header whose IHL is 5..15.
void ipv4_set_checksum(MutableBytes header);

// A router's TTL decrement (RFC 1812 §5.3.1): TTL - 1, with the checksum updated incrementally
// per RFC 1624 eqn. 3 (only the TTL/protocol word changes) rather than recomputed; Linux
// ip_decrease_ttl() (include/net/ip.h) does the same update specialised to a step of 0x0100.
// From a correct checksum the result equals a full recompute, including the 0x0000 ("-0") case.
// A forwarding caller has already checked ttl > 1 (else ICMP time exceeded, RFC 1812 §5.3.1);
// ttl 0 aborts. `header` holds at least 20 bytes.
void ipv4_decrement_ttl(MutableBytes header);

}  // namespace calisim::wire
