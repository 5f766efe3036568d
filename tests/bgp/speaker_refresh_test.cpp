// A Speaker driven by hand with exact messages: IPv4 unicast routes carried in MP_REACH_NLRI /
// MP_UNREACH_NLRI (RFC 4760, as BIRD 2.0.12's bgp_rx_update feeds them to the ipv4 channel),
// and route refresh in both directions, plain (RFC 2918) and enhanced (RFC 7313, BIRD's
// bgp_rx_route_refresh, bgp_feed_begin / bgp_feed_end, bgp_refresh_begin / bgp_refresh_end).

#include "bgp/speaker_harness.hpp"

#include <string>
#include <vector>

namespace calisim::bgp::test {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

Ipv4Prefix pfx(const char* text) {
  return *Ipv4Prefix::parse(text);
}

const std::string kBoRR = msg_hex("0017 05 0001 01 01");
const std::string kEoRR = msg_hex("0017 05 0001 02 01");
const std::string kRefreshRequest = msg_hex("0017 05 0001 00 01");
const std::string kEndOfRib = msg_hex("0017 02 0000 0000");
// Our block 10.244.1.0/26 to a mesh peer: ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1 (the
// source address), LOCAL_PREF 100; NLRI 26 bits in 4 octets.
const std::string kOurBlock =
    msg_hex("0031 02 0000 0015 40010100 400200 4003040a000001 40050400000064 1a0af40100");

// The attributes a mesh peer sends with routes in MP_REACH_NLRI (no NEXT_HOP attribute).
bw::PathAttributes mp_attributes(std::vector<std::uint8_t> next_hop, std::string_view nlri,
                                 bw::AfiSafi family = bw::kIpv4Unicast) {
  bw::PathAttributes a;
  a.origin = bw::Origin::kIgp;
  a.as_path = bw::AsPath{};
  a.local_pref = 100;
  a.mp_reach = bw::MpReachNlri{family, std::move(next_hop), test_hex_bytes(nlri)};
  return a;
}

std::vector<std::uint8_t> mp_unreach_update(std::string_view withdrawn,
                                            bw::AfiSafi family = bw::kIpv4Unicast) {
  bw::Update u;
  u.attributes.mp_unreach = bw::MpUnreachNlri{family, test_hex_bytes(withdrawn)};
  return update_message(u);
}

std::optional<Ipv4Address> next_hop_of(const Speaker& s, const char* prefix) {
  const auto best = s.rib().best(pfx(prefix));
  if (!best || best->attributes == nullptr) return std::nullopt;
  return best->attributes->next_hop;
}

// We (10.0.0.1, our block 10.244.1.0/26 originated) and an established mesh peer 10.0.0.2.
void bring_up(SpeakerRig& rig, ConnectionId& id, GracefulRestartMode peer_gr,
              bool peer_enhanced_refresh = true) {
  rig.speaker.add_neighbor(mesh_neighbor(kNode2, "Mesh_10_0_0_2"));
  rig.speaker.rib().originate(pfx("10.244.1.0/26"));
  rig.speaker.start(rig.now);
  SessionConfig peer = mesh_config(kNode2, kNode1);
  peer.graceful_restart = peer_gr;
  bw::Open open = local_open(peer);
  if (!peer_enhanced_refresh) {
    std::erase_if(open.capabilities, [](const bw::Capability& c) {
      return bw::capability_code(c) ==
             static_cast<std::uint8_t>(bw::CapabilityCode::kEnhancedRouteRefresh);
    });
  }
  id = rig.bring_up(open_bytes(open));
  ASSERT_EQ(rig.speaker.session(0).state(), State::kEstablished);
}

TEST(BgpSpeakerMp, Ipv4UnicastInMpReachLandsInTheRibAndMpUnreachRemovesIt) {
  SpeakerRig rig;
  ConnectionId id;
  bring_up(rig, id, GracefulRestartMode::kAble);

  // Two blocks through MP_REACH_NLRI with next hop 10.0.0.2.
  rig.deliver(id, update_message(bw::Update{
                      .attributes = mp_attributes({10, 0, 0, 2}, "1a0af40200 1a0af40900")}));
  EXPECT_EQ(rig.speaker.status(0).routes_imported, 2u);
  EXPECT_EQ(next_hop_of(rig.speaker, "10.244.2.0/26"), kNode2);
  EXPECT_EQ(next_hop_of(rig.speaker, "10.244.9.0/26"), kNode2);
  const auto best = rig.speaker.rib().best(pfx("10.244.2.0/26"));
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->protocol, "Mesh_10_0_0_2");
  EXPECT_EQ(best->attributes->local_pref, 100u);
  EXPECT_FALSE(best->attributes->mp_reach.has_value());  // per message, not stored per route

  // The NLRI field and MP_REACH_NLRI in one UPDATE, each with its own next hop: the NEXT_HOP
  // attribute for the first, the MP next hop (10.0.0.9) for the second.
  bw::PathAttributes both = mp_attributes({10, 0, 0, 9}, "1a0af40400");
  both.next_hop = kNode2;
  rig.deliver(id, update_message(bw::Update{.attributes = both, .nlri = {pfx("10.244.3.0/26")}}));
  EXPECT_EQ(next_hop_of(rig.speaker, "10.244.3.0/26"), kNode2);
  EXPECT_EQ(next_hop_of(rig.speaker, "10.244.4.0/26"), Ipv4Address(10, 0, 0, 9));

  // MP_UNREACH_NLRI withdraws 10.244.2.0/26; the others stay.
  rig.deliver(id, mp_unreach_update("1a0af40200"));
  EXPECT_FALSE(rig.speaker.rib().best(pfx("10.244.2.0/26")).has_value());
  EXPECT_EQ(rig.speaker.status(0).routes_imported, 3u);
  EXPECT_EQ(rig.speaker.session(0).state(), State::kEstablished);

  // A 16-octet next hop: an IPv4-mapped IPv6 address is an IPv4 one (BIRD's ipa_is_ip4) ...
  rig.deliver(id, update_message(bw::Update{
                      .attributes = mp_attributes(
                          test_hex_bytes("00000000000000000000ffff0a000007"), "1a0af40900")}));
  EXPECT_EQ(next_hop_of(rig.speaker, "10.244.9.0/26"), Ipv4Address(10, 0, 0, 7));
  // ... a real IPv6 one is a mismatched family without extended next hop: treat as withdraw.
  rig.deliver(id, update_message(bw::Update{
                      .attributes = mp_attributes(
                          test_hex_bytes("20010db8000000000000000000000002"), "1a0af40900")}));
  EXPECT_FALSE(rig.speaker.rib().best(pfx("10.244.9.0/26")).has_value());
  EXPECT_TRUE(log_has(rig.speaker.session(0),
                      "Invalid NEXT_HOP attribute - mismatched address family (2001:db8::2 for "
                      "ipv4)"));
  // A zero next hop is withdrawn too (bgp_apply_next_hop).
  rig.deliver(id,
              update_message(bw::Update{.attributes = mp_attributes({0, 0, 0, 0}, "1a0af40400")}));
  EXPECT_FALSE(rig.speaker.rib().best(pfx("10.244.4.0/26")).has_value());
  EXPECT_TRUE(log_has(rig.speaker.session(0), "Invalid NEXT_HOP attribute - zero address"));

  // Another family is not ours: ignored and logged (DISCARD BAD_AFI), the session stays.
  rig.deliver(id, update_message(bw::Update{.attributes = mp_attributes(
                                                test_hex_bytes("20010db8000000000000000000000002"),
                                                "40 20010db800000000", {bw::kAfiIpv6, 1})}));
  EXPECT_TRUE(log_has(rig.speaker.session(0), "Unexpected AF <2/1> in UPDATE"));
  rig.deliver(id, mp_unreach_update("1a0af40300", {bw::kAfiIpv6, 1}));
  EXPECT_TRUE(rig.speaker.rib().best(pfx("10.244.3.0/26")).has_value());
  EXPECT_EQ(rig.speaker.session(0).state(), State::kEstablished);
  EXPECT_EQ(rig.speaker.status(0).routes_imported, 1u);  // 10.244.3.0/26

  // A next hop length BIRD cannot read (bgp_decode_next_hop_ip: bgp_parse_error(s, 9)):
  // Optional Attribute Error, and the session goes (the routes with it).
  rig.io.take(id);
  rig.deliver(
      id, update_message(bw::Update{.attributes = mp_attributes({10, 0, 0, 2, 0}, "1a0af40200")}));
  const auto sent = rig.io.take(id);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].substr(36, 6), "030309");  // NOTIFICATION 3/9
  EXPECT_NE(rig.speaker.session(0).state(), State::kEstablished);
  EXPECT_FALSE(rig.speaker.rib().best(pfx("10.244.3.0/26")).has_value());
}

TEST(BgpSpeakerRefresh, RequestFromAnEnhancedPeerIsWrappedInBorrAndEorr) {
  SpeakerRig rig;
  ConnectionId id;
  bring_up(rig, id, GracefulRestartMode::kAble);
  // The initial feed: our block, then End-of-RIB (after the peer's KEEPALIVE).
  EXPECT_EQ(rig.io.take(id), (std::vector<std::string>{
                                 msg_hex("0039 01 04 fc00 00f0 0a000001 1c 02 1a 01 04 0001 00 01 "
                                         "02 00 40 06 0078 0001 01 00 41 04 0000fc00 46 00 47 00"),
                                 msg_hex("0013 04"), kOurBlock, kEndOfRib}));

  // bgp_rx_route_refresh, subtype 0: channel_request_feeding; bgp_feed_begin sends BoRR as
  // both sides do enhanced route refresh, the routes follow, bgp_feed_end sends EoRR.
  rig.deliver(id, route_refresh_message(0));
  EXPECT_EQ(rig.io.take(id), (std::vector<std::string>{kBoRR, kOurBlock, kEoRR}));
  EXPECT_EQ(rig.speaker.status(0).session.counters.route_refreshes_in, 1u);
  EXPECT_EQ(rig.speaker.status(0).session.counters.route_refreshes_out, 2u);
  EXPECT_TRUE(log_has(rig.speaker.session(0), "Got ROUTE-REFRESH"));
  EXPECT_TRUE(log_has(rig.speaker.session(0), "Sending BEGIN-OF-RR"));
  EXPECT_TRUE(log_has(rig.speaker.session(0), "Sending END-OF-RR"));
  EXPECT_EQ(rig.speaker.status(0).routes_exported, 1u);
  // With nothing to export the demarcation still goes out.
  ASSERT_TRUE(rig.speaker.rib().withdraw_local(pfx("10.244.1.0/26")));
  rig.speaker.routes_changed(rig.now);
  EXPECT_EQ(rig.io.take(id), (std::vector<std::string>{msg_hex("001c 02 0005 1a0af40100 0000")}));
  rig.deliver(id, route_refresh_message(0));
  EXPECT_EQ(rig.io.take(id), (std::vector<std::string>{kBoRR, kEoRR}));
}

TEST(BgpSpeakerRefresh, RequestFromAPlainPeerIsAnsweredWithTheRoutesOnly) {
  SpeakerRig rig;
  ConnectionId id;
  bring_up(rig, id, GracefulRestartMode::kAble, /*peer_enhanced_refresh=*/false);
  rig.io.take(id);
  rig.deliver(id, route_refresh_message(0));
  EXPECT_EQ(rig.io.take(id), (std::vector<std::string>{kOurBlock}));
  // Its reserved octet means nothing without capability 70: a "BoRR" is a plain request.
  rig.deliver(id, route_refresh_message(1));
  EXPECT_EQ(rig.io.take(id), (std::vector<std::string>{kOurBlock}));
}

TEST(BgpSpeakerRefresh, PeerBorrMarksItsRoutesStaleAndEorrDropsThoseNotSentAgain) {
  SpeakerRig rig;
  ConnectionId id;
  bring_up(rig, id, GracefulRestartMode::kAble);
  bw::PathAttributes a;
  a.origin = bw::Origin::kIgp;
  a.as_path = bw::AsPath{};
  a.next_hop = kNode2;
  a.local_pref = 100;
  rig.deliver(id, update_message(bw::Update{.attributes = a,
                                            .nlri = {pfx("10.244.2.0/26"), pfx("10.244.7.0/26")}}));
  rig.deliver(id, end_of_rib_message());
  ASSERT_EQ(rig.speaker.status(0).routes_imported, 2u);

  // `birdc reload in Mesh_10_0_0_2` (bgp_reload_routes): a ROUTE-REFRESH request.
  rig.io.take(id);
  ASSERT_TRUE(rig.speaker.reload_in(rig.now, 0).has_value());
  EXPECT_EQ(rig.io.take(id), (std::vector<std::string>{kRefreshRequest}));

  // The peer answers: BoRR, one of the two routes, EoRR.
  rig.deliver(id, route_refresh_message(1));
  for (const char* p : {"10.244.2.0/26", "10.244.7.0/26"}) {
    const auto routes = rig.speaker.rib().routes(pfx(p));
    ASSERT_EQ(routes.size(), 1u) << p;
    EXPECT_TRUE(routes[0].stale) << p;
  }
  rig.deliver(id, update_message(bw::Update{.attributes = a, .nlri = {pfx("10.244.2.0/26")}}));
  EXPECT_FALSE(rig.speaker.rib().routes(pfx("10.244.2.0/26"))[0].stale);
  EXPECT_TRUE(rig.speaker.rib().routes(pfx("10.244.7.0/26"))[0].stale);
  rig.deliver(id, route_refresh_message(2));
  EXPECT_TRUE(rig.speaker.rib().best(pfx("10.244.2.0/26")).has_value());
  EXPECT_FALSE(rig.speaker.rib().best(pfx("10.244.7.0/26")).has_value());
  EXPECT_EQ(rig.speaker.status(0).routes_imported, 1u);
  EXPECT_TRUE(log_has(rig.speaker.session(0), "Got BEGIN-OF-RR"));
  EXPECT_TRUE(log_has(rig.speaker.session(0), "Got END-OF-RR"));
  // Nothing went back to the peer meanwhile.
  EXPECT_TRUE(rig.io.take(id).empty());
}

TEST(BgpSpeakerRefresh, ReloadInNeedsAnEstablishedPeerThatSupportsRouteRefresh) {
  SpeakerRig rig;
  rig.speaker.add_neighbor(mesh_neighbor(kNode2, "Mesh_10_0_0_2"));
  rig.speaker.start(rig.now);
  EXPECT_EQ(rig.speaker.reload_in(rig.now, 0).error().code, Errc::kUnavailable);
  SessionConfig peer = mesh_config(kNode2, kNode1);
  peer.enable_route_refresh = false;
  const ConnectionId id = rig.bring_up(open_bytes(local_open(peer)));
  ASSERT_EQ(rig.speaker.session(0).state(), State::kEstablished);
  rig.io.take(id);
  EXPECT_EQ(rig.speaker.reload_in(rig.now, 0).error().code, Errc::kUnsupported);
  EXPECT_TRUE(rig.io.take(id).empty());
}

}  // namespace
}  // namespace calisim::bgp::test
