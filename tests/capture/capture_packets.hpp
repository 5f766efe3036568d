#pragma once
// Frames for the capture tests, and the external tools that check what we wrote.
//
// Golden frames: captured with `tcpdump -i vca -w real.pcap -s 0` (tcpdump 4.99.3, libpcap
// 1.10.3, kernel 6.18) on a veth pair between two throw-away network namespaces, capa
// (vca, 10.96.0.1, 76:d5:99:7e:08:78) and capb (vcb, 10.96.0.2, 8a:ad:ff:13:d4:1c). Transmit
// checksum offload was turned off on both ends (ETHTOOL_STXCSUM via SIOCETHTOOL) so that the
// TCP and UDP checksums on the wire are complete; tshark verifies every one of them. Traffic: a
// Python raw-socket ICMP echo (id 0x1234, seq 1, 31-byte payload), a UDP datagram "calisim"
// 40000 -> 5000, and a TCP connect to port 8080. Dumped byte-for-byte from the pcap records.
//
// The IPIP and VXLAN frames are built by hand around the golden ones (RFC 2003, RFC 7348 §5).

#include <cstdint>
#include <string>
#include <vector>

#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>
#include <calisim/wire/checksum.hpp>

#include "test_util.hpp"

namespace calisim::capture::test {

using calisim::test::hex;
using Frame = std::vector<std::uint8_t>;

// ARP request: who-has 10.96.0.2 tell 10.96.0.1 (42 bytes, veth adds no padding).
inline Frame arp_request() {
  return hex(
      "ff ff ff ff ff ff 76 d5 99 7e 08 78 08 06 00 01"
      "08 00 06 04 00 01 76 d5 99 7e 08 78 0a 60 00 01"
      "00 00 00 00 00 00 0a 60 00 02");
}

// ARP reply: 10.96.0.2 is-at 8a:ad:ff:13:d4:1c.
inline Frame arp_reply() {
  return hex(
      "76 d5 99 7e 08 78 8a ad ff 13 d4 1c 08 06 00 01"
      "08 00 06 04 00 02 8a ad ff 13 d4 1c 0a 60 00 02"
      "76 d5 99 7e 08 78 0a 60 00 01");
}

// ICMP echo request 10.96.0.1 -> 10.96.0.2, id 0x1234 seq 1, "calisim-ping-0123456789abcdef!!".
inline Frame echo_request() {
  return hex(
      "8a ad ff 13 d4 1c 76 d5 99 7e 08 78 08 00 45 00"
      "00 3b 41 41 40 00 40 01 e4 be 0a 60 00 01 0a 60"
      "00 02 08 00 d1 47 12 34 00 01 63 61 6c 69 73 69"
      "6d 2d 70 69 6e 67 2d 30 31 32 33 34 35 36 37 38"
      "39 61 62 63 64 65 66 21 21");
}

// ICMP echo reply 10.96.0.2 -> 10.96.0.1.
inline Frame echo_reply() {
  return hex(
      "76 d5 99 7e 08 78 8a ad ff 13 d4 1c 08 00 45 00"
      "00 3b 5a 19 00 00 40 01 0b e7 0a 60 00 02 0a 60"
      "00 01 00 00 d9 47 12 34 00 01 63 61 6c 69 73 69"
      "6d 2d 70 69 6e 67 2d 30 31 32 33 34 35 36 37 38"
      "39 61 62 63 64 65 66 21 21");
}

// UDP 10.96.0.1:40000 -> 10.96.0.2:5000, payload "calisim".
inline Frame udp_datagram() {
  return hex(
      "8a ad ff 13 d4 1c 76 d5 99 7e 08 78 08 00 45 00"
      "00 23 bc 9e 40 00 40 11 69 69 0a 60 00 01 0a 60"
      "00 02 9c 40 13 88 00 0f 8b 10 63 61 6c 69 73 69"
      "6d");
}

// TCP SYN 10.96.0.1:52282 -> 10.96.0.2:8080 (mss 1460, sackOK, TS, wscale 10).
inline Frame tcp_syn() {
  return hex(
      "8a ad ff 13 d4 1c 76 d5 99 7e 08 78 08 00 45 00"
      "00 3c 6e a1 40 00 40 06 b7 58 0a 60 00 01 0a 60"
      "00 02 cc 3a 1f 90 7a ef 40 17 00 00 00 00 a0 02"
      "fa f0 8a 6a 00 00 02 04 05 b4 04 02 08 0a 92 37"
      "74 d6 00 00 00 00 01 03 03 0a");
}

// TCP SYN-ACK 10.96.0.2:8080 -> 10.96.0.1:52282.
inline Frame tcp_syn_ack() {
  return hex(
      "76 d5 99 7e 08 78 8a ad ff 13 d4 1c 08 00 45 00"
      "00 3c 00 00 40 00 40 06 25 fa 0a 60 00 02 0a 60"
      "00 01 1f 90 cc 3a 28 4f 38 54 7a ef 40 18 a0 12"
      "fe 88 20 fe 00 00 02 04 05 b4 04 02 08 0a aa 8b"
      "5a 94 92 37 74 d6 01 03 03 0a");
}

// TCP ACK completing the handshake.
inline Frame tcp_ack() {
  return hex(
      "8a ad ff 13 d4 1c 76 d5 99 7e 08 78 08 00 45 00"
      "00 34 6e a2 40 00 40 06 b7 5f 0a 60 00 01 0a 60"
      "00 02 cc 3a 1f 90 7a ef 40 18 28 4f 38 55 80 10"
      "00 3f 4e 17 00 00 01 01 08 0a 92 37 74 d6 aa 8b"
      "5a 94");
}

inline constexpr std::size_t kEthernetHeader = 14;

// The IP packet inside an Ethernet frame, as a raw-IP interface (tunl0) would carry it.
inline Frame strip_ethernet(const Frame& frame) {
  return Frame(frame.begin() + kEthernetHeader, frame.end());
}

// Node addresses for the outer headers (hand-built; never sent anywhere).
inline constexpr wire::Ipv4Address kNodeA{192, 168, 56, 10};
inline constexpr wire::Ipv4Address kNodeB{192, 168, 56, 11};
inline const Frame kNodeAMac = hex("52 54 00 00 00 0a");
inline const Frame kNodeBMac = hex("52 54 00 00 00 0b");

inline void put_be16(Frame& f, std::size_t at, std::uint16_t v) {
  wire::store_be16(&f[at], v);
}

// A 20-byte IPv4 header (no options, DF, TTL 64) with a correct header checksum.
inline Frame ipv4_header(wire::Ipv4Address src, wire::Ipv4Address dst, std::uint8_t protocol,
                         std::size_t payload_length, std::uint16_t id) {
  Frame h = hex("45 00 00 00 00 00 40 00 40 00 00 00 00 00 00 00 00 00 00 00");
  put_be16(h, 2, static_cast<std::uint16_t>(20 + payload_length));
  put_be16(h, 4, id);
  h[9] = protocol;
  wire::store_be32(&h[12], src.value());
  wire::store_be32(&h[16], dst.value());
  put_be16(h, 10, wire::internet_checksum(h));
  return h;
}

inline Frame concat(std::initializer_list<const Frame*> parts) {
  Frame out;
  for (const Frame* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

inline Frame ethernet(const Frame& dst, const Frame& src, std::uint16_t ethertype,
                      const Frame& payload) {
  Frame type(2);
  put_be16(type, 0, ethertype);
  return concat({&dst, &src, &type, &payload});
}

// IPIP (RFC 2003): node A -> node B, protocol 4, around the golden echo request's IP packet.
inline Frame ipip_raw() {
  const Frame inner = strip_ethernet(echo_request());
  const Frame outer = ipv4_header(kNodeA, kNodeB, 4, inner.size(), 0x0101);
  return concat({&outer, &inner});
}

inline Frame ipip_ethernet() {
  return ethernet(kNodeBMac, kNodeAMac, 0x0800, ipip_raw());
}

// VXLAN (RFC 7348 §5): node A -> node B, UDP 4789 with a correct checksum, VNI 4096, around the
// golden Ethernet echo request.
inline Frame vxlan_ethernet() {
  const Frame inner = echo_request();
  const Frame vxlan = hex("08 00 00 00 00 10 00 00");  // flags I, VNI 0x001000 = 4096
  Frame udp = hex("d4 31 12 b5 00 00 00 00");          // 54321 -> 4789, length, checksum 0
  const std::size_t udp_length = udp.size() + vxlan.size() + inner.size();
  put_be16(udp, 4, static_cast<std::uint16_t>(udp_length));
  Frame segment = concat({&udp, &vxlan, &inner});
  std::uint32_t sum =
      wire::pseudo_header_sum(kNodeA, kNodeB, 17, static_cast<std::uint16_t>(udp_length));
  sum = wire::checksum_accumulate(sum, segment);
  std::uint16_t checksum = wire::checksum_finish(sum);
  if (checksum == 0) checksum = 0xffff;  // RFC 768: 0 means "no checksum"
  put_be16(segment, 6, checksum);
  const Frame ip = ipv4_header(kNodeA, kNodeB, 17, segment.size(), 0x0202);
  return ethernet(kNodeBMac, kNodeAMac, 0x0800, concat({&ip, &segment}));
}

// ---- external tools ---------------------------------------------------------------------------

// tshark on a file; stderr ("Running as user root ...") is dropped, stdout returned.
inline calisim::test::CommandResult tshark(const std::string& path, const std::string& args) {
  return calisim::test::run_command("/usr/bin/tshark -r '" + path + "' " + args + " 2>/dev/null");
}

inline std::vector<std::string> non_empty_lines(const std::string& text) {
  std::vector<std::string> out;
  for (auto& line : calisim::test::lines(text)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The timestamps of the records in `tcpdump --nano -tt` output. A record's line starts with
// "seconds.nnnnnnnnn"; other lines continue a record (tcpdump prints VXLAN's inner packet on a
// line of its own, unindented).
inline std::vector<std::string> tcpdump_record_timestamps(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : non_empty_lines(text)) {
    const std::string token = line.substr(0, line.find(' '));
    const auto dot = token.find('.');
    if (dot == std::string::npos || dot == 0 || token.size() - dot - 1 != 9) continue;
    if (token.find_first_not_of("0123456789.") != std::string::npos) continue;
    out.push_back(token);
  }
  return out;
}

// "seconds.nanoseconds" with nine fraction digits, as `tcpdump --nano -tt` and tshark's
// frame.time_epoch print it.
inline std::string epoch_text(std::int64_t ns) {
  std::string frac = std::to_string(ns % 1'000'000'000);
  return std::to_string(ns / 1'000'000'000) + "." + std::string(9 - frac.size(), '0') + frac;
}

}  // namespace calisim::capture::test
