// Faults on a link, judged by what traffic does afterwards: a delay change shows in ping's
// time= values, a rate change in how long a transfer takes, and a NIC MTU change on a router
// in the frag-needed a DF ping gets back.

#include <calisim/dataplane/faults.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tcp_stack.hpp>
#include <calisim/dataplane/veth.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

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
Time at(double seconds) {
  return Time::zero() + Duration::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

// Two hosts on one segment.
struct Lan {
  Simulator sim{5};
  wire::PacketPool pool;
  Segment segment;
  std::unique_ptr<Namespace> a = std::make_unique<Namespace>(sim, pool, "a");
  std::unique_ptr<Namespace> b = std::make_unique<Namespace>(sim, pool, "b");
  explicit Lan(LinkParams params = {}) : segment(sim, "lan", params) {
    a->add_device<EthernetPort>("eth0", MacAddress({2, 0, 0, 0, 0, 1}), segment);
    b->add_device<EthernetPort>("eth0", MacAddress({2, 0, 0, 0, 0, 2}), segment);
    EXPECT_TRUE(a->add_address("eth0", pfx("10.0.0.1/24")));
    EXPECT_TRUE(b->add_address("eth0", pfx("10.0.0.2/24")));
    EXPECT_TRUE(a->set_up("eth0", true));
    EXPECT_TRUE(b->set_up("eth0", true));
  }
};

// What follows "time=" on each reply line: "0.102 ms", "40.1 ms".
std::vector<std::string> rtts(const Ping& ping) {
  std::vector<std::string> out;
  for (const auto& line : ping.lines()) {
    if (auto pos = line.find(" time="); pos != std::string::npos)
      out.push_back(line.substr(pos + 6));
  }
  return out;
}

std::vector<std::string> records(const FaultSchedule& f) {
  std::vector<std::string> out;
  for (const auto& r : f.applied()) out.push_back(r.what);
  return out;
}

// 50 us each way and 84-byte echoes (a 98-byte frame, 122 bytes with preamble, FCS and gap on a
// 1 Gbit/s wire: 976 ns): 101.952 us, which iputils truncates to 0.101 ms. The first echo waits
// for ARP too (84 bytes on the wire each way, 672 ns): 203.296 us. Then 20 ms each way:
// 40.00195 ms, printed with 3 significant digits as 40.0 ms; then 1 ms: 2.00 ms.
TEST(FaultsOnALink, PingTimesFollowADelayChange) {
  Lan lan;
  FaultSchedule faults(lan.sim);
  faults.set_delay(at(2.5), lan.segment, Duration::milliseconds(20));
  faults.set_delay(at(4.5), lan.segment, Duration::milliseconds(1));
  Ping ping(*lan.a, ip("10.0.0.2"), PingOptions{.count = 6});
  lan.sim.run_until(at(10));
  ASSERT_EQ(ping.statistics().received, 6u) << ping.output();
  EXPECT_EQ(rtts(ping), (std::vector<std::string>{"0.203 ms", "0.101 ms", "0.101 ms", "40.0 ms",
                                                  "40.0 ms", "2.00 ms"}))
      << ping.output();
  EXPECT_EQ(records(faults), (std::vector<std::string>{"delay lan 20000us", "delay lan 1000us"}));
}

// Sends `bytes` from a to a sink on b; returns when the sink had read them all.
struct Transfer {
  std::size_t total = 0;
  std::size_t sent = 0;
  std::size_t received = 0;
  std::optional<Time> done;
};

void transfer(Lan& lan, TcpStack& client, TcpStack& server, std::uint16_t port, Transfer& t) {
  static const std::vector<std::uint8_t> chunk(64 * 1024, 0x5a);
  server.listen(port, [&t, &lan](TcpSocket& s) {
    s.set_on_event([&t, &lan](TcpSocket& sock) {
      std::uint8_t buf[65536];
      while (std::size_t n = sock.connection().readable() ? sock.read(buf) : 0) t.received += n;
      if (t.received == t.total && !t.done) t.done = lan.sim.now();
    });
  });
  auto c = client.connect(ip("10.0.0.2"), port);
  ASSERT_TRUE(c.has_value());
  (*c)->set_on_event([&t](TcpSocket& sock) {
    if (sock.state() != TcpState::kEstablished) return;
    while (t.sent < t.total) {
      const std::size_t n =
          sock.write(wire::Bytes(chunk).first(std::min(chunk.size(), t.total - t.sent)));
      if (n == 0) break;
      t.sent += n;
    }
  });
}

// 1 MiB in 1460-byte segments is 718 full frames of 1538 bytes on the wire (headers, FCS,
// preamble and gap) and one of 374 bytes: 8.84 Mbit. At 1 Gbit/s the transfer takes about 9 ms;
// after the rate drops to 10 Mbit/s the same transfer takes about 0.884 s: the wire is the
// bottleneck both times (a 64 KiB window covers the 0.1 ms RTT many times over).
TEST(FaultsOnALink, TransferTimeFollowsARateChange) {
  Lan lan;
  TcpStack ta(*lan.a);
  TcpStack tb(*lan.b);
  FaultSchedule faults(lan.sim);
  faults.set_rate(at(5), lan.segment, 10'000'000);
  Transfer fast;
  fast.total = 1024 * 1024;
  transfer(lan, ta, tb, 5001, fast);
  lan.sim.run_until(at(4));
  ASSERT_TRUE(fast.done.has_value());
  lan.sim.run_until(at(6));
  const Time start = lan.sim.now();
  Transfer slow;
  slow.total = 1024 * 1024;
  transfer(lan, ta, tb, 5002, slow);
  lan.sim.run_until(at(10));
  ASSERT_TRUE(slow.done.has_value());
  const double wire_bits = (718.0 * 1538 + 374) * 8;  // bits, over the rate below
  const double fast_s = static_cast<double>((*fast.done - Time::zero()).ns()) / 1e9;
  const double slow_s = static_cast<double>((*slow.done - start).ns()) / 1e9;
  EXPECT_GT(fast_s, wire_bits / 1e9);
  EXPECT_LT(fast_s, 1.2 * wire_bits / 1e9) << fast_s;
  EXPECT_GT(slow_s, wire_bits / 1e7);
  EXPECT_LT(slow_s, 1.05 * wire_bits / 1e7) << slow_s;
  EXPECT_EQ(records(faults), (std::vector<std::string>{"rate lan 10000000bit"}));
}

// a - r - b over veths, r forwarding. `ip link set r1 mtu 1300` on the router: a 1400-byte DF
// echo that went through before now gets frag-needed from r with the new next-hop MTU.
TEST(FaultsOnALink, LowerNicMtuOnARouterGetsFragNeededWithTheNewMtu) {
  Simulator sim{5};
  wire::PacketPool pool;
  Namespace a(sim, pool, "a");
  Namespace r(sim, pool, "r");
  Namespace b(sim, pool, "b");
  Veth::create(a, "a0", MacAddress({2, 0, 0, 0, 1, 1}), r, "r0", MacAddress({2, 0, 0, 0, 1, 2}));
  Veth::create(r, "r1", MacAddress({2, 0, 0, 0, 2, 1}), b, "b0", MacAddress({2, 0, 0, 0, 2, 2}));
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
  FaultSchedule faults(sim);
  faults.set_mtu(at(2.5), *r.device("r1"), 1300);
  Ping ping(a, ip("10.2.0.2"), PingOptions{.count = 4, .data_bytes = 1372});
  sim.run_until(at(4));
  ASSERT_GE(ping.lines().size(), 5u) << ping.output();
  EXPECT_EQ(ping.lines()[0], "PING 10.2.0.2 (10.2.0.2) 1372(1400) bytes of data.");
  for (int seq = 1; seq <= 3; ++seq) {
    EXPECT_TRUE(ping.lines()[seq].starts_with(
        "1380 bytes from 10.2.0.2: icmp_seq=" + std::to_string(seq) + " ttl=63 time="))
        << ping.output();
  }
  EXPECT_EQ(ping.lines()[4], "From 10.1.0.1 icmp_seq=4 Frag needed and DF set (mtu = 1300)");
  EXPECT_EQ(r.drops(DropReason::kMtu), 1u);
  EXPECT_EQ(r.device("r1")->mtu(), 1300u);
  EXPECT_EQ(records(faults), (std::vector<std::string>{"mtu r/r1 1300"}));
}

}  // namespace
}  // namespace calisim::dataplane
