// Route types and fragments on the packet path: what a forwarded or local packet meets at a
// blackhole, unreachable or prohibit route; reassembly that never completes; a router that
// fragments onto a smaller MTU.

#include "stack_test_bed.hpp"

#include <calisim/dataplane/ping.hpp>
#include <calisim/wire/icmp.hpp>

namespace calisim::dataplane {
namespace {

using namespace testbed;

struct RouterLab {
  World w;
  Chain c = chain(w);
  RouterLab() {
    EXPECT_TRUE(c.r.fib().add_route(typed("192.0.2.0/24", RouteType::kBlackhole)));
    EXPECT_TRUE(c.r.fib().add_route(typed("198.51.100.0/24", RouteType::kUnreachable)));
    EXPECT_TRUE(c.r.fib().add_route(typed("203.0.113.0/24", RouteType::kProhibit)));
  }
  std::vector<std::string> ping(const char* target) {
    Ping p(c.a, ip(target), PingOptions{.count = 1, .linger = Duration::seconds(1)});
    w.run_for(Duration::seconds(3));
    EXPECT_TRUE(p.finished());
    return p.lines();
  }
};

// A blackhole route drops silently (RTN_BLACKHOLE: -EINVAL, ip_error sends nothing).
TEST(RouteTypes, ForwardedIntoABlackholeIsDroppedSilently) {
  RouterLab lab;
  const auto lines = lab.ping("192.0.2.1");
  // No "From" line: nothing came back. (Linux's iputils says "time 0ms" here; calisim's ping
  // summary counts the linger, which is ping_output's business.)
  ASSERT_GE(lines.size(), 4u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[1], "");
  EXPECT_TRUE(lines[3].starts_with("1 packets transmitted, 0 received, 100% packet loss"));
  EXPECT_EQ(lab.c.r.drops(DropReason::kBlackhole), 1u);
}

// RTN_UNREACHABLE gives EHOSTUNREACH: ip_error answers ICMP host unreachable (3/1).
TEST(RouteTypes, ForwardedIntoAnUnreachableRouteGetsHostUnreachable) {
  RouterLab lab;
  const auto lines = lab.ping("198.51.100.1");
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[1], "From 10.1.0.1 icmp_seq=1 Destination Host Unreachable");
  EXPECT_EQ(lab.c.r.drops(DropReason::kUnreachable), 1u);
}

// RTN_PROHIBIT gives EACCES: ICMP 3/13, which ping prints as "Packet filtered".
TEST(RouteTypes, ForwardedIntoAProhibitRouteGetsPacketFiltered) {
  RouterLab lab;
  const auto lines = lab.ping("203.0.113.1");
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[1], "From 10.1.0.1 icmp_seq=1 Packet filtered");
  EXPECT_EQ(lab.c.r.drops(DropReason::kProhibit), 1u);
}

// A local send meets the route's error in connect() (iputils 20221126 on Linux 6.18:
// `ping: connect: No route to host`, the firewall advice for EACCES, `Invalid argument`), and a
// datagram sent anyway counts the route type as its drop reason.
TEST(RouteTypes, LocalSendToRejectRoutesFailsAsPingShows) {
  World w;
  Namespace& a = w.ns("a");
  ASSERT_TRUE(a.fib().add_route(typed("198.51.100.0/24", RouteType::kUnreachable)));
  ASSERT_TRUE(a.fib().add_route(typed("203.0.113.0/24", RouteType::kProhibit)));
  ASSERT_TRUE(a.fib().add_route(typed("192.0.2.0/24", RouteType::kBlackhole)));
  auto first_line = [&](const char* target) {
    Ping p(a, ip(target), PingOptions{.count = 1});
    EXPECT_TRUE(p.finished());
    return p.lines().at(0);
  };
  EXPECT_EQ(first_line("198.51.100.1"), "ping: connect: No route to host");
  EXPECT_EQ(first_line("203.0.113.1"),
            "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall "
            "rules");
  EXPECT_EQ(first_line("192.0.2.1"), "ping: connect: Invalid argument");
  auto sent = a.send(udp_datagram(w.pool, ip("127.0.0.1"), ip("198.51.100.1"), 1, 2));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().message, "a: 198.51.100.1: No route to host");
  EXPECT_EQ(a.drops(DropReason::kUnreachable), 1u);
  EXPECT_FALSE(a.send(udp_datagram(w.pool, ip("127.0.0.1"), ip("203.0.113.1"), 1, 2)));
  EXPECT_EQ(a.drops(DropReason::kProhibit), 1u);
  EXPECT_FALSE(a.send(udp_datagram(w.pool, ip("127.0.0.1"), ip("192.0.2.1"), 1, 2)));
  EXPECT_EQ(a.drops(DropReason::kBlackhole), 1u);
}

// Only the first of two fragments arrives: after ipfrag_time (30 s) the destination sends time
// exceeded, code 1 (ip_expire), and counts a reassembly timeout.
TEST(RouteTypes, ReassemblyTimeoutSendsTimeExceededCodeOne) {
  World w;
  auto [a, r, b] = chain(w);
  std::vector<std::pair<int, int>> errors;
  std::vector<Time> at;
  a.add_protocol_handler(1, [&](const wire::Ipv4View& v, Time now) {
    auto icmp = *wire::IcmpView::parse(v.payload());
    errors.emplace_back(static_cast<int>(icmp.type()), icmp.code());
    at.push_back(now);
  });
  wire::Ipv4Header h;
  h.total_length = 20 + 1000;
  h.protocol = wire::IpProtocol::kUdp;
  h.identification = 4242;
  h.more_fragments = true;  // fragment 1 of 2: offset 0, MF
  h.source = ip("10.1.0.2");
  h.destination = ip("10.2.0.2");
  wire::Packet first = w.pool.make(h.total_length);
  h.emit(first.bytes());
  ASSERT_TRUE(a.send(std::move(first)));
  w.run_for(Duration::seconds(29));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(b.drops(DropReason::kReassemblyTimeout), 0u);
  w.run_for(Duration::seconds(2));
  EXPECT_EQ(errors, (std::vector<std::pair<int, int>>{{11, 1}}));
  EXPECT_EQ(b.drops(DropReason::kReassemblyTimeout), 1u);
}

// ping -s 1400 -M dont through a router whose next hop has MTU 1000: the router fragments the
// forwarded request (DF clear), the destination reassembles it and answers.
TEST(RouteTypes, RouterFragmentsAForwardedPacketOntoASmallerMtu) {
  World w;
  auto [a, r, b] = chain(w);
  r.device("r1")->set_mtu(1000);
  std::vector<std::string> arriving;  // at b, before reassembly
  b.netfilter().register_hook(NfHook::kPrerouting, 0, [&](wire::Packet& p, const NfHookState&) {
    const auto v = *wire::Ipv4View::parse(p.bytes());
    arriving.push_back(std::to_string(v.total_length()) + (v.more_fragments() ? " MF" : "") +
                       " off=" + std::to_string(v.fragment_offset_bytes()));
    return NfVerdict::kAccept;
  });
  Ping ping(a, ip("10.2.0.2"),
            PingOptions{.count = 1, .data_bytes = 1400, .pmtu_discovery = PmtuDiscovery::kDont});
  w.run_for(Duration::seconds(2));
  ASSERT_EQ(ping.statistics().received, 1u) << ping.output();
  EXPECT_EQ(ping.lines()[1].substr(0, 45), "1408 bytes from 10.2.0.2: icmp_seq=1 ttl=63 t");
  // 1428 bytes: 976 bytes of data per fragment (a multiple of 8 below 1000 - 20), then 432.
  EXPECT_EQ(arriving, (std::vector<std::string>{"996 MF off=0", "452 off=976"}));
  EXPECT_EQ(r.drops(DropReason::kMtu), 0u);
}

}  // namespace
}  // namespace calisim::dataplane
