// TCP through the whole stack: sockets in namespaces, ARP, routing, links with loss, a router
// with a smaller MTU.

#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tcp_stack.hpp>
#include <calisim/dataplane/veth.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "dataplane/bulk_transfer.hpp"
#include "dataplane/capture_all.hpp"
#include "test_util.hpp"
#include "tshark_check.hpp"

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const char* text) {
  return *Ipv4Prefix::parse(text);
}
Ipv4Address ip(const char* text) {
  return *Ipv4Address::parse(text);
}

using testbed::payload;
using testbed::start_transfer;
using testbed::Transfer;

struct Pair {
  Simulator sim{3};
  wire::PacketPool pool;
  Segment segment;
  std::unique_ptr<Namespace> a;
  std::unique_ptr<Namespace> b;
  explicit Pair(LinkParams link) : segment(sim, "lan", link) {
    a = std::make_unique<Namespace>(sim, pool, "a");
    b = std::make_unique<Namespace>(sim, pool, "b");
    a->add_device<EthernetPort>("eth0", MacAddress({2, 0, 0, 0, 0, 1}), segment);
    b->add_device<EthernetPort>("eth0", MacAddress({2, 0, 0, 0, 0, 2}), segment);
    EXPECT_TRUE(a->add_address("eth0", pfx("10.0.0.1/24")));
    EXPECT_TRUE(b->add_address("eth0", pfx("10.0.0.2/24")));
    EXPECT_TRUE(a->set_up("eth0", true));
    EXPECT_TRUE(b->set_up("eth0", true));
  }
};

TEST(TcpStack, TenMegabytesOverOnePercentLossArriveExactly) {
  LinkParams link;
  link.loss = 0.01;
  Pair p(link);
  test::CaptureAll cap("tcp-stack-ten-megabytes-lossy");
  cap.attach(*p.a);
  cap.attach(*p.b);
  TcpStack ta(*p.a);
  TcpStack tb(*p.b);
  const auto data = payload(10 * 1024 * 1024);
  Transfer t;
  start_transfer(t, ta, tb, ip("10.0.0.2"), data);
  p.sim.run_until(Time::zero() + Duration::seconds(120));
  ASSERT_EQ(t.received.size(), data.size());
  EXPECT_TRUE(t.received == data);
  const auto retransmitted = t.client->connection().counters().retransmitted_segments;
  EXPECT_GT(retransmitted, 0u);
  const auto lost = p.a->drops(DropReason::kLoss) + p.b->drops(DropReason::kLoss);
  EXPECT_GT(lost, 0u);
  const auto f = cap.finish();
  // Lossy, so tshark's TCP analysis has plenty to say; checksums and framing must still be clean.
  test::expect_tshark_clean(f, {.min_packets = 2 * 7000});
  // Every retransmission the sender made left a/eth0, and tshark, reading what a tcpdump on a's
  // eth0 would have caught, recognises each as one. (One that follows its original by less than
  // tshark's out-of-order threshold, 3 ms, the RTT here being 0.1 ms, it calls out of order:
  // from the sender's own NIC that can only be a retransmission.)
  EXPECT_EQ(
      test::tshark_count(test::tshark_one_interface(f, "a/eth0"),
                         "tcp.srcport != 5001 && tcp.len > 0 && "
                         "(tcp.analysis.retransmission || tcp.analysis.fast_retransmission || "
                         "tcp.analysis.spurious_retransmission || "
                         "tcp.analysis.out_of_order)"),
      retransmitted);
}

TEST(TcpStack, RefusedWithoutAListener) {
  Pair p(LinkParams{});
  TcpStack ta(*p.a);
  TcpStack tb(*p.b);
  auto c = ta.connect(ip("10.0.0.2"), 179);
  ASSERT_TRUE(c.has_value());
  p.sim.run_until(Time::zero() + Duration::seconds(1));
  EXPECT_EQ((*c)->state(), TcpState::kClosed);
  ASSERT_TRUE((*c)->connection().error().has_value());
  EXPECT_EQ(*(*c)->connection().error(), TcpError::kRefused);
  EXPECT_EQ(tb.resets_sent(), 1u);
}

// connect() to an address on the LAN that nobody has: three ARP requests 1 s apart, the entry
// fails, and the kernel's Host Unreachable to itself (arp_error_report → dst_link_failure)
// reaches tcp_v4_err, which fails a SYN-SENT socket with EHOSTUNREACH ("No route to host"
// after about 3 s, as `ssh` to a missing neighbour shows).
TEST(TcpStack, ConnectToAHostThatDoesNotAnswerArpFailsWithHostUnreachable) {
  Pair p(LinkParams{});
  ASSERT_TRUE(p.a->set_up("lo", true));  // the error to ourselves is delivered through lo
  TcpStack ta(*p.a);
  auto c = ta.connect(ip("10.0.0.9"), 179);
  ASSERT_TRUE(c.has_value());
  p.sim.run_until(Time::zero() + Duration::milliseconds(2900));
  EXPECT_EQ((*c)->state(), TcpState::kSynSent);
  p.sim.run_until(Time::zero() + Duration::milliseconds(3100));
  EXPECT_EQ((*c)->state(), TcpState::kClosed);
  ASSERT_TRUE((*c)->connection().error().has_value());
  EXPECT_EQ(*(*c)->connection().error(), TcpError::kHostUnreachable);
  EXPECT_EQ(to_string(TcpError::kHostUnreachable), "no route to host");
}

// In a synchronized state the same ICMP error is only a soft error (sk_err_soft): the connection
// keeps retransmitting and is still there when the peer comes back.
TEST(TcpStack, HostUnreachableDoesNotAbortAnEstablishedConnection) {
  Pair p(LinkParams{});
  ASSERT_TRUE(p.a->set_up("lo", true));
  TcpStack ta(*p.a);
  TcpStack tb(*p.b);
  tb.listen(179, [](TcpSocket&) {});
  auto c = ta.connect(ip("10.0.0.2"), 179);
  ASSERT_TRUE(c.has_value());
  p.sim.run_until(Time::zero() + Duration::seconds(1));
  ASSERT_EQ((*c)->state(), TcpState::kEstablished);
  // b's cable goes: a's entry for b runs out and every retransmission queued behind ARP gets a
  // Host Unreachable.
  auto* b_eth = dynamic_cast<EthernetPort*>(p.b->device("eth0"));
  ASSERT_NE(b_eth, nullptr);
  b_eth->set_plugged(false);
  const std::uint8_t byte = 1;
  EXPECT_EQ((*c)->write(wire::Bytes(&byte, 1)), 1u);
  // The retransmissions back off (RTO doubling); the one at about 103 s finds the entry FAILED
  // and waits on a new INCOMPLETE one in vain.
  p.sim.run_until(Time::zero() + Duration::seconds(120));
  EXPECT_GT(p.a->drops(DropReason::kNeighbourFailed), 0u);
  EXPECT_EQ((*c)->state(), TcpState::kEstablished);
  EXPECT_FALSE((*c)->connection().error().has_value());
}

TEST(TcpStack, FragNeededLowersTheSegmentSizeAndTheTransferCompletes) {
  Simulator sim{5};
  wire::PacketPool pool;
  Namespace a(sim, pool, "a");
  Namespace r(sim, pool, "r");
  Namespace b(sim, pool, "b");
  Veth::create(a, "a0", MacAddress({2, 0, 0, 0, 1, 1}), r, "r0", MacAddress({2, 0, 0, 0, 1, 2}));
  Veth::create(r, "r1", MacAddress({2, 0, 0, 0, 2, 1}), b, "b0", MacAddress({2, 0, 0, 0, 2, 2}));
  // Only the router's side is narrow: both hosts see 1500 and offer MSS 1460, so only path MTU
  // discovery can find the 1280 bottleneck.
  r.device("r1")->set_mtu(1280);
  ASSERT_TRUE(a.add_address("a0", pfx("10.1.0.2/24")));
  ASSERT_TRUE(r.add_address("r0", pfx("10.1.0.1/24")));
  ASSERT_TRUE(r.add_address("r1", pfx("10.2.0.1/24")));
  ASSERT_TRUE(b.add_address("b0", pfx("10.2.0.2/24")));
  for (auto [ns, dev] : {std::pair{&a, "a0"}, {&r, "r0"}, {&r, "r1"}, {&b, "b0"}}) {
    ASSERT_TRUE(ns->set_up(dev, true));
  }
  r.set_ip_forward(true);
  Route ra;
  ra.destination = pfx("0.0.0.0/0");
  ra.gateway = ip("10.1.0.1");
  ra.ifindex = a.device("a0")->ifindex();
  ASSERT_TRUE(a.fib().add_route(ra));
  Route rb = ra;
  rb.gateway = ip("10.2.0.1");
  rb.ifindex = b.device("b0")->ifindex();
  ASSERT_TRUE(b.fib().add_route(rb));
  test::CaptureAll cap("tcp-stack-frag-needed");
  for (Namespace* ns : {&a, &r, &b}) cap.attach(*ns);
  TcpStack ta(a);
  TcpStack tb(b);
  const auto data = payload(1024 * 1024);
  Transfer t;
  start_transfer(t, ta, tb, ip("10.2.0.2"), data);
  sim.run_until(Time::zero() + Duration::seconds(30));
  ASSERT_EQ(t.received.size(), data.size());
  EXPECT_TRUE(t.received == data);
  const auto mtu_drops = r.drops(DropReason::kMtu);
  EXPECT_GE(mtu_drops, 1u);
  EXPECT_GE(t.client->connection().counters().pmtu_reductions, 1u);
  EXPECT_EQ(t.client->connection().send_mss(), 1280 - 40);
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 3 * 900});
  // One frag-needed with the router's next-hop MTU per dropped segment, on its way to a.
  EXPECT_EQ(test::tshark_count(f,
                               "frame.interface_name == \"a/a0\" && icmp.type == 3 && "
                               "icmp.code == 4 && icmp.mtu == 1280"),
            mtu_drops);
  // Past the router, no segment carries more than the lowered MSS.
  EXPECT_EQ(test::tshark_count(f, "frame.interface_name == \"b/b0\" && tcp.len > 1240"), 0u);
  EXPECT_GT(test::tshark_count(f, "frame.interface_name == \"b/b0\" && tcp.len == 1240"), 800u);
}

TEST(TcpStack, LosslessTransferCaptureHasNoTcpAnalysisFlags) {
  Pair p(LinkParams{});
  test::CaptureAll cap("tcp-stack-capture");
  cap.attach(*p.a);
  cap.attach(*p.b);
  TcpStack ta(*p.a);
  TcpStack tb(*p.b);
  const auto data = payload(256 * 1024);
  Transfer t;
  start_transfer(t, ta, tb, ip("10.0.0.2"), data);
  p.sim.run_until(Time::zero() + Duration::seconds(10));
  ASSERT_TRUE(t.received == data);
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 2 * 200, .lossless_tcp = true});
  EXPECT_GT(test::tshark_count(f, "frame.interface_name == \"b/eth0\" && tcp"), 100u);
}

}  // namespace
}  // namespace calisim::dataplane
