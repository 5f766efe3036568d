// Seeded random and mutated byte streams into Session::on_bytes in OpenSent, OpenConfirm and
// Established, delivered in chunks of random size, and into decode_open / decode_notification.
// Seeds are valid messages of every type (OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH);
// mutations flip bytes, cut, grow and splice messages (mostly with the length field kept
// consistent, so that the decoders rather than the framer see the damage), change the type,
// or replace everything with noise. The ASan tree of the test command runs this too.
//
// After every chunk the connection has either (a) stayed in its state or moved forward as a
// valid OPEN / KEEPALIVE moves it, without a NOTIFICATION; or (b) sent exactly one NOTIFICATION
// (which decodes) and been closed; or (c) been closed by a NOTIFICATION from the peer.

#include "bgp/session_harness.hpp"

#include <string>
#include <vector>

namespace calisim::bgp::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::vector<Bytes> seeds() {
  std::vector<Bytes> s;
  s.push_back(peer_open(kNode2));
  s.push_back(peer_open(kNode2, 64512, GracefulRestartMode::kOff));
  s.push_back(keepalive_bytes());
  s.push_back(notification_bytes(
      bw::Notification::cease(bw::CeaseSubcode::kAdministrativeShutdown, "maintenance")));
  s.push_back(notification_bytes(bw::Notification::hold_timer_expired()));
  for (std::uint8_t subtype : {0, 1, 2}) {
    Bytes rr;
    bw::encode_route_refresh(bw::RouteRefresh{bw::kIpv4Unicast, subtype}, rr);
    s.push_back(rr);
  }
  bw::PathAttributes a;
  a.origin = bw::Origin::kIgp;
  a.as_path = bw::AsPath::sequence({64512, 4200000001u});
  a.next_hop = kNode2;
  a.local_pref = 100;
  a.communities = {bw::community(64512, 7)};
  a.cluster_list = {kNode2};
  const wire::Ipv4Prefix block = *wire::Ipv4Prefix::parse("10.244.2.0/26");
  Bytes u;
  EXPECT_TRUE(bw::encode_update(bw::Update{.attributes = a, .nlri = {block}}, {}, u).has_value());
  s.push_back(u);
  u.clear();
  EXPECT_TRUE(bw::encode_update(bw::Update{.withdrawn = {block}}, {}, u).has_value());
  s.push_back(u);
  bw::PathAttributes mp = a;
  mp.next_hop.reset();
  mp.mp_reach = bw::MpReachNlri{bw::kIpv4Unicast, {10, 0, 0, 2}, test_hex_bytes("1a0af40200")};
  mp.mp_unreach = bw::MpUnreachNlri{bw::kIpv4Unicast, test_hex_bytes("180a0001")};
  u.clear();
  EXPECT_TRUE(bw::encode_update(bw::Update{.attributes = mp}, {}, u).has_value());
  s.push_back(u);
  u.clear();
  bw::encode_end_of_rib(bw::kIpv4Unicast, u);
  s.push_back(u);
  return s;
}

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(rng_.uniform(n)); }
  std::uint8_t byte() { return static_cast<std::uint8_t>(rng_.next_u32()); }

  static void fix_length(Bytes& m) {
    if (m.size() < 19) return;
    m[16] = static_cast<std::uint8_t>(m.size() >> 8);
    m[17] = static_cast<std::uint8_t>(m.size());
  }

  Bytes mutate(Bytes m) {
    switch (below(9)) {
      case 0:  // keep it valid
        break;
      case 1:  // flip a few bytes after the marker
        for (std::size_t k = 1 + below(3); k > 0 && m.size() > 16; --k) {
          m[16 + below(m.size() - 16)] ^= static_cast<std::uint8_t>(1u << below(8));
        }
        break;
      case 2:  // random bytes in the body
        for (std::size_t k = 1 + below(4); k > 0 && m.size() > 19; --k) {
          m[19 + below(m.size() - 19)] = byte();
        }
        break;
      case 3:  // cut short, length kept consistent
        m.resize(std::max<std::size_t>(
            19, m.size() - 1 - below(std::max<std::size_t>(1, m.size() - 19))));
        fix_length(m);
        break;
      case 4:  // grown with noise, length kept consistent
        for (std::size_t k = 1 + below(12); k > 0; --k) m.push_back(byte());
        fix_length(m);
        break;
      case 5:  // noise spliced into the middle
        if (m.size() > 19) {
          const auto at = static_cast<std::ptrdiff_t>(19 + below(m.size() - 19));
          Bytes noise(1 + below(8));
          for (auto& b : noise) b = byte();
          m.insert(m.begin() + at, noise.begin(), noise.end());
          fix_length(m);
        }
        break;
      case 6:  // another type
        if (m.size() > 18) m[18] = static_cast<std::uint8_t>(below(8));
        break;
      case 7:  // a length field that lies
        if (m.size() > 17) {
          m[16] = static_cast<std::uint8_t>(below(3) == 0 ? byte() : 0);
          m[17] = byte();
        }
        break;
      default:  // noise
        m.resize(1 + below(64));
        for (auto& b : m) b = byte();
        break;
    }
    return m;
  }

 private:
  RandomStream rng_;
};

enum class Stage { kOpenSent, kOpenConfirm, kEstablished };

struct Checked {
  std::size_t notifications_sent = 0;
  std::size_t closed = 0;
  std::size_t moved_forward = 0;
};

// One stream into one fresh session at `stage`.
void run_stream(Stage stage, const Bytes& stream, Mutator& m, Checked& seen) {
  Harness h(mesh_config(kNode1, kNode2), 5);
  Time now = at_s(0);
  h.session.start(now);
  const ConnectionId id = h.run_until_connect(now);
  h.session.on_connected(now, id, true);
  if (stage != Stage::kOpenSent) h.session.on_bytes(now, id, peer_open(kNode2));
  if (stage == Stage::kEstablished) h.session.on_bytes(now, id, keepalive_bytes());
  h.drain();
  const State expected_start = stage == Stage::kOpenSent      ? State::kOpenSent
                               : stage == Stage::kOpenConfirm ? State::kOpenConfirm
                                                              : State::kEstablished;
  ASSERT_EQ(h.session.connection_state(ConnectionRole::kOutgoing), expected_start);

  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t n = std::min(stream.size() - at, 1 + m.below(m.below(4) == 0 ? 5 : 200));
    const State before = h.session.connection_state(ConnectionRole::kOutgoing);
    const bool open_before = h.session.connection_id(ConnectionRole::kOutgoing) == id;
    now += ms(1);
    h.session.on_bytes(now, id, wire::Bytes(stream.data() + at, n));
    at += n;
    const auto actions = h.drain();
    std::size_t notifications = 0;
    bool closed = false;
    for (const auto& a : actions) {
      if (const auto* s = std::get_if<SendAction>(&a)) {
        EXPECT_EQ(s->id, id);
        if (s->type == bw::MessageType::kNotification) {
          ++notifications;
          EXPECT_FALSE(closed) << "a NOTIFICATION after the Close";
          const auto decoded = bw::decode_notification(s->bytes);
          EXPECT_TRUE(decoded.has_value()) << hex_of(s->bytes);
          const auto message = bw::decode_message(s->bytes);
          EXPECT_TRUE(message.has_value()) << hex_of(s->bytes);
        }
      }
      if (const auto* c = std::get_if<CloseAction>(&a)) {
        EXPECT_EQ(c->id, id);
        closed = true;
      }
    }
    if (!open_before) {
      // Closed before: nothing more happens on it.
      EXPECT_TRUE(actions.empty());
      continue;
    }
    const bool still_open = h.session.connection_id(ConnectionRole::kOutgoing) == id;
    const State after =
        still_open ? h.session.connection_state(ConnectionRole::kOutgoing) : State::kIdle;
    EXPECT_LE(notifications, 1u);
    if (notifications == 1) {
      EXPECT_TRUE(closed);
      EXPECT_FALSE(still_open);
      ++seen.notifications_sent;
    } else if (closed) {
      // Only a NOTIFICATION from the peer closes without one of ours.
      EXPECT_FALSE(still_open);
      ++seen.closed;
    } else {
      EXPECT_TRUE(still_open);
      // A valid OPEN moves OpenSent on, a KEEPALIVE (or an UPDATE, BIRD's workaround)
      // OpenConfirm; one chunk may hold both.
      const bool forward =
          after > before && (after == State::kOpenConfirm || after == State::kEstablished);
      EXPECT_TRUE(after == before || forward)
          << to_string(before) << " -> " << to_string(after) << " on " << hex_of(stream);
      if (forward) ++seen.moved_forward;
    }
  }
}

TEST(BgpSessionFuzz, MutatedStreamsInEveryStateNotifyOnceAndCloseOrKeepTheState) {
  const std::vector<Bytes> pool = seeds();
  Mutator m(4271);
  Checked seen;
  for (int round = 0; round < 15000; ++round) {
    Bytes stream;
    for (std::size_t k = 1 + m.below(4); k > 0; --k) {
      const Bytes msg = m.mutate(pool[m.below(pool.size())]);
      stream.insert(stream.end(), msg.begin(), msg.end());
    }
    const auto stage = static_cast<Stage>(round % 3);
    run_stream(stage, stream, m, seen);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "round " << round << " stage " << static_cast<int>(stage) << ": "
                    << hex_of(stream);
      return;
    }
  }
  // The streams reached every outcome many times.
  EXPECT_GT(seen.notifications_sent, 1000u);
  EXPECT_GT(seen.closed, 50u);
  EXPECT_GT(seen.moved_forward, 100u);
}

// decode_open and decode_notification on mutated input: no crash; an error carries a
// NOTIFICATION that encodes and decodes; a success re-encodes to something that decodes the same.
TEST(BgpSessionFuzz, DecodeOpenAndNotificationOnMutatedInput) {
  const std::vector<Bytes> opens = {peer_open(kNode2),
                                    peer_open(kNode2, 4200000001u, GracefulRestartMode::kAware),
                                    open_bytes(bw::Open::make(64512, 90, kNode2))};
  const std::vector<Bytes> notifications = {
      notification_bytes(bw::Notification::cease(bw::CeaseSubcode::kAdministrativeShutdown, "x")),
      notification_bytes(bw::Notification::hold_timer_expired()),
      notification_bytes(bw::Notification::open(bw::OpenErrorSubcode::kBadPeerAs, {0xfc, 0x01}))};
  Mutator m(6793);
  std::size_t opens_ok = 0;
  std::size_t opens_bad = 0;
  std::size_t notifications_ok = 0;
  for (int round = 0; round < 20000; ++round) {
    const Bytes o = m.mutate(opens[m.below(opens.size())]);
    const auto open = bw::decode_open(o);
    if (open) {
      ++opens_ok;
      Bytes again;
      if (bw::encode_open(*open, again)) {
        const auto reopened = bw::decode_open(again);
        ASSERT_TRUE(reopened.has_value()) << hex_of(o);
        EXPECT_EQ(*reopened, *open) << hex_of(o);
      }
    } else {
      ++opens_bad;
      Bytes out;
      ASSERT_TRUE(bw::encode_notification(open.error().notification, out).has_value());
      ASSERT_TRUE(bw::decode_notification(out).has_value()) << hex_of(o);
    }
    const Bytes n = m.mutate(notifications[m.below(notifications.size())]);
    const auto notification = bw::decode_notification(n);
    if (notification) {
      ++notifications_ok;
      Bytes again;
      ASSERT_TRUE(bw::encode_notification(*notification, again).has_value());
      const auto renotified = bw::decode_notification(again);
      ASSERT_TRUE(renotified.has_value());
      EXPECT_EQ(*renotified, *notification);
    } else {
      Bytes out;
      ASSERT_TRUE(bw::encode_notification(notification.error().notification, out).has_value());
      ASSERT_TRUE(bw::decode_notification(out).has_value()) << hex_of(n);
    }
  }
  EXPECT_GT(opens_ok, 2000u);
  EXPECT_GT(opens_bad, 5000u);
  EXPECT_GT(notifications_ok, 2000u);
}

}  // namespace
}  // namespace calisim::bgp::test
