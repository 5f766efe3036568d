// The BGP session's answers to bad messages (BIRD 2.0.12 packets.c bgp_rx_open, bgp_rx_update,
// bgp_error): the NOTIFICATION bytes, the transition trace and the INFO text for OPEN errors,
// FSM errors (RFC 6608) and UPDATE errors (RFC 7606: session reset or treat-as-withdraw);
// UPDATEs and ROUTE-REFRESH both ways; and ManualStop (Cease / Administrative Shutdown).

#include "bgp/session_harness.hpp"

namespace calisim::bgp::test {
namespace {

using R = ConnectionRole;
using S = State;
using P = ProtocolState;

// ---- errors in OPEN ----------------------------------------------------------------------------

struct OpenSentSession {
  Harness h;
  ConnectionId id;
  Time now;
  std::size_t steps_before = 0;
};

OpenSentSession to_open_sent(SessionConfig config = mesh_config(kNode1, kNode2)) {
  OpenSentSession s{Harness(std::move(config), 5), {}, at_s(0), 0};
  s.h.session.start(s.now);
  s.id = s.h.run_until_connect(s.now);
  s.now += ms(1);
  s.h.session.on_connected(s.now, s.id, true);
  s.h.drain();
  s.now += ms(1);
  s.steps_before = s.h.session.transitions().size();
  return s;
}

TEST(BgpSessionOpenErrors, BadPeerAsSendsTwoTwoWithTheAs) {
  OpenSentSession s = to_open_sent();
  s.h.session.on_bytes(s.now, s.id, peer_open(kNode2, 64513));
  const auto a = s.h.drain();
  const auto sends = only<SendAction>(a);
  ASSERT_EQ(sends.size(), 1u);
  // 2/2 with the AS as 4 bytes, since the peer sent capability 65.
  EXPECT_EQ(hex_of(sends[0].bytes), msg_hex("0019 03 02 02 0000fc01"));
  EXPECT_EQ(only<CloseAction>(a).size(), 1u);
  EXPECT_TRUE(only<DownEvent>(a).empty());  // never was up
  EXPECT_EQ(steps(s.h.session, s.steps_before),
            (std::vector<Step>{{s.now, R::kOutgoing, S::kOpenSent, S::kClose},
                               {s.now, R::kOutgoing, S::kClose, S::kIdle}}));
  EXPECT_EQ(s.h.session.status().info, "Idle          BGP Error: Bad peer AS");
  EXPECT_EQ(s.h.session.status().error_wait, sec(5));
  EXPECT_TRUE(log_has(s.h.session, "Error: Bad peer AS: 64513"));
}

TEST(BgpSessionOpenErrors, UnacceptableHoldTime) {
  {
    // RFC 4271 §4.2: 1 and 2 are never acceptable (the codec's check, as bgp_rx_open's).
    OpenSentSession s = to_open_sent();
    bw::Open open = local_open(mesh_config(kNode2, kNode1));
    open.hold_time_s = 2;
    s.h.session.on_bytes(s.now, s.id, open_bytes(open));
    const auto sends = only<SendAction>(s.h.drain());
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(hex_of(sends[0].bytes), msg_hex("0017 03 02 06 0002"));
    EXPECT_EQ(s.h.session.status().info, "Idle          BGP Error: Unacceptable hold time");
  }
  {
    // `min hold time 30`: the effective hold time min(240, 20) is too short.
    SessionConfig c = mesh_config(kNode1, kNode2);
    c.min_hold_time_s = 30;
    OpenSentSession s = to_open_sent(c);
    bw::Open open = local_open(mesh_config(kNode2, kNode1));
    open.hold_time_s = 20;
    s.h.session.on_bytes(s.now, s.id, open_bytes(open));
    const auto sends = only<SendAction>(s.h.drain());
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(hex_of(sends[0].bytes), msg_hex("0017 03 02 06 0014"));
  }
}

TEST(BgpSessionOpenErrors, OurOwnRouterIdAndMissingIpv4Capability) {
  {
    OpenSentSession s = to_open_sent();
    s.h.session.on_bytes(s.now, s.id, peer_open(kNode1));  // iBGP peer with our id
    const auto sends = only<SendAction>(s.h.drain());
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(hex_of(sends[0].bytes), msg_hex("0019 03 02 03 0a000001"));
  }
  {
    OpenSentSession s = to_open_sent();
    bw::Open open = local_open(mesh_config(kNode2, kNode1));
    open.capabilities.erase(open.capabilities.begin());  // no MP IPv4 unicast, other caps kept
    s.h.session.on_bytes(s.now, s.id, open_bytes(open));
    const auto sends = only<SendAction>(s.h.drain());
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(hex_of(sends[0].bytes), msg_hex("0015 03 02 07"));
    EXPECT_EQ(s.h.session.status().info, "Idle          BGP Error: Required capability missing");
  }
}

TEST(BgpSessionFsmErrors, KeepaliveInOpenSentAndOpenInEstablished) {
  {
    OpenSentSession s = to_open_sent();
    s.h.session.on_bytes(s.now, s.id, keepalive_bytes());
    const auto sends = only<SendAction>(s.h.drain());
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(hex_of(sends[0].bytes), msg_hex("0015 03 05 01"));  // RFC 6608: in OpenSent
  }
  {
    Harness h(mesh_config(kNode1, kNode2));
    Time now = at_s(0);
    h.session.start(now);
    const ConnectionId id = h.establish_outgoing(now, peer_open(kNode2));
    h.session.on_bytes(now + sec(1), id, peer_open(kNode2));
    const auto a = h.drain();
    ASSERT_EQ(only<SendAction>(a).size(), 1u);
    EXPECT_EQ(hex_of(only<SendAction>(a)[0].bytes), msg_hex("0015 03 05 03"));
    EXPECT_EQ(only<DownEvent>(a).size(), 1u);
  }
}

// ---- UPDATEs
// -------------------------------------------------------------------------------------

std::vector<std::uint8_t> update_bytes(const bw::Update& u) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(bw::encode_update(u, bw::CodecContext{}, out).has_value());
  return out;
}

bw::Update block_route() {
  bw::Update u;
  u.attributes.origin = bw::Origin::kIgp;
  u.attributes.as_path = bw::AsPath{};
  u.attributes.next_hop = kNode2;
  u.attributes.local_pref = 100;
  u.nlri = {wire::Ipv4Prefix(wire::Ipv4Address(10, 65, 0, 0), 26)};
  return u;
}

TEST(BgpSessionUpdates, ValidUpdateAndEndOfRibGoToTheRib) {
  Harness h(mesh_config(kNode1, kNode2));
  Time now = at_s(0);
  h.session.start(now);
  const ConnectionId id = h.establish_outgoing(now, peer_open(kNode2));
  h.session.on_bytes(now + sec(1), id, update_bytes(block_route()));
  std::vector<std::uint8_t> eor;
  bw::encode_end_of_rib(bw::kIpv4Unicast, eor);
  h.session.on_bytes(now + sec(1), id, eor);
  const auto a = h.drain();
  ASSERT_EQ(a.size(), 2u);
  const auto& u = std::get<UpdateReceivedEvent>(a[0]);
  EXPECT_EQ(u.update, block_route());
  EXPECT_EQ(u.action, bw::UpdateAction::kNone);
  EXPECT_EQ(std::get<EndOfRibReceivedEvent>(a[1]).family, bw::kIpv4Unicast);
  EXPECT_EQ(h.session.status().counters.updates_in, 2u);
}

TEST(BgpSessionUpdates, MalformedUpdateResetsTheSession) {
  Harness h(mesh_config(kNode1, kNode2));
  Time now = at_s(0);
  h.session.start(now);
  const ConnectionId id = h.establish_outgoing(now, peer_open(kNode2));
  const std::size_t before = h.session.transitions().size();
  // Withdrawn Routes Length 16 in a 23-byte UPDATE: it runs past the message (RFC 4271 §6.3).
  now += sec(1);
  h.session.on_bytes(now, id, test_hex_bytes(msg_hex("0017 02 0010 0000")));
  const auto a = h.drain();
  const auto sends = only<SendAction>(a);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(hex_of(sends[0].bytes), msg_hex("0015 03 03 01"));  // Malformed Attribute List
  EXPECT_EQ(only<CloseAction>(a).size(), 1u);
  ASSERT_EQ(only<DownEvent>(a).size(), 1u);
  EXPECT_EQ(only<DownEvent>(a)[0].reason, "BGP Error: Malformed attribute list");
  EXPECT_TRUE(only<UpdateReceivedEvent>(a).empty());
  EXPECT_EQ(steps(h.session, before), (std::vector<Step>{
                                          {now, R::kOutgoing, S::kEstablished, S::kClose},
                                          {now, R::kOutgoing, S::kClose, S::kIdle},
                                      }));
}

TEST(BgpSessionUpdates, TreatAsWithdrawKeepsTheSession) {
  Harness h(mesh_config(kNode1, kNode2));
  Time now = at_s(0);
  h.session.start(now);
  const ConnectionId id = h.establish_outgoing(now, peer_open(kNode2));
  const std::size_t before = h.session.transitions().size();
  // ORIGIN is the first attribute: header 19, two length fields 4, flags/type/length 3.
  std::vector<std::uint8_t> bytes = update_bytes(block_route());
  ASSERT_EQ(bytes[23], 0x40);
  ASSERT_EQ(bytes[24], 0x01);
  bytes[26] = 5;  // not IGP, EGP or INCOMPLETE: RFC 7606 §7.1 treat-as-withdraw
  h.session.on_bytes(now + sec(1), id, bytes);
  const auto a = h.drain();
  ASSERT_EQ(a.size(), 1u);
  const auto& u = std::get<UpdateReceivedEvent>(a[0]);
  EXPECT_EQ(u.action, bw::UpdateAction::kTreatAsWithdraw);
  EXPECT_EQ(u.update.withdrawn, block_route().nlri);
  EXPECT_TRUE(u.update.nlri.empty());
  EXPECT_EQ(u.update.attributes, bw::PathAttributes{});
  ASSERT_EQ(u.errors.size(), 1u);
  EXPECT_EQ(u.errors[0].subcode, bw::UpdateErrorSubcode::kInvalidOriginAttribute);
  EXPECT_EQ(h.session.state(), S::kEstablished);
  EXPECT_EQ(h.session.transitions().size(), before);
  EXPECT_TRUE(log_has(h.session, "treat-as-withdraw"));
}

TEST(BgpSessionUpdates, SendingNeedsEstablishedAndRouteRefreshBothWays) {
  Harness h(mesh_config(kNode1, kNode2));
  Time now = at_s(0);
  h.session.start(now);
  EXPECT_EQ(h.session.send_update(now, block_route()).error().code, Errc::kUnavailable);
  EXPECT_EQ(h.session.send_route_refresh(now).error().code, Errc::kUnavailable);
  const ConnectionId id = h.establish_outgoing(now, peer_open(kNode2));

  ASSERT_TRUE(h.session.send_update(now, block_route()).has_value());
  ASSERT_TRUE(h.session.send_end_of_rib(now).has_value());
  ASSERT_TRUE(h.session.send_route_refresh(now).has_value());
  const auto sends = only<SendAction>(h.drain());
  ASSERT_EQ(sends.size(), 3u);
  EXPECT_EQ(sends[0].bytes, update_bytes(block_route()));
  EXPECT_EQ(hex_of(sends[1].bytes), msg_hex("0017 02 0000 0000"));   // End-of-RIB
  EXPECT_EQ(hex_of(sends[2].bytes), msg_hex("0017 05 0001 00 01"));  // ROUTE-REFRESH IPv4
  EXPECT_EQ(h.session.status().counters.updates_out, 2u);
  EXPECT_EQ(h.session.status().counters.route_refreshes_out, 1u);

  // From a peer with enhanced route refresh (capability 70) the subtype counts: BoRR. A peer
  // that announced graceful restart sends an End-of-RIB after its initial feed, and a BoRR
  // before it is ignored (bgp_refresh_begin); so is an EoRR without a BoRR (bgp_refresh_end).
  std::vector<std::uint8_t> borr;
  bw::encode_route_refresh(bw::RouteRefresh{bw::kIpv4Unicast, 1}, borr);
  std::vector<std::uint8_t> eorr;
  bw::encode_route_refresh(bw::RouteRefresh{bw::kIpv4Unicast, 2}, eorr);
  h.session.on_bytes(now, id, borr);
  h.session.on_bytes(now, id, eorr);
  auto a = h.drain();
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(log_has(h.session, "BEGIN-OF-RR received before END-OF-RIB, ignoring"));
  EXPECT_TRUE(log_has(h.session, "END-OF-RR received without prior BEGIN-OF-RR, ignoring"));
  std::vector<std::uint8_t> eor;
  bw::encode_end_of_rib(bw::kIpv4Unicast, eor);
  h.session.on_bytes(now, id, eor);
  ASSERT_EQ(only<EndOfRibReceivedEvent>(h.drain()).size(), 1u);
  h.session.on_bytes(now, id, borr);
  h.session.on_bytes(now, id, eorr);
  a = h.drain();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(std::get<RouteRefreshReceivedEvent>(a[0]).refresh,
            (bw::RouteRefresh{bw::kIpv4Unicast, 1}));
  EXPECT_EQ(std::get<RouteRefreshReceivedEvent>(a[1]).refresh,
            (bw::RouteRefresh{bw::kIpv4Unicast, 2}));
  // And we may send BoRR / EoRR to it.
  ASSERT_TRUE(h.session.send_route_refresh(now, bw::kIpv4Unicast, 1).has_value());
  ASSERT_TRUE(h.session.send_route_refresh(now, bw::kIpv4Unicast, 2).has_value());
  const auto marks = only<SendAction>(h.drain());
  ASSERT_EQ(marks.size(), 2u);
  EXPECT_EQ(hex_of(marks[0].bytes), msg_hex("0017 05 0001 01 01"));  // BoRR
  EXPECT_EQ(hex_of(marks[1].bytes), msg_hex("0017 05 0001 02 01"));  // EoRR

  // From one without it, and without route refresh at all: a plain request, and we may not ask.
  Harness g(mesh_config(kNode1, kNode2));
  Time t = at_s(0);
  g.session.start(t);
  SessionConfig peer = mesh_config(kNode2, kNode1);
  peer.enable_route_refresh = false;
  const ConnectionId gid = g.establish_outgoing(t, open_bytes(local_open(peer)));
  g.session.on_bytes(t, gid, borr);
  a = g.drain();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(std::get<RouteRefreshReceivedEvent>(a[0]).refresh.subtype, 0);
  EXPECT_EQ(g.session.send_route_refresh(t).error().code, Errc::kUnsupported);
  EXPECT_EQ(g.session.send_route_refresh(t, bw::kIpv4Unicast, 1).error().code, Errc::kUnsupported);
}

// ---- ManualStop --------------------------------------------------------------------------------

TEST(BgpSessionStop, ManualStopSendsCeaseAdministrativeShutdown) {
  Harness h(mesh_config(kNode1, kNode2));
  Time now = at_s(0);
  h.session.start(now);
  const ConnectionId id = h.establish_outgoing(now, peer_open(kNode2));
  const std::size_t proto_before = h.session.protocol_transitions().size();
  now += sec(10);
  h.session.stop(now);
  const auto a = h.drain();
  const auto sends = only<SendAction>(a);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].id, id);
  EXPECT_EQ(hex_of(sends[0].bytes), msg_hex("0015 03 06 02"));
  EXPECT_EQ(only<CloseAction>(a).size(), 1u);
  EXPECT_EQ(only<DownEvent>(a).size(), 1u);
  EXPECT_EQ(proto_steps(h.session, proto_before),
            (std::vector<ProtoStep>{{now, P::kUp, P::kStop}, {now, P::kStop, P::kDown}}));
  // Disabled: down with no error shown, nothing scheduled, no error wait.
  const SessionStatus st = h.session.status();
  EXPECT_EQ(st.state_description, "Down");
  EXPECT_EQ(st.info, "");
  EXPECT_EQ(st.error_wait, Duration::zero());
  EXPECT_FALSE(h.session.next_deadline().has_value());

  // Enabled again: straight to Active.
  now += sec(60);
  h.session.start(now);
  EXPECT_EQ(steps(h.session).back(), (Step{now, R::kOutgoing, S::kIdle, S::kActive}));
}

TEST(BgpSessionStop, ShutdownCommunicationAndStopWhileConnecting) {
  Harness h(mesh_config(kNode1, kNode2));
  Time now = at_s(0);
  h.session.start(now);
  h.establish_outgoing(now, peer_open(kNode2));
  h.session.stop(now + sec(1), "maintenance");
  auto sends = only<SendAction>(h.drain());
  ASSERT_EQ(sends.size(), 1u);
  // RFC 9003: length 11, then the text.
  EXPECT_EQ(
      hex_of(sends[0].bytes),
      msg_hex("0021 03 06 02 0b") + hex_of(std::vector<std::uint8_t>(
                                        {'m', 'a', 'i', 'n', 't', 'e', 'n', 'a', 'n', 'c', 'e'})));

  // Stopping a session that is only connecting sends nothing: the attempt is dropped.
  Harness c(mesh_config(kNode1, kNode2));
  Time t = at_s(0);
  c.session.start(t);
  const ConnectionId id = c.run_until_connect(t);
  c.session.stop(t + ms(1));
  const auto a = c.drain();
  EXPECT_TRUE(only<SendAction>(a).empty());
  ASSERT_EQ(only<CloseAction>(a).size(), 1u);
  EXPECT_EQ(only<CloseAction>(a)[0].id, id);
  EXPECT_TRUE(only<DownEvent>(a).empty());
  EXPECT_EQ(to_string(c.session.protocol_state()), "down");
}

}  // namespace
}  // namespace calisim::bgp::test
