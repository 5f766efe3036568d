// Faults at simulated times: a node crash and restart (the peer's TCP connection is reset by the
// restarted node, as Linux does for a segment with no socket), a NIC cable pulled and plugged,
// and the record of what was applied when.

#include <calisim/dataplane/faults.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tcp_stack.hpp>
#include <calisim/dataplane/views.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const char* text) { return *Ipv4Prefix::parse(text); }
Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }
Time at(double seconds) {
  return Time::zero() + Duration::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

struct Pair {
  Simulator sim{5};
  wire::PacketPool pool;
  Segment segment{sim, "lan"};
  std::unique_ptr<Namespace> a = std::make_unique<Namespace>(sim, pool, "a");
  std::unique_ptr<Namespace> b = std::make_unique<Namespace>(sim, pool, "b");
  EthernetPort* a_eth = nullptr;
  EthernetPort* b_eth = nullptr;
  Pair() {
    a_eth = &a->add_device<EthernetPort>("eth0", MacAddress({2, 0, 0, 0, 0, 1}), segment);
    b_eth = &b->add_device<EthernetPort>("eth0", MacAddress({2, 0, 0, 0, 0, 2}), segment);
    EXPECT_TRUE(a->add_address("eth0", pfx("10.0.0.1/24")));
    EXPECT_TRUE(b->add_address("eth0", pfx("10.0.0.2/24")));
    EXPECT_TRUE(a->set_up("eth0", true));
    EXPECT_TRUE(b->set_up("eth0", true));
  }
};

std::vector<std::string> records(const FaultSchedule& f) {
  std::vector<std::string> out;
  for (const auto& r : f.applied()) out.push_back(fmt::format("{} {}", r.at.ns(), r.what));
  return out;
}

TEST(Faults, CrashedNodeAnswersNothingThenResetsTheOldConnectionAfterRestart) {
  Pair p;
  TcpStack ta(*p.a);
  TcpStack tb(*p.b);
  TcpSocket* accepted = nullptr;
  tb.listen(179, [&](TcpSocket& s) { accepted = &s; });
  auto c = ta.connect(ip("10.0.0.2"), 179);
  ASSERT_TRUE(c.has_value());
  TcpSocket& client = **c;
  p.sim.run_until(at(1));
  ASSERT_EQ(client.state(), TcpState::kEstablished);
  ASSERT_NE(accepted, nullptr);

  FaultSchedule faults(p.sim);
  faults.crash(at(2), *p.b);
  faults.restart(at(30), *p.b);
  p.sim.run_until(at(2.5));
  EXPECT_FALSE(p.b->running());
  EXPECT_EQ(accepted->state(), TcpState::kClosed);  // gone with the power, nothing sent
  EXPECT_FALSE(accepted->connection().error().has_value());

  // The client writes into the void: its segments die at b's dead NIC, unanswered.
  const std::vector<std::uint8_t> data(100, 0x42);
  ASSERT_EQ(client.write(data), data.size());
  p.sim.run_until(at(29));
  EXPECT_EQ(client.state(), TcpState::kEstablished);
  EXPECT_GT(p.b->drops(DropReason::kNodeDown), 0u);
  EXPECT_EQ(tb.resets_sent(), 0u);

  // Restarted, b has no socket for the connection: the next retransmission draws a RST and the
  // client sees ECONNRESET. b's listener died in the crash too, so nothing accepts it.
  p.sim.run_until(at(120));
  EXPECT_TRUE(p.b->running());
  EXPECT_EQ(client.state(), TcpState::kClosed);
  ASSERT_TRUE(client.connection().error().has_value());
  EXPECT_EQ(*client.connection().error(), TcpError::kReset);
  EXPECT_EQ(tb.resets_sent(), 1u);
  EXPECT_EQ(records(faults),
            (std::vector<std::string>{"2000000000 node-crash b", "30000000000 node-restart b"}));
}

TEST(Faults, ASegmentForAClosedSocketIsAnsweredAsIfThereWereNoSocket) {
  // A socket that is CLOSED (here: its side lost its state) no longer owns its four-tuple: the
  // peer's next segment goes the no-socket way (a RST), not into the dead connection.
  Pair p;
  TcpStack ta(*p.a);
  TcpStack tb(*p.b);
  TcpSocket* accepted = nullptr;
  tb.listen(179, [&](TcpSocket& s) { accepted = &s; });
  auto c = ta.connect(ip("10.0.0.2"), 179);
  ASSERT_TRUE(c.has_value());
  p.sim.run_until(at(1));
  ASSERT_NE(accepted, nullptr);
  accepted->connection().lose_power(p.sim.now());
  const std::vector<std::uint8_t> data(10, 1);
  ASSERT_EQ((*c)->write(data), data.size());
  p.sim.run_until(at(2));
  EXPECT_EQ((*c)->state(), TcpState::kClosed);
  ASSERT_TRUE((*c)->connection().error().has_value());
  EXPECT_EQ(*(*c)->connection().error(), TcpError::kReset);
  EXPECT_EQ(tb.resets_sent(), 1u);
}

TEST(Faults, UnpluggedCableFailsPingsWithLinkDownAndRecovers) {
  Pair p;
  FaultSchedule faults(p.sim);
  std::vector<std::string> seen;
  faults.set_listener([&](const FaultRecord& r) { seen.push_back(r.what); });
  faults.unplug(at(2.5), *p.b_eth);
  faults.plug(at(5.5), *p.b_eth);
  Ping ping(*p.a, ip("10.0.0.2"), PingOptions{.count = 8});
  p.sim.run_until(at(2.4));
  EXPECT_EQ(views::ip_neigh(*p.b), "10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 DELAY \n");
  // Carrier lost: b's entries are evicted (neigh_carrier_down); a's side noticed nothing.
  p.sim.run_until(at(2.6));
  EXPECT_EQ(views::ip_neigh(*p.b), "");
  EXPECT_NE(views::ip_neigh(*p.a), "");
  p.sim.run_until(at(20));
  ASSERT_TRUE(ping.finished());
  // Echoes 1-3 (t=0,1,2) answered; 4-6 (t=3,4,5) sent into a dead link; 7-8 answered again.
  std::vector<int> answered;
  for (const auto& line : ping.lines()) {
    if (auto pos = line.find("icmp_seq="); pos != std::string::npos) {
      answered.push_back(std::stoi(line.substr(pos + 9)));
    }
  }
  EXPECT_EQ(answered, (std::vector<int>{1, 2, 3, 7, 8})) << ping.output();
  EXPECT_NE(ping.output().find("8 packets transmitted, 5 received, 37.5% packet loss"),
            std::string::npos)
      << ping.output();
  // Echoes 4-6. (b's entry for a, DELAY since its first reply, would have gone to PROBE at 5 s
  // with the cable still out, but the carrier loss evicted it.)
  EXPECT_EQ(p.b->drops(DropReason::kLinkDown) + p.a->drops(DropReason::kLinkDown), 3u);
  EXPECT_TRUE(p.b->device("eth0")->admin_up());  // the cable, not `ip link set down`
  EXPECT_EQ(seen, (std::vector<std::string>{"link-down b/eth0", "link-up b/eth0"}));
}

// The neighbour entry of a peer whose cable was pulled: a send moves the STALE entry to DELAY,
// and 5 s later (delay_first_probe_time) it goes to PROBE by itself, then FAILED after three
// unanswered unicast probes, with nothing else happening in the namespace to wake it.
TEST(Faults, EntryOfAnUnpluggedPeerGoesFromDelayToProbeToFailedOnItsOwnTimer) {
  Pair p;
  Ping first(*p.a, ip("10.0.0.2"), PingOptions{.count = 1});
  p.sim.run_until(at(1));
  ASSERT_EQ(first.statistics().received, 1u);
  p.sim.run_until(at(100));  // long past reachable_time: STALE
  EXPECT_EQ(views::ip_neigh(*p.a), "10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 STALE \n");
  p.b_eth->set_plugged(false);
  Ping second(*p.a, ip("10.0.0.2"), PingOptions{.count = 1});
  p.sim.run_until(at(101));
  EXPECT_EQ(views::ip_neigh(*p.a), "10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 DELAY \n");
  p.sim.run_until(at(105.5));
  EXPECT_EQ(views::ip_neigh(*p.a), "10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 PROBE \n");
  p.sim.run_until(at(109));
  EXPECT_EQ(views::ip_neigh(*p.a), "10.0.0.2 dev eth0 FAILED \n");
}

TEST(Faults, DeviceDownRemovesItsRoutesAndUpRestoresThem) {
  Pair p;
  FaultSchedule faults(p.sim);
  faults.device_down(at(1), *p.a->device("eth0"));
  faults.device_up(at(2), *p.a->device("eth0"));
  p.sim.run_until(at(1.5));
  EXPECT_FALSE(p.a->route_output(ip("10.0.0.2")).ok());
  p.sim.run_until(at(2.5));
  EXPECT_TRUE(p.a->route_output(ip("10.0.0.2")).ok());
}

}  // namespace
}  // namespace calisim::dataplane
