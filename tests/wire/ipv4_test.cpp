#include <calisim/wire/ipv4.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <calisim/wire/checksum.hpp>

#include "test_util.hpp"

namespace calisim::wire {
namespace {

using test::hex;

// Golden datagrams (the IPv4 part of Ethernet frames) captured from Linux 6.18 with tcpdump -w on
// a veth in a network namespace, 2026-11-26. Topology: w1a 10.99.0.2 -- 10.99.0.1 w1r (router)
// 10.99.0.65 -- 10.99.0.66 w1b.

// `ping -c1 -s 24 10.99.0.1`: echo request, DF (ping sockets start as IP_PMTUDISC_WANT), TTL 64.
const std::vector<std::uint8_t> kEchoRequest =
    hex("45 00 00 34 0a e5 40 00 40 01 1b 1c 0a 63 00 02"
        "0a 63 00 01 08 00 bd 2f 16 08 00 01 0b d6 07 6b"
        "00 00 00 00 bd 35 08 00 00 00 00 00 10 11 12 13"
        "14 15 16 17");
// Its echo reply: the kernel clears DF on replies (linux.md §2.4).
const std::vector<std::uint8_t> kEchoReply =
    hex("45 00 00 34 0f e0 00 00 40 01 56 21 0a 63 00 01"
        "0a 63 00 02 00 00 c5 2f 16 08 00 01 0b d6 07 6b"
        "00 00 00 00 bd 35 08 00 00 00 00 00 10 11 12 13"
        "14 15 16 17");
// `ping -c1 -R -s 24 10.99.0.66`: IHL 15, 40 bytes of options (NOP, Record Route len 39 ptr 8).
const std::vector<std::uint8_t> kRecordRoute =
    hex("4f 00 00 5c 71 91 40 00 40 01 77 92 0a 63 00 02"
        "0a 63 00 42 01 07 27 08 0a 63 00 02 00 00 00 00"
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
        "00 00 00 00 00 00 00 00 00 00 00 00 08 00 ed 39"
        "16 16 00 01 0c d6 07 6b 00 00 00 00 8d 1d 07 00"
        "00 00 00 00 10 11 12 13 14 15 16 17");
// The reply to it, through the router: TTL 63, Record Route with five addresses (Linux rebuilt
// the option without the NOP), then zeros.
const std::vector<std::uint8_t> kRecordRouteReply =
    hex("4f 00 00 5c 4d d3 00 00 3f 01 38 69 0a 63 00 42"
        "0a 63 00 02 07 27 18 0a 63 00 02 0a 63 00 41 0a"
        "63 00 42 0a 63 00 42 0a 63 00 01 00 00 00 00 00"
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 f5 39"
        "16 16 00 01 0c d6 07 6b 00 00 00 00 8d 1d 07 00"
        "00 00 00 00 10 11 12 13 14 15 16 17");
// A first fragment (MF, offset 0) of a UDP datagram, written to a raw socket (IP_HDRINCL) by a
// test script; the kernel filled in the header checksum.
const std::vector<std::uint8_t> kFirstFragment =
    hex("45 00 00 2c 12 34 20 00 40 11 33 c5 0a 63 00 02"
        "0a 63 00 01 9c 40 00 09 00 28 00 00 00 01 02 03"
        "04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
// `ping -c1 -Q 0x2a -t 1 -s 24 10.99.0.66`: TOS 0x2a = DSCP 10 (AF11) + ECN 2 (ECT(0)), TTL 1.
const std::vector<std::uint8_t> kTosTtl1 =
    hex("45 2a 00 34 af 7a 40 00 01 01 b5 1b 0a 63 00 02"
        "0a 63 00 42 08 00 32 4d 22 ee 00 01 5f d7 07 6b"
        "00 00 00 00 ec 30 03 00 00 00 00 00 10 11 12 13"
        "14 15 16 17");
// An unconnected UDP send of "calisim-udp" (11 bytes) to 10.99.0.1:33434: 39 bytes in a 53-byte
// frame. (Its UDP checksum is only partial on the wire: veth checksum offload.)
const std::vector<std::uint8_t> kUdpSmall =
    hex("45 00 00 27 30 3c 40 00 40 11 f5 c1 0a 63 00 02"
        "0a 63 00 01 d4 f2 82 9a 00 13 14 ed 63 61 6c 69"
        "73 69 6d 2d 75 64 70");

// The second fragment of `ping -c1 -s 2000 -M dont 10.99.0.1` (MTU 1500): offset 1480 bytes
// (185 units), 548 bytes. The header is the captured one; the 528 data bytes are ping's fill
// pattern, which in the capture runs c0 c1 ... ff 00 01 ... cf (byte i = 0xc0 + i mod 256).
std::vector<std::uint8_t> second_fragment() {
  std::vector<std::uint8_t> d =
      hex("45 00 02 24 05 eb 00 b9 40 01 5d 6d 0a 63 00 02"
          "0a 63 00 01");
  for (int i = 0; i < 528; ++i) d.push_back(static_cast<std::uint8_t>(0xc0 + i));
  return d;
}

std::vector<std::vector<std::uint8_t>> all_goldens() {
  return {kEchoRequest,   kEchoReply, kRecordRoute, kRecordRouteReply,
          kFirstFragment, kTosTtl1,   kUdpSmall,    second_fragment()};
}

std::vector<std::uint8_t> emitted(const Ipv4Header& h) {
  std::vector<std::uint8_t> out(h.header_length(), 0xee);
  h.emit(out);
  return out;
}

std::vector<std::uint8_t> header_of(const std::vector<std::uint8_t>& d) {
  const std::size_t ihl = (d[0] & 0x0fu) * 4u;
  return {d.begin(), d.begin() + static_cast<std::ptrdiff_t>(ihl)};
}

TEST(Ipv4View, ParsesCapturedEchoRequest) {
  auto v = Ipv4View::parse(kEchoRequest);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->version(), 4);
  EXPECT_EQ(v->header_length(), 20u);
  EXPECT_EQ(v->tos(), 0);
  EXPECT_EQ(v->total_length(), 52);
  EXPECT_EQ(v->identification(), 0x0ae5);
  EXPECT_FALSE(v->reserved_flag());
  EXPECT_TRUE(v->dont_fragment());
  EXPECT_FALSE(v->more_fragments());
  EXPECT_EQ(v->fragment_offset_bytes(), 0u);
  EXPECT_FALSE(v->is_fragment());
  EXPECT_EQ(v->ttl(), 64);
  EXPECT_EQ(v->protocol(), IpProtocol::kIcmp);
  EXPECT_EQ(v->checksum(), 0x1b1c);
  EXPECT_TRUE(v->checksum_valid());
  EXPECT_EQ(v->source(), Ipv4Address(10, 99, 0, 2));
  EXPECT_EQ(v->destination(), Ipv4Address(10, 99, 0, 1));
  EXPECT_TRUE(v->options().empty());
  EXPECT_EQ(v->header().size(), 20u);
  ASSERT_EQ(v->payload().size(), 32u);
  EXPECT_EQ(v->payload().data(), kEchoRequest.data() + 20);
  EXPECT_EQ(v->payload()[0], 8);  // ICMP echo request
}

TEST(Ipv4View, ParsesCapturedEchoReply) {
  auto v = Ipv4View::parse(kEchoReply);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->identification(), 0x0fe0);
  EXPECT_FALSE(v->dont_fragment());
  EXPECT_EQ(v->checksum(), 0x5621);
  EXPECT_TRUE(v->checksum_valid());
  EXPECT_EQ(v->source(), Ipv4Address(10, 99, 0, 1));
  EXPECT_EQ(v->destination(), Ipv4Address(10, 99, 0, 2));
}

TEST(Ipv4View, SkipsOptionsUsingIhl) {
  auto v = Ipv4View::parse(kRecordRoute);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->header_length(), 60u);
  EXPECT_EQ(v->total_length(), 92);
  ASSERT_EQ(v->options().size(), 40u);
  EXPECT_EQ(v->options()[0], 0x01);  // NOP
  EXPECT_EQ(v->options()[1], 0x07);  // Record Route (RFC 791 §3.1)
  EXPECT_EQ(v->options()[2], 39);    // its length
  EXPECT_EQ(v->options()[3], 8);     // pointer: one address already recorded
  ASSERT_EQ(v->payload().size(), 32u);
  EXPECT_EQ(v->payload()[0], 8);  // the ICMP echo starts right after the options
  EXPECT_TRUE(v->checksum_valid());
  auto reply = Ipv4View::parse(kRecordRouteReply);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->ttl(), 63);
  EXPECT_EQ(reply->options()[0], 0x07);  // Record Route, without the request's leading NOP
  EXPECT_EQ(reply->options()[2], 24);    // pointer: five addresses recorded
  EXPECT_EQ(reply->payload()[0], 0);     // echo reply
}

TEST(Ipv4View, DecodesFragmentFields) {
  auto first = Ipv4View::parse(kFirstFragment);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->more_fragments());
  EXPECT_FALSE(first->dont_fragment());
  EXPECT_EQ(first->fragment_offset_bytes(), 0u);
  EXPECT_TRUE(first->is_fragment());
  EXPECT_EQ(first->protocol(), IpProtocol::kUdp);
  EXPECT_EQ(first->identification(), 0x1234);

  const auto second_bytes = second_fragment();
  auto second = Ipv4View::parse(second_bytes);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->checksum_valid());
  EXPECT_FALSE(second->more_fragments());
  EXPECT_EQ(second->fragment_offset_bytes(), 1480u);  // wire value 185 (0x00b9) * 8
  EXPECT_TRUE(second->is_fragment());
  EXPECT_EQ(second->payload().size(), 528u);
}

TEST(Ipv4View, SplitsTosIntoDscpAndEcn) {
  auto v = Ipv4View::parse(kTosTtl1);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->tos(), 0x2a);
  EXPECT_EQ(v->dscp(), 10);
  EXPECT_EQ(v->ecn(), 2);
  EXPECT_EQ(v->ttl(), 1);
}

TEST(Ipv4View, ExcludesLinkPaddingAfterTotalLength) {
  // The captured 53-byte UDP frame as a physical NIC would pad it to 60 bytes: 7 zero bytes
  // after the 39-byte datagram (padding made here; veth does not pad).
  std::vector<std::uint8_t> padded = kUdpSmall;
  padded.resize(padded.size() + 7, 0);
  auto v = Ipv4View::parse(padded);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->datagram().size(), 39u);
  EXPECT_EQ(v->payload().size(), 19u);  // UDP header 8 + "calisim-udp"
  EXPECT_EQ(v->payload().back(), 'p');
}

TEST(Ipv4View, EveryTruncationIsAnError) {
  for (const auto& golden : all_goldens()) {
    for (std::size_t n = 0; n < golden.size(); ++n) {
      auto v = Ipv4View::parse(Bytes(golden).first(n));
      ASSERT_FALSE(v.has_value()) << "accepted " << n << " of " << golden.size() << " bytes";
      EXPECT_EQ(v.error().code, Errc::kTruncated) << n;
      EXPECT_FALSE(Ipv4Header::parse(Bytes(golden).first(n)).has_value()) << n;
    }
  }
}

// The error Ipv4View::parse gives for `d` with byte `offset` set to `value`, if any.
std::optional<Error> parse_error_with(std::vector<std::uint8_t> d, std::size_t offset,
                                      std::uint8_t value) {
  d[offset] = value;
  auto v = Ipv4View::parse(d);
  if (v) return std::nullopt;
  return v.error();
}

TEST(Ipv4View, RejectsBadVersion) {
  for (std::uint8_t first : {0x05, 0x35, 0x55, 0x65, 0xf5}) {
    auto error = parse_error_with(kEchoRequest, 0, first);
    ASSERT_TRUE(error.has_value()) << int{first};
    EXPECT_EQ(error->code, Errc::kMalformed) << int{first};
    EXPECT_NE(error->message.find("version"), std::string::npos) << error->message;
  }
}

TEST(Ipv4View, RejectsIhlBelowFive) {
  for (std::uint8_t first : {0x40, 0x41, 0x44}) {
    auto error = parse_error_with(kEchoRequest, 0, first);
    ASSERT_TRUE(error.has_value()) << int{first};
    EXPECT_EQ(error->code, Errc::kMalformed) << int{first};
    EXPECT_NE(error->message.find("IHL"), std::string::npos) << error->message;
  }
}

TEST(Ipv4View, RejectsHeaderLongerThanInput) {
  std::vector<std::uint8_t> d = kEchoRequest;
  d.resize(40);
  d[0] = 0x4f;  // 60-byte header claimed, 40 bytes present
  auto v = Ipv4View::parse(d);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, Errc::kTruncated);
  EXPECT_NE(v.error().message.find("60"), std::string::npos) << v.error().message;
}

TEST(Ipv4View, RejectsInconsistentTotalLength) {
  // Shorter than the header: malformed, whatever the input size.
  auto error = parse_error_with(kRecordRoute, 3, 40);  // total 40 < IHL 15 * 4
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, Errc::kMalformed);
  error = parse_error_with(kEchoRequest, 3, 19);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, Errc::kMalformed);
  // Longer than the input: truncated, with both numbers in the message.
  error = parse_error_with(kEchoRequest, 3, 60);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, Errc::kTruncated);
  EXPECT_EQ(error->message, "ipv4: total length 60 exceeds the 52 bytes present");
  // Exactly the header: a datagram with no payload is fine (but the checksum no longer holds).
  std::vector<std::uint8_t> d = kEchoRequest;
  d[3] = 20;
  auto v = Ipv4View::parse(d);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->payload().empty());
  EXPECT_FALSE(v->checksum_valid());
}

TEST(Ipv4Header, ParseGivesCapturedFields) {
  auto h = Ipv4Header::parse(kTosTtl1);
  ASSERT_TRUE(h.has_value()) << h.error().message;
  EXPECT_EQ(h->tos, 0x2a);
  EXPECT_EQ(h->dscp(), 10);
  EXPECT_EQ(h->ecn(), 2);
  EXPECT_EQ(h->total_length, 52);
  EXPECT_EQ(h->identification, 0xaf7a);
  EXPECT_TRUE(h->dont_fragment);
  EXPECT_FALSE(h->more_fragments);
  EXPECT_FALSE(h->reserved_flag);
  EXPECT_EQ(h->fragment_offset_bytes, 0u);
  EXPECT_EQ(h->ttl, 1);
  EXPECT_EQ(h->protocol, IpProtocol::kIcmp);
  EXPECT_EQ(h->source, Ipv4Address(10, 99, 0, 2));
  EXPECT_EQ(h->destination, Ipv4Address(10, 99, 0, 66));
  EXPECT_EQ(h->options_length, 0);
  EXPECT_EQ(h->header_length(), 20u);
  EXPECT_EQ(h->payload_length(), 32u);
}

TEST(Ipv4Header, EmitFromFieldsReproducesCaptures) {
  Ipv4Header h;
  h.tos = 0;
  h.total_length = 52;
  h.identification = 0x0ae5;
  h.dont_fragment = true;
  h.ttl = 64;
  h.protocol = IpProtocol::kIcmp;
  h.source = Ipv4Address(10, 99, 0, 2);
  h.destination = Ipv4Address(10, 99, 0, 1);
  EXPECT_EQ(emitted(h), header_of(kEchoRequest));

  Ipv4Header frag;
  frag.total_length = 548;
  frag.identification = 0x05eb;
  frag.fragment_offset_bytes = 1480;
  frag.ttl = 64;
  frag.protocol = IpProtocol::kIcmp;
  frag.source = Ipv4Address(10, 99, 0, 2);
  frag.destination = Ipv4Address(10, 99, 0, 1);
  EXPECT_EQ(emitted(frag), header_of(second_fragment()));

  Ipv4Header rr = h;
  rr.total_length = 92;
  rr.identification = 0x7191;
  rr.destination = Ipv4Address(10, 99, 0, 66);
  rr.options_length = 40;
  const std::vector<std::uint8_t> rr_options = hex("01 07 27 08 0a 63 00 02");
  std::copy(rr_options.begin(), rr_options.end(), rr.options.begin());
  EXPECT_EQ(emitted(rr), header_of(kRecordRoute));
}

TEST(Ipv4Header, ParseEmitRoundTripOnEveryGolden) {
  for (const auto& golden : all_goldens()) {
    auto h = Ipv4Header::parse(golden);
    ASSERT_TRUE(h.has_value()) << h.error().message;
    EXPECT_EQ(emitted(*h), header_of(golden));
  }
}

TEST(Ipv4Header, EmitKeepsTheReservedFlag) {
  auto h = Ipv4Header::parse(kEchoReply);
  ASSERT_TRUE(h.has_value());
  h->reserved_flag = true;
  std::vector<std::uint8_t> whole = kEchoReply;
  h->emit(whole);
  EXPECT_EQ(whole[6], 0x80);
  auto again = Ipv4Header::parse(whole);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_TRUE(again->reserved_flag);
}

TEST(Ipv4Header, RejectsBadChecksum) {
  std::vector<std::uint8_t> d = kEchoRequest;
  d[11] ^= 0x01;
  auto view = Ipv4View::parse(d);
  ASSERT_TRUE(view.has_value());  // the view does not judge the checksum...
  EXPECT_FALSE(view->checksum_valid());
  auto h = Ipv4Header::parse(d);  // ...the value type does
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code, Errc::kBadChecksum);
  EXPECT_NE(h.error().message.find("0x1b1d"), std::string::npos) << h.error().message;
}

TEST(Ipv4Header, AnyFlippedHeaderBitFailsTheChecksum) {
  // Bytes 0 and 2-3 would fail the length checks first; every other header bit is covered.
  for (std::size_t offset = 1; offset < 60; ++offset) {
    if (offset == 2 || offset == 3) continue;
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<std::uint8_t> d = kRecordRoute;
      d[offset] ^= static_cast<std::uint8_t>(1u << bit);
      auto h = Ipv4Header::parse(d);
      ASSERT_FALSE(h.has_value()) << offset << "." << bit;
      EXPECT_EQ(h.error().code, Errc::kBadChecksum) << offset << "." << bit;
    }
  }
}

TEST(Ipv4View, ParseQuotedAcceptsACutDatagram) {
  const Bytes cut = Bytes(kRecordRoute).first(68);  // header + 8 bytes, as RFC 792 quotes
  EXPECT_FALSE(Ipv4View::parse(cut).has_value());
  auto v = Ipv4View::parse_quoted(cut);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->total_length(), 92);  // what the original said
  EXPECT_EQ(v->payload().size(), 8u);
  EXPECT_TRUE(v->checksum_valid());
  // The header itself must still be whole and consistent.
  auto short_header = Ipv4View::parse_quoted(Bytes(kRecordRoute).first(59));
  ASSERT_FALSE(short_header.has_value());
  EXPECT_EQ(short_header.error().code, Errc::kTruncated);
  std::vector<std::uint8_t> bad_version(cut.begin(), cut.end());
  bad_version[0] = 0x6f;
  EXPECT_FALSE(Ipv4View::parse_quoted(bad_version).has_value());
  // A whole datagram followed by padding is still cut at total length.
  std::vector<std::uint8_t> padded = kUdpSmall;
  padded.resize(60, 0);
  auto whole = Ipv4View::parse_quoted(padded);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->datagram().size(), 39u);
}

TEST(Ipv4Checksum, HeaderChecksumMatchesCaptures) {
  for (const auto& golden : all_goldens()) {
    const std::uint16_t on_wire = load_be16(golden.data() + 10);
    EXPECT_EQ(ipv4_header_checksum(golden), on_wire);
    std::vector<std::uint8_t> d = golden;
    d[10] = 0xaa;  // ipv4_header_checksum ignores whatever the field holds
    d[11] = 0x55;
    EXPECT_EQ(ipv4_header_checksum(d), on_wire);
    ipv4_set_checksum(d);
    EXPECT_EQ(d, golden);
  }
}

// A 20-byte header with a correct checksum, for the TTL decrement tests.
std::vector<std::uint8_t> make_header(std::uint16_t identification, std::uint8_t ttl,
                                      std::uint8_t protocol, std::uint32_t source,
                                      std::uint32_t destination, std::uint8_t tos) {
  Ipv4Header h;
  h.tos = tos;
  h.total_length = 20;
  h.identification = identification;
  h.ttl = ttl;
  h.protocol = IpProtocol{protocol};
  h.source = Ipv4Address(source);
  h.destination = Ipv4Address(destination);
  return emitted(h);
}

// Decrements the TTL incrementally and checks the result against a full recompute.
void expect_decrement_matches_recompute(std::vector<std::uint8_t> header) {
  const std::uint8_t ttl = header[8];
  const std::uint16_t before = load_be16(header.data() + 10);
  std::vector<std::uint8_t> expected = header;
  expected[8] = static_cast<std::uint8_t>(ttl - 1);
  ipv4_set_checksum(expected);
  ipv4_decrement_ttl(header);
  ASSERT_EQ(header, expected) << "ttl " << int{ttl} << ", checksum before 0x" << std::hex << before;
}

TEST(Ipv4DecrementTtl, CapturedEchoRequest) {
  std::vector<std::uint8_t> d = kEchoRequest;
  ipv4_decrement_ttl(d);
  EXPECT_EQ(d[8], 63);
  // RFC 1624 eqn. 3 by hand: ~(~0x1b1c + ~0x4001 + 0x3f01) = 0x1c1c.
  EXPECT_EQ(load_be16(d.data() + 10), 0x1c1c);
  auto h = Ipv4Header::parse(d);
  ASSERT_TRUE(h.has_value()) << h.error().message;
  EXPECT_EQ(h->ttl, 63);
  // Only bytes 8 and 10-11 changed.
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i != 8 && i != 10 && i != 11) {
      EXPECT_EQ(d[i], kEchoRequest[i]) << i;
    }
  }
}

TEST(Ipv4DecrementTtl, WorksWithOptions) {
  std::vector<std::uint8_t> d = kRecordRoute;
  ipv4_decrement_ttl(d);
  EXPECT_EQ(d[8], 63);
  EXPECT_TRUE(Ipv4Header::parse(d).has_value());
}

TEST(Ipv4DecrementTtl, MatchesFullRecomputeForEveryTtlAndProtocol) {
  std::uint32_t state = 12345;  // a fixed LCG: reproducible headers
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state;
  };
  for (std::uint8_t protocol : {0, 1, 4, 6, 17, 255}) {
    for (int ttl = 1; ttl <= 255; ++ttl) {
      for (int i = 0; i < 16; ++i) {
        expect_decrement_matches_recompute(
            make_header(static_cast<std::uint16_t>(next() >> 16), static_cast<std::uint8_t>(ttl),
                        protocol, next(), next(), static_cast<std::uint8_t>(next() >> 24)));
      }
    }
  }
}

TEST(Ipv4DecrementTtl, MatchesFullRecomputeAtChecksumEdges) {
  // Every identification value, so the checksum before and after takes every value, including
  // 0x0000 (the ones' complement sum of the rest is 0xffff: RFC 1624 §3's "-0" case) and the
  // values where the update carries out of the high byte.
  int old_zero = 0;
  int new_zero = 0;
  int carry = 0;
  for (std::uint8_t ttl : {1, 2, 64, 128, 255}) {
    for (std::uint32_t id = 0; id <= 0xffff; ++id) {
      auto header = make_header(static_cast<std::uint16_t>(id), ttl, 1, 0x0a630002, 0x0a630001, 0);
      const std::uint16_t before = load_be16(header.data() + 10);
      old_zero += before == 0x0000;
      new_zero += before == 0xfeff;  // +0x0100 for the TTL word going down by 0x0100
      carry += before >= 0xff00;
      expect_decrement_matches_recompute(header);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  EXPECT_GT(old_zero, 0);
  EXPECT_GT(new_zero, 0);
  EXPECT_GT(carry, 0);
}

TEST(Ipv4HeaderDeathTest, EmitRejectsBrokenInvariants) {
  Ipv4Header h;
  h.total_length = 20;
  std::vector<std::uint8_t> out(60);
  Ipv4Header bad = h;
  bad.options_length = 3;
  bad.total_length = 60;
  EXPECT_DEATH(bad.emit(out), "multiple of 4");
  bad = h;
  bad.fragment_offset_bytes = 12;
  EXPECT_DEATH(bad.emit(out), "fragment offset");
  bad = h;
  bad.total_length = 19;
  EXPECT_DEATH(bad.emit(out), "total length");
  std::vector<std::uint8_t> small(19);
  EXPECT_DEATH(h.emit(small), "emit needs");
}

TEST(Ipv4DecrementTtlDeathTest, TtlZeroAborts) {
  std::vector<std::uint8_t> d = kEchoRequest;
  d[8] = 0;
  EXPECT_DEATH(ipv4_decrement_ttl(d), "TTL of 0");
}

}  // namespace
}  // namespace calisim::wire
