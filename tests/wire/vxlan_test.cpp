#include <calisim/wire/vxlan.hpp>

#include <cstdint>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include <calisim/wire/udp.hpp>

#include "test_util.hpp"

namespace calisim::wire {
namespace {

using test::hex;

// Golden packets captured from Linux 6.18 in a netns, 2026-11-26: two throw-away namespaces
// joined by a veth pair (10.98.0.1 <-> 10.98.0.2, TX checksum offload off so the outer UDP
// checksum on the wire is complete), each with
//   ip link add vx0 type vxlan id 4096 dstport 4789 remote <peer> local <self> dev <veth>
// and 10.97.0.1/24, 10.97.0.2/24 on the vx0 devices; `ping -c2 10.97.0.2` from the first,
// tcpdump on the second's veth. Default vxlan settings: srcport 0 0, udpcsum, ttl auto, no DF.
// Each array is the whole outer IPv4 packet (outer Ethernet header dropped); tcpdump -vv said
// "udp sum ok" for all four.
struct Capture {
  const char* what;
  std::vector<std::uint8_t> ip;
  std::uint16_t source_port;  // the kernel's udp_flow_src_port choice
};

const Capture kCaptures[] = {
    {"ARP request 10.97.0.1 -> broadcast",
     hex("45 00 00 4e 3a 1c 00 00 40 11 2b bd 0a 62 00 01"
         "0a 62 00 02 a7 e5 12 b5 00 3a 62 24 08 00 00 00"
         "00 10 00 00 ff ff ff ff ff ff 3a e7 f3 b0 9e f1"
         "08 06 00 01 08 00 06 04 00 01 3a e7 f3 b0 9e f1"
         "0a 61 00 01 00 00 00 00 00 00 0a 61 00 02"),
     42981},
    {"ARP reply 10.97.0.2 -> 10.97.0.1",
     hex("45 00 00 4e 6e ea 00 00 40 11 f6 ee 0a 62 00 02"
         "0a 62 00 01 a7 e5 12 b5 00 3a ec ed 08 00 00 00"
         "00 10 00 00 3a e7 f3 b0 9e f1 d6 3a c6 4f 1e 10"
         "08 06 00 01 08 00 06 04 00 02 d6 3a c6 4f 1e 10"
         "0a 61 00 02 3a e7 f3 b0 9e f1 0a 61 00 01"),
     42981},
    {"ICMP echo request 10.97.0.1 -> 10.97.0.2",
     hex("45 00 00 86 3a 1d 00 00 40 11 2b 84 0a 62 00 01"
         "0a 62 00 02 ec 45 12 b5 00 72 53 14 08 00 00 00"
         "00 10 00 00 d6 3a c6 4f 1e 10 3a e7 f3 b0 9e f1"
         "08 00 45 00 00 54 7e 75 40 00 40 01 a7 6f 0a 61"
         "00 01 0a 61 00 02 08 00 0d cc 17 56 00 01 1a d6"
         "07 6b 00 00 00 00 ee c8 03 00 00 00 00 00 10 11"
         "12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21"
         "22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31"
         "32 33 34 35 36 37"),
     60485},
    {"ICMP echo reply 10.97.0.2 -> 10.97.0.1",
     hex("45 00 00 86 6e eb 00 00 40 11 f6 b5 0a 62 00 02"
         "0a 62 00 01 ec 45 12 b5 00 72 53 14 08 00 00 00"
         "00 10 00 00 3a e7 f3 b0 9e f1 d6 3a c6 4f 1e 10"
         "08 00 45 00 00 54 b5 6b 00 00 40 01 b0 79 0a 61"
         "00 02 0a 61 00 01 00 00 15 cc 17 56 00 01 1a d6"
         "07 6b 00 00 00 00 ee c8 03 00 00 00 00 00 10 11"
         "12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21"
         "22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31"
         "32 33 34 35 36 37"),
     60485},
};

const Capture& kEchoRequest = kCaptures[2];

struct Outer {
  Ipv4Address source;
  Ipv4Address destination;
  std::vector<std::uint8_t> udp;  // outer UDP datagram: UDP header, VXLAN header, inner frame
};

// The outer UDP datagram of a golden packet (no IP options: IHL 5, so 20 bytes).
Outer outer_of(const Capture& c) {
  EXPECT_EQ(c.ip.at(0), 0x45);
  EXPECT_EQ(c.ip.at(9), kUdpProtocolNumber);
  return {Ipv4Address(load_be32(c.ip.data() + 12)), Ipv4Address(load_be32(c.ip.data() + 16)),
          {c.ip.begin() + 20, c.ip.end()}};
}

TEST(VxlanView, ParsesGoldenEchoRequest) {
  const auto o = outer_of(kEchoRequest);
  EXPECT_EQ(o.source, Ipv4Address(10, 98, 0, 1));
  auto udp = UdpView::parse(o.udp);
  ASSERT_TRUE(udp) << udp.error().message;
  EXPECT_EQ(udp->source_port(), 60485);
  EXPECT_EQ(udp->destination_port(), kVxlanPort);
  EXPECT_EQ(udp->length(), 114);
  EXPECT_EQ(udp->checksum(), 0x5314);
  // Linux sends a real outer checksum by default (udpcsum); it covers the inner frame.
  EXPECT_TRUE(udp->checksum_valid(o.source, o.destination));

  auto v = VxlanView::parse(udp->payload());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->flags(), 0x08);
  EXPECT_EQ(v->vni(), kCalicoVni);
  EXPECT_EQ(v->header().size(), 8u);
  // The inner Ethernet frame: d6:3a:c6:4f:1e:10 <- 3a:e7:f3:b0:9e:f1, IPv4, 84-byte ping.
  const Bytes inner = v->payload();
  ASSERT_EQ(inner.size(), 14u + 84u);
  EXPECT_EQ(inner[0], 0xd6);
  EXPECT_EQ(inner[6], 0x3a);
  EXPECT_EQ(load_be16(inner.data() + 12), 0x0800);
  EXPECT_EQ(inner[14], 0x45);
  EXPECT_EQ(inner[14 + 9], 1);  // ICMP

  auto h = VxlanHeader::parse(udp->payload());
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->vni, 4096u);
  EXPECT_EQ(h->header_length(), 8u);
}

TEST(VxlanHeader, EncapsulationReproducesEveryCapture) {
  // Inner frame first, then the VXLAN header, then the UDP header and its checksum, as an
  // encapsulating device does: the result must be the kernel's bytes, checksum included.
  for (const auto& c : kCaptures) {
    const auto o = outer_of(c);
    auto udp = UdpHeader::parse(o.udp, o.source, o.destination);
    ASSERT_TRUE(udp) << c.what << ": " << udp.error().message;
    EXPECT_EQ(*udp, (UdpHeader{.source_port = c.source_port, .destination_port = kVxlanPort}))
        << c.what;
    auto vx = VxlanHeader::parse(Bytes(o.udp).subspan(UdpHeader::kLength));
    ASSERT_TRUE(vx) << c.what << ": " << vx.error().message;
    EXPECT_EQ(vx->vni, kCalicoVni) << c.what;

    std::vector<std::uint8_t> built(o.udp.size(), 0xa5);
    constexpr std::size_t kInner = UdpHeader::kLength + VxlanHeader::kLength;
    std::copy(o.udp.begin() + kInner, o.udp.end(), built.begin() + kInner);
    VxlanHeader{.vni = kCalicoVni}.emit(MutableBytes(built).subspan(UdpHeader::kLength));
    UdpHeader{.source_port = c.source_port, .destination_port = kVxlanPort}.emit(
        built, o.source, o.destination);
    EXPECT_EQ(built, o.udp) << c.what;
  }
}

TEST(VxlanHeader, ZeroOuterChecksumIsAccepted) {
  // RFC 7348 §5: the UDP checksum "SHOULD be transmitted as zero" and "MUST be accepted".
  auto o = outer_of(kEchoRequest);
  store_be16(o.udp.data() + UdpView::kChecksumOffset, 0);
  auto udp = UdpHeader::parse(o.udp, o.source, o.destination);
  ASSERT_TRUE(udp) << udp.error().message;
  // And a corrupted inner frame under a real checksum is caught.
  auto bad = outer_of(kEchoRequest);
  bad.udp.back() ^= 0x01;
  auto b = UdpHeader::parse(bad.udp, bad.source, bad.destination);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::kBadChecksum);
}

TEST(VxlanView, EveryTruncatedHeaderIsAnError) {
  const auto o = outer_of(kEchoRequest);
  const Bytes vxlan = Bytes(o.udp).subspan(UdpHeader::kLength);
  for (std::size_t n = 0; n < VxlanView::kHeaderLength; ++n) {
    auto v = VxlanView::parse(vxlan.first(n));
    ASSERT_FALSE(v) << "prefix of " << n << " bytes";
    EXPECT_EQ(v.error().code, Errc::kTruncated);
  }
  // The header alone, with no inner frame, is a valid (empty) payload for this layer.
  auto v = VxlanView::parse(vxlan.first(VxlanView::kHeaderLength));
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->payload().empty());
  // A truncated outer datagram is caught by UDP's length field.
  for (std::size_t n = 0; n < o.udp.size(); ++n) {
    auto u = UdpView::parse(Bytes(o.udp).first(n));
    ASSERT_FALSE(u) << "prefix of " << n << " bytes";
  }
}

TEST(VxlanView, IFlagClearIsMalformed) {
  auto h = hex("00 00 00 00 00 10 00 00");
  auto v = VxlanView::parse(h);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kMalformed);
  EXPECT_NE(v.error().message.find("vxlan: I flag clear"), std::string::npos)
      << v.error().message;
  h[0] = 0xf7;  // every flag but I
  v = VxlanView::parse(h);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kMalformed);
}

TEST(VxlanView, ReservedBitsAreIgnoredOnReceiptAndZeroOnEmit) {
  const auto received = hex("ff ff ff ff 12 34 56 ff");
  auto h = VxlanHeader::parse(received);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->vni, 0x123456u);
  auto v = VxlanView::parse(received);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->flags(), 0xff);
  std::vector<std::uint8_t> out(8, 0xff);
  h->emit(out);
  EXPECT_EQ(out, hex("08 00 00 00 12 34 56 00"));
}

TEST(VxlanHeader, EmitsLargestVni) {
  std::vector<std::uint8_t> out(8);
  VxlanHeader{.vni = kMaxVni}.emit(out);
  EXPECT_EQ(out, hex("08 00 00 00 ff ff ff 00"));
  VxlanHeader{.vni = kCalicoVni}.emit(out);
  EXPECT_EQ(out, hex("08 00 00 00 00 10 00 00"));
}

TEST(VxlanHeaderDeathTest, VniWiderThan24BitsAborts) {
  std::vector<std::uint8_t> out(8);
  EXPECT_DEATH(VxlanHeader{.vni = kMaxVni + 1}.emit(out), "VNI wider than 24 bits");
}

// udp_flow_src_port's arithmetic, worked by hand with min 32768, max 60999 (max - min = 28231):
//   hash' = hash ^ (hash << 16) (32 bits), port = (hash' * 28231 >> 32) + 32768.
TEST(VxlanSourcePort, MatchesLinuxArithmetic) {
  EXPECT_EQ(vxlan_source_port(0), 32768);
  // 0x80000000 << 16 overflows to 0: hash' = 2^31, port = 28231 / 2 + 32768 = 14115 + 32768.
  EXPECT_EQ(vxlan_source_port(0x80000000u), 46883);
  // The low half reaches the port only through the xor: 0x8000 << 16 = 2^31 again.
  EXPECT_EQ(vxlan_source_port(0x00008000u), 46883);
  // 0x00010000 << 16 overflows to 0: hash' = 65536, 65536 * 28231 >> 32 = 0.
  EXPECT_EQ(vxlan_source_port(0x00010000u), 32768);
  // 0xffffffff ^ 0xffff0000 = 0x0000ffff: too small to move the port.
  EXPECT_EQ(vxlan_source_port(0xffffffffu), 32768);
  // The largest hash' is 0xffff0000 (from 0xffff0000: its shift is 0): 28231 - 28231/65536,
  // floored, is 28230, so the top of the range is 60998 and 60999 is never picked.
  EXPECT_EQ(vxlan_source_port(0xffff0000u), 60998);
}

TEST(VxlanSourcePort, OtherRangesAndTheFallback) {
  // RFC 7348's recommended 49152-65535 (srcport 49152 65535): max - min = 16383.
  EXPECT_EQ(vxlan_source_port(0, 49152, 65535), 49152);
  EXPECT_EQ(vxlan_source_port(0xffff0000u, 49152, 65535), 65534);
  // min >= max: the kernel uses ip_local_port_range instead.
  for (std::uint32_t h : {0x0u, 0x12345678u, 0xffff0000u, 0x80000000u}) {
    EXPECT_EQ(vxlan_source_port(h, 5000, 5000), vxlan_source_port(h)) << h;
    EXPECT_EQ(vxlan_source_port(h, 6000, 5000), vxlan_source_port(h)) << h;
  }
}

TEST(VxlanSourcePort, CapturedPortsLieInTheDefaultRange) {
  for (const auto& c : kCaptures) {
    EXPECT_GE(c.source_port, kVxlanSourcePortMin) << c.what;
    EXPECT_LT(c.source_port, kVxlanSourcePortMax) << c.what;
  }
}

TEST(VxlanFlowHash, IsSymmetricAndDeterministic) {
  const Ipv4Address a(10, 97, 0, 1);
  const Ipv4Address b(10, 97, 0, 2);
  // Pinned values (computed independently in Python from the documented definition): a change
  // would move every simulated flow's VXLAN source port.
  EXPECT_EQ(flow_hash(a, b, 1, 0, 0), 0x914dfca7u);
  EXPECT_EQ(vxlan_source_port(flow_hash(a, b, 1, 0, 0)), 44889);
  EXPECT_EQ(flow_hash(Ipv4Address(10, 98, 0, 1), Ipv4Address(10, 98, 0, 2), 6, 41000, 179),
            0x05a4a40fu);
  // Both directions of a flow hash alike (the kernel observed: 60485 both ways).
  EXPECT_EQ(flow_hash(b, a, 1, 0, 0), flow_hash(a, b, 1, 0, 0));
  EXPECT_EQ(flow_hash(b, a, 6, 179, 41000), flow_hash(a, b, 6, 41000, 179));
  // Each field matters.
  const std::uint32_t base = flow_hash(a, b, 6, 41000, 179);
  EXPECT_NE(flow_hash(a, b, 17, 41000, 179), base);
  EXPECT_NE(flow_hash(a, b, 6, 41001, 179), base);
  EXPECT_NE(flow_hash(a, b, 6, 41000, 180), base);
  EXPECT_NE(flow_hash(a, Ipv4Address(10, 97, 0, 3), 6, 41000, 179), base);
  // Swapping only the ports is a different flow.
  EXPECT_NE(flow_hash(a, b, 6, 179, 41000), base);
}

TEST(VxlanFlowHash, SpreadsFlowsOverTheSourcePortRange) {
  std::set<std::uint16_t> ports;
  for (std::uint16_t sport = 40000; sport < 41000; ++sport) {
    const std::uint16_t port = vxlan_source_port(
        flow_hash(Ipv4Address(10, 97, 0, 1), Ipv4Address(10, 97, 0, 2), 6, sport, 179));
    EXPECT_GE(port, kVxlanSourcePortMin);
    EXPECT_LT(port, kVxlanSourcePortMax);
    ports.insert(port);
  }
  // 1000 flows over 28231 ports: a good hash collides on ~18; a bad one on hundreds.
  EXPECT_GT(ports.size(), 950u);
}

}  // namespace
}  // namespace calisim::wire
