// A Speaker driven by hand: the state log (every protocol and connection transition, BIRD's
// wording under Calico's `debug { states }`), a session with a peer that has no 4-octet AS
// capability (RFC 6793 end to end), and UPDATE packing as BIRD 2.0.12 packs (bgp_create_update).

#include "bgp/speaker_harness.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>

namespace calisim::bgp::test {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

Ipv4Prefix pfx(const std::string& text) {
  return *Ipv4Prefix::parse(text);
}

std::vector<std::string> log_lines(const Speaker& s) {
  std::vector<std::string> out;
  for (const auto& e : s.state_log()) {
    out.push_back(fmt::format("{:.3f} {}", e.time.to_seconds(), e.text));
  }
  return out;
}

TEST(BgpSpeakerLog, EveryTransitionOfABringUpAndADropIsLoggedInOrder) {
  SpeakerRig rig;
  rig.speaker.add_neighbor(mesh_neighbor(kNode2, "Mesh_10_0_0_2"));
  std::vector<std::string> heard;
  rig.speaker.set_state_listener([&heard](const NeighborEvent& e) {
    heard.push_back(
        fmt::format("{:.3f} {} {}: {}", e.at.to_seconds(), e.neighbor, e.what, e.detail));
  });
  const Time t0 = rig.now;
  rig.speaker.start(t0);
  const ConnectionId id = rig.run_until_connect();
  const Time connect = rig.now;
  rig.speaker.on_connected(connect + ms(1), id);
  rig.speaker.on_bytes(connect + ms(2), id, peer_open(kNode2, 64512, GracefulRestartMode::kOff));
  rig.speaker.on_bytes(connect + ms(3), id, keepalive_bytes());
  const Time dropped = connect + sec(60);
  rig.speaker.on_closed(dropped, id, "");

  const auto c = [](Time t) { return fmt::format("{:.3f}", t.to_seconds()); };
  const std::string p = "Mesh_10_0_0_2: ";
  EXPECT_EQ(
      log_lines(rig.speaker),
      (std::vector<std::string>{
          c(t0) + " " + p + "State changed to start",
          c(t0) + " " + p + "Outgoing connection changed state from Idle to Active (connect delay)",
          c(connect) + " " + p +
              "Outgoing connection changed state from Active to Connect (connecting)",
          c(connect + ms(1)) + " " + p +
              "Outgoing connection changed state from Connect to OpenSent (OPEN sent)",
          c(connect + ms(2)) + " " + p +
              "Outgoing connection changed state from OpenSent to OpenConfirm (OPEN received)",
          c(connect + ms(3)) + " " + p +
              "Outgoing connection changed state from OpenConfirm to Established (KEEPALIVE "
              "received)",
          c(connect + ms(3)) + " " + p + "State changed to up",
          c(dropped) + " " + p +
              "Outgoing connection changed state from Established to Idle (Socket: Connection "
              "closed)",
          c(dropped) + " " + p + "State changed to stop",
          c(dropped) + " " + p + "State changed to flush",
          c(dropped) + " " + p + "State changed to down",
          c(dropped) + " " + p + "State changed to start",
          c(dropped) + " " + p +
              "Outgoing connection changed state from Idle to Active (connect delay)",
      }));
  // The listener heard the same lines as they happened, with whose state changed.
  ASSERT_EQ(heard.size(), 13u);
  EXPECT_EQ(heard[0], c(t0) + " Mesh_10_0_0_2 protocol: State changed to start");
  EXPECT_EQ(heard[1], c(t0) +
                          " Mesh_10_0_0_2 outgoing: Outgoing connection changed state from "
                          "Idle to Active (connect delay)");
  EXPECT_EQ(heard[6], c(connect + ms(3)) + " Mesh_10_0_0_2 protocol: State changed to up");
  EXPECT_EQ(heard[10], c(dropped) + " Mesh_10_0_0_2 protocol: State changed to down");
  // One line per transition the session made, none invented: 7 connection transitions and
  // 5 protocol ones (down is two lines).
  EXPECT_EQ(rig.speaker.session(0).transitions().size(), 7u);
  EXPECT_EQ(rig.speaker.session(0).protocol_transitions().size(), 5u);
}

TEST(BgpSpeakerLog, AnIncomingConnectionAndAnErrorAreLoggedToo) {
  // A passive side (Calico: the peer's address is the greater string) and a hold timer expiry.
  SpeakerRig rig;
  NeighborConfig n = mesh_neighbor(kNode2, "Mesh_10_0_0_2");
  n.session.passive = true;
  rig.speaker.add_neighbor(n);
  rig.speaker.start(rig.now);
  const Time in_at = rig.now + sec(1);
  const auto id = rig.speaker.on_incoming(in_at, kNode2);
  ASSERT_TRUE(id.has_value());
  rig.speaker.on_bytes(in_at, *id, peer_open(kNode2, 64512, GracefulRestartMode::kOff));
  rig.speaker.on_bytes(in_at, *id, keepalive_bytes());
  ASSERT_EQ(rig.speaker.session(0).state(), State::kEstablished);
  // No KEEPALIVE from the peer: the hold timer expires (within [180 s, 240 s]).
  Time t = in_at;
  while (rig.speaker.session(0).state() == State::kEstablished) {
    t = *rig.speaker.next_deadline();
    rig.speaker.on_timer(t);
  }
  std::vector<std::string> texts;
  for (const auto& e : rig.speaker.state_log()) texts.push_back(e.text);
  const std::string p = "Mesh_10_0_0_2: ";
  EXPECT_EQ(
      texts,
      (std::vector<std::string>{
          p + "State changed to start",
          p + "Incoming connection changed state from Idle to OpenSent (OPEN sent)",
          p + "Incoming connection changed state from OpenSent to OpenConfirm (OPEN received)",
          p + "Incoming connection changed state from OpenConfirm to Established (KEEPALIVE "
              "received)",
          p + "State changed to up",
          p + "Incoming connection changed state from Established to Close (NOTIFICATION)",
          p + "State changed to stop",
          p + "Incoming connection changed state from Close to Idle (BGP Error: Hold timer "
              "expired)",
          p + "State changed to flush",
          p + "State changed to down",
          p + "State changed to start",
      }));
  // The protocol starts again at once; the error wait (5 s) is BGP's startup delay after that,
  // and a passive peer does nothing when it ends.
  EXPECT_EQ(rig.speaker.state_log().back().time, t);
  rig.speaker.on_timer(*rig.speaker.next_deadline());
  EXPECT_EQ(rig.speaker.state_log().size(), texts.size());
}

// ---- a peer without the 4-octet AS capability ----------------------------------------------

// RFC 6793 §4.2 between a NEW speaker (us, AS 4200000001) and an OLD one (AS 64513, no
// capability 65): we say AS_TRANS in our OPEN; our AS_PATH to it carries AS_TRANS for our AS
// and AS4_PATH the true path (attrs.c bgp_update_attrs, as_path_to_old, only when the path has
// a 4-octet AS); its AS_PATH is rebuilt with AS4_PATH (bgp_process_as4_attrs) before the loop
// check (bgp_as_path_loopy).
TEST(BgpSpeakerAs2, TwoOctetPeerGetsAsTransAndAs4PathAndItsPathIsRebuilt) {
  SpeakerRig rig(4200000001u);
  NeighborConfig n = mesh_neighbor(kNode2, "Node_10_0_0_2", 64513);
  rig.speaker.add_neighbor(n);
  rig.speaker.rib().originate(pfx("10.244.1.0/26"));
  rig.speaker.start(rig.now);
  SessionConfig old = mesh_config(kNode2, kNode1);
  old.local_as = 64513;
  old.peer_as = 4200000001u;
  old.enable_as4 = false;
  const bw::Open old_open = local_open(old);
  ASSERT_FALSE(old_open.four_octet_as().has_value());
  const ConnectionId id = rig.bring_up(open_bytes(old_open));
  ASSERT_EQ(rig.speaker.session(0).state(), State::kEstablished);
  ASSERT_TRUE(rig.speaker.session(0).codec_context().has_value());
  EXPECT_FALSE(rig.speaker.session(0).codec_context()->four_octet_as);
  EXPECT_FALSE(rig.speaker.session(0).codec_context()->internal);

  EXPECT_EQ(rig.io.take(id),
            (std::vector<std::string>{
                // My AS 23456 (5ba0); capability 65 says 4200000001 (fa56ea01).
                msg_hex("0039 01 04 5ba0 00f0 0a000001 1c 02 1a 01 04 0001 00 01 02 00 "
                        "40 06 0078 0001 01 00 41 04 fa56ea01 46 00 47 00"),
                msg_hex("0013 04"),
                // ORIGIN IGP; AS_PATH (2-octet) SEQUENCE [23456]; NEXT_HOP 10.0.0.1 (eBGP: our
                // address); AS4_PATH (optional transitive, type 17) SEQUENCE [4200000001].
                msg_hex("0037 02 0000 001b 40010100 400204 0201 5ba0 4003040a000001 "
                        "c01106 0201 fa56ea01 1a0af40100"),
                msg_hex("0017 02 0000 0000"),
            }));

  // From the old speaker: AS_PATH [64513 23456], AS4_PATH [4200000099] added by a new speaker
  // behind it: the path is 64513 4200000099.
  rig.deliver(id, test_hex_bytes(msg_hex("0039 02 0000 001d 40010100 400206 0202 fc01 5ba0 "
                                         "4003040a000002 c01106 0201 fa56ea63 1a0af40200")));
  const auto best = rig.speaker.rib().best(pfx("10.244.2.0/26"));
  ASSERT_TRUE(best.has_value());
  ASSERT_TRUE(best->attributes->as_path.has_value());
  EXPECT_EQ(best->attributes->as_path->to_string(), "64513 4200000099");
  EXPECT_EQ(best->attributes->next_hop, kNode2);

  // Our own AS behind AS_TRANS is still a loop once AS4_PATH is merged in: not imported.
  rig.deliver(id, test_hex_bytes(msg_hex("0039 02 0000 001d 40010100 400206 0202 fc01 5ba0 "
                                         "4003040a000002 c01106 0201 fa56ea01 1a0af40300")));
  EXPECT_FALSE(rig.speaker.rib().best(pfx("10.244.3.0/26")).has_value());
  EXPECT_EQ(rig.speaker.status(0).routes_imported, 1u);
  EXPECT_EQ(rig.speaker.session(0).state(), State::kEstablished);
}

TEST(BgpSpeakerAs2, TwoOctetLocalAsSendsNoAs4Path) {
  SpeakerRig rig(64512);
  rig.speaker.add_neighbor(mesh_neighbor(kNode2, "Node_10_0_0_2", 64513));
  rig.speaker.rib().originate(pfx("10.244.1.0/26"));
  rig.speaker.start(rig.now);
  SessionConfig old = mesh_config(kNode2, kNode1);
  old.local_as = 64513;
  old.enable_as4 = false;
  const ConnectionId id = rig.bring_up(open_bytes(local_open(old)));
  const auto sent = rig.io.take(id);
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[2], msg_hex("002e 02 0000 0012 40010100 400204 0201 fc00 4003040a000001 "
                             "1a0af40100"));
}

// ---- UPDATE packing ------------------------------------------------------------------------

// `count` /26 blocks from `first` on.
std::vector<Ipv4Prefix> blocks(const std::string& first, int count) {
  std::vector<Ipv4Prefix> out;
  const std::uint32_t base = pfx(first).network().value();
  for (int i = 0; i < count; ++i) {
    out.push_back(Ipv4Prefix(Ipv4Address(base + static_cast<std::uint32_t>(i) * 64), 26));
  }
  return out;
}

struct Packed {
  std::size_t length = 0;
  std::size_t withdrawn = 0;
  std::size_t nlri = 0;
  Ipv4Prefix first;
  bool operator==(const Packed&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Packed& p) {
  return os << fmt::format("{{{} octets, {} withdrawn, {} nlri, first {}}}", p.length, p.withdrawn,
                           p.nlri, p.first);
}

std::vector<Packed> updates(const std::vector<RecordingIo::Sent>& sent, std::size_t from) {
  std::vector<Packed> out;
  for (std::size_t i = from; i < sent.size(); ++i) {
    const auto& bytes = sent[i].bytes;
    if (bytes[18] != 2) continue;
    const auto r = bw::decode_update(bytes, {});
    EXPECT_FALSE(r.notification.has_value());
    const auto w = r.update.withdrawn.to_vector();
    const auto n = r.update.nlri.to_vector();
    out.push_back(Packed{bytes.size(), w.size(), n.size(),
                         !w.empty()   ? w.front()
                         : !n.empty() ? n.front()
                                      : Ipv4Prefix{}});
  }
  return out;
}

// bgp_create_ip_reach: attributes, then prefixes while at least BGP_NLRI_MAX (37) octets of
// the 4096-octet message are left. A mesh route's attributes take 21 octets, so 4096 - 23 - 21
// = 4052 octets for NLRI: 804 /26 prefixes of 5 octets (exactly filling would take 810; the
// fixed 400 of before would take 5 messages for 2000). Withdrawals: 4075 octets, 808.
TEST(BgpSpeakerPacking, UpdatesAreFilledAsBirdFillsThem) {
  SpeakerRig rig;
  rig.speaker.add_neighbor(mesh_neighbor(kNode2, "Mesh_10_0_0_2"));
  const auto all = blocks("10.64.0.0/26", 2000);
  for (const auto& p : all) rig.speaker.rib().originate(p);
  rig.speaker.start(rig.now);
  const std::size_t before = rig.io.sent.size();
  rig.bring_up(peer_open(kNode2));
  EXPECT_EQ(updates(rig.io.sent, before),
            (std::vector<Packed>{{23 + 21 + 804 * 5, 0, 804, all[0]},
                                 {23 + 21 + 804 * 5, 0, 804, all[804]},
                                 {23 + 21 + 392 * 5, 0, 392, all[1608]},
                                 {23, 0, 0, {}}}));  // End-of-RIB
  EXPECT_EQ(rig.speaker.status(0).routes_exported, 2000u);
  EXPECT_EQ(rig.speaker.status(0).session.counters.updates_out, 4u);

  const std::size_t mark = rig.io.sent.size();
  for (const auto& p : all) rig.speaker.rib().withdraw_local(p);
  rig.speaker.routes_changed(rig.now);
  EXPECT_EQ(updates(rig.io.sent, mark), (std::vector<Packed>{{23 + 808 * 5, 808, 0, all[0]},
                                                             {23 + 808 * 5, 808, 0, all[808]},
                                                             {23 + 384 * 5, 384, 0, all[1616]}}));
  EXPECT_EQ(rig.speaker.status(0).routes_exported, 0u);
  EXPECT_EQ(rig.speaker.status(0).send_errors, 0u);
}

// Buckets take turns (bgp_defer_bucket): a bucket with prefixes left after an UPDATE goes to
// the back of the queue. A community makes a second attribute set (28 octets: 802 prefixes).
TEST(BgpSpeakerPacking, AttributeBucketsTakeTurns) {
  SpeakerRig rig;
  NeighborConfig n = mesh_neighbor(kNode2, "Mesh_10_0_0_2");
  n.peer.export_filter =
      Filter("tagged")
          .when(net_in(pfx("10.64.0.0/16")), add_community(bw::community(64512, 100)))
          .accept();
  rig.speaker.add_neighbor(n);
  const auto a = blocks("10.64.0.0/26", 1000);
  const auto b = blocks("10.65.0.0/26", 1000);
  for (const auto& p : a) rig.speaker.rib().originate(p);
  for (const auto& p : b) rig.speaker.rib().originate(p);
  rig.speaker.start(rig.now);
  const std::size_t before = rig.io.sent.size();
  rig.bring_up(peer_open(kNode2));
  EXPECT_EQ(updates(rig.io.sent, before), (std::vector<Packed>{{23 + 28 + 802 * 5, 0, 802, a[0]},
                                                               {23 + 21 + 804 * 5, 0, 804, b[0]},
                                                               {23 + 28 + 198 * 5, 0, 198, a[802]},
                                                               {23 + 21 + 196 * 5, 0, 196, b[804]},
                                                               {23, 0, 0, {}}}));
}

// Attributes BIRD cannot send (more than 4096 - 1024 - 4 octets) are not silently dropped.
TEST(BgpSpeakerPacking, AnUpdateThatCannotBeSentIsCounted) {
  SpeakerRig rig;
  NeighborConfig n = mesh_neighbor(kNode2, "Mesh_10_0_0_2");
  Filter f("huge");
  for (std::uint16_t i = 0; i < 800; ++i) f.then(add_community(bw::community(64512, i)));
  n.peer.export_filter = f.accept();
  rig.speaker.add_neighbor(n);
  rig.speaker.rib().originate(pfx("10.244.1.0/26"));
  rig.speaker.start(rig.now);
  const std::size_t before = rig.io.sent.size();
  rig.bring_up(peer_open(kNode2));
  EXPECT_EQ(updates(rig.io.sent, before), (std::vector<Packed>{{23, 0, 0, {}}}));
  EXPECT_EQ(rig.speaker.status(0).send_errors, 1u);
  EXPECT_EQ(rig.speaker.status(0).last_send_error,
            "bgp: 3225 octets of path attributes, BIRD allows 3068");
}

}  // namespace
}  // namespace calisim::bgp::test
