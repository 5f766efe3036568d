#pragma once
// ARP (RFC 826) for Ethernet and IPv4 only: the one combination a Calico node uses. The packet
// is 28 bytes; from a physical NIC it arrives padded to 46 bytes of payload (the IEEE 802.3 minimum
// frame; veth does not pad), so parse ignores bytes after the 28th.

#include <cstddef>
#include <cstdint>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

// ar$op (RFC 826). Other values (RARP 3/4, RFC 903; InARP 8/9, RFC 2390) are not modelled.
enum class ArpOperation : std::uint16_t {
  kRequest = 1,
  kReply = 2,
};

// Read-only view of an Ethernet/IPv4 ARP packet. parse() checks the length and the four format
// fields once; the accessors then cannot read past the buffer.
class ArpView {
 public:
  static constexpr std::size_t kHardwareTypeOffset = 0;    // ar$hrd
  static constexpr std::size_t kProtocolTypeOffset = 2;    // ar$pro
  static constexpr std::size_t kHardwareLengthOffset = 4;  // ar$hln
  static constexpr std::size_t kProtocolLengthOffset = 5;  // ar$pln
  static constexpr std::size_t kOperationOffset = 6;       // ar$op
  static constexpr std::size_t kSenderMacOffset = 8;       // ar$sha
  static constexpr std::size_t kSenderIpOffset = 14;       // ar$spa
  static constexpr std::size_t kTargetMacOffset = 18;      // ar$tha
  static constexpr std::size_t kTargetIpOffset = 24;       // ar$tpa
  static constexpr std::size_t kFixedLength = 8;           // up to and including ar$op
  static constexpr std::size_t kLength = 28;               // for hln 6, pln 4

  static constexpr std::uint16_t kHardwareTypeEthernet = 1;   // IANA ARP hardware type 1
  static constexpr std::uint16_t kProtocolTypeIpv4 = 0x0800;  // the EtherType of IPv4
  static constexpr std::uint8_t kHardwareLengthEthernet = 6;
  static constexpr std::uint8_t kProtocolLengthIpv4 = 4;

  // Errors: kTruncated when fewer than 28 bytes (or than the 8 fixed bytes) are present;
  // kUnsupported for a hardware type other than Ethernet or a protocol type other than IPv4;
  // kMalformed when Ethernet/IPv4 claims address lengths other than 6 and 4.
  // Any operation value is accepted here; ArpPacket::parse narrows it.
  [[nodiscard]] static Result<ArpView> parse(Bytes bytes);

  std::uint16_t hardware_type() const { return load_be16(packet_.data() + kHardwareTypeOffset); }
  std::uint16_t protocol_type() const { return load_be16(packet_.data() + kProtocolTypeOffset); }
  std::uint16_t operation() const { return load_be16(packet_.data() + kOperationOffset); }
  MacAddress sender_mac() const { return load_mac(kSenderMacOffset); }
  Ipv4Address sender_ip() const { return Ipv4Address(load_be32(packet_.data() + kSenderIpOffset)); }
  MacAddress target_mac() const { return load_mac(kTargetMacOffset); }
  Ipv4Address target_ip() const { return Ipv4Address(load_be32(packet_.data() + kTargetIpOffset)); }

  // The 28 ARP bytes, without any link padding that followed them.
  Bytes packet() const { return packet_; }

 private:
  explicit ArpView(Bytes packet) : packet_(packet) {}
  MacAddress load_mac(std::size_t offset) const;

  Bytes packet_;
};

// An Ethernet/IPv4 ARP request or reply as values. Field names follow what `ip neigh` and
// tcpdump say; RFC 826 calls them ar$sha, ar$spa, ar$tha, ar$tpa.
struct ArpPacket {
  static constexpr std::size_t kLength = ArpView::kLength;

  ArpOperation operation = ArpOperation::kRequest;
  MacAddress sender_mac;
  Ipv4Address sender_ip;
  MacAddress target_mac;  // all zero in a Linux request (arp_solicit); arping sends broadcast
  Ipv4Address target_ip;

  // As ArpView::parse, plus kUnsupported for an operation other than request or reply.
  [[nodiscard]] static Result<ArpPacket> parse(Bytes bytes);
  [[nodiscard]] static Result<ArpPacket> from_view(const ArpView& view);

  // "who-has target_ip tell sender_ip", with a zero target MAC as the Linux kernel sends it.
  static ArpPacket request(MacAddress sender_mac, Ipv4Address sender_ip, Ipv4Address target_ip);
  // The answer to `request`: "request.target_ip is-at my_mac", sent to the requester.
  static ArpPacket reply_to(const ArpPacket& request, MacAddress my_mac);

  static constexpr std::size_t size() { return kLength; }
  // Writes the 28 ARP bytes at the front of `out` (out.size() >= 28). Padding is the link's job.
  void emit(MutableBytes out) const;

  bool operator==(const ArpPacket&) const = default;
};

}  // namespace calisim::wire
