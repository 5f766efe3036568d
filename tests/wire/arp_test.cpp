#include <calisim/wire/arp.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include <calisim/wire/ethernet.hpp>

#include "test_util.hpp"

namespace calisim::wire {
namespace {

using test::hex;

// All four captured from Linux 6.18 on a veth pair between two network namespaces, 2026-11-26
// (tcpdump -w on w1a0; w1a0 = b2:3b:89:70:60:7a 10.99.0.2, w1r0 = 3e:92:e1:d0:08:0c 10.99.0.1).
// Whole Ethernet frames; veth does not pad them to 60 bytes.

// The kernel's request (arp_solicit) before `ping 10.99.0.1`: broadcast, target MAC zero.
const std::vector<std::uint8_t> kKernelRequest =
    hex("ff ff ff ff ff ff b2 3b 89 70 60 7a 08 06 00 01"
        "08 00 06 04 00 01 b2 3b 89 70 60 7a 0a 63 00 02"
        "00 00 00 00 00 00 0a 63 00 01");
// The kernel's reply from 10.99.0.1.
const std::vector<std::uint8_t> kKernelReply =
    hex("b2 3b 89 70 60 7a 3e 92 e1 d0 08 0c 08 06 00 01"
        "08 00 06 04 00 02 3e 92 e1 d0 08 0c 0a 63 00 01"
        "b2 3b 89 70 60 7a 0a 63 00 02");
// iputils `arping -c1 -I w1a0 10.99.0.1`: arping puts the broadcast address in the target MAC.
const std::vector<std::uint8_t> kArpingRequest =
    hex("ff ff ff ff ff ff b2 3b 89 70 60 7a 08 06 00 01"
        "08 00 06 04 00 01 b2 3b 89 70 60 7a 0a 63 00 02"
        "ff ff ff ff ff ff 0a 63 00 01");
// 10.99.0.1 re-validating its STALE entry for 10.99.0.2 a few seconds later: a unicast request.
const std::vector<std::uint8_t> kUnicastProbe =
    hex("b2 3b 89 70 60 7a 3e 92 e1 d0 08 0c 08 06 00 01"
        "08 00 06 04 00 01 3e 92 e1 d0 08 0c 0a 63 00 01"
        "00 00 00 00 00 00 0a 63 00 02");

const MacAddress kMacA({0xb2, 0x3b, 0x89, 0x70, 0x60, 0x7a});
const MacAddress kMacR({0x3e, 0x92, 0xe1, 0xd0, 0x08, 0x0c});
const Ipv4Address kIpA(10, 99, 0, 2);
const Ipv4Address kIpR(10, 99, 0, 1);

Bytes arp_bytes(const std::vector<std::uint8_t>& frame) {
  return Bytes(frame).subspan(EthernetView::kHeaderLength);
}

std::vector<std::uint8_t> emitted(const ArpPacket& packet) {
  std::vector<std::uint8_t> out(ArpPacket::size(), 0xee);
  packet.emit(out);
  return out;
}

std::vector<std::uint8_t> to_vector(Bytes b) {
  return {b.begin(), b.end()};
}

TEST(ArpView, ParsesCapturedKernelRequest) {
  auto view = ArpView::parse(arp_bytes(kKernelRequest));
  ASSERT_TRUE(view.has_value()) << view.error().message;
  EXPECT_EQ(view->hardware_type(), 1);
  EXPECT_EQ(view->protocol_type(), 0x0800);
  EXPECT_EQ(view->operation(), 1);
  EXPECT_EQ(view->sender_mac(), kMacA);
  EXPECT_EQ(view->sender_ip(), kIpA);
  EXPECT_TRUE(view->target_mac().is_zero());
  EXPECT_EQ(view->target_ip(), kIpR);
  EXPECT_EQ(view->packet().size(), 28u);
}

TEST(ArpView, IgnoresEthernetPadding) {
  // The captured request padded to a 60-byte frame as a physical NIC would (made here).
  std::vector<std::uint8_t> frame = kKernelRequest;
  frame.resize(60, 0);
  auto ethernet = EthernetView::parse(frame);
  ASSERT_TRUE(ethernet.has_value());
  ASSERT_EQ(ethernet->payload().size(), 46u);
  auto view = ArpView::parse(ethernet->payload());
  ASSERT_TRUE(view.has_value()) << view.error().message;
  EXPECT_EQ(view->packet().size(), 28u);  // the 18 padding bytes are not part of the packet
  EXPECT_EQ(view->target_ip(), kIpR);
  auto packet = ArpPacket::parse(ethernet->payload());
  ASSERT_TRUE(packet.has_value());
  EXPECT_EQ(emitted(*packet), to_vector(arp_bytes(kKernelRequest)));
}

TEST(ArpPacket, ParsesCapturedReply) {
  auto packet = ArpPacket::parse(arp_bytes(kKernelReply));
  ASSERT_TRUE(packet.has_value()) << packet.error().message;
  EXPECT_EQ(packet->operation, ArpOperation::kReply);
  EXPECT_EQ(packet->sender_mac, kMacR);
  EXPECT_EQ(packet->sender_ip, kIpR);
  EXPECT_EQ(packet->target_mac, kMacA);
  EXPECT_EQ(packet->target_ip, kIpA);
}

TEST(ArpPacket, ParsesCapturedArpingAndProbe) {
  auto arping = ArpPacket::parse(arp_bytes(kArpingRequest));
  ASSERT_TRUE(arping.has_value());
  EXPECT_EQ(arping->operation, ArpOperation::kRequest);
  EXPECT_TRUE(arping->target_mac.is_broadcast());
  auto probe = ArpPacket::parse(arp_bytes(kUnicastProbe));
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(probe->operation, ArpOperation::kRequest);
  EXPECT_EQ(probe->sender_mac, kMacR);
  EXPECT_EQ(probe->sender_ip, kIpR);
  EXPECT_TRUE(probe->target_mac.is_zero());
  EXPECT_EQ(probe->target_ip, kIpA);
}

TEST(ArpPacket, EmitFromFieldsReproducesCaptures) {
  EXPECT_EQ(emitted(ArpPacket{ArpOperation::kRequest, kMacA, kIpA, MacAddress(), kIpR}),
            to_vector(arp_bytes(kKernelRequest)));
  EXPECT_EQ(emitted(ArpPacket{ArpOperation::kReply, kMacR, kIpR, kMacA, kIpA}),
            to_vector(arp_bytes(kKernelReply)));
  EXPECT_EQ(emitted(ArpPacket{ArpOperation::kRequest, kMacA, kIpA, MacAddress::broadcast(), kIpR}),
            to_vector(arp_bytes(kArpingRequest)));
  EXPECT_EQ(emitted(ArpPacket{ArpOperation::kRequest, kMacR, kIpR, MacAddress(), kIpA}),
            to_vector(arp_bytes(kUnicastProbe)));
}

TEST(ArpPacket, RequestAndReplyHelpersMatchTheKernel) {
  const ArpPacket request = ArpPacket::request(kMacA, kIpA, kIpR);
  EXPECT_EQ(emitted(request), to_vector(arp_bytes(kKernelRequest)));
  EXPECT_EQ(emitted(ArpPacket::reply_to(request, kMacR)), to_vector(arp_bytes(kKernelReply)));
}

TEST(ArpPacket, EmitWritesExactly28Bytes) {
  std::vector<std::uint8_t> out(40, 0xee);
  ArpPacket::request(kMacA, kIpA, kIpR).emit(out);
  for (std::size_t i = 28; i < out.size(); ++i) EXPECT_EQ(out[i], 0xee) << i;
}

TEST(ArpView, EveryTruncationIsAnError) {
  for (const auto* frame : {&kKernelRequest, &kKernelReply, &kArpingRequest, &kUnicastProbe}) {
    const Bytes arp = arp_bytes(*frame);
    for (std::size_t n = 0; n < ArpView::kLength; ++n) {
      auto view = ArpView::parse(arp.first(n));
      ASSERT_FALSE(view.has_value()) << "accepted " << n << " bytes";
      EXPECT_EQ(view.error().code, Errc::kTruncated) << n;
      EXPECT_FALSE(ArpPacket::parse(arp.first(n)).has_value()) << n;
    }
  }
}

TEST(ArpView, RejectsOtherHardwareAndProtocolTypes) {
  std::vector<std::uint8_t> arp = to_vector(arp_bytes(kKernelRequest));
  arp[1] = 6;  // IEEE 802 hardware type
  auto view = ArpView::parse(arp);
  ASSERT_FALSE(view.has_value());
  EXPECT_EQ(view.error().code, Errc::kUnsupported);

  arp = to_vector(arp_bytes(kKernelRequest));
  arp[2] = 0x86;  // IPv6 as protocol type
  arp[3] = 0xdd;
  view = ArpView::parse(arp);
  ASSERT_FALSE(view.has_value());
  EXPECT_EQ(view.error().code, Errc::kUnsupported);

  // Unsupported wins over truncated: the format is known from the first 8 bytes.
  view = ArpView::parse(Bytes(arp).first(8));
  ASSERT_FALSE(view.has_value());
  EXPECT_EQ(view.error().code, Errc::kUnsupported);
}

TEST(ArpView, RejectsWrongAddressLengths) {
  std::vector<std::uint8_t> arp = to_vector(arp_bytes(kKernelRequest));
  arp[4] = 8;  // hardware length 8 for Ethernet
  auto view = ArpView::parse(arp);
  ASSERT_FALSE(view.has_value());
  EXPECT_EQ(view.error().code, Errc::kMalformed);
  arp[4] = 6;
  arp[5] = 16;  // protocol length 16 for IPv4
  view = ArpView::parse(arp);
  ASSERT_FALSE(view.has_value());
  EXPECT_EQ(view.error().code, Errc::kMalformed);
}

TEST(ArpPacket, RejectsOperationsOtherThanRequestAndReply) {
  std::vector<std::uint8_t> arp = to_vector(arp_bytes(kKernelRequest));
  for (std::uint8_t op : {0, 3, 4, 8, 9, 255}) {
    arp[7] = op;
    EXPECT_TRUE(ArpView::parse(arp).has_value()) << int{op};  // the view shows any operation
    auto packet = ArpPacket::parse(arp);
    ASSERT_FALSE(packet.has_value()) << int{op};
    EXPECT_EQ(packet.error().code, Errc::kUnsupported) << int{op};
  }
}

TEST(ArpPacketDeathTest, EmitIntoTooSmallBufferAborts) {
  std::vector<std::uint8_t> out(27);
  EXPECT_DEATH(ArpPacket{}.emit(out), "arp: emit needs 28 bytes");
}

}  // namespace
}  // namespace calisim::wire
