#pragma once
// Shared by the BgpSession* tests: two Calico mesh nodes' configurations, message bytes built
// with the codec, a harness that drains a session's actions, and the transition trace as
// comparable values.

#include <calisim/bgp/session.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace calisim {
// Times print as seconds in gtest messages.
inline void PrintTo(const Time& t, std::ostream* os) {
  *os << fmt::format("{:.6f}s", t.to_seconds());
}
inline void PrintTo(const Duration& d, std::ostream* os) {
  *os << fmt::format("{:.6f}s", d.to_seconds());
}
}  // namespace calisim

namespace calisim::bgp::test {

namespace bw = wire::bgp;

inline constexpr wire::Ipv4Address kNode1{10, 0, 0, 1};
inline constexpr wire::Ipv4Address kNode2{10, 0, 0, 2};

inline Time at_s(std::int64_t s) {
  return Time::zero() + Duration::seconds(s);
}
inline Duration ms(std::int64_t n) {
  return Duration::milliseconds(n);
}
inline Duration sec(std::int64_t n) {
  return Duration::seconds(n);
}

// A mesh peering as Calico's bird.cfg writes it, seen from `self` towards `peer`.
inline SessionConfig mesh_config(wire::Ipv4Address self, wire::Ipv4Address peer,
                                 bool passive = false) {
  SessionConfig c;
  c.router_id = self;
  c.local_address = self;
  c.peer_address = peer;
  c.passive = passive;
  return c;
}

inline std::vector<std::uint8_t> open_bytes(const bw::Open& open) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(bw::encode_open(open, out).has_value());
  return out;
}

// The OPEN a Calico node with router id `id` sends (same options as ours).
inline std::vector<std::uint8_t> peer_open(wire::Ipv4Address id, std::uint32_t as_number = 64512,
                                           GracefulRestartMode gr = GracefulRestartMode::kAble) {
  SessionConfig c = mesh_config(id, kNode1);
  c.local_as = as_number;
  c.graceful_restart = gr;
  return open_bytes(local_open(c));
}

inline std::vector<std::uint8_t> keepalive_bytes() {
  std::vector<std::uint8_t> out;
  bw::encode_keepalive(out);
  return out;
}

inline std::vector<std::uint8_t> notification_bytes(const bw::Notification& n) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(bw::encode_notification(n, out).has_value());
  return out;
}

inline std::string hex_of(wire::Bytes bytes) {
  std::string out;
  for (std::uint8_t b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

inline std::string hex_of(const std::vector<std::uint8_t>& bytes) {
  return hex_of(wire::Bytes(bytes));
}

inline std::vector<std::uint8_t> test_hex_bytes(std::string_view text) {
  return ::calisim::test::hex(text);
}

// "ffff...ff" + the rest, spaces ignored: golden messages read field by field.
inline std::string msg_hex(std::string_view rest) {
  std::string out(32, 'f');
  for (char c : rest) {
    if (c != ' ') out += c;
  }
  return out;
}

// One connection transition without its reason: what the tests compare.
struct Step {
  Time time;
  ConnectionRole role = ConnectionRole::kOutgoing;
  State from = State::kIdle;
  State to = State::kIdle;
  bool operator==(const Step&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Step& s) {
  return os << fmt::format("{{{:.6f}s, {}, {} -> {}}}", s.time.to_seconds(), to_string(s.role),
                           to_string(s.from), to_string(s.to));
}

inline std::vector<Step> steps(const Session& s, std::size_t from_index = 0) {
  std::vector<Step> out;
  const auto& t = s.transitions();
  for (std::size_t i = from_index; i < t.size(); ++i) {
    out.push_back(Step{t[i].time, t[i].role, t[i].from, t[i].to});
  }
  return out;
}

struct ProtoStep {
  Time time;
  ProtocolState from = ProtocolState::kDown;
  ProtocolState to = ProtocolState::kDown;
  bool operator==(const ProtoStep&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const ProtoStep& s) {
  return os << fmt::format("{{{:.6f}s, {} -> {}}}", s.time.to_seconds(), to_string(s.from),
                           to_string(s.to));
}

inline std::vector<ProtoStep> proto_steps(const Session& s, std::size_t from_index = 0) {
  std::vector<ProtoStep> out;
  const auto& t = s.protocol_transitions();
  for (std::size_t i = from_index; i < t.size(); ++i) {
    out.push_back(ProtoStep{t[i].time, t[i].from, t[i].to});
  }
  return out;
}

template <class T>
std::vector<T> only(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (const T* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

inline bool log_has(const Session& s, std::string_view text) {
  for (const auto& e : s.log()) {
    if (e.text.find(text) != std::string::npos) return true;
  }
  return false;
}

// BIRD's jitter computed from a twin of the session's random stream, to check the exact rule:
// t - uniform(t/4 + 1) microseconds. Only valid while the twin draws in the session's order.
struct Twin {
  explicit Twin(std::uint64_t seed) : rng(seed) {}
  RandomStream rng;
  Time jitter(Time now, std::int64_t seconds) {
    const std::int64_t us = seconds * 1'000'000;
    return now + Duration::microseconds(us - static_cast<std::int64_t>(rng.uniform(
                                                 static_cast<std::uint64_t>(us / 4 + 1))));
  }
};

class Harness {
 public:
  explicit Harness(SessionConfig config, std::uint64_t seed = 1)
      : session(std::move(config), RandomStream(seed)) {}

  // The actions produced since the last drain (also kept in `history`).
  std::vector<Action> drain() {
    std::vector<Action> out;
    while (auto a = session.poll_action()) {
      history.push_back(*a);
      out.push_back(std::move(*a));
    }
    return out;
  }

  // Runs timers until the session asks to connect; returns that connection's id. Closes of
  // abandoned attempts are skipped.
  ConnectionId run_until_connect(Time& now) {
    for (int i = 0; i < 1000; ++i) {
      auto d = session.next_deadline();
      EXPECT_TRUE(d.has_value()) << "no timer while waiting to connect";
      if (!d) return {};
      now = *d;
      session.on_timer(now);
      auto c = only<ConnectAction>(drain());
      if (!c.empty()) return c.back().id;
    }
    ADD_FAILURE() << "no Connect";
    return {};
  }

  // From a started active session: connect, OPENs, KEEPALIVEs, Established. Returns the id.
  ConnectionId establish_outgoing(Time& now, const std::vector<std::uint8_t>& peer_open_bytes) {
    const ConnectionId id = run_until_connect(now);
    now += ms(1);
    session.on_connected(now, id, true);
    now += ms(1);
    session.on_bytes(now, id, peer_open_bytes);
    now += ms(1);
    session.on_bytes(now, id, keepalive_bytes());
    EXPECT_EQ(session.state(), State::kEstablished);
    drain();
    return id;
  }

  Session session;
  std::vector<Action> history;
};

}  // namespace calisim::bgp::test
