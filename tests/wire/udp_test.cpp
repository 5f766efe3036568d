#include <calisim/wire/udp.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace calisim::wire {
namespace {

using test::hex;

// Golden datagrams captured from Linux 6.18 in a netns, 2026-11-26: a veth pair between two
// throw-away namespaces (10.98.0.1 <-> 10.98.0.2, TX checksum offload turned off so the checksums
// on the wire are complete), tcpdump on the receiving veth, python3 UDP sockets. Each array is
// the whole IPv4 packet (Ethernet header dropped); tcpdump -vv said "udp sum ok" for the first
// two and "no cksum" for the third.

// 10.98.0.1:40000 -> 10.98.0.2:5555, "hello calisim\n".
const std::vector<std::uint8_t> kHello = hex(
    "45 00 00 2a 31 66 40 00 40 11 f4 96 0a 62 00 01"
    "0a 62 00 02 9c 40 15 b3 00 16 44 d7 68 65 6c 6c"
    "6f 20 63 61 6c 69 73 69 6d 0a");

// 10.98.0.1:40001 -> 10.98.0.2:5555, payload "ok" + 2 bytes chosen so that the checksum computes
// to 0: the kernel sends it as 0xffff (RFC 768).
const std::vector<std::uint8_t> kComputedZero = hex(
    "45 00 00 20 4f 32 40 00 40 11 d6 d4 0a 62 00 01"
    "0a 62 00 02 9c 41 15 b3 00 0c ff ff 6f 6b c9 af");

// 10.98.0.1:40002 -> 10.98.0.2:5555, "no checksum", sent with SO_NO_CHECK: checksum field 0.
const std::vector<std::uint8_t> kNoChecksum = hex(
    "45 00 00 27 4f 33 40 00 40 11 d6 cc 0a 62 00 01"
    "0a 62 00 02 9c 42 15 b3 00 13 00 00 6e 6f 20 63"
    "68 65 63 6b 73 75 6d");

constexpr Ipv4Address kSource(10, 98, 0, 1);
constexpr Ipv4Address kDestination(10, 98, 0, 2);

// The UDP datagram inside a golden IPv4 packet (no IP options: IHL 5, so 20 bytes), checking the
// addresses and protocol we assume.
std::vector<std::uint8_t> udp_of(const std::vector<std::uint8_t>& ip) {
  EXPECT_EQ(ip.at(0), 0x45);
  EXPECT_EQ(ip.at(9), kUdpProtocolNumber);
  EXPECT_EQ(Ipv4Address(load_be32(ip.data() + 12)), kSource);
  EXPECT_EQ(Ipv4Address(load_be32(ip.data() + 16)), kDestination);
  return {ip.begin() + 20, ip.end()};
}

std::string as_text(Bytes b) { return {b.begin(), b.end()}; }

// The golden datagram with its header overwritten by emit from the parsed fields.
std::vector<std::uint8_t> reemit(const std::vector<std::uint8_t>& golden, const UdpHeader& h,
                                 bool with_checksum) {
  std::vector<std::uint8_t> out = golden;
  std::fill(out.begin(), out.begin() + UdpHeader::kLength, std::uint8_t{0xa5});
  h.emit(out, kSource, kDestination, with_checksum);
  return out;
}

TEST(UdpView, ParsesGoldenFields) {
  const auto d = udp_of(kHello);
  auto v = UdpView::parse(d);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->source_port(), 40000);
  EXPECT_EQ(v->destination_port(), 5555);
  EXPECT_EQ(v->length(), 22);
  EXPECT_EQ(v->checksum(), 0x44d7);
  EXPECT_TRUE(v->has_checksum());
  EXPECT_TRUE(v->checksum_valid(kSource, kDestination));
  EXPECT_EQ(v->header().size(), 8u);
  EXPECT_EQ(v->datagram().size(), 22u);
  EXPECT_EQ(as_text(v->payload()), "hello calisim\n");
}

TEST(UdpHeader, ParsesAndReemitsGolden) {
  const auto d = udp_of(kHello);
  auto h = UdpHeader::parse(d, kSource, kDestination);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(*h, (UdpHeader{.source_port = 40000, .destination_port = 5555}));
  EXPECT_EQ(h->header_length(), 8u);
  EXPECT_EQ(reemit(d, *h, true), d);
}

TEST(UdpHeader, ComputedZeroChecksumIsSentAsFfff) {
  const auto d = udp_of(kComputedZero);
  auto v = UdpView::parse(d);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->checksum(), 0xffff);
  EXPECT_TRUE(v->checksum_valid(kSource, kDestination));
  auto h = UdpHeader::parse(d, kSource, kDestination);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->source_port, 40001);
  EXPECT_EQ(reemit(d, *h, true), d);
}

TEST(UdpHeader, ZeroChecksumMeansNone) {
  const auto d = udp_of(kNoChecksum);
  auto v = UdpView::parse(d);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->checksum(), 0);
  EXPECT_FALSE(v->has_checksum());
  EXPECT_EQ(as_text(v->payload()), "no checksum");
  // Nothing to verify, whatever the addresses.
  EXPECT_TRUE(v->checksum_valid(kSource, kDestination));
  EXPECT_TRUE(v->checksum_valid(Ipv4Address(1, 2, 3, 4), Ipv4Address(5, 6, 7, 8)));
  auto h = UdpHeader::parse(d, Ipv4Address(1, 2, 3, 4), kDestination);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->source_port, 40002);
  EXPECT_EQ(reemit(d, *h, false), d);

  // With a checksum: non-zero and verifying.
  const auto with = reemit(d, *h, true);
  auto w = UdpView::parse(with);
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->has_checksum());
  EXPECT_TRUE(w->checksum_valid(kSource, kDestination));
  EXPECT_FALSE(w->checksum_valid(Ipv4Address(10, 98, 0, 3), kDestination));
}

TEST(UdpView, EveryTruncatedPrefixIsAnError) {
  for (const auto* golden : {&kHello, &kComputedZero, &kNoChecksum}) {
    const auto d = udp_of(*golden);
    for (std::size_t n = 0; n < d.size(); ++n) {
      auto v = UdpView::parse(Bytes(d).first(n));
      ASSERT_FALSE(v) << "prefix of " << n << " bytes";
      EXPECT_EQ(v.error().code, Errc::kTruncated) << "prefix of " << n << " bytes";
    }
  }
}

TEST(UdpView, LengthFieldBeyondTheBytesSaysWhat) {
  auto d = udp_of(kHello);
  store_be16(d.data() + UdpView::kLengthOffset, 40);
  auto v = UdpView::parse(d);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kTruncated);
  EXPECT_EQ(v.error().message, "udp: length field 40 exceeds the 22 bytes present");
}

TEST(UdpView, LengthFieldBelowHeaderIsMalformed) {
  auto d = udp_of(kHello);
  for (std::uint16_t length = 0; length < 8; ++length) {
    store_be16(d.data() + UdpView::kLengthOffset, length);
    auto v = UdpView::parse(d);
    ASSERT_FALSE(v) << "length " << length;
    EXPECT_EQ(v.error().code, Errc::kMalformed);
  }
}

TEST(UdpView, BytesAfterTheLengthAreNotPayload) {
  // Ethernet pads short frames; IP (or here, the caller) may hand over more than the datagram.
  auto d = udp_of(kHello);
  d.insert(d.end(), {0, 0, 0, 0});
  auto v = UdpView::parse(d);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->datagram().size(), 22u);
  EXPECT_EQ(as_text(v->payload()), "hello calisim\n");
  EXPECT_TRUE(v->checksum_valid(kSource, kDestination));

  // A shorter length field shortens the payload.
  store_be16(d.data() + UdpView::kLengthOffset, 13);
  v = UdpView::parse(d);
  ASSERT_TRUE(v);
  EXPECT_EQ(as_text(v->payload()), "hello");
}

TEST(UdpHeader, AnyFlippedBitIsABadChecksum) {
  const auto d = udp_of(kHello);
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i == UdpView::kLengthOffset || i == UdpView::kLengthOffset + 1) continue;  // a length error
    auto bad = d;
    bad[i] ^= 0x01;
    auto h = UdpHeader::parse(bad, kSource, kDestination);
    ASSERT_FALSE(h) << "byte " << i;
    EXPECT_EQ(h.error().code, Errc::kBadChecksum) << "byte " << i;
  }
}

TEST(UdpHeader, WrongAddressesAreABadChecksum) {
  const auto d = udp_of(kHello);
  auto h = UdpHeader::parse(d, Ipv4Address(10, 98, 0, 3), kDestination);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadChecksum);
  EXPECT_NE(h.error().message.find("0x44d7"), std::string::npos) << h.error().message;
}

TEST(UdpHeader, EmitsHeaderOnlyDatagram) {
  std::vector<std::uint8_t> d(8, 0xff);
  UdpHeader{.source_port = 1, .destination_port = 2}.emit(d, kSource, kDestination);
  auto v = UdpView::parse(d);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->length(), 8);
  EXPECT_TRUE(v->payload().empty());
  EXPECT_TRUE(v->has_checksum());
  EXPECT_TRUE(v->checksum_valid(kSource, kDestination));
}

TEST(UdpHeaderDeathTest, EmitIntoTooSmallBufferAborts) {
  std::vector<std::uint8_t> d(7);
  EXPECT_DEATH(UdpHeader{}.emit(d, kSource, kDestination), "shorter than its 8-byte header");
}

}  // namespace
}  // namespace calisim::wire
