#pragma once
// ICMP for IPv4 (RFC 792): echo request/reply, destination unreachable (with the RFC 1191
// next-hop MTU of "fragmentation needed") and time exceeded. The checksum covers the whole ICMP
// message, header and data (RFC 792 "Checksum").

#include <cstddef>
#include <cstdint>

#include <calisim/sim/result.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

// The type field (IANA "ICMP Type Numbers"). Other values are legal on the wire; IcmpMessage
// models the ones below that have a body layout it knows.
enum class IcmpType : std::uint8_t {
  kEchoReply = 0,
  kDestinationUnreachable = 3,
  kRedirect = 5,  // recognised only
  kEchoRequest = 8,
  kTimeExceeded = 11,
  kParameterProblem = 12,  // recognised only
};

// Codes of type 3 (RFC 792; 4 per RFC 1191; 6-12 per RFC 1122 §3.2.2.1; 13-15 per RFC 1812
// §5.2.7.1). Linux sends kFragmentationNeeded from ip_forward() and kAdminProhibited for
// iptables REJECT --reject-with icmp-admin-prohibited.
enum class IcmpUnreachableCode : std::uint8_t {
  kNet = 0,
  kHost = 1,
  kProtocol = 2,
  kPort = 3,
  kFragmentationNeeded = 4,  // "fragmentation needed and DF set", next-hop MTU in bytes 6-7
  kSourceRouteFailed = 5,
  kNetUnknown = 6,
  kHostUnknown = 7,
  kHostIsolated = 8,
  kNetProhibited = 9,
  kHostProhibited = 10,
  kNetTos = 11,
  kHostTos = 12,
  kAdminProhibited = 13,
  kHostPrecedenceViolation = 14,
  kPrecedenceCutoff = 15,
};

// Codes of type 11 (RFC 792).
enum class IcmpTimeExceededCode : std::uint8_t {
  kTtl = 0,         // "time to live exceeded in transit": a router, ip_forward()
  kReassembly = 1,  // "fragment reassembly time exceeded": the receiver, ip_expire()
};

// Read-only view of an ICMP message: the whole payload of its IPv4 datagram (pass
// Ipv4View::payload(), which has link padding removed, since the checksum covers every byte).
class IcmpView {
 public:
  static constexpr std::size_t kTypeOffset = 0;
  static constexpr std::size_t kCodeOffset = 1;
  static constexpr std::size_t kChecksumOffset = 2;
  static constexpr std::size_t kRestOfHeaderOffset = 4;
  static constexpr std::size_t kIdentifierOffset = 4;  // echo
  static constexpr std::size_t kSequenceOffset = 6;    // echo
  static constexpr std::size_t kNextHopMtuOffset = 6;  // unreachable, code 4 (RFC 1191 §4)
  static constexpr std::size_t kHeaderLength = 8;

  // Errors: kTruncated below 8 bytes. The checksum is not checked here: see checksum_valid().
  [[nodiscard]] static Result<IcmpView> parse(Bytes message);

  IcmpType type() const { return IcmpType{message_[kTypeOffset]}; }
  std::uint8_t code() const { return message_[kCodeOffset]; }
  std::uint16_t checksum() const { return load_be16(message_.data() + kChecksumOffset); }
  // Bytes 4-7, whose meaning depends on the type.
  std::uint32_t rest_of_header() const { return load_be32(message_.data() + kRestOfHeaderOffset); }
  std::uint16_t identifier() const { return load_be16(message_.data() + kIdentifierOffset); }
  std::uint16_t sequence() const { return load_be16(message_.data() + kSequenceOffset); }
  std::uint16_t next_hop_mtu() const { return load_be16(message_.data() + kNextHopMtuOffset); }
  // True for the types whose data is a quote of the datagram that caused them (3, 11; also 5,
  // 12): the only ICMP a host must never answer with another error (RFC 1122 §3.2.2).
  bool is_error() const;
  bool checksum_valid() const;

  Bytes message() const { return message_; }
  Bytes header() const { return message_.first(kHeaderLength); }
  // Echo data, or the quoted original datagram of an error (see Ipv4View::parse_quoted).
  Bytes payload() const { return message_.subspan(kHeaderLength); }

 private:
  explicit IcmpView(Bytes message) : message_(message) {}

  Bytes message_;
};

// An echo request/reply, destination unreachable or time exceeded as values. `data` does not own
// its bytes: it points into the parsed buffer or at the caller's echo payload / quote, which must
// outlive the message.
struct IcmpMessage {
  static constexpr std::size_t kHeaderLength = IcmpView::kHeaderLength;

  IcmpType type = IcmpType::kEchoRequest;
  std::uint8_t code = 0;
  std::uint16_t identifier = 0;    // echo only
  std::uint16_t sequence = 0;      // echo only
  std::uint16_t next_hop_mtu = 0;  // unreachable code 4 only (RFC 1191); 0 from a pre-1191 router
  Bytes data;                      // echo data, or the quoted original datagram of an error

  // IcmpView::parse, then kBadChecksum if the checksum does not verify, then kUnsupported for a
  // type other than echo request/reply, destination unreachable and time exceeded. Bytes 4-7 of
  // an error that are "unused" for its type are ignored, as RFC 1812 §4.3.2 asks of receivers.
  [[nodiscard]] static Result<IcmpMessage> parse(Bytes message);
  [[nodiscard]] static Result<IcmpMessage> from_view(const IcmpView& view);

  static IcmpMessage echo_request(std::uint16_t identifier, std::uint16_t sequence, Bytes data);
  // RFC 792 "Echo or Echo Reply Message": the reply returns the request's id, sequence and data.
  static IcmpMessage echo_reply(std::uint16_t identifier, std::uint16_t sequence, Bytes data);
  // `quote` is the offending datagram as received, cut with icmp_error_quote().
  static IcmpMessage time_exceeded(IcmpTimeExceededCode code, Bytes quote);
  static IcmpMessage destination_unreachable(IcmpUnreachableCode code, Bytes quote,
                                             std::uint16_t next_hop_mtu = 0);

  std::size_t size() const { return kHeaderLength + data.size(); }
  // Writes size() bytes at the front of `out`, checksum computed over all of them.
  void emit(MutableBytes out) const;

  // Compares `data` by content, not by address.
  bool operator==(const IcmpMessage& other) const;
};

// RFC 792: an error quotes "the internet header plus the first 64 bits of the original datagram's
// data". RFC 1812 §4.3.2.3 asks routers for as much as fits in 576 bytes, which Linux does
// (icmp_send(): 576 - 20 - 8 = 548 bytes of quote, linux.md §2.4; seen on the wire here).
inline constexpr std::size_t kIcmpQuoteRfc792DataBytes = 8;
inline constexpr std::size_t kIcmpQuoteLinuxMaxBytes = 576 - 20 - 8;

// The start of `original_ip_datagram` that an ICMP error quotes, as received (TTL not yet
// decremented: linux.md §2.4, §2.5): min(total length, max_bytes) bytes, but never less than the
// whole IP header, and never the link padding after total length. For the RFC 792 minimum pass
// header_length + kIcmpQuoteRfc792DataBytes; to behave like Linux pass kIcmpQuoteLinuxMaxBytes.
// Input that is not a parseable IPv4 datagram is cut at max_bytes.
[[nodiscard]] Bytes icmp_error_quote(Bytes original_ip_datagram, std::size_t max_bytes);

}  // namespace calisim::wire
