// The BGP session with two connections and over time: connection collisions (RFC 4271 §6.8 as
// BIRD's bgp_rx_open resolves them), a peer that restarts with and without graceful restart,
// and the error wait that grows with repeated protocol errors (bgp_update_startup_delay).

#include "bgp/session_harness.hpp"

#include <algorithm>
#include <cstddef>

namespace calisim::bgp::test {
namespace {

using R = ConnectionRole;
using S = State;
using P = ProtocolState;

const std::string kCollision = msg_hex("0015 03 06 07");  // Cease / Connection collision resolution

// Both sides active (explicit peers, not Calico's mesh, where one side is passive), so each
// opens a connection: ours is in OpenSent when the peer's arrives.
struct Collision {
  Harness h;
  Time now;
  ConnectionId out;
  ConnectionId in{9};
};

Collision two_connections(wire::Ipv4Address self, wire::Ipv4Address peer) {
  Collision c{Harness(mesh_config(self, peer), 21), at_s(0), {}};
  c.h.session.start(c.now);
  c.out = c.h.run_until_connect(c.now);
  c.now += ms(1);
  c.h.session.on_connected(c.now, c.out, true);
  c.now += ms(1);
  c.h.session.on_connected(c.now, c.in, false);
  const auto opens = only<SendAction>(c.h.drain());
  EXPECT_EQ(opens.size(), 2u);  // an OPEN on each
  EXPECT_EQ(c.h.session.connection_state(R::kOutgoing), S::kOpenSent);
  EXPECT_EQ(c.h.session.connection_state(R::kIncoming), S::kOpenSent);
  return c;
}

TEST(BgpSessionCollision, LowerIdGivesUpTheConnectionItInitiated) {
  // We are 10.0.0.1, the peer 10.0.0.2 is dominant: the connection it initiated (our incoming
  // one) stays.
  Collision c = two_connections(kNode1, kNode2);
  const std::size_t before = c.h.session.transitions().size();
  const Time t1 = c.now + ms(1);
  c.h.session.on_bytes(t1, c.out, peer_open(kNode2));  // other connection in OpenSent: no decision
  auto a = c.h.drain();
  ASSERT_EQ(only<SendAction>(a).size(), 1u);
  EXPECT_EQ(only<SendAction>(a)[0].type, bw::MessageType::kKeepalive);

  const Time t2 = t1 + ms(1);
  c.h.session.on_bytes(t2, c.in, peer_open(kNode2));
  a = c.h.drain();
  const auto sends = only<SendAction>(a);
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].id, c.out);
  EXPECT_EQ(hex_of(sends[0].bytes), kCollision);
  EXPECT_EQ(sends[1].id, c.in);
  EXPECT_EQ(sends[1].type, bw::MessageType::kKeepalive);
  ASSERT_EQ(only<CloseAction>(a).size(), 1u);
  EXPECT_EQ(only<CloseAction>(a)[0].id, c.out);
  EXPECT_TRUE(log_has(c.h.session, "Connection collision, giving up the other connection"));

  const Time t3 = t2 + ms(1);
  c.h.session.on_bytes(t3, c.in, keepalive_bytes());
  a = c.h.drain();
  ASSERT_EQ(only<EstablishedEvent>(a).size(), 1u);
  EXPECT_EQ(only<EstablishedEvent>(a)[0].id, c.in);

  // No Active restart of the outgoing side: the incoming one was in OpenConfirm (bgp_decision).
  EXPECT_EQ(steps(c.h.session, before), (std::vector<Step>{
                                            {t1, R::kOutgoing, S::kOpenSent, S::kOpenConfirm},
                                            {t2, R::kOutgoing, S::kOpenConfirm, S::kClose},
                                            {t2, R::kOutgoing, S::kClose, S::kIdle},
                                            {t2, R::kIncoming, S::kOpenSent, S::kOpenConfirm},
                                            {t3, R::kIncoming, S::kOpenConfirm, S::kEstablished},
                                        }));
  // A Cease is not a protocol error: no stop, no error wait.
  EXPECT_EQ(proto_steps(c.h.session),
            (std::vector<ProtoStep>{{at_s(0), P::kDown, P::kStart}, {t3, P::kStart, P::kUp}}));
  EXPECT_EQ(c.h.session.status().error_wait, Duration::zero());
  EXPECT_EQ(c.h.session.status().info, "Established   ");
}

TEST(BgpSessionCollision, HigherIdKeepsTheConnectionItInitiated) {
  // We are 10.0.0.2 and dominant: our outgoing connection stays, the peer's is refused.
  Collision c = two_connections(kNode2, kNode1);
  const std::size_t before = c.h.session.transitions().size();
  const Time t1 = c.now + ms(1);
  c.h.session.on_bytes(t1, c.out, peer_open(kNode1));
  c.h.drain();
  const Time t2 = t1 + ms(1);
  c.h.session.on_bytes(t2, c.in, peer_open(kNode1));
  auto a = c.h.drain();
  const auto sends = only<SendAction>(a);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].id, c.in);
  EXPECT_EQ(hex_of(sends[0].bytes), kCollision);
  ASSERT_EQ(only<CloseAction>(a).size(), 1u);
  EXPECT_EQ(only<CloseAction>(a)[0].id, c.in);
  EXPECT_TRUE(log_has(c.h.session, "Connection collision, giving up this connection"));
  EXPECT_EQ(c.h.session.status().info, "OpenConfirm   BGP Error: Connection collision resolution");

  const Time t3 = t2 + ms(1);
  c.h.session.on_bytes(t3, c.out, keepalive_bytes());
  a = c.h.drain();
  ASSERT_EQ(only<EstablishedEvent>(a).size(), 1u);
  EXPECT_EQ(only<EstablishedEvent>(a)[0].id, c.out);
  EXPECT_EQ(steps(c.h.session, before), (std::vector<Step>{
                                            {t1, R::kOutgoing, S::kOpenSent, S::kOpenConfirm},
                                            {t2, R::kIncoming, S::kOpenSent, S::kClose},
                                            {t2, R::kIncoming, S::kClose, S::kIdle},
                                            {t3, R::kOutgoing, S::kOpenConfirm, S::kEstablished},
                                        }));
  EXPECT_EQ(c.h.session.status().info, "Established   ");  // Established clears the error
}

TEST(BgpSessionCollision, OpenInTheOtherOrderGivesTheSameWinner) {
  // The peer's OPEN reaches the incoming connection first; the decision comes with the second.
  Collision c = two_connections(kNode1, kNode2);
  c.h.session.on_bytes(c.now + ms(1), c.in, peer_open(kNode2));
  c.h.drain();
  c.h.session.on_bytes(c.now + ms(2), c.out, peer_open(kNode2));
  const auto a = c.h.drain();
  const auto sends = only<SendAction>(a);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].id, c.out);  // the OPEN's own connection is the one given up
  EXPECT_EQ(hex_of(sends[0].bytes), kCollision);
  EXPECT_EQ(c.h.session.connection_state(R::kIncoming), S::kOpenConfirm);
  EXPECT_EQ(c.h.session.connection_state(R::kOutgoing), S::kIdle);
}

TEST(BgpSessionCollision, SecondConnectionWhileEstablishedIsRefused) {
  // A peer without graceful restart opens another connection while ours is Established.
  Harness h(mesh_config(kNode1, kNode2));
  Time now = at_s(0);
  h.session.start(now);
  const auto peer = peer_open(kNode2, 64512, GracefulRestartMode::kAware);
  const ConnectionId out = h.establish_outgoing(now, peer);
  const ConnectionId in{4};
  h.session.on_connected(now + sec(1), in, false);
  auto a = h.drain();
  ASSERT_EQ(only<SendAction>(a).size(), 1u);  // accepted: our OPEN on it
  h.session.on_bytes(now + sec(2), in, peer);
  a = h.drain();
  const auto sends = only<SendAction>(a);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].id, in);
  EXPECT_EQ(hex_of(sends[0].bytes), kCollision);
  EXPECT_TRUE(only<DownEvent>(a).empty());
  EXPECT_EQ(h.session.connection_id(R::kOutgoing), out);
  EXPECT_EQ(h.session.state(), S::kEstablished);
  // Errors on a connection other than the Established one are not shown (bgp_store_error).
  EXPECT_EQ(h.session.status().info, "Established   ");
  // A third connection while the incoming slot is busy is refused outright: no OPEN.
  h.session.on_connected(now + sec(3), ConnectionId{5}, false);
  h.session.on_connected(now + sec(3), ConnectionId{6}, false);
  a = h.drain();
  ASSERT_EQ(only<SendAction>(a).size(), 1u);
  ASSERT_EQ(only<CloseAction>(a).size(), 1u);
  EXPECT_EQ(only<CloseAction>(a)[0].id, ConnectionId{6});
  EXPECT_TRUE(log_has(h.session, "Incoming connection from 10.0.0.2 rejected"));
}

// ---- peer restart ------------------------------------------------------------------------------

// The timers an establish_outgoing draws after the connect delay, in the session's order:
// connect retry (5 s), startup hold (240 s), hold and keepalive as the OPEN is accepted (240 s,
// 80 s), hold again with the KEEPALIVE (240 s). Returns the time of the connect.
Time twin_establish(Twin& twin, Time active_at) {
  const Time connect = twin.jitter(active_at, 2);
  for (const std::int64_t seconds : {5, 240, 240, 80, 240}) twin.jitter(connect, seconds);
  return connect;
}

// The whole trace of one outgoing bring-up that connects at `connect` (establish_outgoing:
// 1 ms between connect, OPEN and KEEPALIVE).
std::vector<Step> bring_up_steps(Time active_at, Time connect) {
  return {{active_at, R::kOutgoing, S::kIdle, S::kActive},
          {connect, R::kOutgoing, S::kActive, S::kConnect},
          {connect + ms(1), R::kOutgoing, S::kConnect, S::kOpenSent},
          {connect + ms(2), R::kOutgoing, S::kOpenSent, S::kOpenConfirm},
          {connect + ms(3), R::kOutgoing, S::kOpenConfirm, S::kEstablished}};
}

std::vector<Step> operator+(std::vector<Step> a, const std::vector<Step>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(BgpSessionRestart, PeerWithoutGracefulRestartDropsTheConnection) {
  const std::uint64_t seed = 8;
  Harness h(mesh_config(kNode1, kNode2), seed);
  Twin twin(seed);
  Time now = at_s(0);
  h.session.start(now);
  const auto peer = peer_open(kNode2, 64512, GracefulRestartMode::kOff);
  const ConnectionId first = h.establish_outgoing(now, peer);
  const Time connect1 = twin_establish(twin, at_s(0));
  const std::size_t proto_before = h.session.protocol_transitions().size();

  const Time dropped = now + sec(100);
  h.session.on_closed(dropped, first);
  auto a = h.drain();
  ASSERT_EQ(only<DownEvent>(a).size(), 1u);
  EXPECT_EQ(only<DownEvent>(a)[0].reason, "Socket: Connection closed");
  EXPECT_TRUE(only<SendAction>(a).empty());
  EXPECT_EQ(only<CloseAction>(a).size(), 1u);
  // No error wait for a socket error: down, start again, Active at once.
  EXPECT_EQ(proto_steps(h.session, proto_before),
            (std::vector<ProtoStep>{{dropped, P::kUp, P::kStop},
                                    {dropped, P::kStop, P::kDown},
                                    {dropped, P::kDown, P::kStart}}));
  EXPECT_EQ(h.session.status().info, "Active        Socket: Connection closed");

  Time t = dropped;
  const ConnectionId second = h.establish_outgoing(t, peer);
  EXPECT_NE(second, first);
  // The connect delay after the drop is jittered as every timer is ([1.5 s, 2 s]).
  const Time connect2 = twin_establish(twin, dropped);
  EXPECT_GE(connect2 - dropped, ms(1500));
  EXPECT_LE(connect2 - dropped, sec(2));
  EXPECT_EQ(steps(h.session),
            (bring_up_steps(at_s(0), connect1) +
             std::vector<Step>{{dropped, R::kOutgoing, S::kEstablished, S::kIdle}} +
             bring_up_steps(dropped, connect2)));
  EXPECT_EQ(h.session.status().counters.established_transitions, 2u);
}

TEST(BgpSessionRestart, AnEarlierErrorWaitStillDelaysTheReconnect) {
  // BIRD keeps the error wait after a session recovers (it is forgotten only at the next
  // error, after `error forget time`): hold timer expiry, back up, then a dropped connection
  // waits Idle -> error wait -> Active -> Connect -> Established.
  const std::uint64_t seed = 4;
  Harness h(mesh_config(kNode1, kNode2), seed);
  Twin twin(seed);
  Time now = at_s(0);
  h.session.start(now);
  const auto peer = peer_open(kNode2, 64512, GracefulRestartMode::kOff);
  h.establish_outgoing(now, peer);
  const Time connect1 = twin.jitter(at_s(0), 2);
  twin.jitter(connect1, 5);                              // connect retry
  twin.jitter(connect1 + ms(1), 240);                    // startup hold
  twin.jitter(connect1 + ms(2), 240);                    // hold, OPEN accepted
  Time keepalive = twin.jitter(connect1 + ms(2), 80);    // our first KEEPALIVE went out
  const Time hold = twin.jitter(connect1 + ms(3), 240);  // the peer's KEEPALIVE: the last
  for (int i = 0; i < 10 && h.session.state() == S::kEstablished; ++i) {
    now = *h.session.next_deadline();
    h.session.on_timer(now);
  }
  // Our KEEPALIVEs went out until the hold timer (the peer sent nothing more) ran out; each
  // drew the next keepalive time.
  while (keepalive < now) keepalive = twin.jitter(keepalive, 80);
  const Time expired = now;
  EXPECT_EQ(expired, hold);
  ASSERT_EQ(h.session.status().error_wait, sec(5));
  const Time startup1 = twin.jitter(expired, 5);
  const ConnectionId id = h.establish_outgoing(now, peer);
  const Time connect2 = twin_establish(twin, startup1);

  const Time dropped = now + sec(20);
  h.session.on_closed(dropped, id, "Connection reset by peer");
  h.drain();
  EXPECT_EQ(h.session.status().info, "Idle          Socket: Connection reset by peer");
  EXPECT_EQ(h.session.status().error_wait, sec(5));  // unchanged by a socket error
  const Time startup2 = twin.jitter(dropped, 5);
  EXPECT_EQ(h.session.next_deadline(), startup2);
  Time t = dropped;
  h.establish_outgoing(t, peer);
  const Time connect3 = twin_establish(twin, startup2);
  EXPECT_EQ(steps(h.session),
            (bring_up_steps(at_s(0), connect1) +
             std::vector<Step>{{expired, R::kOutgoing, S::kEstablished, S::kClose},
                               {expired, R::kOutgoing, S::kClose, S::kIdle}} +
             bring_up_steps(startup1, connect2) +
             std::vector<Step>{{dropped, R::kOutgoing, S::kEstablished, S::kIdle}} +
             bring_up_steps(startup2, connect3)));
}

TEST(BgpSessionRestart, ErrorWaitDoublesToItsMaximumAndIsForgotten) {
  Harness h(mesh_config(kNode1, kNode2), 6);
  Time now = at_s(0);
  h.session.start(now);
  std::vector<Duration> waits;
  for (int i = 0; i < 6; ++i) {
    const ConnectionId id = h.run_until_connect(now);
    h.session.on_connected(now, id, true);
    h.session.on_bytes(now, id, peer_open(kNode2, 64999));  // Bad peer AS every time
    const auto sends = only<SendAction>(h.drain());
    ASSERT_EQ(sends.size(), 2u);
    EXPECT_EQ(hex_of(sends[1].bytes), msg_hex("0019 03 02 02 0000fde7"));
    const Duration wait = h.session.status().error_wait;
    waits.push_back(wait);
    // The startup delay is that wait, jittered.
    const Time startup = *h.session.next_deadline();
    EXPECT_GE(startup - now, wait * 3 / 4);
    EXPECT_LE(startup - now, wait);
  }
  EXPECT_EQ(waits, (std::vector<Duration>{sec(5), sec(10), sec(20), sec(30), sec(30), sec(30)}));

  // 300 s (error forget time) after the last error the next one starts from the minimum.
  const Time last_error = now;
  ConnectionId id = h.run_until_connect(now);
  while (now - last_error < sec(300)) {
    id = h.run_until_connect(now);  // connect retry: the peer does not answer
  }
  h.session.on_connected(now, id, true);
  h.session.on_bytes(now, id, peer_open(kNode2, 64999));
  EXPECT_EQ(h.session.status().error_wait, sec(5));
}

TEST(BgpSessionRestart, GracefulRestartKeepsRoutesUntilEndOfRib) {
  // Calico's peers advertise graceful restart for IPv4: a dropped connection is a restart.
  const std::uint64_t seed = 9;
  Harness h(mesh_config(kNode1, kNode2), seed);
  Twin twin(seed);
  Time now = at_s(0);
  h.session.start(now);
  const ConnectionId first = h.establish_outgoing(now, peer_open(kNode2));
  const Time connect1 = twin_establish(twin, at_s(0));
  const std::size_t proto_before = h.session.protocol_transitions().size();
  const Time dropped = now + sec(50);
  h.session.on_closed(dropped, first);
  auto a = h.drain();
  EXPECT_TRUE(only<DownEvent>(a).empty());
  ASSERT_EQ(only<GracefulRestartEvent>(a).size(), 1u);
  EXPECT_EQ(only<GracefulRestartEvent>(a)[0].restart_deadline, dropped + sec(120));
  EXPECT_EQ(proto_steps(h.session, proto_before),
            (std::vector<ProtoStep>{{dropped, P::kUp, P::kStart}}));
  EXPECT_TRUE(h.session.status().graceful_restart_active);
  EXPECT_EQ(h.session.status().info, "Active        Socket: Connection closed");

  // The restarted peer says it kept its forwarding state (R and F bits): stale routes stay
  // until its End-of-RIB.
  bw::Open restarted = local_open(mesh_config(kNode2, kNode1));
  for (auto& cap : restarted.capabilities) {
    if (auto* gr = std::get_if<bw::GracefulRestartCapability>(&cap)) {
      gr->restart_state = true;
      gr->families[0].forwarding_preserved = true;
    }
  }
  Time t = dropped;
  const ConnectionId second = h.establish_outgoing(t, open_bytes(restarted));
  EXPECT_TRUE(h.session.status().graceful_restart_active);
  // The connection is replaced at once (Active within the same instant, no error wait) and
  // the protocol never went down: start -> up -> start -> up.
  const Time connect2 = twin_establish(twin, dropped);
  EXPECT_EQ(steps(h.session),
            (bring_up_steps(at_s(0), connect1) +
             std::vector<Step>{{dropped, R::kOutgoing, S::kEstablished, S::kIdle}} +
             bring_up_steps(dropped, connect2)));
  EXPECT_EQ(proto_steps(h.session),
            (std::vector<ProtoStep>{{at_s(0), P::kDown, P::kStart},
                                    {connect1 + ms(3), P::kStart, P::kUp},
                                    {dropped, P::kUp, P::kStart},
                                    {connect2 + ms(3), P::kStart, P::kUp}}));
  std::vector<std::uint8_t> eor;
  bw::encode_end_of_rib(bw::kIpv4Unicast, eor);
  h.session.on_bytes(t + sec(1), second, eor);
  a = h.drain();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<EndOfRibReceivedEvent>(a[0]));
  EXPECT_TRUE(std::holds_alternative<GracefulRestartDoneEvent>(a[1]));
  EXPECT_FALSE(h.session.status().graceful_restart_active);
}

TEST(BgpSessionRestart, GracefulRestartEndsAtOnceWithoutForwardingStateAndTimesOut) {
  {
    // The peer comes back without the F bit: stale routes go as the session is established.
    Harness h(mesh_config(kNode1, kNode2), 9);
    Time now = at_s(0);
    h.session.start(now);
    const ConnectionId id = h.establish_outgoing(now, peer_open(kNode2));
    h.session.on_closed(now + sec(1), id);
    h.drain();
    Time t = now + sec(1);
    const ConnectionId again = h.run_until_connect(t);
    h.session.on_connected(t, again, true);
    h.session.on_bytes(t, again, peer_open(kNode2));
    h.drain();
    h.session.on_bytes(t, again, keepalive_bytes());
    const auto a = h.drain();
    ASSERT_EQ(a.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<GracefulRestartDoneEvent>(a[0]));
    EXPECT_TRUE(std::holds_alternative<EstablishedEvent>(a[1]));
  }
  {
    // The peer never comes back: after its restart time (120 s) the routes go (DownEvent).
    Harness h(mesh_config(kNode1, kNode2), 9);
    Time now = at_s(0);
    h.session.start(now);
    const ConnectionId id = h.establish_outgoing(now, peer_open(kNode2));
    const Time dropped = now + sec(1);
    h.session.on_closed(dropped, id);
    h.drain();
    Time t = dropped;
    const std::size_t seen = h.history.size();
    // Connection refused, again and again; the graceful restart timer fires meanwhile.
    while (t < dropped + sec(200)) {
      const ConnectionId c = h.run_until_connect(t);
      h.session.on_connect_failed(t, c, "Connection refused");
      h.drain();
    }
    const std::vector<Action> after(h.history.begin() + static_cast<std::ptrdiff_t>(seen),
                                    h.history.end());
    const auto down = only<DownEvent>(after);
    ASSERT_EQ(down.size(), 1u);
    EXPECT_EQ(down[0].reason, "Socket: Connection refused");
    const auto& protos = h.session.protocol_transitions();
    const auto stop = std::find_if(protos.begin(), protos.end(), [](const ProtocolTransition& p) {
      return p.from == P::kStart && p.to == P::kStop;
    });
    ASSERT_NE(stop, protos.end());
    EXPECT_EQ(stop->time, dropped + sec(120));  // tm_start: not jittered
    EXPECT_TRUE(log_has(h.session, "Neighbor graceful restart timeout"));
  }
}

TEST(BgpSessionRestart, RestartedPeerConnectingWhileEstablishedReplacesTheConnection) {
  Harness h(mesh_config(kNode1, kNode2), 10);
  Time now = at_s(0);
  h.session.start(now);
  const ConnectionId out = h.establish_outgoing(now, peer_open(kNode2));
  const std::size_t before = h.session.transitions().size();
  const Time t = now + sec(30);
  const ConnectionId in{12};
  h.session.on_connected(t, in, false);
  const auto a = h.drain();
  ASSERT_EQ(only<CloseAction>(a).size(), 1u);
  EXPECT_EQ(only<CloseAction>(a)[0].id, out);
  EXPECT_EQ(only<GracefulRestartEvent>(a).size(), 1u);
  EXPECT_TRUE(only<DownEvent>(a).empty());
  ASSERT_EQ(only<SendAction>(a).size(), 1u);
  EXPECT_EQ(only<SendAction>(a)[0].id, in);
  EXPECT_EQ(only<SendAction>(a)[0].type, bw::MessageType::kOpen);
  EXPECT_EQ(steps(h.session, before), (std::vector<Step>{
                                          {t, R::kOutgoing, S::kEstablished, S::kIdle},
                                          {t, R::kIncoming, S::kIdle, S::kOpenSent},
                                          {t, R::kOutgoing, S::kIdle, S::kActive},
                                      }));
  EXPECT_EQ(h.session.status().info, "OpenSent      Error: Graceful restart");
  // The new connection comes up; the outgoing attempt is stopped by its OPEN.
  h.session.on_bytes(t + ms(1), in, peer_open(kNode2));
  EXPECT_EQ(h.session.connection_state(R::kOutgoing), S::kIdle);
  h.session.on_bytes(t + ms(2), in, keepalive_bytes());
  EXPECT_EQ(h.session.state(), S::kEstablished);
  EXPECT_EQ(h.session.connection_id(R::kIncoming), in);
}

}  // namespace
}  // namespace calisim::bgp::test
