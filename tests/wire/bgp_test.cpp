// BGP messages other than UPDATE: header checks (RFC 4271 §6.1), OPEN and capabilities (§4.2,
// §6.2, RFC 5492), NOTIFICATION (§4.5) and its names, KEEPALIVE, ROUTE-REFRESH (RFC 2918,
// RFC 7313 §5) and the stream framer. Golden bytes are derived by hand from the RFC layouts; each
// is spelled out field by field in the comment above it.

#include <calisim/wire/bgp.hpp>

#include <cstdint>
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

// The NOTIFICATION a message draws, or a test failure if it decodes.
Notification error_of(const ByteVector& message, const CodecContext& ctx = {}) {
  auto r = decode_message(message, ctx);
  EXPECT_FALSE(r.has_value()) << "decoded, but an error was expected";
  if (r) return {};
  EXPECT_FALSE(r.error().reason.empty());
  return r.error().notification;
}

Notification n(std::uint8_t code, std::uint8_t subcode, std::string_view data = "") {
  return Notification{code, subcode, hex(data)};
}

// ---- header
// ---------------------------------------------------------------------------------------

TEST(BgpHeader, KeepaliveIsNineteenBytes) {
  ByteVector out;
  EXPECT_EQ(encode_keepalive(out), 19u);
  // RFC 4271 §4.4: marker, length 19, type 4.
  EXPECT_EQ(hex_of(out), hex_of(msg("0013 04")));
  auto m = decode_message(out);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(std::holds_alternative<Keepalive>(*m));
}

TEST(BgpHeader, BadMarkerIsConnectionNotSynchronized) {
  ByteVector m = msg("0013 04");
  m[7] = 0xfe;
  EXPECT_EQ(error_of(m), n(1, 1));  // §6.1: no data
}

TEST(BgpHeader, LengthOutsideRangeIsBadMessageLengthWithTheLengthField) {
  // Length field 18: below the header.
  EXPECT_EQ(error_of(msg("0012 04")), n(1, 2, "0012"));
  // Length field 4097: above the maximum (bytes given match it).
  ByteVector big = msg("1001 02");
  big.resize(4097, 0);
  EXPECT_EQ(error_of(big), n(1, 2, "1001"));
  // The same 4097 bytes pass the header once Extended Message allows 65535: the body is then
  // 4074 NLRI entries of 0.0.0.0/0 without attributes, so treat-as-withdraw.
  CodecContext extended;
  extended.max_message_length = kExtendedMaxMessageLength;
  auto m = decode_message(big, extended);
  ASSERT_TRUE(m.has_value()) << m.error().reason;
  EXPECT_EQ(std::get<DecodedUpdate>(*m).nlri.size(), 4074u);
  EXPECT_EQ(std::get<DecodedUpdate>(*m).action, UpdateAction::kTreatAsWithdraw);
}

TEST(BgpHeader, LengthFieldDisagreeingWithBytesGiven) {
  ByteVector m = msg("0014 04 00");         // length 20 but... a 20-byte KEEPALIVE
  EXPECT_EQ(error_of(m), n(1, 2, "0014"));  // §6.1: KEEPALIVE length must be 19
  ByteVector cut = msg("0017 05 0001");     // says 23, 21 given
  EXPECT_EQ(error_of(cut), n(1, 2, "0017"));
}

TEST(BgpHeader, UnknownTypeIsBadMessageTypeWithTheType) {
  EXPECT_EQ(error_of(msg("0013 09")), n(1, 3, "09"));
  EXPECT_EQ(error_of(msg("0013 00")), n(1, 3, "00"));
}

TEST(BgpHeader, PerTypeMinimumLengths) {
  // §6.1: OPEN below 29, UPDATE below 23, NOTIFICATION below 21.
  EXPECT_EQ(error_of(msg("001c 01 04 fc00 00f0 0a000001")), n(1, 2, "001c"));
  EXPECT_EQ(error_of(msg("0016 02 0000 00")), n(1, 2, "0016"));
  EXPECT_EQ(error_of(msg("0014 03 06")), n(1, 2, "0014"));
}

TEST(BgpHeader, TruncatedInputNeverCrashes) {
  const ByteVector full = msg("0017 05 0001 00 01");
  for (std::size_t i = 0; i < full.size(); ++i) {
    ByteVector cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(i));
    auto r = decode_message(cut);
    EXPECT_FALSE(r.has_value()) << i;
  }
}

// ---- OPEN
// -------------------------------------------------------------------------------------------

// Open::make(64512, 240, 10.0.0.1), RFC 4271 §4.2 + RFC 5492 §4:
//   length 45 (0x2d), type 1, version 4, My AS 0xfc00, hold 0x00f0, id 0a000001, opt len 16,
//   param type 2 len 14: cap 1 len 4 (AFI 1, reserved, SAFI 1), cap 2 len 0, cap 65 len 4 AS.
const char* kCalicoOpen =
    "002d 01 04 fc00 00f0 0a000001 10"
    "02 0e  01 04 0001 00 01  02 00  41 04 0000fc00";

TEST(BgpOpen, EncodesCalicoOpenAsTheRfcLaysItOut) {
  ByteVector out;
  auto r = encode_open(Open::make(64512, 240, Ipv4Address(10, 0, 0, 1)), out);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 45u);
  EXPECT_EQ(hex_of(out), hex_of(msg(kCalicoOpen)));
}

TEST(BgpOpen, DecodesCalicoOpen) {
  auto open = decode_open(msg(kCalicoOpen));
  ASSERT_TRUE(open.has_value()) << open.error().reason;
  EXPECT_EQ(open->version, 4);
  EXPECT_EQ(open->my_as, 64512);
  EXPECT_EQ(open->hold_time_s, 240);
  EXPECT_EQ(open->bgp_identifier, Ipv4Address(10, 0, 0, 1));
  EXPECT_EQ(open->as_number(), 64512u);
  EXPECT_TRUE(open->supports(kIpv4Unicast));
  EXPECT_FALSE(open->supports(AfiSafi{kAfiIpv6, kSafiUnicast}));
  EXPECT_TRUE(open->has_capability(CapabilityCode::kRouteRefresh));
  EXPECT_EQ(open->four_octet_as(), 64512u);
  EXPECT_EQ(open->graceful_restart(), nullptr);
  EXPECT_EQ(*open, Open::make(64512, 240, Ipv4Address(10, 0, 0, 1)));
}

// A 4-octet AS (4200000001 = 0xfa56ea01) with graceful restart and an unknown capability:
//   My AS is AS_TRANS 23456 = 0x5ba0 (RFC 6793 §4.2.1);
//   cap 64 len 6: flags R|N (0xc000) | time 120 (0x078) = c078, then AFI 1 SAFI 1 flags 0x80;
//   cap 73 (FQDN) len 3: 01 61 00 kept byte for byte.
const char* kAs4Open =
    "003a 01 04 5ba0 005a c0000201 1d"
    "02 1b  01 04 0001 00 01  02 00  41 04 fa56ea01"
    "40 06 c078 0001 01 80  49 03 016100";

Open as4_open() {
  Open open = Open::make(4200000001u, 90, Ipv4Address(192, 0, 2, 1));
  GracefulRestartCapability gr;
  gr.restart_state = true;
  gr.notification = true;
  gr.restart_time_s = 120;
  gr.families.push_back({kIpv4Unicast, true});
  open.capabilities.push_back(gr);
  open.capabilities.push_back(UnknownCapability{73, {0x01, 0x61, 0x00}});
  return open;
}

TEST(BgpOpen, FourOctetAsUsesAsTransAndKeepsUnknownCapabilities) {
  ByteVector out;
  ASSERT_TRUE(encode_open(as4_open(), out).has_value());
  EXPECT_EQ(hex_of(out), hex_of(msg(kAs4Open)));
  auto open = decode_open(out);
  ASSERT_TRUE(open.has_value()) << open.error().reason;
  EXPECT_EQ(open->my_as, kAsTrans);
  EXPECT_EQ(open->as_number(), 4200000001u);
  ASSERT_NE(open->graceful_restart(), nullptr);
  EXPECT_TRUE(open->graceful_restart()->restart_state);
  EXPECT_TRUE(open->graceful_restart()->notification);
  EXPECT_EQ(open->graceful_restart()->restart_time_s, 120);
  ASSERT_EQ(open->graceful_restart()->families.size(), 1u);
  EXPECT_TRUE(open->graceful_restart()->families[0].forwarding_preserved);
  ASSERT_EQ(open->capabilities.size(), 5u);
  EXPECT_EQ(std::get<UnknownCapability>(open->capabilities[4]),
            (UnknownCapability{73, {0x01, 0x61, 0x00}}));
  EXPECT_EQ(*open, as4_open());
}

TEST(BgpOpen, AcceptsCapabilitiesSpreadOverSeveralParameters) {
  // GoBGP style: one Capabilities parameter per capability.
  auto open =
      decode_open(msg("0031 01 04 fc01 005a 0a000002 14"
                      "02 06 01 04 0001 00 01"
                      "02 02 02 00"
                      "02 06 41 04 0000fc01"));
  ASSERT_TRUE(open.has_value()) << open.error().reason;
  EXPECT_EQ(open->capabilities.size(), 3u);
  EXPECT_EQ(open->as_number(), 64513u);
}

TEST(BgpOpen, AcceptsRfc9072ExtendedParameters) {
  // Opt len 255, then the marker type 255 and an extended length of 9, then one Capabilities
  // parameter with a 2-byte length of 6: cap 65, length 4, AS 64513.
  auto open =
      decode_open(msg("0029 01 04 fc01 005a 0a000002 ff"
                      "ff 0009  02 0006 41 04 0000fc01"));
  ASSERT_TRUE(open.has_value()) << open.error().reason;
  EXPECT_EQ(open->as_number(), 64513u);
}

TEST(BgpOpen, NoCapabilitiesMeansIpv4UnicastOnly) {
  auto open = decode_open(msg("001d 01 04 fc01 005a 0a000002 00"));
  ASSERT_TRUE(open.has_value());
  EXPECT_TRUE(open->capabilities.empty());
  EXPECT_TRUE(open->supports(kIpv4Unicast));
  EXPECT_EQ(open->as_number(), 64513u);
}

TEST(BgpOpenErrors, UnsupportedVersionCarriesOurVersionAsTwoBytes) {
  // §6.2: the data is a 2-octet version number.
  EXPECT_EQ(error_of(msg("001d 01 03 fc01 005a 0a000002 00")), n(2, 1, "0004"));
  EXPECT_EQ(error_of(msg("001d 01 05 fc01 005a 0a000002 00")), n(2, 1, "0004"));
}

TEST(BgpOpenErrors, HoldTimeOneOrTwoIsUnacceptable) {
  EXPECT_EQ(error_of(msg("001d 01 04 fc01 0001 0a000002 00")), n(2, 6, "0001"));
  EXPECT_EQ(error_of(msg("001d 01 04 fc01 0002 0a000002 00")), n(2, 6, "0002"));
  EXPECT_TRUE(decode_open(msg("001d 01 04 fc01 0000 0a000002 00")).has_value());
  EXPECT_TRUE(decode_open(msg("001d 01 04 fc01 0003 0a000002 00")).has_value());
}

TEST(BgpOpenErrors, ZeroIdentifierIsBadBgpIdentifier) {
  EXPECT_EQ(error_of(msg("001d 01 04 fc01 005a 00000000 00")), n(2, 3, "00000000"));
}

TEST(BgpOpenErrors, ZeroAsIsBadPeerAs) {
  // RFC 7607 §2.
  EXPECT_EQ(error_of(msg("001d 01 04 0000 005a 0a000002 00")), n(2, 2, "0000"));
  EXPECT_EQ(error_of(msg("0025 01 04 5ba0 005a 0a000002 08 02 06 41 04 00000000")),
            n(2, 2, "00000000"));
}

TEST(BgpOpenErrors, UnsupportedOptionalParameterCarriesTheParameter) {
  // Parameter type 1 (deprecated authentication), length 2.
  EXPECT_EQ(error_of(msg("0021 01 04 fc01 005a 0a000002 04 01 02 abcd")), n(2, 4, "0102abcd"));
}

TEST(BgpOpenErrors, MalformedParametersAndCapabilities) {
  // Parameter length 7 runs past the 6 bytes there.
  EXPECT_EQ(error_of(msg("0025 01 04 fc01 005a 0a000002 08 02 07 41 04 0000fc01")), n(2, 0));
  // Capability length 5 runs past its parameter.
  EXPECT_EQ(error_of(msg("0023 01 04 fc01 005a 0a000002 06 02 04 41 05 0000")), n(2, 0));
  // 4-octet AS capability of length 2; multiprotocol of length 3; route refresh of length 1;
  // graceful restart of length 3.
  EXPECT_EQ(error_of(msg("0021 01 04 fc01 005a 0a000002 04 02 02 41 00")).subcode, 0);
  EXPECT_EQ(error_of(msg("0023 01 04 fc01 005a 0a000002 06 02 04 41 02 fc01")), n(2, 0));
  EXPECT_EQ(error_of(msg("0024 01 04 fc01 005a 0a000002 07 02 05 01 03 000100")), n(2, 0));
  EXPECT_EQ(error_of(msg("0022 01 04 fc01 005a 0a000002 05 02 03 02 01 00")), n(2, 0));
  EXPECT_EQ(error_of(msg("0024 01 04 fc01 005a 0a000002 07 02 05 40 03 007800")), n(2, 0));
}

TEST(BgpOpenErrors, OptionalParametersLengthDisagreeingWithTheMessage) {
  // Opt len 4 in a 29-byte OPEN: BIRD calls it a bad message length.
  EXPECT_EQ(error_of(msg("001d 01 04 fc01 005a 0a000002 04")), n(1, 2, "001d"));
}

TEST(BgpOpenErrors, ValidateOpenChecksTheConfiguredPeer) {
  const Open peer = Open::make(64513, 240, Ipv4Address(10, 0, 0, 2));
  OpenExpectations expect{.peer_as = 64513, .local_identifier = Ipv4Address(10, 0, 0, 1)};
  EXPECT_FALSE(validate_open(peer, expect).has_value());

  expect.peer_as = 64512;
  auto bad_as = validate_open(peer, expect);
  ASSERT_TRUE(bad_as.has_value());
  // With capability 65 the AS goes out as 4 bytes (BIRD bgp_rx_open).
  EXPECT_EQ(bad_as->notification, n(2, 2, "0000fc01"));
  EXPECT_EQ(describe(bad_as->notification), "Bad peer AS: 64513");

  Open old = peer;
  old.capabilities.clear();
  EXPECT_EQ(validate_open(old, expect)->notification, n(2, 2, "fc01"));

  expect.peer_as = 64513;
  expect.local_identifier = Ipv4Address(10, 0, 0, 2);
  EXPECT_EQ(validate_open(peer, expect)->notification, n(2, 3, "0a000002"));
  expect.internal = false;  // eBGP: the same identifier is allowed
  EXPECT_FALSE(validate_open(peer, expect).has_value());

  expect.min_hold_time_s = 300;
  EXPECT_EQ(validate_open(peer, expect)->notification, n(2, 6, "00f0"));
}

TEST(BgpOpen, NegotiateSettlesTheCodecContext) {
  const Open local = Open::make(64512, 240, Ipv4Address(10, 0, 0, 1));
  Open remote = Open::make(64512, 90, Ipv4Address(10, 0, 0, 2));
  CodecContext ctx = negotiate(local, remote);
  EXPECT_TRUE(ctx.four_octet_as);
  EXPECT_TRUE(ctx.internal);
  EXPECT_EQ(ctx.max_message_length, kMaxMessageLength);

  remote.capabilities = {MultiprotocolCapability{kIpv4Unicast}};  // an old 2-octet speaker
  remote.my_as = 64513;
  ctx = negotiate(local, remote);
  EXPECT_FALSE(ctx.four_octet_as);
  EXPECT_FALSE(ctx.internal);

  Open a = local, b = remote;
  a.capabilities.push_back(UnknownCapability{6, {}});
  b.capabilities.push_back(UnknownCapability{6, {}});
  EXPECT_EQ(negotiate(a, b).max_message_length, kExtendedMaxMessageLength);
  EXPECT_EQ(negotiate(a, remote).max_message_length, kMaxMessageLength);
}

TEST(BgpOpen, OversizedOptionalParametersAreRefused) {
  Open open = Open::make(64512, 240, Ipv4Address(10, 0, 0, 1));
  open.capabilities.push_back(UnknownCapability{200, ByteVector(250, 0)});
  ByteVector out{0xaa};
  auto r = encode_open(open, out);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kOutOfRange);
  EXPECT_EQ(out, ByteVector{0xaa});  // untouched
}

// ---- NOTIFICATION -------------------------------------------------------------------------------

TEST(BgpNotification, EncodesAndDecodesWithData) {
  // Cease / administrative shutdown with the RFC 9003 communication "maintenance" (11 bytes):
  //   length 19 + 2 + 12 = 33 (0x21), type 3, code 6, subcode 2, 0b "maintenance".
  const Notification cease =
      Notification::cease(CeaseSubcode::kAdministrativeShutdown, "maintenance");
  ByteVector out;
  ASSERT_TRUE(encode_notification(cease, out).has_value());
  EXPECT_EQ(hex_of(out), hex_of(msg("0021 03 06 02 0b 6d61696e74656e616e6365")));
  auto back = decode_notification(out);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, cease);
  EXPECT_EQ(back->shutdown_communication(), "maintenance");
  EXPECT_EQ(describe(*back), "Administrative shutdown: \"maintenance\"");
}

TEST(BgpNotification, HoldTimerExpiredHasNoData) {
  ByteVector out;
  ASSERT_TRUE(encode_notification(Notification::hold_timer_expired(), out).has_value());
  EXPECT_EQ(hex_of(out), hex_of(msg("0015 03 04 00")));
  EXPECT_EQ(describe(Notification::hold_timer_expired()), "Hold timer expired");
}

TEST(BgpNotification, DescribeShowsDataInHexLikeBird) {
  EXPECT_EQ(describe(n(1, 2, "0012")), "Bad message length: 0012");
  EXPECT_EQ(describe(n(3, 9, "800e0500010401aabbccddeeff001122334455")),
            "Optional attribute error: 800e0500010401aabbccddeeff001122");  // 16 bytes at most
  EXPECT_EQ(describe(n(6, 4)), "Administrative reset");
}

TEST(BgpNotification, EveryCodeAndSubcodeHasItsName) {
  const std::vector<std::tuple<int, int, std::string>> names = {
      {1, 1, "Connection not synchronized"},
      {1, 2, "Bad message length"},
      {1, 3, "Bad message type"},
      {2, 0, "Invalid OPEN message"},
      {2, 1, "Unsupported version number"},
      {2, 2, "Bad peer AS"},
      {2, 3, "Bad BGP identifier"},
      {2, 4, "Unsupported optional parameter"},
      {2, 5, "Authentication failure"},
      {2, 6, "Unacceptable hold time"},
      {2, 7, "Required capability missing"},
      {3, 0, "Invalid UPDATE message"},
      {3, 1, "Malformed attribute list"},
      {3, 2, "Unrecognized well-known attribute"},
      {3, 3, "Missing mandatory attribute"},
      {3, 4, "Invalid attribute flags"},
      {3, 5, "Invalid attribute length"},
      {3, 6, "Invalid ORIGIN attribute"},
      {3, 7, "AS routing loop"},
      {3, 8, "Invalid NEXT_HOP attribute"},
      {3, 9, "Optional attribute error"},
      {3, 10, "Invalid network field"},
      {3, 11, "Malformed AS_PATH"},
      {4, 0, "Hold timer expired"},
      {5, 0, "Finite state machine error"},
      {5, 1, "Unexpected message in OpenSent state"},
      {5, 2, "Unexpected message in OpenConfirm state"},
      {5, 3, "Unexpected message in Established state"},
      {6, 0, "Cease"},
      {6, 1, "Maximum number of prefixes reached"},
      {6, 2, "Administrative shutdown"},
      {6, 3, "Peer de-configured"},
      {6, 4, "Administrative reset"},
      {6, 5, "Connection rejected"},
      {6, 6, "Other configuration change"},
      {6, 7, "Connection collision resolution"},
      {6, 8, "Out of Resources"},
      {6, 9, "Hard reset"},
      {7, 1, "Invalid ROUTE-REFRESH message length"},
  };
  for (const auto& [code, subcode, name] : names) {
    EXPECT_EQ(
        notification_name(static_cast<std::uint8_t>(code), static_cast<std::uint8_t>(subcode)),
        name)
        << code << "/" << subcode;
  }
  EXPECT_EQ(notification_name(6, 12), "Unknown error 6.12");
  EXPECT_EQ(notification_name(9, 1), "Unknown error 9.1");
}

TEST(BgpNotification, TypedConstructorsUseTheRfcNumbers) {
  EXPECT_EQ(Notification::header(HeaderErrorSubcode::kBadMessageType, {9}), n(1, 3, "09"));
  EXPECT_EQ(Notification::open(OpenErrorSubcode::kUnsupportedCapability), n(2, 7));
  EXPECT_EQ(Notification::update(UpdateErrorSubcode::kMalformedAsPath), n(3, 11));
  EXPECT_EQ(Notification::fsm(FsmErrorSubcode::kUnexpectedMessageInOpenConfirm), n(5, 2));
  EXPECT_EQ(Notification::cease(CeaseSubcode::kConnectionCollisionResolution), n(6, 7));
  EXPECT_EQ(Notification::cease(CeaseSubcode::kOutOfResources), n(6, 8));
  // Text only rides on shutdown and reset (RFC 9003 §2).
  EXPECT_EQ(Notification::cease(CeaseSubcode::kPeerDeconfigured, "ignored"), n(6, 3));
}

TEST(BgpNotification, ShutdownCommunicationIsCutAt255BytesOnACharacterBoundary) {
  std::string text(254, 'a');
  text += "\xc3\xa9";  // 'é' straddles byte 255
  const Notification cease = Notification::cease(CeaseSubcode::kAdministrativeReset, text);
  EXPECT_EQ(cease.data[0], 254);
  EXPECT_EQ(cease.data.size(), 255u);
  // A length running past the data is not a communication.
  EXPECT_FALSE(n(6, 2, "05 6162").shutdown_communication().has_value());
  EXPECT_EQ(describe(n(6, 2, "05 6162")), "Administrative shutdown: 056162");
}

// ---- ROUTE-REFRESH
// -------------------------------------------------------------------------------

TEST(BgpRouteRefresh, EncodesRfc2918Layout) {
  ByteVector out;
  EXPECT_EQ(encode_route_refresh(RouteRefresh{}, out), 23u);
  // AFI 1, reserved 0, SAFI 1.
  EXPECT_EQ(hex_of(out), hex_of(msg("0017 05 0001 00 01")));
  auto m = decode_message(out);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(std::get<RouteRefresh>(*m), RouteRefresh{});
  ByteVector borr;
  encode_route_refresh(RouteRefresh{AfiSafi{2, 1}, 1}, borr);
  EXPECT_EQ(hex_of(borr), hex_of(msg("0017 05 0002 01 01")));
}

TEST(BgpRouteRefresh, WrongLengths) {
  // Too long: RFC 7313 §5, 7/1 with the whole message.
  const ByteVector long_rr = msg("0018 05 0001 00 01 00");
  EXPECT_EQ(error_of(long_rr), (Notification{7, 1, long_rr}));
  // Too short: a bad message length.
  EXPECT_EQ(error_of(msg("0016 05 0001 00")), n(1, 2, "0016"));
}

// ---- framer
// ------------------------------------------------------------------------------------------

ByteVector three_messages() {
  ByteVector out;
  (void)encode_open(Open::make(64512, 240, Ipv4Address(10, 0, 0, 1)), out);
  encode_keepalive(out);
  encode_route_refresh(RouteRefresh{}, out);
  return out;
}

std::vector<ByteVector> drain(MessageFramer& framer) {
  std::vector<ByteVector> out;
  while (true) {
    auto next = framer.next();
    EXPECT_TRUE(next.has_value());
    if (!next || !*next) break;
    out.emplace_back((*next)->begin(), (*next)->end());
  }
  return out;
}

TEST(BgpFramer, CutsOneChunkIntoMessages) {
  MessageFramer framer;
  framer.push(three_messages());
  const auto messages = drain(framer);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].size(), 45u);
  EXPECT_EQ(messages[1], msg("0013 04"));
  EXPECT_EQ(messages[2], msg("0017 05 0001 00 01"));
  EXPECT_EQ(framer.buffered_bytes(), 0u);
}

TEST(BgpFramer, ReassemblesByteByByte) {
  const ByteVector stream = three_messages();
  MessageFramer framer;
  std::vector<ByteVector> got;
  for (std::uint8_t b : stream) {
    framer.push(Bytes(&b, 1));
    for (auto& m : drain(framer)) got.push_back(std::move(m));
  }
  ASSERT_EQ(got.size(), 3u);
  ByteVector joined;
  for (const auto& m : got) joined.insert(joined.end(), m.begin(), m.end());
  EXPECT_EQ(joined, stream);
}

TEST(BgpFramer, ReassemblesUnevenChunks) {
  ByteVector stream;
  for (int i = 0; i < 50; ++i) {
    const ByteVector m = three_messages();
    stream.insert(stream.end(), m.begin(), m.end());
  }
  MessageFramer framer;
  std::size_t count = 0;
  ByteVector joined;
  for (std::size_t at = 0, chunk = 1; at < stream.size();
       at += chunk, chunk = chunk * 7 % 113 + 1) {
    const std::size_t n = std::min(chunk, stream.size() - at);
    framer.push(Bytes(stream).subspan(at, n));
    for (auto& m : drain(framer)) {
      joined.insert(joined.end(), m.begin(), m.end());
      ++count;
    }
  }
  EXPECT_EQ(count, 150u);
  EXPECT_EQ(joined, stream);
}

TEST(BgpFramer, BadMarkerFailsAsSoonAsItArrivesAndStaysFailed) {
  MessageFramer framer;
  const ByteVector junk = hex("ffff ff00");
  framer.push(junk);
  auto r = framer.next();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().notification, n(1, 1));
  EXPECT_TRUE(framer.failed());
  framer.push(msg("0013 04"));
  EXPECT_FALSE(framer.next().has_value());
}

TEST(BgpFramer, BadLengthCarriesTheLengthField) {
  MessageFramer framer;
  framer.push(msg("1001 02"));
  auto r = framer.next();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().notification, n(1, 2, "1001"));

  MessageFramer small;
  small.push(msg("0012 04"));
  EXPECT_EQ(small.next().error().notification, n(1, 2, "0012"));

  MessageFramer extended(kExtendedMaxMessageLength);
  extended.push(msg("1001 02"));
  auto wait = extended.next();
  ASSERT_TRUE(wait.has_value());
  EXPECT_FALSE(wait->has_value());  // 4097 bytes allowed: waits for the rest
}

TEST(BgpFramer, WaitsForAWholeMessage) {
  MessageFramer framer;
  const ByteVector open = three_messages();
  framer.push(Bytes(open).first(44));
  auto r = framer.next();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(framer.buffered_bytes(), 44u);
  framer.push(Bytes(open).subspan(44, 1));
  auto whole = framer.next();
  ASSERT_TRUE(whole.has_value() && whole->has_value());
  EXPECT_EQ((*whole)->size(), 45u);
}

}  // namespace
}  // namespace calisim::wire::bgp
