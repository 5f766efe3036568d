#pragma once
// Ethernet II (DIX) framing: destination MAC, source MAC, EtherType, payload. No FCS: calisim
// moves frames the way Linux hands them to a packet socket or tcpdump (LINKTYPE_ETHERNET, the
// FCS already stripped). 802.1Q tags are not decoded (kVlan is only recognised).

#include <cstddef>
#include <cstdint>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

// Values of the type field (IEEE 802 numbers, RFC 9542 appendix B). A field below 0x0600 is an
// IEEE 802.3 length, not an EtherType; other values are legal and carried as they are.
enum class EtherType : std::uint16_t {
  kIpv4 = 0x0800,
  kArp = 0x0806,
  kVlan = 0x8100,  // IEEE 802.1Q tag: recognised, not decoded
  kIpv6 = 0x86dd,
};

// Read-only view of one Ethernet II frame. parse() checks the length once; the accessors then
// cannot read past the buffer.
class EthernetView {
 public:
  static constexpr std::size_t kDestinationOffset = 0;
  static constexpr std::size_t kSourceOffset = 6;
  static constexpr std::size_t kEtherTypeOffset = 12;
  static constexpr std::size_t kHeaderLength = 14;
  // IEEE 802.3 §3.2.7 (pad field): a frame is at least 64 bytes with its 4-byte FCS, so a NIC
  // pads shorter frames (ARP's 42 bytes) to 60 bytes before the FCS. veth does not pad.
  static constexpr std::size_t kMinFrameLengthWithoutFcs = 60;
  // The first type value that is an EtherType rather than an 802.3 length (IEEE 802.3 §3.2.6).
  static constexpr std::uint16_t kMinEtherType = 0x0600;

  // Errors: kTruncated below 14 bytes; kUnsupported for an 802.3 length field (LLC/SNAP frames).
  [[nodiscard]] static Result<EthernetView> parse(Bytes frame);

  MacAddress destination() const { return load_mac(kDestinationOffset); }
  MacAddress source() const { return load_mac(kSourceOffset); }
  EtherType ethertype() const { return EtherType{load_be16(frame_.data() + kEtherTypeOffset)}; }

  Bytes frame() const { return frame_; }
  Bytes header() const { return frame_.first(kHeaderLength); }
  // Everything after the header, including any padding up to the 60-byte minimum: only the
  // upper layer knows its own length (IPv4 total length, ARP's fixed 28 bytes).
  Bytes payload() const { return frame_.subspan(kHeaderLength); }

 private:
  explicit EthernetView(Bytes frame) : frame_(frame) {}
  MacAddress load_mac(std::size_t offset) const;

  Bytes frame_;
};

// The 14-byte Ethernet II header as values.
struct EthernetHeader {
  static constexpr std::size_t kLength = EthernetView::kHeaderLength;

  MacAddress destination;
  MacAddress source;
  EtherType ethertype = EtherType::kIpv4;

  [[nodiscard]] static Result<EthernetHeader> parse(Bytes frame);
  static EthernetHeader from_view(const EthernetView& view);

  static constexpr std::size_t header_length() { return kLength; }
  // Writes the 14 header bytes at the front of `out` (out.size() >= 14).
  void emit(MutableBytes out) const;

  bool operator==(const EthernetHeader&) const = default;
};

}  // namespace calisim::wire
