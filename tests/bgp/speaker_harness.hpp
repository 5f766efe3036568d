#pragma once
// Shared by the BgpSpeaker* tests that drive one Speaker by hand: an IO that records what the
// speaker asks of the world (connects, messages, closes), and a rig that plays the peer's side
// of a connection with explicit times and bytes.

#include <calisim/bgp/speaker.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bgp/session_harness.hpp"

namespace calisim::bgp::test {

// Each send() is one whole message (the session sends message by message).
class RecordingIo final : public SpeakerIo {
 public:
  struct Connect {
    ConnectionId id;
    wire::Ipv4Address local;
    wire::Ipv4Address remote;
    std::uint16_t port = 0;
  };
  struct Sent {
    ConnectionId id;
    std::vector<std::uint8_t> bytes;
  };

  void connect(ConnectionId id, wire::Ipv4Address local, wire::Ipv4Address remote,
               std::uint16_t port) override {
    connects.push_back(Connect{id, local, remote, port});
  }
  void send(ConnectionId id, wire::Bytes bytes) override {
    sent.push_back(Sent{id, std::vector<std::uint8_t>(bytes.begin(), bytes.end())});
  }
  void close(ConnectionId id) override { closed.push_back(id); }
  void wake_at(Time at) override { wake = at; }

  // The messages sent on `id` since the last call, as hex (msg_hex spelling, no spaces).
  std::vector<std::string> take(ConnectionId id) {
    std::vector<std::string> out;
    for (std::size_t i = taken_; i < sent.size(); ++i) {
      if (sent[i].id == id) out.push_back(hex_of(sent[i].bytes));
    }
    taken_ = sent.size();
    return out;
  }

  std::vector<Connect> connects;
  std::vector<Sent> sent;
  std::vector<ConnectionId> closed;
  std::optional<Time> wake;

 private:
  std::size_t taken_ = 0;
};

// A mesh neighbour as Calico configures it, seen from 10.0.0.1, but active (so that the speaker
// connects out and the test plays the peer).
inline NeighborConfig mesh_neighbor(wire::Ipv4Address peer, std::string name,
                                    std::uint32_t peer_as = 64512) {
  NeighborConfig c;
  c.peer.name = std::move(name);
  c.peer.address = peer;
  c.peer.as_number = peer_as;
  c.peer.source_address = kNode1;
  c.peer.interface = "eth0";
  c.peer.export_filter = Filter::accept_all();
  c.session.passive = false;
  return c;
}

struct SpeakerRig {
  explicit SpeakerRig(std::uint32_t local_as = 64512, std::uint64_t seed = 3)
      : speaker(
            SpeakerConfig{.name = "node1", .local_as = local_as, .router_id = kNode1, .seed = seed},
            io) {}

  // Runs the speaker's timers until it connects to a neighbour; returns that connection.
  ConnectionId run_until_connect() {
    const std::size_t before = io.connects.size();
    for (int i = 0; i < 100 && io.connects.size() == before; ++i) {
      const auto d = speaker.next_deadline();
      EXPECT_TRUE(d.has_value());
      if (!d) break;
      now = *d;
      speaker.on_timer(now);
    }
    EXPECT_GT(io.connects.size(), before) << "no connect";
    return io.connects.empty() ? ConnectionId{} : io.connects.back().id;
  }

  // Connect, the peer's OPEN and KEEPALIVE: Established. Returns the connection.
  ConnectionId bring_up(const std::vector<std::uint8_t>& peer_open_bytes) {
    const ConnectionId id = run_until_connect();
    now += ms(1);
    speaker.on_connected(now, id);
    now += ms(1);
    speaker.on_bytes(now, id, peer_open_bytes);
    now += ms(1);
    speaker.on_bytes(now, id, keepalive_bytes());
    return id;
  }

  void deliver(ConnectionId id, const std::vector<std::uint8_t>& bytes) {
    now += ms(1);
    speaker.on_bytes(now, id, bytes);
  }

  RecordingIo io;
  Speaker speaker;
  Time now = Time::zero() + Duration::seconds(100);
};

inline std::vector<std::uint8_t> update_message(const wire::bgp::Update& update,
                                                wire::bgp::CodecContext ctx = {}) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(wire::bgp::encode_update(update, ctx, out).has_value());
  return out;
}

inline std::vector<std::uint8_t> route_refresh_message(std::uint8_t subtype) {
  std::vector<std::uint8_t> out;
  wire::bgp::encode_route_refresh(wire::bgp::RouteRefresh{wire::bgp::kIpv4Unicast, subtype}, out);
  return out;
}

inline std::vector<std::uint8_t> end_of_rib_message() {
  std::vector<std::uint8_t> out;
  wire::bgp::encode_end_of_rib(wire::bgp::kIpv4Unicast, out);
  return out;
}

}  // namespace calisim::bgp::test
