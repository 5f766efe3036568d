// The netfilter hooks as extension points: each of the five sees the packets Linux shows there
// (nftables `meta nftrace` / `iptables -j TRACE` would list the same hooks), a drop ends the
// packet with netfilter-drop, priorities order the functions, and a PREROUTING rewrite is routed
// as rewritten (what DNAT relies on).

#include "stack_test_bed.hpp"

#include <calisim/dataplane/ping.hpp>
#include <calisim/wire/icmp.hpp>

#include <fmt/format.h>

namespace calisim::dataplane {
namespace {

using namespace testbed;

constexpr NfHook kAllHooks[] = {NfHook::kPrerouting, NfHook::kInput, NfHook::kForward,
                                NfHook::kOutput, NfHook::kPostrouting};

// "HOOK in=IF out=IF SRC>DST icmp TYPE ttl=N" for every IPv4 packet at every hook of `ns`.
void trace(Namespace& ns, std::vector<std::string>& log) {
  for (NfHook hook : kAllHooks) {
    ns.netfilter().register_hook(hook, 0, [&log](wire::Packet& p, const NfHookState& s) {
      const auto ip = *wire::Ipv4View::parse(p.bytes());
      const auto icmp = *wire::IcmpView::parse(ip.payload());
      log.push_back(fmt::format("{} in={} out={} {}>{} icmp {} ttl={}", to_string(s.hook),
                                s.in != nullptr ? s.in->name() : "-",
                                s.out != nullptr ? s.out->name() : "-", ip.source().to_string(),
                                ip.destination().to_string(), static_cast<int>(icmp.type()),
                                ip.ttl()));
      return NfVerdict::kAccept;
    });
  }
}

TEST(Netfilter, EachHookSeesWhatLinuxShowsThere) {
  World w;
  auto [a, r, b] = chain(w);
  std::vector<std::string> at_a, at_r, at_b;
  trace(a, at_a);
  trace(r, at_r);
  trace(b, at_b);
  Ping ping(a, ip("10.2.0.2"), PingOptions{.count = 1});
  w.run_for(Duration::seconds(1));
  ASSERT_EQ(ping.statistics().received, 1u) << ping.output();
  // The sender: its request leaves through OUTPUT and POSTROUTING, the reply comes in through
  // PREROUTING and INPUT.
  EXPECT_EQ(at_a, (std::vector<std::string>{
                      "OUTPUT in=- out=a0 10.1.0.2>10.2.0.2 icmp 8 ttl=64",
                      "POSTROUTING in=- out=a0 10.1.0.2>10.2.0.2 icmp 8 ttl=64",
                      "PREROUTING in=a0 out=- 10.2.0.2>10.1.0.2 icmp 0 ttl=63",
                      "INPUT in=a0 out=- 10.2.0.2>10.1.0.2 icmp 0 ttl=63",
                  }));
  // The router: PREROUTING, FORWARD (the TTL already decremented, as ip_forward does it before
  // NF_INET_FORWARD), POSTROUTING — never INPUT or OUTPUT.
  EXPECT_EQ(at_r, (std::vector<std::string>{
                      "PREROUTING in=r0 out=- 10.1.0.2>10.2.0.2 icmp 8 ttl=64",
                      "FORWARD in=r0 out=r1 10.1.0.2>10.2.0.2 icmp 8 ttl=63",
                      "POSTROUTING in=r0 out=r1 10.1.0.2>10.2.0.2 icmp 8 ttl=63",
                      "PREROUTING in=r1 out=- 10.2.0.2>10.1.0.2 icmp 0 ttl=64",
                      "FORWARD in=r1 out=r0 10.2.0.2>10.1.0.2 icmp 0 ttl=63",
                      "POSTROUTING in=r1 out=r0 10.2.0.2>10.1.0.2 icmp 0 ttl=63",
                  }));
  // The answering host: the request through PREROUTING and INPUT, its reply through OUTPUT and
  // POSTROUTING.
  EXPECT_EQ(at_b, (std::vector<std::string>{
                      "PREROUTING in=b0 out=- 10.1.0.2>10.2.0.2 icmp 8 ttl=63",
                      "INPUT in=b0 out=- 10.1.0.2>10.2.0.2 icmp 8 ttl=63",
                      "OUTPUT in=- out=b0 10.2.0.2>10.1.0.2 icmp 0 ttl=64",
                      "POSTROUTING in=- out=b0 10.2.0.2>10.1.0.2 icmp 0 ttl=64",
                  }));
}

TEST(Netfilter, ForwardDropStopsThePingWithTheNetfilterDropReason) {
  World w;
  auto [a, r, b] = chain(w);
  std::vector<std::string> events;
  r.set_drop_listener([&events](const DropEvent& e) {
    events.push_back(
        fmt::format("{} {}", to_string(e.reason), e.device != nullptr ? e.device->name() : "-"));
  });
  r.netfilter().register_hook(NfHook::kForward, 0, [](wire::Packet&, const NfHookState& s) {
    return s.out->name() == "r1" ? NfVerdict::kDrop : NfVerdict::kAccept;
  });
  std::uint64_t at_b = 0;
  b.add_protocol_handler(1, [&at_b](const wire::Ipv4View&, Time) { ++at_b; });
  Ping ping(a, ip("10.2.0.2"), PingOptions{.count = 2});
  w.run_for(Duration::seconds(15));
  EXPECT_EQ(ping.statistics().received, 0u);
  EXPECT_EQ(ping.statistics().errors, 0u);  // a filter DROP is silent
  EXPECT_EQ(at_b, 0u);
  EXPECT_EQ(r.drops(DropReason::kNetfilterDrop), 2u);
  EXPECT_EQ(events, (std::vector<std::string>{"netfilter-drop r0", "netfilter-drop r0"}));
}

TEST(Netfilter, LowerPriorityRunsFirstAndADropEndsTheChain) {
  World w;
  auto [a, r, b] = chain(w);
  std::vector<std::string> order;
  auto note = [&order](const char* name, NfVerdict v) {
    return [&order, name, v](wire::Packet&, const NfHookState&) {
      order.push_back(name);
      return v;
    };
  };
  b.add_protocol_handler(17, [](const wire::Ipv4View&, Time) {});  // no port unreachable back
  Netfilter& nf = r.netfilter();
  nf.register_hook(NfHook::kForward, 0, note("filter", NfVerdict::kAccept));
  nf.register_hook(NfHook::kForward, 100, note("snat", NfVerdict::kAccept));
  nf.register_hook(NfHook::kForward, -150, note("mangle", NfVerdict::kAccept));
  nf.register_hook(NfHook::kForward, 0, note("filter2", NfVerdict::kAccept));
  const std::size_t raw = nf.register_hook(NfHook::kForward, -300, note("raw", NfVerdict::kDrop));
  ASSERT_TRUE(a.send(udp_datagram(w.pool, ip("10.1.0.2"), ip("10.2.0.2"), 40000, 5000)));
  w.run_for(Duration::milliseconds(10));
  EXPECT_EQ(order, (std::vector<std::string>{"raw"}));
  EXPECT_EQ(r.drops(DropReason::kNetfilterDrop), 1u);
  order.clear();
  nf.unregister_hook(raw);
  ASSERT_TRUE(a.send(udp_datagram(w.pool, ip("10.1.0.2"), ip("10.2.0.2"), 40000, 5000)));
  w.run_for(Duration::milliseconds(10));
  EXPECT_EQ(order, (std::vector<std::string>{"mangle", "filter", "filter2", "snat"}));
  EXPECT_EQ(r.drops(DropReason::kNetfilterDrop), 1u);
}

// A PREROUTING function that rewrites the destination (as DNAT does, checksums included): the
// route lookup that follows sends the packet to the new destination.
TEST(Netfilter, PreroutingRewriteOfTheDestinationChangesTheRoute) {
  World w;
  auto [a, r, b] = chain(w);
  Namespace& c = w.ns("c");
  w.link(r, "r2", "10.3.0.1/24", c, "c0", "10.3.0.2/24");
  ASSERT_TRUE(c.fib().add_route(via("0.0.0.0/0", "10.3.0.1", c.device("c0")->ifindex())));
  r.netfilter().register_hook(NfHook::kPrerouting, -100, [](wire::Packet& p, const NfHookState&) {
    const auto view = *wire::Ipv4View::parse(p.bytes());
    if (view.destination() != ip("10.2.0.2")) return NfVerdict::kAccept;
    wire::Ipv4Header h = wire::Ipv4Header::from_view(view);
    h.destination = ip("10.3.0.2");
    h.emit(p.bytes());  // the header checksum recomputed
    // UDP's checksum covers the addresses (pseudo-header): recompute it too.
    const auto udp = *wire::UdpView::parse(view.payload());
    wire::UdpHeader{udp.source_port(), udp.destination_port()}.emit(
        p.bytes().subspan(h.header_length()), h.source, h.destination);
    return NfVerdict::kAccept;
  });
  std::vector<std::string> at_b, at_c;
  auto record = [](std::vector<std::string>& log) {
    return [&log](const wire::Ipv4View& v, Time) {
      log.push_back(v.source().to_string() + ">" + v.destination().to_string());
    };
  };
  b.add_protocol_handler(17, record(at_b));
  c.add_protocol_handler(17, record(at_c));
  ASSERT_TRUE(a.send(udp_datagram(w.pool, ip("10.1.0.2"), ip("10.2.0.2"), 40000, 5000)));
  w.run_for(Duration::milliseconds(10));
  EXPECT_TRUE(at_b.empty());
  EXPECT_EQ(at_c, (std::vector<std::string>{"10.1.0.2>10.3.0.2"}));
  EXPECT_EQ(c.drops(DropReason::kBadChecksum), 0u);
}

// OUTPUT: a dropped local send fails as ip_local_out fails it (EPERM); an OUTPUT rewrite of the
// destination is routed again (ip_route_me_harder).
TEST(Netfilter, OutputDropFailsTheSendAndARewriteIsRoutedAgain) {
  World w;
  auto [a, r, b] = chain(w);
  Namespace& c = w.ns("c");
  w.link(a, "a1", "10.7.0.2/24", c, "c0", "10.7.0.1/24");
  const std::size_t drop = a.netfilter().register_hook(
      NfHook::kOutput, 0, [](wire::Packet&, const NfHookState&) { return NfVerdict::kDrop; });
  auto sent = a.send(udp_datagram(w.pool, ip("10.1.0.2"), ip("10.2.0.2"), 40000, 5000));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().message, "a: 10.2.0.2: Operation not permitted");
  EXPECT_EQ(a.drops(DropReason::kNetfilterDrop), 1u);
  a.netfilter().unregister_hook(drop);
  // Re-aim 10.2.0.2 at c (10.7.0.1), which is reached through a1, not a0.
  a.netfilter().register_hook(NfHook::kOutput, -100, [](wire::Packet& p, const NfHookState& s) {
    EXPECT_EQ(s.out->name(), "a0");
    wire::Ipv4Header h = wire::Ipv4Header::from_view(*wire::Ipv4View::parse(p.bytes()));
    h.destination = ip("10.7.0.1");
    h.source = ip("10.7.0.2");
    h.emit(p.bytes());
    wire::UdpHeader{40000, 5000}.emit(p.bytes().subspan(20), h.source, h.destination);
    return NfVerdict::kAccept;
  });
  std::vector<std::string> post;
  a.netfilter().register_hook(NfHook::kPostrouting, 0,
                              [&post](wire::Packet&, const NfHookState& s) {
                                post.push_back(s.out->name());
                                return NfVerdict::kAccept;
                              });
  std::uint64_t at_b = 0, at_c = 0;
  b.add_protocol_handler(17, [&at_b](const wire::Ipv4View&, Time) { ++at_b; });
  c.add_protocol_handler(17, [&at_c](const wire::Ipv4View&, Time) { ++at_c; });
  ASSERT_TRUE(a.send(udp_datagram(w.pool, ip("10.1.0.2"), ip("10.2.0.2"), 40000, 5000)));
  w.run_for(Duration::milliseconds(10));
  EXPECT_EQ(post, (std::vector<std::string>{"a1"}));
  EXPECT_EQ(at_b, 0u);
  EXPECT_EQ(at_c, 1u);
}

}  // namespace
}  // namespace calisim::dataplane
