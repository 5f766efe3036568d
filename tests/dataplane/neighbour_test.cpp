// The neighbour table against the kernel behaviour in linux.md §2.3 and what a throw-away pair of
// namespaces showed on kernel 6.18 (10.95.0.1/24 pinging a missing 10.95.0.99 and a live
// 10.95.0.2): broadcast requests at +0, +1.016, +2.040 s and FAILED between +2.9 and +3.2 s;
// a REACHABLE entry whose `used` age grew with its confirmed age while pinged every 0.5 s, then
// STALE -> DELAY -> PROBE (one unicast request) -> REACHABLE with `probes 1`.

#include <calisim/dataplane/neighbour.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::MacAddress;

constexpr std::uint32_t kIf = 2;
const Ipv4Address kPeer(10, 200, 1, 1);
const Ipv4Address kOther(10, 200, 1, 2);
const Ipv4Address kSource(10, 200, 1, 10);
const MacAddress kPeerMac({0xf6, 0xc8, 0x6d, 0x8d, 0x55, 0x48});
const MacAddress kOtherMac({0x02, 0x00, 0x00, 0x00, 0x00, 0x51});

Time at_ms(std::int64_t ms) { return Time::zero() + Duration::milliseconds(ms); }
Time at_s(std::int64_t s) { return Time::zero() + Duration::seconds(s); }

NeighbourTable make_table(NeighbourParams params = {}) {
  return NeighbourTable(RandomStream(42, "neigh/test"), params);
}

// A packet whose first byte tells the test which one it is.
wire::Packet make_packet(wire::PacketPool& pool, std::uint8_t tag, std::size_t size = 84) {
  wire::Packet p = pool.make(size);
  p.data()[0] = tag;
  return p;
}

std::vector<std::uint8_t> tags(const std::vector<wire::Packet>& packets) {
  std::vector<std::uint8_t> out;
  for (const auto& p : packets) out.push_back(p.data()[0]);
  return out;
}

NeighbourState state_of(const NeighbourTable& t, Ipv4Address ip = kPeer) {
  const NeighbourEntry* e = t.find(kIf, ip);
  EXPECT_NE(e, nullptr);
  return e == nullptr ? NeighbourState::kFailed : e->state;
}

std::vector<SendArpRequest> requests(const std::vector<NeighbourAction>& actions) {
  std::vector<SendArpRequest> out;
  for (const auto& a : actions) {
    if (const auto* r = std::get_if<SendArpRequest>(&a)) out.push_back(*r);
  }
  return out;
}

// Drive poll at every deadline up to `until`, collecting what it asks for.
struct Timeline {
  std::vector<std::pair<Time, SendArpRequest>> requests;
  std::vector<std::pair<Time, NeighbourFailed>> failures;
};
Timeline run_until(NeighbourTable& t, Time until) {
  Timeline out;
  while (t.next_deadline() <= until) {
    const Time now = t.next_deadline();
    for (auto& a : t.poll(now)) {
      if (auto* r = std::get_if<SendArpRequest>(&a)) out.requests.emplace_back(now, *r);
      if (auto* f = std::get_if<NeighbourFailed>(&a)) out.failures.emplace_back(now, std::move(*f));
    }
  }
  return out;
}

// An entry made REACHABLE at `t0` by resolving and a unicast reply.
void make_reachable(NeighbourTable& t, Time t0) {
  auto r = t.resolve(kIf, kPeer, t0);
  ASSERT_EQ(r.kind, Resolution::Kind::kQueue);
  auto released = t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, t0);
  ASSERT_TRUE(released.packets.empty());
  ASSERT_EQ(state_of(t), NeighbourState::kReachable);
}

TEST(NeighbourTest, StateNamesAsIpNeighPrintsThem) {
  EXPECT_EQ(to_string(NeighbourState::kIncomplete), "INCOMPLETE");
  EXPECT_EQ(to_string(NeighbourState::kReachable), "REACHABLE");
  EXPECT_EQ(to_string(NeighbourState::kStale), "STALE");
  EXPECT_EQ(to_string(NeighbourState::kDelay), "DELAY");
  EXPECT_EQ(to_string(NeighbourState::kProbe), "PROBE");
  EXPECT_EQ(to_string(NeighbourState::kFailed), "FAILED");
  EXPECT_EQ(to_string(NeighbourState::kNoarp), "NOARP");
  EXPECT_EQ(to_string(NeighbourState::kPermanent), "PERMANENT");
  EXPECT_FALSE(is_valid(NeighbourState::kIncomplete));
  EXPECT_FALSE(is_valid(NeighbourState::kFailed));
  EXPECT_TRUE(is_valid(NeighbourState::kProbe));
}

TEST(NeighbourTest, DefaultsAreTheKernels) {
  const NeighbourParams p;
  EXPECT_EQ(p.base_reachable_time, Duration::seconds(30));
  EXPECT_EQ(p.retrans_time, Duration::seconds(1));
  EXPECT_EQ(p.delay_first_probe_time, Duration::seconds(5));
  EXPECT_EQ(p.gc_stale_time, Duration::seconds(60));
  EXPECT_EQ(p.ucast_solicit, 3);
  EXPECT_EQ(p.mcast_solicit, 3);
  EXPECT_EQ(p.app_solicit, 0);
  EXPECT_EQ(p.unres_qlen_bytes, 212992u);
  // The kernel shows unres_qlen 101 = unres_qlen_bytes / SKB_TRUESIZE(ETH_FRAME_LEN).
  EXPECT_EQ(p.unres_qlen_bytes / (1514 + p.skb_overhead_bytes), 101u);
  // SK_WMEM_MAX is SKB_TRUESIZE(256) * 256.
  EXPECT_EQ((256 + p.skb_overhead_bytes) * 256, p.unres_qlen_bytes);
}

TEST(NeighbourTest, UnansweredResolutionSendsThreeBroadcastsThenFails) {
  wire::PacketPool pool;
  NeighbourTable t = make_table();
  const Time t0 = at_ms(1500);
  auto r = t.resolve(kIf, kPeer, t0, kSource);
  ASSERT_EQ(r.kind, Resolution::Kind::kQueue);
  ASSERT_TRUE(r.request.has_value());
  EXPECT_EQ(*r.request, (SendArpRequest{kIf, kPeer, std::nullopt, kSource}));
  EXPECT_TRUE(t.enqueue(kIf, kPeer, make_packet(pool, 1), kSource).empty());
  EXPECT_EQ(state_of(t), NeighbourState::kIncomplete);
  EXPECT_EQ(t.next_deadline(), t0 + Duration::seconds(1));

  // ping keeps sending meanwhile: queued, no new request.
  auto r2 = t.resolve(kIf, kPeer, t0 + Duration::milliseconds(200), kSource);
  EXPECT_EQ(r2.kind, Resolution::Kind::kQueue);
  EXPECT_FALSE(r2.request.has_value());
  EXPECT_TRUE(t.enqueue(kIf, kPeer, make_packet(pool, 2), kSource).empty());

  Timeline tl = run_until(t, t0 + Duration::seconds(10));
  ASSERT_EQ(tl.requests.size(), 2u);
  EXPECT_EQ(tl.requests[0].first, t0 + Duration::seconds(1));
  EXPECT_EQ(tl.requests[1].first, t0 + Duration::seconds(2));
  for (const auto& [when, req] : tl.requests) {
    EXPECT_EQ(req, (SendArpRequest{kIf, kPeer, std::nullopt, kSource}));
  }
  ASSERT_EQ(tl.failures.size(), 1u);
  EXPECT_EQ(tl.failures[0].first, t0 + Duration::seconds(3));
  EXPECT_EQ(tl.failures[0].second.address, kPeer);
  EXPECT_EQ(tags(tl.failures[0].second.packets), (std::vector<std::uint8_t>{1, 2}));

  const NeighbourEntry* e = t.find(kIf, kPeer);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, NeighbourState::kFailed);
  EXPECT_EQ(e->probes, 6u);  // `ip -s neigh` shows probes 6 (linux.md §2.3)
  EXPECT_EQ(e->queued_packets, 0u);
  EXPECT_EQ(t.next_deadline(), Time::max());
  EXPECT_EQ(t.counters().res_failed, 1u);
}

TEST(NeighbourTest, FailedEntryIsRetriedByNewTraffic) {
  NeighbourTable t = make_table();
  (void)t.resolve(kIf, kPeer, at_s(0));
  run_until(t, at_s(3));
  ASSERT_EQ(state_of(t), NeighbourState::kFailed);
  auto r = t.resolve(kIf, kPeer, at_s(20));
  EXPECT_EQ(r.kind, Resolution::Kind::kQueue);
  ASSERT_TRUE(r.request.has_value());
  EXPECT_FALSE(r.request->unicast_to.has_value());
  EXPECT_EQ(state_of(t), NeighbourState::kIncomplete);
  EXPECT_EQ(t.find(kIf, kPeer)->probes, 4u);
  EXPECT_EQ(t.next_deadline(), at_s(21));
}

TEST(NeighbourTest, ReplyReleasesQueuedPacketsInOrder) {
  wire::PacketPool pool;
  NeighbourTable t = make_table();
  (void)t.resolve(kIf, kPeer, at_ms(0));
  for (std::uint8_t i = 1; i <= 3; ++i) {
    (void)t.resolve(kIf, kPeer, at_ms(i));
    EXPECT_TRUE(t.enqueue(kIf, kPeer, make_packet(pool, i)).empty());
  }
  EXPECT_EQ(t.find(kIf, kPeer)->queued_packets, 3u);
  auto released = t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, at_ms(700));
  EXPECT_EQ(released.ifindex, kIf);
  EXPECT_EQ(released.address, kPeer);
  EXPECT_EQ(released.mac, kPeerMac);
  EXPECT_EQ(tags(released.packets), (std::vector<std::uint8_t>{1, 2, 3}));
  const NeighbourEntry* e = t.find(kIf, kPeer);
  EXPECT_EQ(e->state, NeighbourState::kReachable);
  EXPECT_EQ(e->mac, kPeerMac);
  EXPECT_EQ(e->queued_packets, 0u);
  EXPECT_EQ(e->confirmed, at_ms(700));
  EXPECT_EQ(e->used, at_ms(700));
  EXPECT_EQ(e->probes, 4u);  // as the kernel leaves it (`probes 4` observed)

  auto r = t.resolve(kIf, kPeer, at_ms(800));
  EXPECT_EQ(r.kind, Resolution::Kind::kResolved);
  EXPECT_EQ(r.mac, kPeerMac);
  EXPECT_FALSE(r.request.has_value());
  EXPECT_EQ(pool.outstanding(), 3u);  // the released packets are alive in `released`
}

TEST(NeighbourTest, QueueByteLimitDropsTheOldest) {
  wire::PacketPool pool;
  NeighbourParams p;
  p.unres_qlen_bytes = 3 * (100 + p.skb_overhead_bytes);  // room for three 100-byte packets
  NeighbourTable t = make_table(p);
  (void)t.resolve(kIf, kPeer, at_ms(0));
  for (std::uint8_t i = 1; i <= 3; ++i) EXPECT_TRUE(t.enqueue(kIf, kPeer, make_packet(pool, i, 100)).empty());
  auto dropped = t.enqueue(kIf, kPeer, make_packet(pool, 4, 100));
  EXPECT_EQ(tags(dropped), (std::vector<std::uint8_t>{1}));
  // A bigger packet (charged exactly two slots) pushes out as many old ones as it needs.
  dropped = t.enqueue(kIf, kPeer, make_packet(pool, 5, 100 + p.skb_overhead_bytes + 100));
  EXPECT_EQ(tags(dropped), (std::vector<std::uint8_t>{2, 3}));
  const NeighbourEntry* e = t.find(kIf, kPeer);
  EXPECT_EQ(e->queued_packets, 2u);
  EXPECT_EQ(e->queued_bytes, p.unres_qlen_bytes);  // exactly full is allowed
  EXPECT_EQ(t.counters().unres_discards, 3u);
  // One packet larger than the whole limit still goes in, alone (the kernel's loop stops when
  // the queue is empty).
  dropped = t.enqueue(kIf, kPeer, make_packet(pool, 6, 2000));
  EXPECT_EQ(tags(dropped), (std::vector<std::uint8_t>{4, 5}));
  EXPECT_EQ(t.find(kIf, kPeer)->queued_packets, 1u);
  auto released = t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, at_ms(10));
  EXPECT_EQ(tags(released.packets), (std::vector<std::uint8_t>{6}));
}

TEST(NeighbourTest, DefaultQueueHoldsAboutThreeHundredPings) {
  wire::PacketPool pool;
  NeighbourTable t = make_table();
  (void)t.resolve(kIf, kPeer, at_ms(0));
  std::size_t dropped = 0;
  for (int i = 0; i < 400; ++i) dropped += t.enqueue(kIf, kPeer, make_packet(pool, 0, 84)).size();
  // 212992 / (84 + 576) = 322.7
  EXPECT_EQ(t.find(kIf, kPeer)->queued_packets, 322u);
  EXPECT_EQ(dropped, 78u);
}

TEST(NeighbourTest, ReachableStaleDelayProbeReachable) {
  NeighbourTable t = make_table();
  const Time t0 = at_s(10);
  make_reachable(t, t0);
  const Duration rt = *t.reachable_time(kIf);
  EXPECT_GE(rt, Duration::seconds(15));
  EXPECT_LT(rt, Duration::seconds(45));
  EXPECT_EQ(t.next_deadline(), t0 + rt);

  // Traffic through a REACHABLE entry takes the fast path: `used` does not move.
  (void)t.resolve(kIf, kPeer, t0 + Duration::seconds(1));  // first send caches the header
  for (int i = 2; i < 20; ++i) (void)t.resolve(kIf, kPeer, t0 + Duration::seconds(i));
  EXPECT_EQ(t.find(kIf, kPeer)->used, t0 + Duration::seconds(1));

  // At confirmed + reachable_time the timer finds it still fresh and re-arms for 10 ms.
  EXPECT_TRUE(t.poll(t0 + rt).empty());
  EXPECT_EQ(state_of(t), NeighbourState::kReachable);
  EXPECT_EQ(t.next_deadline(), t0 + rt + Duration::milliseconds(10));
  EXPECT_TRUE(t.poll(t0 + rt + Duration::milliseconds(10)).empty());
  EXPECT_EQ(state_of(t), NeighbourState::kStale);  // not DELAY: used is old
  EXPECT_EQ(t.next_deadline(), Time::max());

  // The next packet: STALE -> DELAY, sent at once with the cached MAC.
  const Time t1 = t0 + rt + Duration::milliseconds(300);
  auto r = t.resolve(kIf, kPeer, t1);
  EXPECT_EQ(r.kind, Resolution::Kind::kResolved);
  EXPECT_EQ(r.mac, kPeerMac);
  EXPECT_EQ(state_of(t), NeighbourState::kDelay);
  EXPECT_EQ(t.next_deadline(), t1 + Duration::seconds(5));

  // No confirmation within 5 s: PROBE with a unicast request at once.
  auto actions = t.poll(t1 + Duration::seconds(5));
  EXPECT_EQ(state_of(t), NeighbourState::kProbe);
  EXPECT_EQ(requests(actions),
            (std::vector<SendArpRequest>{{kIf, kPeer, kPeerMac, Ipv4Address()}}));
  EXPECT_EQ(t.find(kIf, kPeer)->probes, 1u);

  // Packets still go out in PROBE.
  EXPECT_EQ(t.resolve(kIf, kPeer, t1 + Duration::milliseconds(5500)).kind,
            Resolution::Kind::kResolved);

  // The unicast reply: REACHABLE again, probes 1 as observed.
  const Time t2 = t1 + Duration::milliseconds(5001);
  auto released = t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, t2);
  EXPECT_TRUE(released.packets.empty());
  const NeighbourEntry* e = t.find(kIf, kPeer);
  EXPECT_EQ(e->state, NeighbourState::kReachable);
  EXPECT_EQ(e->probes, 1u);
  EXPECT_EQ(e->confirmed, t2);
  EXPECT_EQ(t.next_deadline(), t2 + rt);
}

TEST(NeighbourTest, ReachableUsedRecentlyGoesToDelay) {
  // A REACHABLE entry whose Ethernet header is not cached yet (made REACHABLE by
  // `ip neigh replace`) records `used` on its first packet, so it goes to DELAY, not STALE.
  NeighbourTable t = make_table();
  ASSERT_TRUE(t.replace(kIf, kPeer, kPeerMac, NeighbourState::kReachable, at_s(0)).has_value());
  const Duration rt = *t.reachable_time(kIf);
  (void)t.resolve(kIf, kPeer, at_s(0) + rt - Duration::seconds(2));  // first send: used
  (void)t.poll(at_s(0) + rt);                                         // still alive
  (void)t.poll(at_s(0) + rt + Duration::milliseconds(10));
  EXPECT_EQ(state_of(t), NeighbourState::kDelay);
  EXPECT_EQ(t.next_deadline(), at_s(0) + rt + Duration::milliseconds(5010));
  // Confirmed by TCP within the delay: REACHABLE with no probe.
  t.confirm(kIf, kPeer, at_s(0) + rt + Duration::seconds(1));
  auto actions = t.poll(t.next_deadline());
  EXPECT_TRUE(actions.empty());
  EXPECT_EQ(state_of(t), NeighbourState::kReachable);
  EXPECT_EQ(t.next_deadline(), at_s(0) + rt + Duration::seconds(1) + rt);
}

TEST(NeighbourTest, ConfirmationKeepsReachableAlive) {
  NeighbourTable t = make_table();
  make_reachable(t, at_s(0));
  const Duration rt = *t.reachable_time(kIf);
  t.confirm(kIf, kPeer, at_s(10));
  EXPECT_TRUE(t.poll(at_s(0) + rt).empty());
  EXPECT_EQ(state_of(t), NeighbourState::kReachable);
  EXPECT_EQ(t.next_deadline(), at_s(10) + rt);
}

TEST(NeighbourTest, ProbeExhaustingUnicastProbesFails) {
  wire::PacketPool pool;
  NeighbourTable t = make_table();
  // Learnt from the peer's request for us: STALE, then used -> DELAY.
  auto released = t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kRequestAnswered}, at_s(0));
  EXPECT_TRUE(released.packets.empty());
  EXPECT_EQ(state_of(t), NeighbourState::kStale);
  EXPECT_EQ(t.next_deadline(), Time::max());
  (void)t.resolve(kIf, kPeer, at_s(100));
  EXPECT_EQ(state_of(t), NeighbourState::kDelay);

  Timeline tl = run_until(t, at_s(200));
  ASSERT_EQ(tl.requests.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(tl.requests[i].first, at_s(105) + Duration::seconds(static_cast<std::int64_t>(i)));
    EXPECT_EQ(tl.requests[i].second.unicast_to, kPeerMac);
  }
  ASSERT_EQ(tl.failures.size(), 1u);
  EXPECT_EQ(tl.failures[0].first, at_s(108));
  EXPECT_TRUE(tl.failures[0].second.packets.empty());
  EXPECT_EQ(state_of(t), NeighbourState::kFailed);

  // The next packet starts over with broadcasts.
  auto r = t.resolve(kIf, kPeer, at_s(300));
  EXPECT_EQ(r.kind, Resolution::Kind::kQueue);
  ASSERT_TRUE(r.request.has_value());
  EXPECT_FALSE(r.request->unicast_to.has_value());
}

TEST(NeighbourTest, McastResolicitAddsBroadcastsAfterUnicastProbes) {
  NeighbourParams p;
  p.mcast_resolicit = 2;
  NeighbourTable t = make_table(p);
  (void)t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kRequestAnswered}, at_s(0));
  (void)t.resolve(kIf, kPeer, at_s(1));
  Timeline tl = run_until(t, at_s(100));
  ASSERT_EQ(tl.requests.size(), 5u);
  EXPECT_TRUE(tl.requests[2].second.unicast_to.has_value());
  EXPECT_FALSE(tl.requests[3].second.unicast_to.has_value());
  EXPECT_FALSE(tl.requests[4].second.unicast_to.has_value());
  ASSERT_EQ(tl.failures.size(), 1u);
  EXPECT_EQ(tl.failures[0].first, at_s(11));
}

TEST(NeighbourTest, NoMulticastProbesMeansImmediateFailure) {
  NeighbourParams p;
  p.mcast_solicit = 0;
  NeighbourTable t = make_table(p);
  auto r = t.resolve(kIf, kPeer, at_s(1));
  EXPECT_EQ(r.kind, Resolution::Kind::kFailed);
  EXPECT_EQ(state_of(t), NeighbourState::kFailed);
  EXPECT_EQ(t.next_deadline(), Time::max());
}

TEST(NeighbourTest, RequestForUsLearnsStaleAndReleasesQueue) {
  wire::PacketPool pool;
  NeighbourTable t = make_table();
  (void)t.resolve(kIf, kPeer, at_ms(0), kSource);
  (void)t.enqueue(kIf, kPeer, make_packet(pool, 7), kSource);
  // The peer asks for us before answering: its request teaches us its MAC (STALE), and the
  // queued packet goes out through the entry, which moves it to DELAY.
  auto released = t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kRequestAnswered}, at_ms(50));
  EXPECT_EQ(tags(released.packets), (std::vector<std::uint8_t>{7}));
  EXPECT_EQ(released.mac, kPeerMac);
  EXPECT_EQ(state_of(t), NeighbourState::kDelay);
  EXPECT_EQ(t.next_deadline(), at_ms(5050));
  // Its reply confirms within the delay.
  (void)t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, at_ms(60));
  EXPECT_EQ(state_of(t), NeighbourState::kReachable);
}

TEST(NeighbourTest, RequestWithSameMacLeavesReachableAlone) {
  NeighbourTable t = make_table();
  make_reachable(t, at_s(0));
  (void)t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kRequestAnswered}, at_s(5));
  EXPECT_EQ(state_of(t), NeighbourState::kReachable);
  EXPECT_EQ(t.find(kIf, kPeer)->updated, at_s(0));
}

TEST(NeighbourTest, LocktimeKeepsTheFirstReply) {
  NeighbourTable t = make_table();
  make_reachable(t, at_s(0));
  // A second, different reply within locktime (1 s) of the update is ignored ...
  (void)t.on_arp({kIf, kPeer, kOtherMac, ArpReceipt::kReplyToUs}, at_ms(500));
  EXPECT_EQ(t.find(kIf, kPeer)->mac, kPeerMac);
  // ... unless gratuitous,
  (void)t.on_arp({kIf, kPeer, kOtherMac, ArpReceipt::kReplyOther, true}, at_ms(600));
  EXPECT_EQ(t.find(kIf, kPeer)->mac, kOtherMac);
  EXPECT_EQ(state_of(t), NeighbourState::kStale);  // a broadcast reply does not confirm
  // ... and after locktime a unicast reply wins.
  (void)t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, at_ms(1601));
  EXPECT_EQ(t.find(kIf, kPeer)->mac, kPeerMac);
  EXPECT_EQ(state_of(t), NeighbourState::kReachable);
}

TEST(NeighbourTest, UnsolicitedArpCreatesNothing) {
  NeighbourTable t = make_table();
  (void)t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, at_s(1));
  (void)t.on_arp({kIf, kOther, kOtherMac, ArpReceipt::kRequestOther}, at_s(1));
  (void)t.on_arp({kIf, Ipv4Address(), kOtherMac, ArpReceipt::kRequestAnswered}, at_s(1));
  EXPECT_EQ(t.size(), 0u);
}

TEST(NeighbourTest, PermanentEntriesNeverTimeOutNorChange) {
  NeighbourTable t = make_table();
  (void)t.add_permanent(kIf, kPeer, kPeerMac, at_s(0));
  EXPECT_EQ(t.next_deadline(), Time::max());
  auto r = t.resolve(kIf, kPeer, at_s(1));
  EXPECT_EQ(r.kind, Resolution::Kind::kResolved);
  EXPECT_EQ(r.mac, kPeerMac);
  (void)t.on_arp({kIf, kPeer, kOtherMac, ArpReceipt::kRequestAnswered}, at_s(2));
  (void)t.on_arp({kIf, kPeer, kOtherMac, ArpReceipt::kReplyToUs, true}, at_s(3));
  EXPECT_TRUE(t.poll(at_s(100000)).empty());
  EXPECT_EQ(state_of(t), NeighbourState::kPermanent);
  EXPECT_EQ(t.find(kIf, kPeer)->mac, kPeerMac);
  EXPECT_EQ(t.next_deadline(), Time::max());
}

TEST(NeighbourTest, PermanentEntryReleasesAWaitingQueue) {
  wire::PacketPool pool;
  NeighbourTable t = make_table();
  (void)t.resolve(kIf, kPeer, at_ms(0));
  (void)t.enqueue(kIf, kPeer, make_packet(pool, 9));
  auto released = t.add_permanent(kIf, kPeer, kPeerMac, at_ms(300));
  EXPECT_EQ(tags(released.packets), (std::vector<std::uint8_t>{9}));
  EXPECT_EQ(state_of(t), NeighbourState::kPermanent);
  EXPECT_EQ(t.next_deadline(), Time::max());
}

TEST(NeighbourTest, ReplaceRejectsTransientStates) {
  NeighbourTable t = make_table();
  auto r = t.replace(kIf, kPeer, kPeerMac, NeighbourState::kProbe, at_s(0));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(t.size(), 0u);
}

TEST(NeighbourTest, RemoveFailsQueuedPacketsAndFlushKeepsPermanent) {
  wire::PacketPool pool;
  NeighbourTable t = make_table();
  (void)t.resolve(kIf, kPeer, at_ms(0));
  (void)t.enqueue(kIf, kPeer, make_packet(pool, 1));
  auto failed = t.remove(kIf, kPeer);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(tags(*failed), (std::vector<std::uint8_t>{1}));
  EXPECT_EQ(t.next_deadline(), Time::max());
  EXPECT_EQ(t.remove(kIf, kPeer).error().code, Errc::kNotFound);

  (void)t.add_permanent(kIf, Ipv4Address(10, 200, 1, 50), kOtherMac, at_s(1));
  (void)t.add_noarp(kIf, Ipv4Address(10, 200, 1, 53), kOtherMac, at_s(1));
  (void)t.add_noarp(3, Ipv4Address(10, 200, 2, 53), kOtherMac, at_s(1));
  make_reachable(t, at_s(1));
  (void)t.resolve(kIf, kOther, at_s(2));
  (void)t.enqueue(kIf, kOther, make_packet(pool, 2));
  (void)t.resolve(3, kOther, at_s(2));
  auto flushed = t.flush(kIf);
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_EQ(flushed[0].address, kOther);
  EXPECT_EQ(tags(flushed[0].packets), (std::vector<std::uint8_t>{2}));
  EXPECT_EQ(t.find(kIf, kPeer), nullptr);
  EXPECT_EQ(t.find(kIf, kOther), nullptr);
  EXPECT_NE(t.find(kIf, Ipv4Address(10, 200, 1, 50)), nullptr);
  EXPECT_NE(t.find(kIf, Ipv4Address(10, 200, 1, 53)), nullptr);
  EXPECT_NE(t.find(3, kOther), nullptr);  // another device
  EXPECT_EQ(t.size(), 4u);
  // Only device 3's INCOMPLETE entry still has a timer.
  EXPECT_EQ(t.next_deadline(), at_s(3));
}

TEST(NeighbourTest, DeviceDownRemovesEverythingOfTheDevice) {
  wire::PacketPool pool;
  NeighbourTable t = make_table();
  (void)t.add_permanent(kIf, kPeer, kPeerMac, at_s(0));
  (void)t.resolve(kIf, kOther, at_s(0));
  (void)t.enqueue(kIf, kOther, make_packet(pool, 5));
  t.add_proxy(kIf, Ipv4Address(10, 200, 1, 60));
  t.add_proxy(3, Ipv4Address(10, 200, 1, 60));
  (void)t.add_permanent(3, kPeer, kPeerMac, at_s(0));
  auto dropped = t.device_down(kIf);
  EXPECT_EQ(tags(dropped), (std::vector<std::uint8_t>{5}));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_FALSE(t.is_proxied(kIf, Ipv4Address(10, 200, 1, 60)));
  EXPECT_TRUE(t.is_proxied(3, Ipv4Address(10, 200, 1, 60)));
  EXPECT_EQ(t.next_deadline(), Time::max());
}

TEST(NeighbourTest, ReachableTimeIsDeterministicPerSeed) {
  auto draw = [](std::uint64_t seed, std::uint32_t ifindex) {
    NeighbourTable t(RandomStream(seed, "neigh/node1"));
    (void)t.resolve(ifindex, kPeer, at_s(0));
    (void)t.on_arp({ifindex, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, at_s(0));
    return *t.reachable_time(ifindex);
  };
  const Duration a = draw(7, kIf);
  EXPECT_EQ(a, draw(7, kIf));
  EXPECT_GE(a, Duration::seconds(15));
  EXPECT_LT(a, Duration::seconds(45));
  EXPECT_EQ(a.ns() % 1'000'000, 0);  // whole milliseconds, as the kernel's jiffies at HZ=1000
  // Different seeds give different times (45 s range: collisions of a few seeds are unlikely;
  // the seeds are fixed, so this cannot flake).
  std::vector<Duration> seen;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) seen.push_back(draw(seed, kIf));
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
}

TEST(NeighbourTest, ReachableTimeIsPerInterfaceAndRedrawnAfter300s) {
  NeighbourTable t = make_table();
  make_reachable(t, at_s(0));
  (void)t.resolve(3, kPeer, at_s(0));
  (void)t.on_arp({3, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, at_s(0));
  const Duration first = *t.reachable_time(kIf);
  EXPECT_NE(first, *t.reachable_time(3));
  // Still the same draw within 300 s ...
  (void)t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, at_s(200));
  run_until(t, at_s(299));
  EXPECT_EQ(*t.reachable_time(kIf), first);
  // ... and a new one once it is older.
  (void)t.resolve(kIf, kPeer, at_s(400));
  (void)t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kReplyToUs}, at_s(402));
  EXPECT_NE(*t.reachable_time(kIf), first);
}

TEST(NeighbourTest, ObserverSeesEveryTransition) {
  NeighbourTable t = make_table();
  std::vector<std::string> log;
  t.set_observer([&log](const NeighbourEntry& e, std::optional<NeighbourState> from, Time now) {
    log.push_back(std::to_string(now.ns() / 1'000'000) + " " +
                  std::string(from ? to_string(*from) : "NONE") + "->" +
                  std::string(to_string(e.state)));
  });
  (void)t.resolve(kIf, kPeer, at_ms(0));
  run_until(t, at_s(10));
  EXPECT_EQ(log, (std::vector<std::string>{"0 NONE->INCOMPLETE", "3000 INCOMPLETE->FAILED"}));
}

TEST(NeighbourTest, GarbageCollectionOnlyAboveThreshold) {
  NeighbourParams p;
  p.gc_thresh1 = 3;
  NeighbourTable t = make_table(p);
  (void)t.on_arp({kIf, kPeer, kPeerMac, ArpReceipt::kRequestAnswered}, at_s(0));
  (void)t.on_arp({kIf, kOther, kOtherMac, ArpReceipt::kRequestAnswered}, at_s(0));
  EXPECT_EQ(t.next_deadline(), Time::max());  // two entries: below gc_thresh1, no GC
  EXPECT_TRUE(t.poll(at_s(100)).empty());
  EXPECT_EQ(t.size(), 2u);
  (void)t.add_permanent(kIf, Ipv4Address(10, 200, 1, 50), kOtherMac, at_s(100));
  // Periodic work every base_reachable_time/2 = 15 s, on multiples of 15 s.
  EXPECT_EQ(t.next_deadline(), at_s(105));
  (void)t.poll(at_s(105));
  // The STALE entries were last used at creation (100 s ago > gc_stale_time): gone.
  EXPECT_EQ(t.size(), 1u);
  EXPECT_NE(t.find(kIf, Ipv4Address(10, 200, 1, 50)), nullptr);
  EXPECT_EQ(t.counters().periodic_gc_runs, 1u);
}

TEST(NeighbourTest, IpNeighShowPrintsIproute2Format) {
  NeighbourTable t = make_table();
  const std::uint32_t a0 = 4;
  const std::uint32_t eth1 = 7;
  const DeviceNameFn names = [&](std::uint32_t i) -> std::string {
    return i == a0 ? "a0" : i == eth1 ? "eth1" : "";
  };
  (void)t.resolve(a0, Ipv4Address(10, 200, 1, 1), at_s(0));
  (void)t.on_arp({a0, Ipv4Address(10, 200, 1, 1), kPeerMac, ArpReceipt::kReplyToUs}, at_s(0));
  (void)t.resolve(a0, Ipv4Address(10, 200, 1, 99), at_s(0));
  (void)t.resolve(a0, Ipv4Address(10, 200, 1, 98), at_s(0));
  run_until(t, at_s(3));  // .98 and .99 fail; .1 stays REACHABLE
  (void)t.resolve(a0, Ipv4Address(10, 200, 1, 99), at_s(4));  // INCOMPLETE again
  (void)t.on_arp({a0, Ipv4Address(10, 200, 1, 51), MacAddress({2, 0, 0, 0, 0, 0x51}),
                  ArpReceipt::kRequestAnswered},
                 at_s(4));
  (void)t.add_permanent(a0, Ipv4Address(10, 200, 1, 50), MacAddress({2, 0, 0, 0, 0, 0x50}),
                        at_s(4));
  ASSERT_TRUE(t.replace(a0, Ipv4Address(10, 200, 1, 52), MacAddress({2, 0, 0, 0, 0, 0x52}),
                        NeighbourState::kReachable, at_s(4), true)
                  .has_value());
  (void)t.add_noarp(a0, Ipv4Address(10, 200, 1, 53), MacAddress({2, 0, 0, 0, 0, 0x53}), at_s(4));
  (void)t.add_permanent(eth1, Ipv4Address(169, 254, 1, 1),
                        MacAddress({0xee, 0xee, 0xee, 0xee, 0xee, 0xee}), at_s(4));
  (void)t.add_permanent(9, Ipv4Address(10, 0, 0, 9), kOtherMac, at_s(4));  // no name: if9

  EXPECT_EQ(ip_neigh_show(t, names),
            "10.200.1.1 dev a0 lladdr f6:c8:6d:8d:55:48 REACHABLE \n"
            "10.200.1.50 dev a0 lladdr 02:00:00:00:00:50 PERMANENT \n"
            "10.200.1.51 dev a0 lladdr 02:00:00:00:00:51 STALE \n"
            "10.200.1.52 dev a0 lladdr 02:00:00:00:00:52 router REACHABLE \n"
            "10.200.1.98 dev a0 FAILED \n"
            "10.200.1.99 dev a0 INCOMPLETE \n"
            "169.254.1.1 dev eth1 lladdr ee:ee:ee:ee:ee:ee PERMANENT \n"
            "10.0.0.9 dev if9 lladdr 02:00:00:00:00:51 PERMANENT \n");
  EXPECT_EQ(ip_neigh_show(t, names, {.dev = a0, .all = true}),
            "10.200.1.1 lladdr f6:c8:6d:8d:55:48 REACHABLE \n"
            "10.200.1.50 lladdr 02:00:00:00:00:50 PERMANENT \n"
            "10.200.1.51 lladdr 02:00:00:00:00:51 STALE \n"
            "10.200.1.52 lladdr 02:00:00:00:00:52 router REACHABLE \n"
            "10.200.1.53 lladdr 02:00:00:00:00:53 NOARP \n"
            "10.200.1.98 FAILED \n"
            "10.200.1.99 INCOMPLETE \n");
  t.add_proxy(a0, Ipv4Address(10, 200, 1, 60));
  EXPECT_EQ(ip_neigh_show(t, names, {.proxy = true}), "10.200.1.60 dev a0 proxy \n");
  EXPECT_EQ(ip_neigh_show(t, names, {.dev = a0, .proxy = true}), "10.200.1.60 proxy \n");
  EXPECT_EQ(ip_neigh_show(t, names, {.dev = 99}), "");
}

}  // namespace
}  // namespace calisim::dataplane

namespace calisim::dataplane {
namespace {

// Thousands of entries added and removed in a scrambled order on several devices: find()
// agrees with a plain model after every step (the table's open-addressing index grows and
// deletes by backward shift).
TEST(NeighbourTableIndex, FindAgreesWithAModelThroughAddsAndRemoves) {
  NeighbourTable t = make_table();
  std::vector<std::pair<std::uint32_t, wire::Ipv4Address>> present;
  const wire::MacAddress mac({0x02, 0, 0, 0, 0, 1});
  std::uint64_t x = 12345;
  auto next = [&] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(x >> 33);
  };
  for (int step = 0; step < 6000; ++step) {
    if (present.empty() || next() % 3 != 0) {
      const std::uint32_t ifindex = 1 + next() % 4;
      const wire::Ipv4Address a(0x0a000000u | (next() % 4096));
      if (t.find(ifindex, a) != nullptr) continue;
      ASSERT_TRUE(t.replace(ifindex, a, mac, NeighbourState::kPermanent, Time::zero()));
      present.emplace_back(ifindex, a);
    } else {
      const std::size_t k = next() % present.size();
      ASSERT_TRUE(t.remove(present[k].first, present[k].second));
      present[k] = present.back();
      present.pop_back();
    }
    if (step % 500 == 0 || step == 5999) {
      for (const auto& [i, a] : present) ASSERT_NE(t.find(i, a), nullptr) << step;
      EXPECT_EQ(t.size(), present.size());
      // Addresses never added are not found.
      for (std::uint32_t probe = 0; probe < 64; ++probe) {
        const wire::Ipv4Address a(0x0b000000u | probe);
        EXPECT_EQ(t.find(1, a), nullptr);
      }
    }
  }
  for (const auto& [i, a] : present) {
    ASSERT_TRUE(t.remove(i, a));
    EXPECT_EQ(t.find(i, a), nullptr);
  }
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace calisim::dataplane
