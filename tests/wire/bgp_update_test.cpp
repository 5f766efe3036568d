// BGP UPDATE: golden bytes derived by hand from RFC 4271 §4.3 (each field is spelled out in the
// comment above the bytes), round trips, packing many prefixes into maximum-size messages, the
// End-of-RIB marker (RFC 4724 §2), AS4 handling (RFC 6793 §4.2), and every malformed case of
// RFC 4271 §6.3 / RFC 7606 with the action and NOTIFICATION it must draw.

#include <calisim/wire/bgp.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace calisim::wire::bgp {
namespace {

using test::hex;
using ByteVector = std::vector<std::uint8_t>;

constexpr const char* kMarker = "ffffffff ffffffff ffffffff ffffffff";

ByteVector msg(std::string_view rest) {
  return hex(std::string(kMarker) + std::string(rest));
}

// Bytes as hex, so that a failed comparison shows where two messages differ.
std::string hex_of(Bytes bytes) {
  std::string out;
  for (std::uint8_t b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

Ipv4Prefix prefix(std::string_view text) {
  return *Ipv4Prefix::parse(text);
}

// An UPDATE around hand-written fields; the three lengths are computed.
ByteVector update_bytes(std::string_view withdrawn, std::string_view attrs, std::string_view nlri) {
  const ByteVector w = hex(withdrawn), a = hex(attrs), n = hex(nlri);
  ByteVector out = hex(kMarker);
  const std::size_t length = 23 + w.size() + a.size() + n.size();
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length));
  out.push_back(2);
  out.push_back(static_cast<std::uint8_t>(w.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(w.size()));
  out.insert(out.end(), w.begin(), w.end());
  out.push_back(static_cast<std::uint8_t>(a.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(a.size()));
  out.insert(out.end(), a.begin(), a.end());
  out.insert(out.end(), n.begin(), n.end());
  return out;
}

CodecContext two_octet() {
  CodecContext ctx;
  ctx.four_octet_as = false;
  return ctx;
}
CodecContext external() {
  CodecContext ctx;
  ctx.internal = false;
  return ctx;
}

// Calico's iBGP announcement of a block: ORIGIN IGP, empty AS_PATH, NEXT_HOP, LOCAL_PREF 100.
constexpr const char* kOrigin = "40 01 01 00";
constexpr const char* kEmptyAsPath = "40 02 00";
constexpr const char* kNextHop = "40 03 04 0a000001";
constexpr const char* kLocalPref = "40 05 04 00000064";
constexpr const char* kBlock = "18 c0a800";  // 192.168.0.0/24

std::string base_attrs_with(std::string_view replace_type, std::string_view with) {
  // The four base attributes, with the one whose type byte is `replace_type` swapped for `with`.
  std::string out;
  for (const char* a : {kOrigin, kEmptyAsPath, kNextHop, kLocalPref}) {
    const std::string attr(a);
    out += (attr.substr(3, 2) == replace_type) ? std::string(with) : attr;
    out += ' ';
  }
  return out;
}

UpdateDecodeResult decode(std::string_view attrs, std::string_view nlri = kBlock,
                          std::string_view withdrawn = "", const CodecContext& ctx = {}) {
  static std::deque<ByteVector> storage;  // the views in the results point here
  storage.push_back(update_bytes(withdrawn, attrs, nlri));
  return decode_update(storage.back(), ctx);
}

// ---- golden encodings
// -------------------------------------------------------------------------------

// ORIGIN IGP, AS_PATH AS_SEQUENCE {64512 64513} (4-octet), NEXT_HOP 10.0.0.1, LOCAL_PREF 100;
// NLRI 192.168.0.0/26, 192.168.1.64/26, 10.0.0.0/8, 0.0.0.0/0, 10.1.2.3/32.
//   total length 23 + 31 + 18 = 72 (0x48); withdrawn length 0; attributes length 31 (0x1f):
//   40 01 01 00 | 40 02 0a 02 02 0000fc00 0000fc01 | 40 03 04 0a000001 | 40 05 04 00000064
//   NLRI: 1a c0a80000 | 1a c0a80140 | 08 0a | 00 | 20 0a010203
const char* kCalicoUpdate =
    "0048 02 0000 001f"
    "40 01 01 00"
    "40 02 0a 02 02 0000fc00 0000fc01"
    "40 03 04 0a000001"
    "40 05 04 00000064"
    "1a c0a80000 1a c0a80140 08 0a 00 20 0a010203";

Update calico_update() {
  Update u;
  u.attributes.origin = Origin::kIgp;
  u.attributes.as_path = AsPath::sequence({64512, 64513});
  u.attributes.next_hop = Ipv4Address(10, 0, 0, 1);
  u.attributes.local_pref = 100;
  u.nlri = {prefix("192.168.0.0/26"), prefix("192.168.1.64/26"), prefix("10.0.0.0/8"),
            prefix("0.0.0.0/0"), prefix("10.1.2.3/32")};
  return u;
}

TEST(BgpUpdate, EncodesCalicoAnnouncementAsTheRfcLaysItOut) {
  ByteVector out;
  auto r = encode_update(calico_update(), {}, out);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, 72u);
  EXPECT_EQ(hex_of(out), hex_of(msg(kCalicoUpdate)));
}

TEST(BgpUpdate, DecodesCalicoAnnouncement) {
  const ByteVector bytes = msg(kCalicoUpdate);
  const auto r = decode_update(bytes, {});
  ASSERT_FALSE(r.notification.has_value());
  const DecodedUpdate& u = r.update;
  EXPECT_EQ(u.action, UpdateAction::kNone);
  EXPECT_TRUE(u.errors.empty());
  EXPECT_TRUE(u.withdrawn.empty());
  EXPECT_EQ(u.path_attributes_length, 31);
  EXPECT_EQ(u.attributes.origin, Origin::kIgp);
  EXPECT_EQ(u.attributes.as_path->to_string(), "64512 64513");
  EXPECT_EQ(u.attributes.next_hop, Ipv4Address(10, 0, 0, 1));
  EXPECT_EQ(u.attributes.local_pref, 100u);
  ASSERT_EQ(u.nlri.size(), 5u);
  std::vector<std::string> got;
  for (const Ipv4Prefix& p : u.nlri) got.push_back(p.to_string());
  EXPECT_EQ(got, (std::vector<std::string>{"192.168.0.0/26", "192.168.1.64/26", "10.0.0.0/8",
                                           "0.0.0.0/0", "10.1.2.3/32"}));
  EXPECT_EQ(u.to_update(), calico_update());
  EXPECT_FALSE(u.end_of_rib().has_value());
}

// Every attribute calisim knows, 4-octet AS, in ascending type order, plus an unknown optional
// transitive one (type 99), and one withdrawn route:
//   withdrawn: 10 0a09 (10.9.0.0/16), length 3
//   ORIGIN INCOMPLETE           40 01 01 02
//   AS_PATH SEQ{65001 4200000001} SET{65010 65011}
//                               40 02 14 02 02 0000fde9 fa56ea01 01 02 0000fdf2 0000fdf3
//   NEXT_HOP 192.0.2.1          40 03 04 c0000201
//   MED 50                      80 04 04 00000032
//   LOCAL_PREF 200              40 05 04 000000c8
//   ATOMIC_AGGREGATE            40 06 00
//   AGGREGATOR 65001 192.0.2.9  c0 07 08 0000fde9 c0000209
//   COMMUNITIES 64512:100 NO_EXPORT   c0 08 08 fc000064 ffffff01
//   ORIGINATOR_ID 10.0.0.9      80 09 04 0a000009
//   CLUSTER_LIST 10.0.0.254     80 0a 04 0a0000fe
//   type 99                     c0 63 02 abcd
//   attributes length 92 (0x5c); NLRI 192.168.0.0/26, 192.168.2.0/24: 1a c0a80000 18 c0a802
//   total 19 + 2 + 3 + 2 + 92 + 9 = 127 (0x7f)
const char* kFullUpdate =
    "007f 02 0003 10 0a09 005c"
    "40 01 01 02"
    "40 02 14 02 02 0000fde9 fa56ea01 01 02 0000fdf2 0000fdf3"
    "40 03 04 c0000201"
    "80 04 04 00000032"
    "40 05 04 000000c8"
    "40 06 00"
    "c0 07 08 0000fde9 c0000209"
    "c0 08 08 fc000064 ffffff01"
    "80 09 04 0a000009"
    "80 0a 04 0a0000fe"
    "c0 63 02 abcd"
    "1a c0a80000 18 c0a802";

Update full_update() {
  Update u;
  u.withdrawn = {prefix("10.9.0.0/16")};
  PathAttributes& a = u.attributes;
  a.origin = Origin::kIncomplete;
  a.as_path = AsPath{{{AsPathSegmentType::kAsSequence, {65001, 4200000001u}},
                      {AsPathSegmentType::kAsSet, {65010, 65011}}}};
  a.next_hop = Ipv4Address(192, 0, 2, 1);
  a.multi_exit_disc = 50;
  a.local_pref = 200;
  a.atomic_aggregate = true;
  a.aggregator = Aggregator{65001, Ipv4Address(192, 0, 2, 9)};
  a.communities = {community(64512, 100), kCommunityNoExport};
  a.originator_id = Ipv4Address(10, 0, 0, 9);
  a.cluster_list = {Ipv4Address(10, 0, 0, 254)};
  a.unknown = {RawAttribute{0xc0, 99, {0xab, 0xcd}}};
  u.nlri = {prefix("192.168.0.0/26"), prefix("192.168.2.0/24")};
  return u;
}

TEST(BgpUpdate, EncodesEveryAttributeInTypeOrder) {
  ByteVector out;
  ASSERT_TRUE(encode_update(full_update(), {}, out).has_value());
  EXPECT_EQ(hex_of(out), hex_of(msg(kFullUpdate)));
}

TEST(BgpUpdate, DecodesEveryAttribute) {
  const ByteVector bytes = msg(kFullUpdate);
  const auto r = decode_update(bytes, {});
  ASSERT_FALSE(r.notification.has_value());
  EXPECT_TRUE(r.update.errors.empty()) << r.update.errors[0].reason;
  EXPECT_EQ(r.update.to_update(), full_update());
  EXPECT_EQ(r.update.attributes.as_path->to_string(), "65001 4200000001 {65010 65011}");
  EXPECT_EQ(r.update.attributes.as_path->path_length(), 3u);
  auto any = decode_message(bytes);
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(std::get<DecodedUpdate>(*any).withdrawn.to_vector(), full_update().withdrawn);
}

// The same route towards a 2-octet speaker (RFC 6793 §4.2.2): AS numbers above 65535 become
// AS_TRANS (0x5ba0) and the true values ride in AS4_PATH (17) and AS4_AGGREGATOR (18).
//   ORIGIN IGP                 40 01 01 00
//   AS_PATH SEQ{65001 23456}   40 02 06 02 02 fde9 5ba0
//   NEXT_HOP 192.0.2.1         40 03 04 c0000201
//   AGGREGATOR 23456 192.0.2.9 c0 07 06 5ba0 c0000209
//   AS4_PATH SEQ{65001 4200000001}  c0 11 0a 02 02 0000fde9 fa56ea01
//   AS4_AGGREGATOR 4200000001 192.0.2.9  c0 12 08 fa56ea01 c0000209
//   attributes 53 (0x35), NLRI 18 c0a802, total 23 + 53 + 4 = 80 (0x50)
const char* kTwoOctetUpdate =
    "0050 02 0000 0035"
    "40 01 01 00"
    "40 02 06 02 02 fde9 5ba0"
    "40 03 04 c0000201"
    "c0 07 06 5ba0 c0000209"
    "c0 11 0a 02 02 0000fde9 fa56ea01"
    "c0 12 08 fa56ea01 c0000209"
    "18 c0a802";

Update two_octet_update() {
  Update u;
  u.attributes.origin = Origin::kIgp;
  u.attributes.as_path = AsPath::sequence({65001, 4200000001u});
  u.attributes.next_hop = Ipv4Address(192, 0, 2, 1);
  u.attributes.aggregator = Aggregator{4200000001u, Ipv4Address(192, 0, 2, 9)};
  u.nlri = {prefix("192.168.2.0/24")};
  return u;
}

TEST(BgpUpdateAs4, TwoOctetSessionUsesAsTransAndAs4Attributes) {
  ByteVector out;
  ASSERT_TRUE(encode_update(two_octet_update(), two_octet(), out).has_value());
  EXPECT_EQ(hex_of(out), hex_of(msg(kTwoOctetUpdate)));
  const auto r = decode_update(out, two_octet());
  EXPECT_TRUE(r.update.errors.empty());
  EXPECT_EQ(r.update.to_update(), two_octet_update());  // true AS numbers rebuilt
}

TEST(BgpUpdateAs4, TwoOctetPathWithoutLargeAsHasNoAs4Path) {
  Update u = two_octet_update();
  u.attributes.as_path = AsPath::sequence({65001, 65002});
  u.attributes.aggregator.reset();
  ByteVector out;
  ASSERT_TRUE(encode_update(u, two_octet(), out).has_value());
  EXPECT_EQ(
      hex_of(out),
      hex_of(update_bytes("", "40010100 40 02 06 02 02 fde9 fdea 40 03 04 c0000201", "18 c0a802")));
}

TEST(BgpUpdateAs4, MergesAs4PathBehindPrependedAses) {
  // A 2-octet speaker prepended 65002: AS_PATH {65002 65001 23456}, AS4_PATH {65001 4200000001};
  // RFC 6793 §4.2.3 keeps the first 3 - 2 = 1 AS of AS_PATH.
  const auto r = decode(std::string(kOrigin) + "40 02 08 02 03 fdea fde9 5ba0" + kNextHop +
                            "c0 11 0a 02 02 0000fde9 fa56ea01",
                        kBlock, "", two_octet());
  EXPECT_TRUE(r.update.errors.empty());
  EXPECT_EQ(r.update.attributes.as_path->to_string(), "65002 65001 4200000001");
}

TEST(BgpUpdateAs4, IgnoresAs4PathLongerThanAsPath) {
  const auto r = decode(
      std::string(kOrigin) + "40 02 04 02 01 5ba0" + kNextHop + "c0 11 0a 02 02 0000fde9 fa56ea01",
      kBlock, "", two_octet());
  EXPECT_EQ(r.update.attributes.as_path->to_string(), "23456");
}

TEST(BgpUpdateAs4, IgnoresAs4AttributesBehindATwoOctetAggregator) {
  // AGGREGATOR AS 65005 is not AS_TRANS: AS4_PATH and AS4_AGGREGATOR are stale (§4.2.3).
  const auto r = decode(std::string(kOrigin) + "40 02 06 02 02 fde9 5ba0" + kNextHop +
                            "c0 07 06 fded c0000209 c0 11 0a 02 02 0000fde9 fa56ea01"
                            "c0 12 08 fa56ea01 c0000209",
                        kBlock, "", two_octet());
  EXPECT_TRUE(r.update.errors.empty());
  EXPECT_EQ(r.update.attributes.as_path->to_string(), "65001 23456");
  EXPECT_EQ(r.update.attributes.aggregator->as_number, 65005u);
}

TEST(BgpUpdateAs4, As4PathIsDiscardedBetweenFourOctetSpeakers) {
  const auto r = decode(base_attrs_with("", "") + "c0 11 06 02 01 0000fde9");
  EXPECT_EQ(r.update.action, UpdateAction::kAttributeDiscard);
  ASSERT_EQ(r.update.errors.size(), 1u);
  EXPECT_EQ(r.update.errors[0].attribute_type, 17);
  EXPECT_EQ(r.update.nlri.size(), 1u);
}

TEST(BgpUpdateAs4, MalformedAs4PathIsDiscarded) {
  // RFC 6793 §6: a malformed AS4_PATH is discarded; the AS_PATH stands.
  const auto r =
      decode(std::string(kOrigin) + "40 02 04 02 01 5ba0" + kNextHop + "c0 11 05 02 01 0000fd",
             kBlock, "", two_octet());
  EXPECT_EQ(r.update.action, UpdateAction::kAttributeDiscard);
  EXPECT_EQ(r.update.errors.at(0).subcode, UpdateErrorSubcode::kMalformedAsPath);
  EXPECT_EQ(r.update.attributes.as_path->to_string(), "23456");
}

// ---- round trips and special encodings
// ---------------------------------------------------------------

TEST(BgpUpdate, ExtendedLengthWhenAValueExceeds255Bytes) {
  Update u = calico_update();
  for (std::uint16_t i = 0; i < 100; ++i) u.attributes.communities.push_back(community(64512, i));
  ByteVector out;
  ASSERT_TRUE(encode_update(u, {}, out).has_value());
  // COMMUNITIES: flags 0xd0 (optional, transitive, extended length), type 8, length 400 = 0x0190.
  const ByteVector header = hex("d0 08 0190 fc000000 fc000001");
  EXPECT_NE(std::search(out.begin(), out.end(), header.begin(), header.end()), out.end());
  const auto r = decode_update(out, {});
  EXPECT_TRUE(r.update.errors.empty());
  EXPECT_EQ(r.update.to_update(), u);
}

TEST(BgpUpdate, ExtendedLengthFlagOnAShortValueIsAccepted) {
  const auto r = decode("50 01 0001 00 40 02 00 40 03 04 0a000001");
  EXPECT_TRUE(r.update.errors.empty());
  EXPECT_EQ(r.update.attributes.origin, Origin::kIgp);
}

TEST(BgpUpdate, LongAsSequenceIsSplitIntoSegmentsOf255) {
  std::vector<std::uint32_t> ases(300);
  for (std::size_t i = 0; i < ases.size(); ++i) ases[i] = 65000 + static_cast<std::uint32_t>(i);
  Update u = calico_update();
  u.attributes.as_path = AsPath::sequence(ases);
  ByteVector out;
  ASSERT_TRUE(encode_update(u, {}, out).has_value());
  const auto r = decode_update(out, {});
  EXPECT_TRUE(r.update.errors.empty());
  const AsPath& path = *r.update.attributes.as_path;
  ASSERT_EQ(path.segments.size(), 2u);
  EXPECT_EQ(path.segments[0].as_numbers.size(), 255u);
  EXPECT_EQ(path.segments[1].as_numbers.size(), 45u);
  EXPECT_EQ(path.path_length(), 300u);
}

TEST(BgpUpdate, UnknownOptionalTransitiveIsForwardedWithPartial) {
  // Type 99 (0xc0) is kept; type 100 optional non-transitive (0x80) is quietly ignored.
  const auto r = decode(base_attrs_with("", "") + "c0 63 02 abcd 80 64 01 00");
  EXPECT_TRUE(r.update.errors.empty());
  ASSERT_EQ(r.update.attributes.unknown.size(), 1u);
  PathAttributes forwarded = r.update.attributes;
  mark_unknown_partial(forwarded);
  EXPECT_EQ(forwarded.unknown[0].flags, 0xe0);
  ByteVector out;
  ASSERT_TRUE(encode_update({}, forwarded, r.update.nlri.to_vector(), {}, out).has_value());
  const ByteVector partial = hex("e0 63 02 abcd");
  EXPECT_NE(std::search(out.begin(), out.end(), partial.begin(), partial.end()), out.end());
}

TEST(BgpUpdate, HostBitsOfNlriAreIgnored) {
  // "The value of trailing bits is irrelevant" (§4.3): 10.1.2.255/23 comes out as 10.1.2.0/23.
  const auto r = decode(base_attrs_with("", ""), "17 0a0103");
  ASSERT_EQ(r.update.nlri.size(), 1u);
  EXPECT_EQ(*r.update.nlri.begin(), prefix("10.1.2.0/23"));
}

TEST(BgpUpdate, EncoderWritesPrefixesMasked) {
  Update u = calico_update();
  u.nlri = {Ipv4Prefix(Ipv4Address(10, 1, 3, 255), 23)};
  ByteVector out;
  ASSERT_TRUE(encode_update(u, {}, out).has_value());
  EXPECT_EQ(ByteVector(out.end() - 4, out.end()), hex("17 0a0102"));
}

TEST(BgpUpdate, TooLargeForOneMessageIsRefusedAndLeavesTheBufferAlone) {
  Update u = calico_update();
  u.nlri.assign(1000, prefix("10.0.0.0/32"));  // 5000 bytes of NLRI
  ByteVector out{1, 2, 3};
  auto r = encode_update(u, {}, out);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kOutOfRange);
  EXPECT_EQ(out, (ByteVector{1, 2, 3}));
  CodecContext extended;
  extended.max_message_length = kExtendedMaxMessageLength;
  EXPECT_TRUE(encode_update(u, extended, out).has_value());
}

// ---- packing many prefixes
// ----------------------------------------------------------------------------

std::vector<Ipv4Prefix> many_blocks(std::size_t n) {
  std::vector<Ipv4Prefix> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    // /26 blocks of 10.0.0.0/8, as Calico's IPAM hands them out; every fourth a /32.
    const auto v = static_cast<std::uint32_t>(0x0a000000u + (i << 6));
    out.emplace_back(Ipv4Address(v), i % 4 == 3 ? 32 : 26);
  }
  return out;
}

TEST(BgpUpdatePacking, HundredThousandPrefixesFillMaximumSizeMessages) {
  const auto prefixes = many_blocks(100000);
  const PathAttributes attrs = calico_update().attributes;
  ByteVector out;
  auto messages = encode_updates(prefixes, attrs, {}, out);
  ASSERT_TRUE(messages.has_value());

  MessageFramer framer;
  framer.push(out);
  std::size_t count = 0;
  std::size_t at = 0;
  while (true) {
    auto next = framer.next();
    ASSERT_TRUE(next.has_value());
    if (!*next) break;
    const Bytes m = **next;
    ++count;
    EXPECT_LE(m.size(), kMaxMessageLength);
    const auto r = decode_update(m, {});
    ASSERT_FALSE(r.notification.has_value());
    EXPECT_EQ(r.update.attributes, attrs);
    for (const Ipv4Prefix& p : r.update.nlri) {
      ASSERT_LT(at, prefixes.size());
      ASSERT_EQ(p, prefixes[at]) << at;
      ++at;
    }
    // Full: the next prefix would not have fitted.
    if (at < prefixes.size()) {
      EXPECT_GT(m.size() + encoded_prefix_length(prefixes[at]), kMaxMessageLength);
    }
  }
  EXPECT_EQ(at, prefixes.size());
  EXPECT_EQ(count, *messages);
  // 23 + 31 bytes of header and attributes leave 4042 for prefixes of 5 bytes: 808 per message.
  EXPECT_EQ(count, (100000 + 807) / 808);
}

TEST(BgpUpdatePacking, WithdrawalsAreSplitToo) {
  const auto prefixes = many_blocks(10000);
  ByteVector out;
  const std::size_t messages = encode_withdrawals(prefixes, {}, out);
  EXPECT_EQ(messages, (10000 + 813) / 814);  // (4096 - 23) / 5 = 814.6
  MessageFramer framer;
  framer.push(out);
  std::vector<Ipv4Prefix> got;
  for (auto next = framer.next(); next && *next; next = framer.next()) {
    const auto r = decode_update(**next, {});
    ASSERT_FALSE(r.notification.has_value());
    EXPECT_EQ(r.update.path_attributes_length, 0);
    for (const auto& p : r.update.withdrawn) got.push_back(p);
  }
  EXPECT_EQ(got, prefixes);
}

TEST(BgpUpdatePacking, PrefixesThatFit) {
  const std::vector<Ipv4Prefix> p = {prefix("10.0.0.0/8"), prefix("10.0.0.0/24"),
                                     prefix("10.0.0.0/32")};
  EXPECT_EQ(prefixes_that_fit(p, 1), 0u);
  EXPECT_EQ(prefixes_that_fit(p, 2), 1u);
  EXPECT_EQ(prefixes_that_fit(p, 6), 2u);
  EXPECT_EQ(prefixes_that_fit(p, 11), 3u);
}

TEST(BgpUpdatePacking, AttributesThatLeaveNoRoomAreRefused) {
  PathAttributes attrs = calico_update().attributes;
  attrs.communities.assign(1020, 1);  // 4080 bytes
  ByteVector out;
  auto r = encode_updates(many_blocks(3), attrs, {}, out);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(out.empty());
}

// ---- End-of-RIB
// --------------------------------------------------------------------------------------------

TEST(BgpEndOfRib, Ipv4IsAnEmptyUpdate) {
  ByteVector out;
  EXPECT_EQ(encode_end_of_rib(kIpv4Unicast, out), 23u);
  EXPECT_EQ(hex_of(out), hex_of(msg("0017 02 0000 0000")));
  const auto r = decode_update(out, {});
  EXPECT_EQ(r.update.end_of_rib(), kIpv4Unicast);
}

TEST(BgpEndOfRib, OtherFamiliesUseAnEmptyMpUnreach) {
  ByteVector out;
  encode_end_of_rib(AfiSafi{kAfiIpv6, kSafiUnicast}, out);
  // Attributes length 6: MP_UNREACH_NLRI flags 0x80, type 15, length 3, AFI 2, SAFI 1.
  EXPECT_EQ(hex_of(out), hex_of(msg("001d 02 0000 0006 80 0f 03 0002 01")));
  const auto r = decode_update(out, {});
  EXPECT_FALSE(r.notification.has_value());
  EXPECT_EQ(r.update.end_of_rib(), (AfiSafi{kAfiIpv6, kSafiUnicast}));
}

TEST(BgpEndOfRib, OrdinaryUpdatesAreNot) {
  EXPECT_FALSE(decode(base_attrs_with("", "")).update.end_of_rib().has_value());
  EXPECT_FALSE(decode("", "", "18 c0a800").update.end_of_rib().has_value());
  // Attributes that were all discarded do not make an End-of-RIB.
  EXPECT_FALSE(decode("40 06 01 00", "").update.end_of_rib().has_value());
}

// ---- MP_REACH_NLRI / MP_UNREACH_NLRI
// -------------------------------------------------------------------

// IPv4 unicast through MP_REACH_NLRI: AFI 1, SAFI 1, next hop length 4, 10.0.0.1, reserved,
// NLRI 192.168.1.0/24; attribute length 13 (0x0d).
constexpr const char* kMpReach = "80 0e 0d 0001 01 04 0a000001 00 18 c0a801";

TEST(BgpUpdateMp, Ipv4UnicastInMpReachNeedsNoNextHopAttribute) {
  const auto r = decode(std::string(kMpReach) + kOrigin + kEmptyAsPath + kLocalPref, "");
  EXPECT_TRUE(r.update.errors.empty()) << r.update.errors[0].reason;
  ASSERT_TRUE(r.update.attributes.mp_reach.has_value());
  EXPECT_EQ(r.update.attributes.mp_reach->family, kIpv4Unicast);
  EXPECT_EQ(r.update.attributes.mp_reach->next_hop, hex("0a000001"));
  EXPECT_EQ(r.update.attributes.mp_reach->nlri, hex("18 c0a801"));
  // And it round-trips, MP_REACH_NLRI first (RFC 7606 §5.1).
  ByteVector out;
  ASSERT_TRUE(encode_update(r.update.to_update(), {}, out).has_value());
  EXPECT_EQ(hex_of(out), hex_of(update_bytes(
                             "", std::string(kMpReach) + kOrigin + kEmptyAsPath + kLocalPref, "")));
}

// ---- malformed UPDATEs: session reset
// -------------------------------------------------------------------

void expect_reset(const UpdateDecodeResult& r, std::uint8_t subcode, std::string_view data = "") {
  ASSERT_TRUE(r.notification.has_value()) << "no NOTIFICATION";
  EXPECT_EQ(*r.notification, (Notification{3, subcode, hex(data)}));
  EXPECT_EQ(r.update.action, UpdateAction::kSessionReset);
  EXPECT_TRUE(r.update.nlri.empty());
  ASSERT_FALSE(r.update.errors.empty());
  EXPECT_EQ(r.update.errors.back().action, UpdateAction::kSessionReset);
}

TEST(BgpUpdateErrors, WithdrawnRoutesLengthRunningPastTheMessage) {
  // §6.3: Malformed Attribute List, no data.
  expect_reset(decode_update(msg("0017 02 0001 0000"), {}), 1);
  expect_reset(decode_update(msg("0018 02 0002 00 0000"), {}), 1);
}

TEST(BgpUpdateErrors, TotalAttributeLengthRunningPastTheMessage) {
  expect_reset(decode_update(msg("001b 02 0000 0005 40010100"), {}), 1);
}

TEST(BgpUpdateErrors, BadPrefixesAreInvalidNetworkField) {
  expect_reset(decode(base_attrs_with("", ""), "21 0a000001 00"), 10);  // /33
  expect_reset(decode(base_attrs_with("", ""), "18 c0a8"), 10);         // cut short
  expect_reset(decode("", "", "21 0a000001 00"), 10);                   // withdrawn /33
  expect_reset(decode("", "", "10 0a"), 10);                            // withdrawn cut short
}

TEST(BgpUpdateErrors, UnrecognizedWellKnownAttributeCarriesTheAttribute) {
  expect_reset(decode(base_attrs_with("", "") + "40 63 01 07"), 2, "40 63 01 07");
}

TEST(BgpUpdateErrors, RepeatedMpReachIsMalformedAttributeList) {
  // RFC 7606 §3 e.
  expect_reset(decode(std::string(kMpReach) + kMpReach + kOrigin + kEmptyAsPath, ""), 1);
  expect_reset(decode("80 0f 03 0001 01 80 0f 03 0001 01", ""), 1);
}

TEST(BgpUpdateErrors, MalformedMpReachResetsWithTheAttribute) {
  // Too short for AFI, SAFI, next hop length and reserved: Optional Attribute Error + attribute.
  expect_reset(decode(base_attrs_with("", "") + "80 0e 03 000101"), 9, "80 0e 03 000101");
  // Next hop length 9 runs past the attribute.
  expect_reset(decode(base_attrs_with("", "") + "80 0e 05 0001 01 09 00"), 9,
               "80 0e 05 0001 01 09 00");
  // IPv4 unicast next hop of 3 bytes.
  expect_reset(decode(base_attrs_with("", "") + "80 0e 08 0001 01 03 0a0000 00"), 9,
               "80 0e 08 0001 01 03 0a0000 00");
  // A /33 in its NLRI: Invalid Network Field.
  expect_reset(decode(base_attrs_with("", "") + "80 0e 0a 0001 01 04 0a000001 00 21"), 10);
  // Wrong flags (well-known): Attribute Flags Error with the attribute.
  expect_reset(decode(base_attrs_with("", "") + "40 0e 0d 0001 01 04 0a000001 00 18 c0a801"), 4,
               "40 0e 0d 0001 01 04 0a000001 00 18 c0a801");
}

TEST(BgpUpdateErrors, MalformedMpUnreachResets) {
  expect_reset(decode("80 0f 02 0001", ""), 9, "80 0f 02 0001");
  expect_reset(decode("80 0f 05 0001 01 21 0a", ""), 10);
}

TEST(BgpUpdateErrors, TreatAsWithdrawWithoutReachableNlriResets) {
  // RFC 7606 §5.2: a withdraw-only UPDATE with a bad ORIGIN cannot be handled by withdrawing.
  expect_reset(decode("40 01 01 09", "", "18 c0a800"), 1);
  // Also a framing error in an UPDATE with no NLRI.
  expect_reset(decode("40 01 05 00", ""), 1);
}

TEST(BgpUpdateErrors, DecodeMessageTurnsResetsIntoErrors) {
  const ByteVector bytes = update_bytes("", base_attrs_with("", "") + "40 63 01 07", kBlock);
  auto r = decode_message(bytes);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().notification, (Notification{3, 2, hex("40630107")}));
  EXPECT_NE(r.error().reason.find("unrecognized well-known attribute 99"), std::string::npos);
}

// ---- malformed UPDATEs: treat-as-withdraw
// ---------------------------------------------------------------

void expect_withdraw(const UpdateDecodeResult& r, UpdateErrorSubcode subcode, std::uint8_t type) {
  EXPECT_FALSE(r.notification.has_value());
  EXPECT_EQ(r.update.action, UpdateAction::kTreatAsWithdraw);
  ASSERT_EQ(r.update.errors.size(), 1u);
  EXPECT_EQ(r.update.errors[0].action, UpdateAction::kTreatAsWithdraw);
  EXPECT_EQ(r.update.errors[0].subcode, subcode) << r.update.errors[0].reason;
  EXPECT_EQ(r.update.errors[0].attribute_type, type);
  // The routes are still listed: the caller withdraws them.
  EXPECT_EQ(r.update.nlri.size(), 1u);
}

using S = UpdateErrorSubcode;

TEST(BgpUpdateErrors, MalformedOrigin) {
  expect_withdraw(decode(base_attrs_with("01", "40 01 01 03")), S::kInvalidOriginAttribute, 1);
  expect_withdraw(decode(base_attrs_with("01", "40 01 02 0000")), S::kAttributeLengthError, 1);
  expect_withdraw(decode(base_attrs_with("01", "40 01 00")), S::kAttributeLengthError, 1);
  // Optional bit on a well-known attribute (RFC 7606 §3 c).
  expect_withdraw(decode(base_attrs_with("01", "c0 01 01 00")), S::kAttributeFlagsError, 1);
  EXPECT_FALSE(decode(base_attrs_with("01", "40 01 01 03")).update.attributes.origin.has_value());
}

TEST(BgpUpdateErrors, MalformedAsPath) {
  // RFC 7606 §7.2: unknown segment type, overrun, zero-length segment, a lone byte left.
  expect_withdraw(decode(base_attrs_with("02", "40 02 06 05 01 0000fc01")), S::kMalformedAsPath, 2);
  expect_withdraw(decode(base_attrs_with("02", "40 02 06 02 02 0000fc01")), S::kMalformedAsPath, 2);
  expect_withdraw(decode(base_attrs_with("02", "40 02 02 02 00")), S::kMalformedAsPath, 2);
  expect_withdraw(decode(base_attrs_with("02", "40 02 07 02 01 0000fc01 02")), S::kMalformedAsPath,
                  2);
  // 2-octet session: 4 bytes are one AS_SEQUENCE of one AS, not two.
  expect_withdraw(decode(base_attrs_with("02", "40 02 04 02 02 fc01"), kBlock, "", two_octet()),
                  S::kMalformedAsPath, 2);
  // Confederation segments are understood.
  const auto confed = decode(base_attrs_with("02", "40 02 0c 03 01 0000fc01 02 01 0000fc02"));
  EXPECT_TRUE(confed.update.errors.empty());
  EXPECT_EQ(confed.update.attributes.as_path->to_string(), "(64513) 64514");
  EXPECT_EQ(confed.update.attributes.as_path->path_length(), 1u);
}

TEST(BgpUpdateErrors, MalformedNextHop) {
  expect_withdraw(decode(base_attrs_with("03", "40 03 05 0a00000100")), S::kAttributeLengthError,
                  3);
  expect_withdraw(decode(base_attrs_with("03", "40 03 04 00000000")), S::kInvalidNextHopAttribute,
                  3);
  expect_withdraw(decode(base_attrs_with("03", "40 03 04 e0000005")), S::kInvalidNextHopAttribute,
                  3);
  expect_withdraw(decode(base_attrs_with("03", "40 03 04 ffffffff")), S::kInvalidNextHopAttribute,
                  3);
  expect_withdraw(decode(base_attrs_with("03", "80 03 04 0a000001")), S::kAttributeFlagsError, 3);
}

TEST(BgpUpdateErrors, MalformedMedLocalPrefCommunitiesOriginatorClusterList) {
  const std::string base = base_attrs_with("", "");
  expect_withdraw(decode(base + "80 04 03 000001"), S::kAttributeLengthError, 4);
  expect_withdraw(decode(base + "40 04 04 00000001"), S::kAttributeFlagsError, 4);
  expect_withdraw(decode(base_attrs_with("05", "40 05 02 0064")), S::kAttributeLengthError, 5);
  expect_withdraw(decode(base + "c0 08 06 fc000064 ffff"), S::kAttributeLengthError, 8);
  expect_withdraw(decode(base + "c0 08 00"), S::kAttributeLengthError, 8);
  expect_withdraw(decode(base + "80 09 03 0a0000"), S::kAttributeLengthError, 9);
  expect_withdraw(decode(base + "80 0a 06 0a000001 0a00"), S::kAttributeLengthError, 10);
  expect_withdraw(decode(base + "80 0a 00"), S::kAttributeLengthError, 10);
}

TEST(BgpUpdateErrors, MissingWellKnownAttributes) {
  // RFC 7606 §3 d; the data a NOTIFICATION would carry is the type, reported per attribute.
  expect_withdraw(decode(std::string(kOrigin) + kEmptyAsPath + kLocalPref),
                  S::kMissingWellKnownAttribute, 3);
  expect_withdraw(decode(std::string(kEmptyAsPath) + kNextHop), S::kMissingWellKnownAttribute, 1);
  expect_withdraw(decode(std::string(kOrigin) + kNextHop), S::kMissingWellKnownAttribute, 2);
  const auto none = decode("");
  EXPECT_EQ(none.update.action, UpdateAction::kTreatAsWithdraw);
  EXPECT_EQ(none.update.errors.size(), 3u);
  // An attribute present but malformed is reported once, as malformed.
  expect_withdraw(decode(base_attrs_with("03", "40 03 03 0a0000")), S::kAttributeLengthError, 3);
}

TEST(BgpUpdateErrors, AttributeFramingErrorsAreTreatAsWithdraw) {
  // RFC 7606 §4: the last attribute runs past Total Path Attribute Length ...
  expect_withdraw(decode(base_attrs_with("", "") + "c0 08 08 fc000064"), S::kAttributeLengthError,
                  8);
  // ... or fewer bytes than an attribute header remain. The NLRI is still found.
  expect_withdraw(decode(base_attrs_with("", "") + "c0 08"), S::kMalformedAttributeList, 0);
  expect_withdraw(decode(base_attrs_with("", "") + "d0 08 00"), S::kMalformedAttributeList, 0);
}

// ---- malformed UPDATEs: attribute discard
// ---------------------------------------------------------------

void expect_discard(const UpdateDecodeResult& r, UpdateErrorSubcode subcode, std::uint8_t type) {
  EXPECT_FALSE(r.notification.has_value());
  EXPECT_EQ(r.update.action, UpdateAction::kAttributeDiscard);
  ASSERT_EQ(r.update.errors.size(), 1u);
  EXPECT_EQ(r.update.errors[0].action, UpdateAction::kAttributeDiscard);
  EXPECT_EQ(r.update.errors[0].subcode, subcode) << r.update.errors[0].reason;
  EXPECT_EQ(r.update.errors[0].attribute_type, type);
  EXPECT_EQ(r.update.nlri.size(), 1u);
  EXPECT_EQ(r.update.attributes.origin, Origin::kIgp);  // the rest stands
}

TEST(BgpUpdateErrors, MalformedAtomicAggregateAndAggregatorAreDiscarded) {
  const std::string base = base_attrs_with("", "");
  auto atomic = decode(base + "40 06 01 00");
  expect_discard(atomic, S::kAttributeLengthError, 6);
  EXPECT_FALSE(atomic.update.attributes.atomic_aggregate);
  // 4-octet session: AGGREGATOR is 8 bytes, so 6 is malformed; and the other way round.
  auto aggregator = decode(base + "c0 07 06 fc01 0a000001");
  expect_discard(aggregator, S::kAttributeLengthError, 7);
  EXPECT_FALSE(aggregator.update.attributes.aggregator.has_value());
  expect_discard(decode(base + "c0 07 08 0000fc01 0a000001", kBlock, "", two_octet()),
                 S::kAttributeLengthError, 7);
  expect_discard(decode(base + "40 07 08 0000fc01 0a000001"), S::kAttributeFlagsError, 7);
}

TEST(BgpUpdateErrors, RepeatedAttributesKeepTheFirst) {
  // RFC 7606 §3 g.
  const auto r = decode(base_attrs_with("", "") + "80 04 04 00000001 80 04 04 00000002");
  expect_discard(r, S::kMalformedAttributeList, 4);
  EXPECT_EQ(r.update.attributes.multi_exit_disc, 1u);
  const auto origin = decode(base_attrs_with("", "") + "40 01 01 01");
  expect_discard(origin, S::kMalformedAttributeList, 1);
}

TEST(BgpUpdateErrors, InternalOnlyAttributesFromAnExternalPeerAreDiscarded) {
  // RFC 7606 §7.5 (LOCAL_PREF); ORIGINATOR_ID and CLUSTER_LIST as BIRD does.
  auto r = decode(base_attrs_with("", ""), kBlock, "", external());
  expect_discard(r, S::kUnspecific, 5);
  EXPECT_FALSE(r.update.attributes.local_pref.has_value());
  auto rr = decode(base_attrs_with("05", "") + "80 09 04 0a000009 80 0a 04 0a0000fe", kBlock, "",
                   external());
  EXPECT_EQ(rr.update.action, UpdateAction::kAttributeDiscard);
  EXPECT_EQ(rr.update.errors.size(), 2u);
  EXPECT_FALSE(rr.update.attributes.originator_id.has_value());
  EXPECT_TRUE(rr.update.attributes.cluster_list.empty());
}

TEST(BgpUpdateErrors, StrongestActionWins) {
  // A discard and a treat-as-withdraw together: treat-as-withdraw.
  const auto r = decode(base_attrs_with("01", "40 01 01 07") + "40 06 01 00");
  EXPECT_EQ(r.update.action, UpdateAction::kTreatAsWithdraw);
  EXPECT_EQ(r.update.errors.size(), 2u);
  EXPECT_EQ(to_string(r.update.action), "treat-as-withdraw");
}

// ---- robustness
// --------------------------------------------------------------------------------------------

TEST(BgpUpdateErrors, EveryTruncationAndByteFlipDecodesWithoutCrashing) {
  const ByteVector good = msg(kFullUpdate);
  std::size_t resets = 0;
  for (std::size_t cut = kHeaderLength; cut < good.size(); ++cut) {
    ByteVector m(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    store_be16(m.data() + 16, static_cast<std::uint16_t>(cut));  // a consistent header
    const auto r = decode_update(m, {});
    if (r.notification) ++resets;
    EXPECT_EQ(r.notification.has_value(), r.update.action == UpdateAction::kSessionReset);
  }
  EXPECT_GT(resets, 0u);
  for (std::size_t at = kHeaderLength; at < good.size(); ++at) {
    for (std::uint8_t x : {0x01, 0x10, 0x80, 0xff}) {
      ByteVector m = good;
      m[at] ^= x;
      const auto r = decode_update(m, two_octet());
      EXPECT_EQ(r.notification.has_value(), r.update.action == UpdateAction::kSessionReset);
      for (const auto& p : r.update.nlri) EXPECT_LE(p.length(), 32);
    }
  }
}

TEST(BgpUpdateErrors, RandomBytesNeverCrash) {
  // Seeded noise with a valid header, and noise built from attribute-shaped pieces.
  std::mt19937 rng(7606);
  const auto byte = [&rng] { return static_cast<std::uint8_t>(rng() & 0xff); };
  std::size_t decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    ByteVector body;
    if (round % 2 == 0) {
      body.resize(rng() % 64 + 4);
      for (auto& b : body) b = byte();
      if (round % 4 == 0) {  // plausible lengths
        body[0] = 0;
        body[1] = static_cast<std::uint8_t>(rng() % 3);
      }
    } else {
      ByteVector attrs;
      const int n = static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) {
        const std::uint8_t flags =
            std::array<std::uint8_t, 5>{0x40, 0x80, 0xc0, 0x50, 0xe0}[rng() % 5];
        const auto type = static_cast<std::uint8_t>(rng() % 20);
        const std::size_t len = rng() % 12;
        attrs.push_back(flags);
        attrs.push_back(type);
        if (flags & kAttrExtendedLength) attrs.push_back(0);
        attrs.push_back(static_cast<std::uint8_t>(len + rng() % 2));
        for (std::size_t k = 0; k < len; ++k) attrs.push_back(byte());
      }
      body = {0, 0, static_cast<std::uint8_t>(attrs.size() >> 8),
              static_cast<std::uint8_t>(attrs.size())};
      body.insert(body.end(), attrs.begin(), attrs.end());
      for (std::size_t k = rng() % 3; k > 0; --k) {
        body.push_back(static_cast<std::uint8_t>(rng() % 34));
        for (int j = 0; j < 4; ++j) body.push_back(byte());
      }
    }
    ByteVector m = hex(kMarker);
    m.push_back(static_cast<std::uint8_t>((body.size() + 19) >> 8));
    m.push_back(static_cast<std::uint8_t>(body.size() + 19));
    m.push_back(2);
    m.insert(m.end(), body.begin(), body.end());
    const CodecContext ctx = round % 3 == 0 ? two_octet() : CodecContext{};
    const auto r = decode_update(m, ctx);
    ASSERT_EQ(r.notification.has_value(), r.update.action == UpdateAction::kSessionReset);
    if (!r.notification) {
      ++decoded;
      for (const auto& p : r.update.nlri) ASSERT_LE(p.length(), 32);
      // Whatever decoded re-encodes.
      ByteVector out;
      CodecContext big = ctx;
      big.max_message_length = kExtendedMaxMessageLength;
      ASSERT_TRUE(encode_update(r.update.to_update(), big, out).has_value());
    }
    auto any = decode_message(m, ctx);
    ASSERT_EQ(any.has_value(), !r.notification.has_value());
  }
  EXPECT_GT(decoded, 100u);
}

}  // namespace
}  // namespace calisim::wire::bgp
