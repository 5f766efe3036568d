#include <calisim/wire/ethernet.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "test_util.hpp"

namespace calisim::wire {
namespace {

using test::hex;

// Captured from Linux 6.18 on a veth pair between two network namespaces, 2026-11-26
// (tcpdump -w on w1a0): the kernel's ARP request for 10.99.0.1 before `ping -c1 -s 24`.
// veth does not pad, so the frame is 42 bytes.
const std::vector<std::uint8_t> kArpRequestFrame =
    hex("ff ff ff ff ff ff b2 3b 89 70 60 7a 08 06 00 01"
        "08 00 06 04 00 01 b2 3b 89 70 60 7a 0a 63 00 02"
        "00 00 00 00 00 00 0a 63 00 01");

// Same capture: the ICMP echo request of `ping -c1 -s 24 10.99.0.1` (66 bytes).
const std::vector<std::uint8_t> kEchoRequestFrame =
    hex("3e 92 e1 d0 08 0c b2 3b 89 70 60 7a 08 00 45 00"
        "00 34 0a e5 40 00 40 01 1b 1c 0a 63 00 02 0a 63"
        "00 01 08 00 bd 2f 16 08 00 01 0b d6 07 6b 00 00"
        "00 00 bd 35 08 00 00 00 00 00 10 11 12 13 14 15"
        "16 17");

const MacAddress kMacA({0xb2, 0x3b, 0x89, 0x70, 0x60, 0x7a});  // w1a0
const MacAddress kMacR({0x3e, 0x92, 0xe1, 0xd0, 0x08, 0x0c});  // w1r0

TEST(EthernetView, ParsesCapturedArpBroadcast) {
  auto view = EthernetView::parse(kArpRequestFrame);
  ASSERT_TRUE(view.has_value()) << view.error().message;
  EXPECT_EQ(view->destination(), MacAddress::broadcast());
  EXPECT_EQ(view->source(), kMacA);
  EXPECT_EQ(view->ethertype(), EtherType::kArp);
  EXPECT_EQ(view->header().size(), 14u);
  EXPECT_EQ(view->header().data(), kArpRequestFrame.data());
  ASSERT_EQ(view->payload().size(), 28u);
  EXPECT_EQ(view->payload().data(), kArpRequestFrame.data() + 14);
  EXPECT_EQ(view->frame().size(), kArpRequestFrame.size());
}

TEST(EthernetView, ParsesCapturedIpv4Unicast) {
  auto view = EthernetView::parse(kEchoRequestFrame);
  ASSERT_TRUE(view.has_value()) << view.error().message;
  EXPECT_EQ(view->destination(), kMacR);
  EXPECT_EQ(view->source(), kMacA);
  EXPECT_EQ(view->ethertype(), EtherType::kIpv4);
  ASSERT_EQ(view->payload().size(), 52u);
  EXPECT_EQ(view->payload()[0], 0x45);  // the IPv4 version/IHL byte follows the header
}

TEST(EthernetView, PayloadKeepsLinkPaddingForTheUpperLayer) {
  // The captured 42-byte ARP frame, zero-padded to 60 bytes as a physical NIC sends it (made
  // here, not captured: veth does not pad).
  std::vector<std::uint8_t> padded = kArpRequestFrame;
  padded.resize(EthernetView::kMinFrameLengthWithoutFcs, 0);
  auto view = EthernetView::parse(padded);
  ASSERT_TRUE(view.has_value()) << view.error().message;
  EXPECT_EQ(view->payload().size(), 46u);
  EXPECT_EQ(view->ethertype(), EtherType::kArp);
}

TEST(EthernetView, EveryTruncationIsAnError) {
  for (std::size_t n = 0; n < EthernetView::kHeaderLength; ++n) {
    auto view = EthernetView::parse(Bytes(kEchoRequestFrame).first(n));
    ASSERT_FALSE(view.has_value()) << "accepted " << n << " bytes";
    EXPECT_EQ(view.error().code, Errc::kTruncated) << n;
  }
  // Exactly a header with no payload is a frame (an empty payload), not an error.
  auto header_only = EthernetView::parse(Bytes(kEchoRequestFrame).first(14));
  ASSERT_TRUE(header_only.has_value());
  EXPECT_TRUE(header_only->payload().empty());
}

TEST(EthernetView, RejectsIeee8023LengthField) {
  std::vector<std::uint8_t> frame = kArpRequestFrame;
  frame[12] = 0x05;  // 0x05dc = 1500: a length, the largest legal one
  frame[13] = 0xdc;
  auto view = EthernetView::parse(frame);
  ASSERT_FALSE(view.has_value());
  EXPECT_EQ(view.error().code, Errc::kUnsupported);
  EXPECT_NE(view.error().message.find("0x05dc"), std::string::npos) << view.error().message;
  // 0x0600 is the first EtherType value.
  frame[12] = 0x06;
  frame[13] = 0x00;
  EXPECT_TRUE(EthernetView::parse(frame).has_value());
}

TEST(EthernetView, CarriesUnknownEtherTypes) {
  std::vector<std::uint8_t> frame = kEchoRequestFrame;
  frame[12] = 0x88;  // 0x88cc LLDP: not modelled, but a valid EtherType to pass along or drop
  frame[13] = 0xcc;
  auto view = EthernetView::parse(frame);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(static_cast<std::uint16_t>(view->ethertype()), 0x88cc);
}

TEST(EthernetHeader, ParseGivesCapturedFields) {
  auto header = EthernetHeader::parse(kEchoRequestFrame);
  ASSERT_TRUE(header.has_value()) << header.error().message;
  EXPECT_EQ(header->destination, kMacR);
  EXPECT_EQ(header->source, kMacA);
  EXPECT_EQ(header->ethertype, EtherType::kIpv4);
  EXPECT_EQ(EthernetHeader::header_length(), 14u);
}

TEST(EthernetHeader, EmitReproducesCapturedHeaders) {
  const EthernetHeader arp{MacAddress::broadcast(), kMacA, EtherType::kArp};
  std::vector<std::uint8_t> out(14, 0xee);
  arp.emit(out);
  EXPECT_EQ(out,
            std::vector<std::uint8_t>(kArpRequestFrame.begin(), kArpRequestFrame.begin() + 14));

  const EthernetHeader ip{kMacR, kMacA, EtherType::kIpv4};
  ip.emit(out);
  EXPECT_EQ(out,
            std::vector<std::uint8_t>(kEchoRequestFrame.begin(), kEchoRequestFrame.begin() + 14));
}

TEST(EthernetHeader, EmitWritesOnlyTheHeader) {
  std::vector<std::uint8_t> out(20, 0xee);
  EthernetHeader{kMacA, kMacR, EtherType::kIpv6}.emit(out);
  EXPECT_EQ(out[12], 0x86);
  EXPECT_EQ(out[13], 0xdd);
  EXPECT_TRUE(std::all_of(out.begin() + 14, out.end(), [](std::uint8_t b) { return b == 0xee; }));
}

TEST(EthernetHeader, ParseEmitRoundTrip) {
  auto header = EthernetHeader::parse(kArpRequestFrame);
  ASSERT_TRUE(header.has_value());
  std::vector<std::uint8_t> out(14);
  header->emit(out);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), kArpRequestFrame.begin()));
  auto again = EthernetHeader::parse(out);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *header);
}

TEST(EthernetHeaderDeathTest, EmitIntoTooSmallBufferAborts) {
  std::vector<std::uint8_t> out(13);
  EXPECT_DEATH(EthernetHeader{}.emit(out), "ethernet: emit needs 14 bytes");
}

}  // namespace
}  // namespace calisim::wire
