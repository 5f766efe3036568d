#pragma once
// Our side of an interop test: a Speaker on PosixBgpIo with one eBGP neighbour on loopback,
// timers short enough that a session comes up in a second or two.

#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <calisim/bgp/policy.hpp>
#include <calisim/bgp/posix_io.hpp>
#include <calisim/bgp/speaker.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::test {

struct InteropPeer {
  wire::Ipv4Address local_address;  // ours, 127.0.0.2
  std::uint16_t listen_port = 0;    // 0: we only connect
  std::uint32_t local_as = 64513;
  wire::Ipv4Address router_id{10, 255, 0, 2};
  wire::Ipv4Address peer_address;  // the daemon's, 127.0.0.1
  std::uint16_t peer_port = 0;
  std::uint32_t peer_as = 64512;
  bool passive = false;
  // The NEXT_HOP our export filter sets (`bgp_next_hop = ...`): never a loopback address, which
  // GoBGP treats as withdraw.
  wire::Ipv4Address export_next_hop{192, 0, 2, 2};
  std::uint16_t hold_time_s = 9;
};

// The io is declared first so that it outlives the speaker that calls it.
struct InteropSpeaker {
  std::unique_ptr<bgp::PosixBgpIo> io;
  std::unique_ptr<bgp::Speaker> speaker;

  // Opens the io (listening when asked) and configures the speaker; start() is the caller's.
  [[nodiscard]] Result<void> open(const InteropPeer& p) {
    auto opened = bgp::PosixBgpIo::open(p.local_address, p.listen_port);
    if (!opened) return std::unexpected(opened.error());
    io = std::move(*opened);
    speaker = std::make_unique<bgp::Speaker>(
        bgp::SpeakerConfig{.name = "calisim", .local_as = p.local_as, .router_id = p.router_id},
        *io);
    bgp::NeighborConfig n;
    n.peer.name = "interop";
    n.peer.address = p.peer_address;
    n.peer.as_number = p.peer_as;
    n.peer.source_address = p.local_address;
    bgp::Filter out("interop_export");
    out.then(bgp::set_next_hop(p.export_next_hop)).accept();
    n.peer.export_filter = out;
    n.port = p.peer_port;
    n.session.passive = p.passive;
    n.session.hold_time_s = p.hold_time_s;
    n.session.startup_hold_time_s = p.hold_time_s;
    n.session.connect_delay_time_s = 1;
    n.session.connect_retry_time_s = 2;
    n.session.error_wait_min_s = 1;
    n.session.error_wait_max_s = 2;
    speaker->add_neighbor(n);
    io->attach(*speaker);
    return {};
  }

  bgp::SessionStatus status() const { return speaker->status(0).session; }
  bool established() const { return status().state == bgp::State::kEstablished; }
};

}  // namespace calisim::test
