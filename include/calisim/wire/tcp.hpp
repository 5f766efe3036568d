#pragma once
// The TCP header (RFC 9293 §3.1), its options (RFC 9293 §3.2, RFC 7323, RFC 2018) and its
// checksum over the IPv4 pseudo-header.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

// IANA protocol number of TCP, as the IPv4 pseudo-header carries it.
inline constexpr std::uint8_t kTcpProtocolNumber = 6;

// The control bits of byte 13 (RFC 9293 §3.1; ECE and CWR from RFC 3168 §6.1).
enum class TcpFlag : std::uint8_t {
  kFin = 0x01,
  kSyn = 0x02,
  kRst = 0x04,
  kPsh = 0x08,
  kAck = 0x10,
  kUrg = 0x20,
  kEce = 0x40,
  kCwr = 0x80,
};

// A set of TcpFlag: `TcpFlag::kSyn | TcpFlag::kAck`.
class TcpFlags {
 public:
  constexpr TcpFlags() = default;
  constexpr explicit TcpFlags(std::uint8_t bits) : bits_(bits) {}
  // Implicit: a single flag is a set.
  constexpr TcpFlags(TcpFlag flag) : bits_(static_cast<std::uint8_t>(flag)) {}  // NOLINT

  constexpr std::uint8_t bits() const { return bits_; }
  constexpr bool has(TcpFlag flag) const { return (bits_ & static_cast<std::uint8_t>(flag)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr TcpFlags operator|(TcpFlags other) const {
    return TcpFlags(static_cast<std::uint8_t>(bits_ | other.bits_));
  }
  constexpr bool operator==(const TcpFlags&) const = default;

  // As tcpdump prints them: one letter per flag in the order F S R P . U E W ("." is ACK), so a
  // SYN-ACK is "S." and a bare ACK "."; "none" for no flags.
  std::string to_string() const;

 private:
  std::uint8_t bits_ = 0;
};

constexpr TcpFlags operator|(TcpFlag a, TcpFlag b) { return TcpFlags(a) | TcpFlags(b); }

// Read-only view of a TCP segment. parse() checks the lengths once; the accessors then cannot
// read past the buffer. Options are not interpreted here (TcpOptions::parse does that), and the
// checksum needs the IPv4 addresses: ask checksum_valid(), or use TcpHeader::parse.
class TcpView {
 public:
  static constexpr std::size_t kSourcePortOffset = 0;
  static constexpr std::size_t kDestinationPortOffset = 2;
  static constexpr std::size_t kSequenceNumberOffset = 4;
  static constexpr std::size_t kAcknowledgmentNumberOffset = 8;
  static constexpr std::size_t kDataOffsetOffset = 12;  // high 4 bits; low 4 bits reserved
  static constexpr std::size_t kFlagsOffset = 13;
  static constexpr std::size_t kWindowOffset = 14;
  static constexpr std::size_t kChecksumOffset = 16;
  static constexpr std::size_t kUrgentPointerOffset = 18;
  static constexpr std::size_t kOptionsOffset = 20;

  static constexpr std::size_t kMinHeaderLength = 20;  // data offset 5
  static constexpr std::size_t kMaxHeaderLength = 60;  // data offset 15

  // `bytes` is the IPv4 payload: TCP has no length field, so the whole span is the segment.
  // Checks, in order: at least 20 bytes (kTruncated), data offset >= 5 (kMalformed), data
  // offset * 4 bytes present (kTruncated), at most 65535 bytes (kMalformed: the pseudo-header
  // length could not carry more).
  [[nodiscard]] static Result<TcpView> parse(Bytes bytes);

  std::uint16_t source_port() const { return load_be16(bytes_.data() + kSourcePortOffset); }
  std::uint16_t destination_port() const {
    return load_be16(bytes_.data() + kDestinationPortOffset);
  }
  std::uint32_t sequence_number() const {
    return load_be32(bytes_.data() + kSequenceNumberOffset);
  }
  std::uint32_t acknowledgment_number() const {
    return load_be32(bytes_.data() + kAcknowledgmentNumberOffset);
  }
  // In 32-bit words, 5..15.
  std::uint8_t data_offset() const { return bytes_[kDataOffsetOffset] >> 4; }
  std::size_t header_length() const { return std::size_t{data_offset()} * 4; }
  // The 4 bits between data offset and CWR: "must be zero" (RFC 9293 §3.1); kept as received.
  std::uint8_t reserved() const { return bytes_[kDataOffsetOffset] & 0x0f; }
  TcpFlags flags() const { return TcpFlags(bytes_[kFlagsOffset]); }
  bool has(TcpFlag flag) const { return flags().has(flag); }
  std::uint16_t window() const { return load_be16(bytes_.data() + kWindowOffset); }
  std::uint16_t checksum() const { return load_be16(bytes_.data() + kChecksumOffset); }
  std::uint16_t urgent_pointer() const { return load_be16(bytes_.data() + kUrgentPointerOffset); }
  // The ones' complement sum over the pseudo-header, header and data, checksum included, is
  // 0xffff (RFC 9293 §3.1, RFC 1071 §1). Unlike UDP, 0 is an ordinary checksum value.
  bool checksum_valid(Ipv4Address source, Ipv4Address destination) const;

  Bytes header() const { return bytes_.first(header_length()); }
  Bytes options() const { return header().subspan(kOptionsOffset); }
  Bytes payload() const { return bytes_.subspan(header_length()); }
  Bytes segment() const { return bytes_; }

 private:
  explicit TcpView(Bytes bytes) : bytes_(bytes) {}

  Bytes bytes_;
};

// TCP option kinds calisim understands (IANA "TCP Option Kind Numbers"). Others are skipped by
// their length on parse and never emitted.
enum class TcpOptionKind : std::uint8_t {
  kEndOfList = 0,       // RFC 9293 §3.2, no length byte
  kNoOperation = 1,     // RFC 9293 §3.2, no length byte
  kMss = 2,             // RFC 9293 §3.2, length 4
  kWindowScale = 3,     // RFC 7323 §2.2, length 3
  kSackPermitted = 4,   // RFC 2018 §2, length 2
  kSack = 5,            // RFC 2018 §3, length 2 + 8n
  kTimestamps = 8,      // RFC 7323 §3.2, length 10
};

struct TcpTimestamps {
  std::uint32_t value = 0;  // TSval
  std::uint32_t echo_reply = 0;  // TSecr
  bool operator==(const TcpTimestamps&) const = default;
};

// One SACK block (RFC 2018 §3): the sequence numbers of its first byte and of the byte after it.
struct TcpSackBlock {
  std::uint32_t left_edge = 0;
  std::uint32_t right_edge = 0;
  bool operator==(const TcpSackBlock&) const = default;
};

// The options of one segment, as values.
struct TcpOptions {
  // A SACK option of 40 bytes, the most the header has room for, holds 4 blocks.
  static constexpr std::size_t kMaxSackBlocks = 4;

  // Explicit initialisers keep g++ 12's -Wmissing-field-initializers quiet for designated
  // initialisers that name only some of the options.
  std::optional<std::uint16_t> mss = std::nullopt;
  // The shift count as received; RFC 7323 §2.3 caps its use at 14, which is the endpoint's job.
  std::optional<std::uint8_t> window_scale = std::nullopt;
  bool sack_permitted = false;
  std::optional<TcpTimestamps> timestamps = std::nullopt;
  std::array<TcpSackBlock, kMaxSackBlocks> sack_blocks{};
  std::uint8_t sack_block_count = 0;

  // Walks the option bytes of a header (the bytes after offset 20). EOL ends the list (what
  // follows is padding); NOP is skipped; unknown kinds are skipped by their length. kMalformed,
  // with the option's offset in the header, when an option has no length byte, a length below
  // 2, a length running past the header, or a known kind with the wrong length (MSS 4, window
  // scale 3, SACK-permitted 2, SACK 2 + 8n with n >= 1, timestamps 10); Linux
  // tcp_parse_options is laxer there and ignores such an option. A kind that appears twice
  // keeps its last value, as in Linux.
  [[nodiscard]] static Result<TcpOptions> parse(Bytes options);

  // Bytes emit writes: always a multiple of 4 (see emit).
  std::size_t length() const;

  // Writes length() bytes at the front of `out` in Linux's order and layout (tcp_options_write in
  // net/ipv4/tcp_output.c), so that a Linux-like endpoint emits what Linux puts on the wire:
  //   MSS                    02 04 mss
  //   timestamps             04 02 08 0a TSval TSecr  (with SACK-permitted folded in)
  //                          01 01 08 0a TSval TSecr  (without)
  //   SACK-permitted alone   01 01 04 02              (when there are no timestamps)
  //   window scale           01 03 03 shift
  //   SACK blocks            01 01 05 len blocks...
  // A Linux SYN is thus "mss, sackOK, TS, nop, wscale" and a data segment "nop, nop, TS".
  // Aborts if `out` is too small or the options exceed the 40 bytes a header can hold.
  void emit(MutableBytes out) const;

  bool operator==(const TcpOptions&) const = default;
};

// A TCP header as values. The data offset and checksum are not fields: emit derives the one from
// the options and computes the other; parse verifies it.
struct TcpHeader {
  static constexpr std::size_t kMinLength = TcpView::kMinHeaderLength;
  static constexpr std::size_t kMaxOptionsLength = TcpView::kMaxHeaderLength - kMinLength;

  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t sequence_number = 0;
  std::uint32_t acknowledgment_number = 0;
  std::uint8_t reserved = 0;  // 4 bits, "must be zero"; kept so that emit reproduces what came in
  TcpFlags flags = {};
  std::uint16_t window = 0;  // as on the wire, before any window scaling
  std::uint16_t urgent_pointer = 0;
  TcpOptions options = {};

  // TcpView::parse, then the options (TcpOptions::parse), then kBadChecksum if the checksum does
  // not verify against the IPv4 pseudo-header of `source` and `destination`.
  [[nodiscard]] static Result<TcpHeader> parse(Bytes bytes, Ipv4Address source,
                                               Ipv4Address destination);
  // The fields of a view, whatever its checksum; fails only if its options are malformed.
  [[nodiscard]] static Result<TcpHeader> from_view(const TcpView& view);

  bool has(TcpFlag flag) const { return flags.has(flag); }
  std::size_t header_length() const { return kMinLength + options.length(); }

  // `segment` is the whole segment: header_length() header bytes (overwritten) followed by the
  // payload, already in place. Writes the header with options (TcpOptions::emit), the data offset
  // and the checksum over the pseudo-header, header and payload. Aborts if the segment is shorter
  // than header_length() or longer than 65535 bytes, or if `reserved` has more than 4 bits.
  void emit(MutableBytes segment, Ipv4Address source, Ipv4Address destination) const;

  bool operator==(const TcpHeader&) const = default;
};

}  // namespace calisim::wire
