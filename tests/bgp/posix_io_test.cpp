// PosixBgpIo without a daemon: two of our speakers peer over loopback TCP; a connect to a port
// nobody listens on is "Socket: Connection refused"; a taken port is an error naming it.

#include <calisim/bgp/posix_io.hpp>
#include <calisim/bgp/speaker.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "bgp/interop_daemon.hpp"
#include "bgp/interop_speaker.hpp"

namespace calisim::bgp {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

const Ipv4Address kA{127, 0, 0, 3};
const Ipv4Address kB{127, 0, 0, 4};

test::InteropPeer peer_config(Ipv4Address me, std::uint16_t my_port, std::uint32_t my_as,
                              Ipv4Address other, std::uint16_t other_port, std::uint32_t other_as,
                              Ipv4Address next_hop) {
  test::InteropPeer p;
  p.local_address = me;
  p.listen_port = my_port;
  p.local_as = my_as;
  p.router_id = me;
  p.peer_address = other;
  p.peer_port = other_port;
  p.peer_as = other_as;
  p.export_next_hop = next_hop;
  return p;
}

// Runs both loops in turns until `done`.
bool run_both(test::InteropSpeaker& a, test::InteropSpeaker& b, const std::function<bool()>& done,
              Duration timeout) {
  const Time deadline = a.io->now() + timeout;
  while (!done()) {
    if (a.io->now() >= deadline) return false;
    if (!a.io->run_for(Duration::milliseconds(10)) || !b.io->run_for(Duration::milliseconds(10))) {
      return false;
    }
  }
  return true;
}

TEST(BgpPosixIo, TwoSpeakersPeerOverLoopback) {
  const std::uint16_t port_a = test::free_port(kA);
  const std::uint16_t port_b = test::free_port(kB);
  test::InteropSpeaker a;
  test::InteropSpeaker b;
  ASSERT_TRUE(a.open(peer_config(kA, port_a, 64601, kB, port_b, 64602, Ipv4Address{192, 0, 2, 10})));
  ASSERT_TRUE(b.open(peer_config(kB, port_b, 64602, kA, port_a, 64601, Ipv4Address{192, 0, 2, 11})));
  const auto pa = *Ipv4Prefix::parse("10.61.0.0/24");
  const auto pb = *Ipv4Prefix::parse("10.62.0.0/24");
  a.speaker->rib().originate(pa);
  b.speaker->rib().originate(pb);
  a.speaker->start(a.io->now());
  b.speaker->start(b.io->now());
  ASSERT_TRUE(run_both(a, b,
                       [&] {
                         return a.speaker->rib().best(pb).has_value() &&
                                b.speaker->rib().best(pa).has_value();
                       },
                       Duration::seconds(10)))
      << a.status().info << " / " << b.status().info;
  EXPECT_TRUE(a.established());
  EXPECT_TRUE(b.established());
  // Both connected at once: one connection survives the collision (RFC 4271 §6.8).
  EXPECT_EQ(a.io->connections().size(), 1u);
  EXPECT_EQ(b.io->connections().size(), 1u);
  const auto at_a = a.speaker->rib().best(pb);
  ASSERT_NE(at_a->attributes, nullptr);
  EXPECT_EQ(at_a->attributes->as_path->to_string(), "64602");
  EXPECT_EQ(at_a->attributes->next_hop, (Ipv4Address{192, 0, 2, 11}));

  // A's orderly stop: B hears a Cease and drops A's route.
  a.speaker->stop(a.io->now());
  ASSERT_TRUE(run_both(a, b, [&] { return !b.established(); }, Duration::seconds(5)));
  EXPECT_EQ(b.status().last_error, "Received: Administrative shutdown");
  EXPECT_FALSE(b.speaker->rib().best(pa).has_value());
}

TEST(BgpPosixIo, ConnectToAClosedPortIsConnectionRefused) {
  test::InteropSpeaker a;
  const std::uint16_t nobody = test::free_port(kB);
  ASSERT_TRUE(a.open(peer_config(kA, 0, 64601, kB, nobody, 64602, Ipv4Address{192, 0, 2, 10})));
  a.speaker->start(a.io->now());
  auto r = a.io->run_until([&] { return !a.status().last_error.empty(); }, Duration::seconds(5));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(a.status().last_error, "Socket: Connection refused");
  EXPECT_TRUE(a.io->connections().empty());
}

TEST(BgpPosixIo, PortInUseIsAnErrorNamingIt) {
  const std::uint16_t port = test::free_port(kA);
  auto first = PosixBgpIo::open(kA, port);
  ASSERT_TRUE(first);
  auto second = PosixBgpIo::open(kA, port);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kIo);
  EXPECT_EQ(second.error().message,
            "bgp: cannot listen on 127.0.0.3:" + std::to_string(port) +
                ": bind: Address already in use");
}

TEST(BgpPosixIo, RunForKeepsRealTime) {
  auto io = PosixBgpIo::open(kA, 0);
  ASSERT_TRUE(io);
  const Time before = (*io)->now();
  ASSERT_TRUE((*io)->run_for(Duration::milliseconds(50)));
  EXPECT_GE((*io)->now() - before, Duration::milliseconds(50));
  auto r = (*io)->run_until([] { return false; }, Duration::milliseconds(30));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
}

}  // namespace
}  // namespace calisim::bgp
