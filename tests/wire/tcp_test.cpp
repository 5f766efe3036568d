#include <calisim/wire/tcp.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace calisim::wire {
namespace {

using test::hex;

// Golden segments captured from Linux 6.18 in a netns, 2026-11-26: a veth pair between two
// throw-away namespaces (10.98.0.1 <-> 10.98.0.2, TX checksum offload turned off so the checksums
// on the wire are complete), tcpdump on the server's veth, a python3 client on 10.98.0.1:41000
// connecting to a server on 10.98.0.2:179 and sending "calisim tcp data\n". Default sysctls
// (tcp_sack, tcp_timestamps, tcp_window_scaling on). Each array is the whole IPv4 packet
// (Ethernet header dropped); tcpdump -vv said "cksum ... (correct)" for all three.

// SYN: seq 2475051038, win 64240, [mss 1460,sackOK,TS val 3910648101 ecr 0,nop,wscale 10].
const std::vector<std::uint8_t> kSyn = hex(
    "45 00 00 3c 40 fa 40 00 40 06 e4 fb 0a 62 00 01"
    "0a 62 00 02 a0 28 00 b3 93 86 48 1e 00 00 00 00"
    "a0 02 fa f0 11 88 00 00 02 04 05 b4 04 02 08 0a"
    "e9 17 c1 25 00 00 00 00 01 03 03 0a");

// SYN-ACK: seq 52137944, ack 2475051039, win 65160,
// [mss 1460,sackOK,TS val 3011061631 ecr 3910648101,nop,wscale 10].
const std::vector<std::uint8_t> kSynAck = hex(
    "45 00 00 3c 00 00 40 00 40 06 25 f6 0a 62 00 02"
    "0a 62 00 01 00 b3 a0 28 03 1b 8f d8 93 86 48 1f"
    "a0 12 fe 88 9f f2 00 00 02 04 05 b4 04 02 08 0a"
    "b3 79 27 7f e9 17 c1 25 01 03 03 0a");

// Data, PSH-ACK: seq 1:18 (relative), win 63, [nop,nop,TS val 3910648102 ecr 3011061631].
const std::vector<std::uint8_t> kData = hex(
    "45 00 00 45 40 fc 40 00 40 06 e4 f0 0a 62 00 01"
    "0a 62 00 02 a0 28 00 b3 93 86 48 1f 03 1b 8f d9"
    "80 18 00 3f 55 56 00 00 01 01 08 0a e9 17 c1 26"
    "b3 79 27 7f 63 61 6c 69 73 69 6d 20 74 63 70 20"
    "64 61 74 61 0a");

constexpr Ipv4Address kClient(10, 98, 0, 1);
constexpr Ipv4Address kServer(10, 98, 0, 2);

struct Segment {
  std::vector<std::uint8_t> bytes;  // the TCP segment
  Ipv4Address source;
  Ipv4Address destination;
};

// The TCP segment inside a golden IPv4 packet (no IP options: IHL 5, so 20 bytes).
Segment segment_of(const std::vector<std::uint8_t>& ip) {
  EXPECT_EQ(ip.at(0), 0x45);
  EXPECT_EQ(ip.at(9), kTcpProtocolNumber);
  EXPECT_EQ(load_be16(ip.data() + 2), ip.size());
  return {{ip.begin() + 20, ip.end()},
          Ipv4Address(load_be32(ip.data() + 12)),
          Ipv4Address(load_be32(ip.data() + 16))};
}

std::vector<std::uint8_t> reemit(const Segment& s, const TcpHeader& h) {
  std::vector<std::uint8_t> out = s.bytes;
  std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(h.header_length()),
            std::uint8_t{0xa5});
  h.emit(out, s.source, s.destination);
  return out;
}

Result<TcpOptions> parse_options(std::string_view hex_bytes) {
  const auto bytes = hex(hex_bytes);
  return TcpOptions::parse(bytes);
}

TEST(TcpView, ParsesGoldenSyn) {
  const auto s = segment_of(kSyn);
  EXPECT_EQ(s.source, kClient);
  auto v = TcpView::parse(s.bytes);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->source_port(), 41000);
  EXPECT_EQ(v->destination_port(), 179);
  EXPECT_EQ(v->sequence_number(), 2475051038u);
  EXPECT_EQ(v->acknowledgment_number(), 0u);
  EXPECT_EQ(v->data_offset(), 10);
  EXPECT_EQ(v->header_length(), 40u);
  EXPECT_EQ(v->reserved(), 0);
  EXPECT_EQ(v->flags(), TcpFlags(TcpFlag::kSyn));
  EXPECT_TRUE(v->has(TcpFlag::kSyn));
  EXPECT_FALSE(v->has(TcpFlag::kAck));
  EXPECT_EQ(v->window(), 64240);
  EXPECT_EQ(v->checksum(), 0x1188);
  EXPECT_EQ(v->urgent_pointer(), 0);
  EXPECT_EQ(v->options().size(), 20u);
  EXPECT_TRUE(v->payload().empty());
  EXPECT_TRUE(v->checksum_valid(s.source, s.destination));
}

TEST(TcpHeader, ParsesGoldenSynOptions) {
  const auto s = segment_of(kSyn);
  auto h = TcpHeader::parse(s.bytes, s.source, s.destination);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->options.mss, 1460);
  EXPECT_TRUE(h->options.sack_permitted);
  ASSERT_TRUE(h->options.timestamps);
  EXPECT_EQ(h->options.timestamps->value, 3910648101u);
  EXPECT_EQ(h->options.timestamps->echo_reply, 0u);
  EXPECT_EQ(h->options.window_scale, 10);
  EXPECT_EQ(h->options.sack_block_count, 0);
  EXPECT_EQ(h->flags.to_string(), "S");
  EXPECT_EQ(h->header_length(), 40u);
}

TEST(TcpHeader, ParsesGoldenSynAck) {
  const auto s = segment_of(kSynAck);
  auto h = TcpHeader::parse(s.bytes, s.source, s.destination);
  ASSERT_TRUE(h) << h.error().message;
  const TcpHeader want{
      .source_port = 179,
      .destination_port = 41000,
      .sequence_number = 52137944,
      .acknowledgment_number = 2475051039,
      .flags = TcpFlag::kSyn | TcpFlag::kAck,
      .window = 65160,
      .options = {.mss = 1460,
                  .window_scale = 10,
                  .sack_permitted = true,
                  .timestamps = TcpTimestamps{.value = 3011061631, .echo_reply = 3910648101}},
  };
  EXPECT_EQ(*h, want);
  EXPECT_EQ(h->flags.to_string(), "S.");
}

TEST(TcpHeader, ParsesGoldenDataSegment) {
  const auto s = segment_of(kData);
  auto v = TcpView::parse(s.bytes);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->header_length(), 32u);
  EXPECT_EQ(v->checksum(), 0x5556);
  EXPECT_EQ(std::string(v->payload().begin(), v->payload().end()), "calisim tcp data\n");
  auto h = TcpHeader::parse(s.bytes, s.source, s.destination);
  ASSERT_TRUE(h) << h.error().message;
  const TcpHeader want{
      .source_port = 41000,
      .destination_port = 179,
      .sequence_number = 2475051039,
      .acknowledgment_number = 52137945,
      .flags = TcpFlag::kPsh | TcpFlag::kAck,
      .window = 63,
      .options = {.timestamps = TcpTimestamps{.value = 3910648102, .echo_reply = 3011061631}},
  };
  EXPECT_EQ(*h, want);
  EXPECT_EQ(h->flags.to_string(), "P.");
  EXPECT_EQ(h->header_length(), 32u);
}

TEST(TcpHeader, EmitReproducesGoldenBytes) {
  // Linux's option layout, checksum included: MSS, SACK-permitted+TS, NOP+wscale for the SYNs,
  // NOP NOP TS for the data segment.
  for (const auto* golden : {&kSyn, &kSynAck, &kData}) {
    const auto s = segment_of(*golden);
    auto h = TcpHeader::parse(s.bytes, s.source, s.destination);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(reemit(s, *h), s.bytes);
  }
}

TEST(TcpHeader, EmitsFromFieldsAlone) {
  // The SYN, written from values rather than from a parse.
  const auto s = segment_of(kSyn);
  TcpHeader h;
  h.source_port = 41000;
  h.destination_port = 179;
  h.sequence_number = 2475051038;
  h.flags = TcpFlag::kSyn;
  h.window = 64240;
  h.options.mss = 1460;
  h.options.sack_permitted = true;
  h.options.timestamps = TcpTimestamps{.value = 3910648101, .echo_reply = 0};
  h.options.window_scale = 10;
  std::vector<std::uint8_t> out(h.header_length());
  h.emit(out, kClient, kServer);
  EXPECT_EQ(out, s.bytes);
}

TEST(TcpView, TruncatedHeaderIsAnError) {
  for (const auto* golden : {&kSyn, &kSynAck, &kData}) {
    const auto s = segment_of(*golden);
    const std::size_t header = TcpView::parse(s.bytes)->header_length();
    for (std::size_t n = 0; n < header; ++n) {
      auto v = TcpView::parse(Bytes(s.bytes).first(n));
      ASSERT_FALSE(v) << "prefix of " << n << " bytes";
      EXPECT_EQ(v.error().code, Errc::kTruncated) << "prefix of " << n << " bytes";
    }
  }
}

TEST(TcpHeader, TruncatedPayloadIsABadChecksum) {
  // TCP has no length field: a segment cut inside its data is a shorter segment, which only the
  // checksum (over the pseudo-header length too) can catch.
  const auto s = segment_of(kData);
  for (std::size_t n = 32; n < s.bytes.size(); ++n) {
    auto h = TcpHeader::parse(Bytes(s.bytes).first(n), s.source, s.destination);
    ASSERT_FALSE(h) << "prefix of " << n << " bytes";
    EXPECT_EQ(h.error().code, Errc::kBadChecksum) << "prefix of " << n << " bytes";
  }
}

TEST(TcpView, DataOffsetOutOfRange) {
  auto s = segment_of(kSyn);
  for (std::uint8_t offset = 0; offset < 5; ++offset) {
    s.bytes[TcpView::kDataOffsetOffset] = static_cast<std::uint8_t>(offset << 4);
    auto v = TcpView::parse(s.bytes);
    ASSERT_FALSE(v) << "data offset " << int{offset};
    EXPECT_EQ(v.error().code, Errc::kMalformed);
  }
  s.bytes[TcpView::kDataOffsetOffset] = 0xf0;  // 60 bytes, 40 present
  auto v = TcpView::parse(s.bytes);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kTruncated);
  EXPECT_EQ(v.error().message, "tcp: data offset 15 (60 bytes) exceeds the 40 bytes present");
}

TEST(TcpHeader, AnyFlippedHeaderOrPayloadBitIsABadChecksum) {
  const auto s = segment_of(kData);
  for (std::size_t i = 0; i < s.bytes.size(); ++i) {
    if (i == TcpView::kDataOffsetOffset) continue;  // would move the options
    if (i >= 20 && i < 32) continue;  // would change the options' meaning, not only the sum
    auto bad = s.bytes;
    bad[i] ^= 0x01;
    auto h = TcpHeader::parse(bad, s.source, s.destination);
    ASSERT_FALSE(h) << "byte " << i;
    EXPECT_EQ(h.error().code, Errc::kBadChecksum) << "byte " << i;
  }
  // A timestamp bit: still well-formed options, so the checksum catches it.
  auto bad = s.bytes;
  bad[30] ^= 0x80;
  auto h = TcpHeader::parse(bad, s.source, s.destination);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadChecksum);
}

TEST(TcpHeader, WrongAddressIsABadChecksum) {
  const auto s = segment_of(kSyn);
  auto h = TcpHeader::parse(s.bytes, Ipv4Address(10, 98, 0, 3), s.destination);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadChecksum);
  EXPECT_NE(h.error().message.find("0x1188"), std::string::npos) << h.error().message;
  // The view still parses, and from_view still gives the fields.
  auto v = TcpView::parse(s.bytes);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->checksum_valid(Ipv4Address(10, 98, 0, 3), s.destination));
  EXPECT_TRUE(TcpHeader::from_view(*v));
}

TEST(TcpHeader, MalformedOptionInSegmentIsMalformed) {
  auto s = segment_of(kSyn);
  s.bytes[21] = 1;  // MSS option length 1
  auto h = TcpHeader::parse(s.bytes, s.source, s.destination);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kMalformed);
  EXPECT_EQ(h.error().message,
            "tcp: MSS option (kind 2) at header offset 20 has length 1, less than 2");
  // The view checks lengths only; the options are the value type's business.
  EXPECT_TRUE(TcpView::parse(s.bytes));
}

TEST(TcpOptions, MalformedOptions) {
  struct Case {
    const char* bytes;
    const char* why;
  };
  const Case cases[] = {
      {"02", "no length byte"},
      {"01 01 01 08", "no length byte after NOPs"},
      {"08 00 00 00", "length 0"},
      {"1e 01 00 00", "unknown kind, length 1"},
      {"02 04 05", "MSS runs past the end"},
      {"01 01 08 0a 00 00 00 01 00 00 00", "timestamps run past the end"},
      {"1e 08 00 00", "unknown kind runs past the end"},
      {"02 05 05 b4 00 00 00 00", "MSS length 5"},
      {"03 04 07 00", "window scale length 4"},
      {"04 03 00 00", "SACK-permitted length 3"},
      {"08 08 00 00 00 01 00 00 00 00", "timestamps length 8"},
      {"05 02 00 00", "SACK without blocks"},
      {"05 09 00 00 00 01 00 00 00 02 00 00", "SACK length 9"},
  };
  for (const auto& c : cases) {
    auto o = parse_options(c.bytes);
    ASSERT_FALSE(o) << c.why;
    EXPECT_EQ(o.error().code, Errc::kMalformed) << c.why;
  }
}

TEST(TcpOptions, MalformedMessagesSayWhere) {
  auto o = parse_options("01 01 02 04 05");
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message,
            "tcp: MSS option (kind 2) at header offset 22 with length 4 runs past the 25-byte "
            "header");
  o = parse_options("01 03 04 0a 00");
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message,
            "tcp: window scale option (kind 3) at header offset 21 has length 4, want 3");
}

TEST(TcpOptions, UnknownKindsAreSkippedByLength) {
  // MPTCP (30) with 4 bytes, then TCP-AO (29) with 6, then MSS.
  auto o = parse_options("1e 04 ff ff 1d 06 ff ff ff ff 02 04 05 78");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->mss, 1400);
  EXPECT_FALSE(o->window_scale);
  EXPECT_FALSE(o->sack_permitted);
  EXPECT_FALSE(o->timestamps);
}

TEST(TcpOptions, EndOfListStopsParsing) {
  // After EOL comes padding, even if it looks like a malformed option.
  auto o = parse_options("02 04 05 b4 00 08 01 ff");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->mss, 1460);
  EXPECT_FALSE(o->timestamps);
  o = parse_options("");
  ASSERT_TRUE(o);
  EXPECT_EQ(*o, TcpOptions{});
}

TEST(TcpOptions, LastOfARepeatedKindWins) {
  auto o = parse_options("02 04 05 b4 02 04 02 18");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->mss, 536);
}

// Hand-built, not captured (a capture needs loss to make Linux send SACK): the layout follows
// tcp_options_write, "nop, nop, TS" then "nop, nop, sack".
TEST(TcpOptions, SackBlocksRoundTrip) {
  const auto bytes = hex(
      "01 01 08 0a 00 00 00 07 00 00 00 09"
      "01 01 05 12 00 00 03 e8 00 00 07 d0 00 00 0b b8 00 00 0f a0");
  auto o = TcpOptions::parse(bytes);
  ASSERT_TRUE(o) << o.error().message;
  ASSERT_EQ(o->sack_block_count, 2);
  EXPECT_EQ(o->sack_blocks[0], (TcpSackBlock{.left_edge = 1000, .right_edge = 2000}));
  EXPECT_EQ(o->sack_blocks[1], (TcpSackBlock{.left_edge = 3000, .right_edge = 4000}));
  EXPECT_EQ(o->timestamps, (TcpTimestamps{.value = 7, .echo_reply = 9}));
  ASSERT_EQ(o->length(), bytes.size());
  std::vector<std::uint8_t> out(o->length());
  o->emit(out);
  EXPECT_EQ(out, bytes);

  // Four blocks fill a header without timestamps: 4 + 32 = 36 bytes of options.
  TcpOptions four;
  four.sack_block_count = 4;
  for (std::uint32_t b = 0; b < 4; ++b) four.sack_blocks[b] = {b * 10, b * 10 + 5};
  std::vector<std::uint8_t> out4(four.length());
  ASSERT_EQ(out4.size(), 36u);
  four.emit(out4);
  auto back = TcpOptions::parse(out4);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, four);
}

TEST(TcpOptions, LinuxLayoutOfEachOption) {
  // Each option alone, then a SYN without timestamps (tcp_timestamps=0): "mss, nop, nop, sackOK,
  // nop, wscale".
  struct Case {
    TcpOptions options;
    const char* bytes;
  };
  const Case cases[] = {
      {{.mss = 1460}, "02 04 05 b4"},
      {{.sack_permitted = true}, "01 01 04 02"},
      {{.window_scale = 7}, "01 03 03 07"},
      {{.timestamps = TcpTimestamps{1, 2}}, "01 01 08 0a 00 00 00 01 00 00 00 02"},
      {{.mss = 1460, .window_scale = 7, .sack_permitted = true},
       "02 04 05 b4 01 01 04 02 01 03 03 07"},
  };
  for (const auto& c : cases) {
    const auto want = hex(c.bytes);
    std::vector<std::uint8_t> out(c.options.length());
    ASSERT_EQ(out.size(), want.size()) << c.bytes;
    c.options.emit(out);
    EXPECT_EQ(out, want) << c.bytes;
    auto back = TcpOptions::parse(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, c.options) << c.bytes;
  }
}

TEST(TcpHeader, ReservedBitsAndUrgentPointerRoundTrip) {
  TcpHeader h{.source_port = 1,
              .destination_port = 2,
              .sequence_number = 0xfedcba98,
              .acknowledgment_number = 0x01234567,
              .reserved = 0x0a,
              .flags = TcpFlags(0xff),
              .window = 0xbeef,
              .urgent_pointer = 3};
  std::vector<std::uint8_t> out(h.header_length() + 5, 0x42);
  h.emit(out, kClient, kServer);
  EXPECT_EQ(out[TcpView::kDataOffsetOffset], 0x5a);
  auto back = TcpHeader::parse(out, kClient, kServer);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, h);
  EXPECT_EQ(back->flags.to_string(), "FSRP.UEW");
}

TEST(TcpFlags, PrintLikeTcpdump) {
  EXPECT_EQ(TcpFlags().to_string(), "none");
  EXPECT_EQ(TcpFlags(TcpFlag::kAck).to_string(), ".");
  EXPECT_EQ((TcpFlag::kFin | TcpFlag::kAck).to_string(), "F.");
  EXPECT_EQ((TcpFlag::kRst | TcpFlag::kAck).to_string(), "R.");
  EXPECT_EQ(TcpFlags(TcpFlag::kSyn).bits(), 0x02);
  EXPECT_EQ((TcpFlag::kSyn | TcpFlag::kEce | TcpFlag::kCwr).bits(), 0xc2);
}

TEST(TcpHeaderDeathTest, EmitIntoTooSmallSegmentAborts) {
  TcpHeader h;
  h.options.mss = 1460;
  std::vector<std::uint8_t> out(20);
  EXPECT_DEATH(h.emit(out, kClient, kServer), "segment shorter than its header");
}

}  // namespace
}  // namespace calisim::wire
