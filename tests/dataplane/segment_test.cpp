// The Ethernet segment on its own: the learning switch (learned unicast goes to one port, unknown
// unicast floods, a NIC drops frames for another MAC), the transmit queue (txqueuelen counts
// frames waiting for the wire, not those on it) and a delay change while frames are on the wire.

#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/wire/ethernet.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace calisim::dataplane {
namespace {

using wire::MacAddress;

constexpr auto kExperimental = static_cast<wire::EtherType>(0x88b5);  // IEEE local experimental

MacAddress mac(std::uint8_t last) {
  return MacAddress({0x02, 0, 0, 0, 0, last});
}

// Every frame a namespace's devices receive: when, and the tag in its first payload byte.
struct Arrivals final : PacketTap {
  std::vector<std::pair<std::int64_t, std::uint8_t>> seen;  // (ns since start, tag)
  void on_packet(const Device&, Time at, wire::Bytes frame, Direction dir) override {
    if (dir == Direction::kInbound)
      seen.emplace_back(at.ns(), frame[wire::EthernetHeader::kLength]);
  }
};

struct Lan {
  Simulator sim{11};
  wire::PacketPool pool;
  Segment segment;
  std::vector<std::unique_ptr<Namespace>> hosts;
  std::vector<EthernetPort*> ports;

  explicit Lan(int n, LinkParams params = {}) : segment(sim, "lan", params) {
    for (int i = 0; i < n; ++i) {
      hosts.push_back(std::make_unique<Namespace>(sim, pool, "h" + std::to_string(i)));
      ports.push_back(&hosts.back()->add_device<EthernetPort>(
          "eth0", mac(static_cast<std::uint8_t>(i + 1)), segment));
      EXPECT_TRUE(hosts.back()->set_up("eth0", true));
    }
  }
  // A minimum-size frame from port `from` to `dst`, tagged.
  void send(int from, MacAddress dst, std::uint8_t tag = 0, std::size_t size = 60) {
    wire::Packet p = pool.make(size);
    wire::EthernetHeader{dst, ports[from]->mac(), kExperimental}.emit(p.bytes());
    p.bytes()[wire::EthernetHeader::kLength] = tag;
    ports[from]->transmit(std::move(p));
  }
  void run_for(Duration d) { sim.run_until(sim.now() + d); }
  // Frames each port took in, and those it dropped as not for its MAC.
  std::vector<std::uint64_t> received() const {
    std::vector<std::uint64_t> out;
    for (auto* p : ports) out.push_back(p->stats().rx_packets);
    return out;
  }
  std::vector<std::uint64_t> not_for_us() const {
    std::vector<std::uint64_t> out;
    for (auto& h : hosts) out.push_back(h->drops(DropReason::kNotForUs));
    return out;
  }
  using Counts = std::vector<std::uint64_t>;
};

TEST(Segment, LearnsSourceMacsAndFloodsOnlyUnknownUnicast) {
  Lan lan(3);
  // Nothing learned yet: A's frame for B floods; B takes it, C's NIC drops it.
  lan.send(0, mac(2));
  lan.run_for(Duration::milliseconds(1));
  EXPECT_EQ(lan.received(), (Lan::Counts{0, 1, 0}));
  EXPECT_EQ(lan.not_for_us(), (Lan::Counts{0, 0, 1}));
  // The switch learned A's port from that frame: B's answer goes to A alone (and teaches B).
  lan.send(1, mac(1));
  lan.run_for(Duration::milliseconds(1));
  EXPECT_EQ(lan.received(), (Lan::Counts{1, 1, 0}));
  EXPECT_EQ(lan.not_for_us(), (Lan::Counts{0, 0, 1}));
  // Now B is known too: A to B reaches B only.
  lan.send(0, mac(2));
  lan.run_for(Duration::milliseconds(1));
  EXPECT_EQ(lan.received(), (Lan::Counts{1, 2, 0}));
  EXPECT_EQ(lan.not_for_us(), (Lan::Counts{0, 0, 1}));
  // A MAC nobody has sent from floods to every other port, and each NIC drops it.
  lan.send(2, mac(9));
  lan.run_for(Duration::milliseconds(1));
  EXPECT_EQ(lan.received(), (Lan::Counts{1, 2, 0}));
  EXPECT_EQ(lan.not_for_us(), (Lan::Counts{1, 1, 1}));
  // Broadcast reaches every port but the sender's.
  lan.send(2, MacAddress::broadcast());
  lan.run_for(Duration::milliseconds(1));
  EXPECT_EQ(lan.received(), (Lan::Counts{2, 3, 0}));
  EXPECT_EQ(lan.not_for_us(), (Lan::Counts{1, 1, 1}));
}

// A 100 ms cable with frames sent 1 ms apart holds about 100 frames at once, yet none waits in
// the queue: a txqueuelen of 10 must not drop any of them.
TEST(Segment, FramesOnALongCableDoNotFillTheTransmitQueue) {
  LinkParams params;
  params.delay = Duration::milliseconds(100);
  params.queue_limit_packets = 10;
  Lan lan(2, params);
  for (int i = 0; i < 150; ++i) {
    lan.send(0, MacAddress::broadcast());
    lan.run_for(Duration::milliseconds(1));
  }
  EXPECT_EQ(lan.hosts[0]->drops(DropReason::kQueueFull), 0u);
  EXPECT_EQ(lan.received(), (Lan::Counts{0, 50}));
  lan.run_for(Duration::milliseconds(100));
  EXPECT_EQ(lan.received(), (Lan::Counts{0, 150}));
}

// A burst faster than the wire: the first frame goes straight onto the wire, ten wait in the
// queue, the other nineteen are tail-dropped.
TEST(Segment, ABurstBeyondTheQueueLimitIsTailDropped) {
  LinkParams params;
  params.delay = Duration::milliseconds(100);
  params.rate_bps = 10'000'000;
  params.queue_limit_packets = 10;
  Lan lan(2, params);
  for (int i = 0; i < 30; ++i) lan.send(0, MacAddress::broadcast(), 0, 1514);
  EXPECT_EQ(lan.segment.backlog(*lan.ports[0]), 10u);
  EXPECT_EQ(lan.hosts[0]->drops(DropReason::kQueueFull), 19u);
  // 1538 bytes on the wire at 10 Mbit/s: 1230.4 us each; the queue drains one frame at a time.
  lan.run_for(Duration::nanoseconds(1'230'400 * 5 + 1));
  EXPECT_EQ(lan.segment.backlog(*lan.ports[0]), 5u);
  lan.run_for(Duration::milliseconds(200));
  EXPECT_EQ(lan.segment.backlog(*lan.ports[0]), 0u);
  EXPECT_EQ(lan.received(), (Lan::Counts{0, 11}));
}

// Lowering the delay while a frame is on the wire: that frame keeps its arrival time, and the
// next one, sent under the new delay, arrives right behind it instead of overtaking it. Frames
// sent later take the new delay alone.
TEST(Segment, LoweringTheDelayKeepsFramesInOrder) {
  LinkParams params;
  params.delay = Duration::milliseconds(10);
  Lan lan(2, params);
  Arrivals arrivals;
  lan.hosts[1]->set_tap(&arrivals);
  // 60 bytes + 24 of overhead at 1 Gbit/s: 672 ns on the wire.
  lan.send(0, MacAddress::broadcast(), 1);
  lan.run_for(Duration::milliseconds(1));
  lan.segment.set_delay(Duration::microseconds(1));
  lan.send(0, MacAddress::broadcast(), 2);
  lan.run_for(Duration::milliseconds(19));
  lan.send(0, MacAddress::broadcast(), 3);
  lan.run_for(Duration::milliseconds(1));
  lan.hosts[1]->set_tap(nullptr);
  EXPECT_EQ(arrivals.seen, (std::vector<std::pair<std::int64_t, std::uint8_t>>{
                               {10'000'672, 1}, {10'000'672, 2}, {20'001'672, 3}}));
}

// Raising it: frames already on the wire are not held back, later ones take longer.
TEST(Segment, RaisingTheDelayAppliesToFramesSentAfterwards) {
  LinkParams params;
  params.delay = Duration::microseconds(100);
  Lan lan(2, params);
  Arrivals arrivals;
  lan.hosts[1]->set_tap(&arrivals);
  lan.send(0, MacAddress::broadcast(), 1);
  lan.segment.set_delay(Duration::milliseconds(5));
  lan.send(0, MacAddress::broadcast(), 2);
  lan.run_for(Duration::milliseconds(10));
  lan.hosts[1]->set_tap(nullptr);
  EXPECT_EQ(arrivals.seen,
            (std::vector<std::pair<std::int64_t, std::uint8_t>>{{100'672, 1}, {5'001'344, 2}}));
}

}  // namespace
}  // namespace calisim::dataplane
