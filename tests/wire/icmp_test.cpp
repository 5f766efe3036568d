#include <calisim/wire/icmp.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <calisim/wire/checksum.hpp>
#include <calisim/wire/ipv4.hpp>

#include "test_util.hpp"

namespace calisim::wire {
namespace {

using test::hex;

// Whole IPv4 datagrams (the IP part of Ethernet frames) captured from Linux 6.18 with tcpdump -w
// on a veth in a network namespace, 2026-11-26. Topology: w1a 10.99.0.2 -- 10.99.0.1 w1r
// (router, forwarding) 10.99.0.65 -- [MTU 1280] -- 10.99.0.66 w1b. ICMP starts at byte 20.

// `ping -c1 -s 24 10.99.0.1` from w1a: id 0x1608, seq 1, 24 data bytes (timestamp + 10 11 ...).
const std::vector<std::uint8_t> kEchoRequest =
    hex("45 00 00 34 0a e5 40 00 40 01 1b 1c 0a 63 00 02 0a 63 00 01"
        "08 00 bd 2f 16 08 00 01 0b d6 07 6b 00 00 00 00 bd 35 08 00"
        "00 00 00 00 10 11 12 13 14 15 16 17");
const std::vector<std::uint8_t> kEchoReply =
    hex("45 00 00 34 0f e0 00 00 40 01 56 21 0a 63 00 01 0a 63 00 02"
        "00 00 c5 2f 16 08 00 01 0b d6 07 6b 00 00 00 00 bd 35 08 00"
        "00 00 00 00 10 11 12 13 14 15 16 17");

// `ping -c1 -t 1 -s 24 10.99.0.66` from w1a, and the router's Time Exceeded (11/0) for it: TOS
// 0xc0, TTL 64, DF clear, quoting the whole 52-byte request as received (TTL still 1).
const std::vector<std::uint8_t> kTtl1Request =
    hex("45 00 00 34 71 38 40 00 01 01 f3 87 0a 63 00 02 0a 63 00 42"
        "08 00 e6 6f 16 0b 00 01 0b d6 07 6b 00 00 00 00 8f f2 0c 00"
        "00 00 00 00 10 11 12 13 14 15 16 17");
const std::vector<std::uint8_t> kTimeExceeded =
    hex("45 c0 00 50 10 29 00 00 40 01 54 fc 0a 63 00 01 0a 63 00 02"
        "0b 00 f4 ff 00 00 00 00"
        "45 00 00 34 71 38 40 00 01 01 f3 87 0a 63 00 02 0a 63 00 42"
        "08 00 e6 6f 16 0b 00 01 0b d6 07 6b 00 00 00 00 8f f2 0c 00"
        "00 00 00 00 10 11 12 13 14 15 16 17");

// A UDP send of "calisim-udp" to 10.99.0.1:33434 (nothing listens) and the Port Unreachable
// (3/3) it drew. The quoted UDP checksum is partial (veth offload); ICMP quotes it as it came.
const std::vector<std::uint8_t> kUdpToClosedPort =
    hex("45 00 00 27 30 3c 40 00 40 11 f5 c1 0a 63 00 02 0a 63 00 01"
        "d4 f2 82 9a 00 13 14 ed 63 61 6c 69 73 69 6d 2d 75 64 70");
const std::vector<std::uint8_t> kPortUnreachable =
    hex("45 c0 00 43 1a c5 00 00 40 01 4a 6d 0a 63 00 01 0a 63 00 02"
        "03 03 fa a8 00 00 00 00"
        "45 00 00 27 30 3c 40 00 40 11 f5 c1 0a 63 00 02 0a 63 00 01"
        "d4 f2 82 9a 00 13 14 ed 63 61 6c 69 73 69 6d 2d 75 64 70");

// A lone first fragment (MF) sent from a raw socket to 10.99.0.1, whose ipfrag_time was set to
// 1 s: the router's Fragment Reassembly Time Exceeded (11/1) after ip_expire().
const std::vector<std::uint8_t> kLoneFragment =
    hex("45 00 00 2c 12 34 20 00 40 11 33 c5 0a 63 00 02 0a 63 00 01"
        "9c 40 00 09 00 28 00 00 00 01 02 03 04 05 06 07 08 09 0a 0b"
        "0c 0d 0e 0f");
const std::vector<std::uint8_t> kReassemblyTimeExceeded =
    hex("45 c0 00 48 1b c1 00 00 40 01 49 6c 0a 63 00 01 0a 63 00 02"
        "0b 01 20 4d 00 00 00 00"
        "45 00 00 2c 12 34 20 00 40 11 33 c5 0a 63 00 02 0a 63 00 01"
        "9c 40 00 09 00 28 00 00 00 01 02 03 04 05 06 07 08 09 0a 0b"
        "0c 0d 0e 0f");

// `ping -c1 -M do -s 1400 10.99.0.66` (1428 bytes, DF) into the 1280-byte link: the router's
// Fragmentation Needed (3/4) with next-hop MTU 1280 (0x0500 in bytes 6-7), 576 bytes in all:
// 548 bytes of quote (linux.md §2.4). The ping data after its 16-byte timestamp is iputils' fill,
// byte j = j mod 256; both functions rebuild the captured bytes exactly (compared with the pcap
// when this test was written; the captured checksums would fail otherwise).
std::vector<std::uint8_t> big_df_request() {
  std::vector<std::uint8_t> d =
      hex("45 00 05 94 00 00 40 00 40 01 20 60 0a 63 00 02 0a 63 00 42"
          "08 00 bd 22 16 12 00 01 0c d6 07 6b 00 00 00 00 a3 6c 02 00 00 00 00 00");
  for (int j = 16; j < 1400; ++j) d.push_back(static_cast<std::uint8_t>(j));
  return d;
}
std::vector<std::uint8_t> frag_needed() {
  std::vector<std::uint8_t> d =
      hex("45 c0 02 40 10 2b 00 00 40 01 53 0a 0a 63 00 01 0a 63 00 02"
          "03 04 0e c9 00 00 05 00");
  const auto original = big_df_request();
  d.insert(d.end(), original.begin(), original.begin() + 548);
  return d;
}

Bytes icmp_part(const std::vector<std::uint8_t>& datagram) {
  return Bytes(datagram).subspan(20);
}
std::vector<std::uint8_t> to_vector(Bytes b) {
  return {b.begin(), b.end()};
}

std::vector<std::uint8_t> emitted(const IcmpMessage& m) {
  std::vector<std::uint8_t> out(m.size(), 0xee);
  m.emit(out);
  return out;
}

std::vector<std::vector<std::uint8_t>> all_goldens() {
  return {kEchoRequest,
          kEchoReply,
          kTtl1Request,
          kTimeExceeded,
          kUdpToClosedPort,
          kPortUnreachable,
          kReassemblyTimeExceeded,
          big_df_request(),
          frag_needed()};
}

TEST(IcmpView, ParsesCapturedEchoRequest) {
  auto ip = Ipv4View::parse(kEchoRequest);
  ASSERT_TRUE(ip.has_value());
  auto v = IcmpView::parse(ip->payload());
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->type(), IcmpType::kEchoRequest);
  EXPECT_EQ(v->code(), 0);
  EXPECT_EQ(v->checksum(), 0xbd2f);
  EXPECT_TRUE(v->checksum_valid());
  EXPECT_EQ(v->identifier(), 0x1608);
  EXPECT_EQ(v->sequence(), 1);
  EXPECT_EQ(v->rest_of_header(), 0x16080001u);
  EXPECT_FALSE(v->is_error());
  EXPECT_EQ(v->header().size(), 8u);
  ASSERT_EQ(v->payload().size(), 24u);
  EXPECT_EQ(v->payload()[16], 0x10);
}

TEST(IcmpMessage, EchoHelpersReproduceCaptures) {
  auto request = IcmpMessage::parse(icmp_part(kEchoRequest));
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->type, IcmpType::kEchoRequest);
  EXPECT_EQ(request->identifier, 0x1608);
  EXPECT_EQ(request->sequence, 1);
  EXPECT_EQ(request->data.size(), 24u);
  EXPECT_EQ(request->size(), 32u);

  const Bytes data = icmp_part(kEchoRequest).subspan(8);
  EXPECT_EQ(emitted(IcmpMessage::echo_request(0x1608, 1, data)),
            to_vector(icmp_part(kEchoRequest)));
  // The reply echoes id, sequence and data (RFC 792); only type and checksum differ.
  EXPECT_EQ(emitted(IcmpMessage::echo_reply(0x1608, 1, data)), to_vector(icmp_part(kEchoReply)));
  auto reply = IcmpMessage::parse(icmp_part(kEchoReply));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(*reply, IcmpMessage::echo_reply(0x1608, 1, data));
}

TEST(IcmpMessage, TimeExceededFromTheCapturedRequest) {
  auto te = IcmpMessage::parse(icmp_part(kTimeExceeded));
  ASSERT_TRUE(te.has_value()) << te.error().message;
  EXPECT_EQ(te->type, IcmpType::kTimeExceeded);
  EXPECT_EQ(te->code, static_cast<std::uint8_t>(IcmpTimeExceededCode::kTtl));
  EXPECT_EQ(to_vector(te->data), kTtl1Request);  // the whole request, TTL still 1

  // What the router did, rebuilt from the request it received.
  const Bytes quote = icmp_error_quote(kTtl1Request, kIcmpQuoteLinuxMaxBytes);
  EXPECT_EQ(quote.size(), kTtl1Request.size());
  EXPECT_EQ(emitted(IcmpMessage::time_exceeded(IcmpTimeExceededCode::kTtl, quote)),
            to_vector(icmp_part(kTimeExceeded)));
}

TEST(IcmpMessage, ReassemblyTimeExceededFromTheCapturedFragment) {
  auto te = IcmpMessage::parse(icmp_part(kReassemblyTimeExceeded));
  ASSERT_TRUE(te.has_value()) << te.error().message;
  EXPECT_EQ(te->type, IcmpType::kTimeExceeded);
  EXPECT_EQ(te->code, 1);
  const Bytes quote = icmp_error_quote(kLoneFragment, kIcmpQuoteLinuxMaxBytes);
  EXPECT_EQ(emitted(IcmpMessage::time_exceeded(IcmpTimeExceededCode::kReassembly, quote)),
            to_vector(icmp_part(kReassemblyTimeExceeded)));
}

TEST(IcmpMessage, PortUnreachableFromTheCapturedDatagram) {
  auto pu = IcmpMessage::parse(icmp_part(kPortUnreachable));
  ASSERT_TRUE(pu.has_value()) << pu.error().message;
  EXPECT_EQ(pu->type, IcmpType::kDestinationUnreachable);
  EXPECT_EQ(pu->code, static_cast<std::uint8_t>(IcmpUnreachableCode::kPort));
  EXPECT_EQ(pu->next_hop_mtu, 0);
  EXPECT_EQ(to_vector(pu->data), kUdpToClosedPort);
  const Bytes quote = icmp_error_quote(kUdpToClosedPort, kIcmpQuoteLinuxMaxBytes);
  EXPECT_EQ(emitted(IcmpMessage::destination_unreachable(IcmpUnreachableCode::kPort, quote)),
            to_vector(icmp_part(kPortUnreachable)));
  // A next-hop MTU means nothing for codes other than 4 and is not written.
  EXPECT_EQ(emitted(IcmpMessage::destination_unreachable(IcmpUnreachableCode::kPort, quote, 1280)),
            to_vector(icmp_part(kPortUnreachable)));
}

TEST(IcmpMessage, FragmentationNeededFromTheCapturedDatagram) {
  const auto error = frag_needed();
  auto ip = Ipv4Header::parse(error);
  ASSERT_TRUE(ip.has_value()) << ip.error().message;
  EXPECT_EQ(ip->total_length, 576);  // RFC 1812 §4.3.2.3 / Linux: at most 576 bytes in all
  auto fn = IcmpMessage::parse(icmp_part(error));
  ASSERT_TRUE(fn.has_value()) << fn.error().message;
  EXPECT_EQ(fn->type, IcmpType::kDestinationUnreachable);
  EXPECT_EQ(fn->code, static_cast<std::uint8_t>(IcmpUnreachableCode::kFragmentationNeeded));
  EXPECT_EQ(fn->next_hop_mtu, 1280);
  EXPECT_EQ(fn->data.size(), kIcmpQuoteLinuxMaxBytes);

  // The quote is a cut datagram: its header still says 1428 bytes, DF.
  auto quoted = Ipv4View::parse_quoted(fn->data);
  ASSERT_TRUE(quoted.has_value()) << quoted.error().message;
  EXPECT_EQ(quoted->total_length(), 1428);
  EXPECT_TRUE(quoted->dont_fragment());
  EXPECT_EQ(quoted->payload().size(), 528u);
  EXPECT_TRUE(quoted->checksum_valid());

  const auto original = big_df_request();
  const Bytes quote = icmp_error_quote(original, kIcmpQuoteLinuxMaxBytes);
  EXPECT_EQ(quote.size(), 548u);
  EXPECT_EQ(emitted(IcmpMessage::destination_unreachable(IcmpUnreachableCode::kFragmentationNeeded,
                                                         quote, 1280)),
            to_vector(icmp_part(error)));
}

TEST(IcmpMessage, EmitInPlaceOverTheQuotedDatagram) {
  // A router may turn the buffer holding the offending datagram into the error itself.
  std::vector<std::uint8_t> buffer = kTtl1Request;
  buffer.resize(8 + kTtl1Request.size());
  const Bytes quote = Bytes(buffer).first(kTtl1Request.size());
  IcmpMessage::time_exceeded(IcmpTimeExceededCode::kTtl, quote).emit(buffer);
  EXPECT_EQ(buffer, to_vector(icmp_part(kTimeExceeded)));
}

TEST(IcmpErrorQuote, ChoosesHowMuchOfTheOriginalToQuote) {
  const auto original = big_df_request();
  // RFC 792: the header and 64 bits of data.
  EXPECT_EQ(icmp_error_quote(original, 20 + kIcmpQuoteRfc792DataBytes).size(), 28u);
  EXPECT_EQ(icmp_error_quote(original, kIcmpQuoteLinuxMaxBytes).size(), 548u);
  EXPECT_EQ(icmp_error_quote(original, 100000).size(), 1428u);
  // Never less than the whole header, options included.
  EXPECT_EQ(icmp_error_quote(original, 0).size(), 20u);
  std::vector<std::uint8_t> with_options =
      hex("4f 00 00 5c 71 91 40 00 40 01 77 92 0a 63 00 02 0a 63 00 42"
          "01 07 27 08 0a 63 00 02");
  with_options.resize(92, 0);
  EXPECT_EQ(icmp_error_quote(with_options, 28).size(), 60u);
  // Never the link padding after total length.
  std::vector<std::uint8_t> padded = kUdpToClosedPort;
  padded.resize(46, 0);
  EXPECT_EQ(icmp_error_quote(padded, kIcmpQuoteLinuxMaxBytes).size(), 39u);
  // The quote starts where the datagram does.
  EXPECT_EQ(icmp_error_quote(original, 28).data(), original.data());
  // Not IPv4: cut at max_bytes, or left whole if shorter.
  const std::vector<std::uint8_t> junk(30, 0x60);
  EXPECT_EQ(icmp_error_quote(junk, 8).size(), 8u);
  EXPECT_EQ(icmp_error_quote(junk, 100).size(), 30u);
}

TEST(IcmpView, ClassifiesErrors) {
  for (const auto* datagram : {&kTimeExceeded, &kPortUnreachable, &kReassemblyTimeExceeded}) {
    auto v = IcmpView::parse(icmp_part(*datagram));
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->is_error());
  }
  auto reply = IcmpView::parse(icmp_part(kEchoReply));
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->is_error());
}

TEST(IcmpMessage, ParseEmitRoundTripOnEveryCapturedMessage) {
  for (const auto& datagram : all_goldens()) {
    auto ip = Ipv4View::parse(datagram);
    ASSERT_TRUE(ip.has_value());
    if (ip->protocol() != IpProtocol::kIcmp) continue;
    auto m = IcmpMessage::parse(ip->payload());
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_EQ(emitted(*m), to_vector(ip->payload()));
  }
}

TEST(IcmpMessage, EveryTruncationIsAnError) {
  for (const auto& datagram : all_goldens()) {
    if (datagram[9] != 1) continue;
    const Bytes icmp = icmp_part(datagram);
    for (std::size_t n = 0; n < icmp.size(); ++n) {
      auto m = IcmpMessage::parse(icmp.first(n));
      // The exception, shown in QuoteCutAtAChecksummedBoundaryStillVerifies below.
      if (datagram == kTimeExceeded && (n == 8 || n == 28)) {
        EXPECT_TRUE(m.has_value()) << n;
        continue;
      }
      ASSERT_FALSE(m.has_value()) << "accepted " << n << " of " << icmp.size() << " bytes";
      // Below 8 bytes there is no header; after that the checksum, over every byte, fails.
      EXPECT_EQ(m.error().code, n < 8 ? Errc::kTruncated : Errc::kBadChecksum) << n;
      EXPECT_EQ(IcmpView::parse(icmp.first(n)).has_value(), n >= 8) << n;
    }
  }
}

TEST(IcmpMessage, QuoteCutAtAChecksummedBoundaryStillVerifies) {
  // The captured Time Exceeded quotes a whole IPv4 header and a whole ICMP echo, each of which
  // sums to 0xffff ("-0") with its own checksum. Removing either leaves the ICMP sum unchanged,
  // so the ICMP checksum cannot see such a cut; the IP total length is what catches it. (This is
  // also why every such Time Exceeded from a Linux router has the checksum 0xf4ff.)
  const Bytes icmp = icmp_part(kTimeExceeded);
  EXPECT_EQ(load_be16(icmp.data() + 2), 0xf4ff);
  EXPECT_EQ(checksum_accumulate(0, icmp.subspan(8, 20)), 0xffffu);  // quoted IP header
  EXPECT_EQ(checksum_accumulate(0, icmp.subspan(28)), 0xffffu);     // quoted ICMP echo
  EXPECT_TRUE(IcmpMessage::parse(icmp.first(8)).has_value());
  EXPECT_TRUE(IcmpMessage::parse(icmp.first(28)).has_value());
  const std::vector<std::uint8_t> datagram(kTimeExceeded.begin(), kTimeExceeded.end() - 32);
  auto ip = Ipv4View::parse(datagram);
  ASSERT_FALSE(ip.has_value());
  EXPECT_EQ(ip.error().code, Errc::kTruncated);
}

TEST(IcmpMessage, RejectsBadChecksum) {
  std::vector<std::uint8_t> icmp = to_vector(icmp_part(kEchoReply));
  icmp.back() ^= 0x01;  // a data byte: the checksum covers the data too
  auto view = IcmpView::parse(icmp);
  ASSERT_TRUE(view.has_value());
  EXPECT_FALSE(view->checksum_valid());
  auto m = IcmpMessage::parse(icmp);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, Errc::kBadChecksum);
  EXPECT_NE(m.error().message.find("0xc52f"), std::string::npos) << m.error().message;
}

TEST(IcmpMessage, RejectsTypesItDoesNotModel) {
  std::vector<std::uint8_t> icmp = to_vector(icmp_part(kEchoRequest));
  for (std::uint8_t type : {5, 12, 13, 42}) {
    icmp[0] = type;
    icmp[2] = icmp[3] = 0;
    store_be16(icmp.data() + 2, internet_checksum(icmp));
    auto view = IcmpView::parse(icmp);
    ASSERT_TRUE(view.has_value());
    EXPECT_TRUE(view->checksum_valid());
    auto m = IcmpMessage::parse(icmp);
    ASSERT_FALSE(m.has_value()) << int{type};
    EXPECT_EQ(m.error().code, Errc::kUnsupported) << int{type};
  }
}

TEST(IcmpMessage, ComparesDataByContent) {
  const std::vector<std::uint8_t> a = {1, 2, 3};
  const std::vector<std::uint8_t> b = {1, 2, 3};
  const std::vector<std::uint8_t> c = {1, 2, 4};
  EXPECT_EQ(IcmpMessage::echo_request(1, 2, a), IcmpMessage::echo_request(1, 2, b));
  EXPECT_NE(IcmpMessage::echo_request(1, 2, a), IcmpMessage::echo_request(1, 2, c));
  EXPECT_NE(IcmpMessage::echo_request(1, 2, a), IcmpMessage::echo_request(1, 3, a));
  EXPECT_NE(IcmpMessage::echo_request(1, 2, a), IcmpMessage::echo_reply(1, 2, a));
}

TEST(IcmpMessageDeathTest, EmitIntoTooSmallBufferAborts) {
  const std::vector<std::uint8_t> data(10);
  std::vector<std::uint8_t> out(17);
  EXPECT_DEATH(IcmpMessage::echo_request(1, 1, data).emit(out), "icmp: emit needs");
}

}  // namespace
}  // namespace calisim::wire
