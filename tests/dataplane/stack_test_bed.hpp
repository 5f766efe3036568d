#pragma once
// Small worlds of namespaces joined by veths, for tests of the host stack's packet path.

#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/wire/udp.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace calisim::dataplane::testbed {

inline wire::Ipv4Prefix pfx(const char* text) {
  return *wire::Ipv4Prefix::parse(text);
}
inline wire::Ipv4Address ip(const char* text) {
  return *wire::Ipv4Address::parse(text);
}

inline Route via(const char* dst, const char* gateway, std::uint32_t ifindex) {
  Route r;
  r.destination = pfx(dst);
  r.gateway = ip(gateway);
  r.ifindex = ifindex;
  return r;
}

inline Route typed(const char* dst, RouteType type) {
  Route r;
  r.destination = pfx(dst);
  r.type = type;
  return r;
}

struct World {
  explicit World(std::uint64_t seed = 1) : sim(seed) {}
  Simulator sim;
  wire::PacketPool pool;
  std::vector<std::unique_ptr<Namespace>> namespaces;
  std::uint8_t next_mac = 1;

  Namespace& ns(const std::string& name) {
    namespaces.push_back(std::make_unique<Namespace>(sim, pool, name));
    Namespace& n = *namespaces.back();
    EXPECT_TRUE(n.set_up("lo", true));  // 127.0.0.1/8 comes with it (inetdev_event)
    return n;
  }
  static wire::MacAddress mac(std::uint8_t last) {
    return wire::MacAddress({0x02, 0, 0, 0, 0, last});
  }
  // A veth between two namespaces, addressed and up.
  void link(Namespace& a, const char* a_if, const char* a_addr, Namespace& b, const char* b_if,
            const char* b_addr) {
    Veth::create(a, a_if, mac(next_mac), b, b_if, mac(static_cast<std::uint8_t>(next_mac + 1)));
    next_mac = static_cast<std::uint8_t>(next_mac + 2);
    ASSERT_TRUE(a.add_address(a_if, pfx(a_addr)));
    ASSERT_TRUE(b.add_address(b_if, pfx(b_addr)));
    ASSERT_TRUE(a.set_up(a_if, true));
    ASSERT_TRUE(b.set_up(b_if, true));
  }
  void run_for(Duration d) { sim.run_until(sim.now() + d); }
  ~World() { namespaces.clear(); }
};

// A UDP datagram with an 8-byte header and `data` zero bytes, checksummed.
inline wire::Packet udp_datagram(wire::PacketPool& pool, wire::Ipv4Address src,
                                 wire::Ipv4Address dst, std::uint16_t sport, std::uint16_t dport,
                                 std::uint8_t ttl = 64) {
  wire::Ipv4Header h;
  h.total_length = 20 + 8;
  h.protocol = wire::IpProtocol::kUdp;
  h.ttl = ttl;
  h.source = src;
  h.destination = dst;
  wire::Packet p = pool.make(h.total_length);
  h.emit(p.bytes());
  wire::UdpHeader{sport, dport}.emit(p.bytes().subspan(20), src, dst);
  return p;
}

// a (10.1.0.2) - r (10.1.0.1 | 10.2.0.1) - b (10.2.0.2); r forwards, a and b route via r.
struct Chain {
  Namespace& a;
  Namespace& r;
  Namespace& b;
};
inline Chain chain(World& w) {
  Namespace& a = w.ns("a");
  Namespace& r = w.ns("r");
  Namespace& b = w.ns("b");
  w.link(a, "a0", "10.1.0.2/24", r, "r0", "10.1.0.1/24");
  w.link(r, "r1", "10.2.0.1/24", b, "b0", "10.2.0.2/24");
  r.set_ip_forward(true);
  EXPECT_TRUE(a.fib().add_route(via("0.0.0.0/0", "10.1.0.1", a.device("a0")->ifindex())));
  EXPECT_TRUE(b.fib().add_route(via("0.0.0.0/0", "10.2.0.1", b.device("b0")->ifindex())));
  return Chain{a, r, b};
}

}  // namespace calisim::dataplane::testbed
