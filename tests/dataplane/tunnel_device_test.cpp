// What a tunnel does when the underlay MTU drops below the tunnel's (a `setMtu` fault on
// enp0s8): Linux's tnl_update_pmtu for tunl0 and skb_tunnel_check_pmtu for vxlan.calico.
//
// - tunl0 as Calico runs it (the fallback device, nopmtudisc) checks inner packets only against
//   the inner route's MTU; the outer packet, DF copied from the inner, is too big for enp0s8 and
//   ip_fragment sends the Frag-Needed to its source, the node itself. ipip_err records the PMTU
//   of the remote node and nothing reaches the pod: a black hole (projectcalico/calico#7146).
// - tunl0 with `pmtudisc` takes the outer path MTU - 20 as its limit and sends the pod a
//   Frag-Needed: the pod's TCP lowers its MSS and the transfer completes.
// - vxlan.calico (a routed device, not a bridge port) only lowers the inner route's PMTU; its
//   outer packets have DF clear and are fragmented, so the transfer completes at full MSS.
// And vxlan.calico's UDP checksum option (iproute2 udpcsum / noudpcsum).

#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tcp_stack.hpp>
#include <calisim/dataplane/tunnel.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/dataplane/views.hpp>

#include <gtest/gtest.h>

#include "dataplane/bulk_transfer.hpp"

#include <memory>
#include <string>
#include <vector>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const std::string& text) {
  return *Ipv4Prefix::parse(text);
}
Ipv4Address ip(const std::string& text) {
  return *Ipv4Address::parse(text);
}

enum class Encap { kIpip, kVxlan };

// node-a (192.168.56.10, pod 10.244.1.5) and node-b (192.168.56.11, pod 10.244.2.7) on one
// segment, plumbed as Calico does (calico.md §1.2-1.3), pod veths at the tunnel MTU.
struct Cluster {
  Simulator sim{21};
  wire::PacketPool pool;
  Segment lan{sim, "lan"};
  Encap encap;
  std::vector<std::unique_ptr<Namespace>> all;
  Namespace* host[2] = {};
  Namespace* pod[2] = {};
  const char* node_ip[2] = {"192.168.56.10", "192.168.56.11"};
  const char* pod_ip[2] = {"10.244.1.5", "10.244.2.7"};
  const char* block[2] = {"10.244.1.0/26", "10.244.2.0/26"};
  const char* tunnel_ip[2] = {"10.244.1.0", "10.244.2.0"};

  Namespace& ns(const std::string& name) {
    all.push_back(std::make_unique<Namespace>(sim, pool, name));
    EXPECT_TRUE(all.back()->set_up("lo", true));
    return *all.back();
  }
  static MacAddress vtep(int i) {
    return MacAddress({0x66, 0x11, 0x22, 0x33, 0x44, static_cast<std::uint8_t>(i)});
  }

  explicit Cluster(Encap e) : encap(e) {
    for (int i = 0; i < 2; ++i) {
      Namespace& h = ns(i == 0 ? "node-a" : "node-b");
      host[i] = &h;
      h.set_ip_forward(true);
      h.add_device<EthernetPort>("enp0s8",
                                 MacAddress({8, 0, 0x27, 0, 0, static_cast<std::uint8_t>(i)}), lan);
      EXPECT_TRUE(h.add_address("enp0s8", pfx(std::string(node_ip[i]) + "/24")));
      EXPECT_TRUE(h.set_up("enp0s8", true));
      // The node's default route is also what lets it proxy-ARP for the pods' 169.254.1.1.
      Route up;
      up.destination = pfx("0.0.0.0/0");
      up.gateway = ip("192.168.56.1");
      up.ifindex = h.device("enp0s8")->ifindex();
      EXPECT_TRUE(h.fib().add_route(up));
      const char* tunnel = encap == Encap::kIpip ? "tunl0" : "vxlan.calico";
      if (encap == Encap::kIpip) {
        h.add_device<IpipTunnel>();
      } else {
        h.add_device<VxlanTunnel>("vxlan.calico", vtep(i));
      }
      const std::uint32_t mtu = h.device(tunnel)->mtu();
      EXPECT_TRUE(h.add_address(tunnel, pfx(std::string(tunnel_ip[i]) + "/32")));
      EXPECT_TRUE(h.set_up(tunnel, true));
      Namespace& p = ns(i == 0 ? "pod-a" : "pod-b");
      pod[i] = &p;
      const std::string cali = i == 0 ? "cali0a" : "cali0b";
      Veth::create(h, cali, MacAddress({0xee, 0xee, 0xee, 0xee, 0xee, 0xee}), p, "eth0",
                   MacAddress({0x0e, 0, 0, 0, 0, static_cast<std::uint8_t>(i)}));
      h.device(cali)->set_mtu(mtu);
      p.device("eth0")->set_mtu(mtu);
      h.conf(cali).proxy_arp = true;
      h.conf(cali).proxy_delay_centis = 0;
      EXPECT_TRUE(h.set_up(cali, true));
      Route to_pod;
      to_pod.destination = pfx(std::string(pod_ip[i]) + "/32");
      to_pod.ifindex = h.device(cali)->ifindex();
      to_pod.scope = RouteScope::kLink;
      EXPECT_TRUE(h.fib().add_route(to_pod));
      EXPECT_TRUE(p.add_address("eth0", pfx(std::string(pod_ip[i]) + "/32")));
      EXPECT_TRUE(p.set_up("eth0", true));
      Route gw;
      gw.destination = pfx("169.254.1.1/32");
      gw.ifindex = p.device("eth0")->ifindex();
      gw.scope = RouteScope::kLink;
      EXPECT_TRUE(p.fib().add_route(gw));
      Route def;
      def.destination = pfx("0.0.0.0/0");
      def.gateway = ip("169.254.1.1");
      def.ifindex = p.device("eth0")->ifindex();
      EXPECT_TRUE(p.fib().add_route(def));
    }
    for (int i = 0; i < 2; ++i) {
      const int o = 1 - i;
      Namespace& h = *host[i];
      Route r;
      r.destination = pfx(block[o]);
      r.onlink = true;
      if (encap == Encap::kIpip) {
        r.gateway = ip(node_ip[o]);
        r.ifindex = h.device("tunl0")->ifindex();
        r.protocol = route_protocol::kBird;
      } else {
        r.gateway = ip(tunnel_ip[o]);
        r.ifindex = h.device("vxlan.calico")->ifindex();
        r.protocol = route_protocol::kFelix;
        auto& vx = static_cast<VxlanTunnel&>(*h.device("vxlan.calico"));
        vx.add_fdb(vtep(o), ip(node_ip[o]));
        (void)h.neighbours().add_permanent(vx.ifindex(), ip(tunnel_ip[o]), vtep(o), sim.now());
      }
      EXPECT_TRUE(h.fib().add_route(r));
    }
  }
  ~Cluster() { all.clear(); }
};

std::vector<std::uint8_t> payload(std::size_t n) {
  return testbed::payload(n, 5, "tunnel-pmtu");
}

using testbed::start_transfer;
using testbed::Transfer;

TEST(TunnelPmtu, FallbackTunl0BlackHolesWhenTheUnderlayShrinks) {
  Cluster c(Encap::kIpip);
  c.host[0]->device("enp0s8")->set_mtu(1450);  // a setMtu fault; tunl0 stays 1480
  TcpStack ta(*c.pod[0]);
  TcpStack tb(*c.pod[1]);
  const auto data = payload(256 * 1024);
  Transfer t;
  start_transfer(t, ta, tb, ip(c.pod_ip[1]), data);
  c.sim.run_until(Time::zero() + Duration::seconds(30));
  // The handshake and small segments pass; full-size ones die at node-a, for ever.
  EXPECT_LT(t.received.size(), data.size());
  EXPECT_EQ(t.client->connection().send_mss(), 1480 - 40);
  EXPECT_EQ(t.client->connection().counters().pmtu_reductions, 0u);
  EXPECT_GE(c.host[0]->drops(DropReason::kMtu), 3u);
  // What the node learned: the remote node's PMTU (from its own Frag-Needed, ipip_err) and the
  // inner route's unchanged 1480 (tnl_update_pmtu records it on every transmit).
  const std::string to_node = views::ip_route_get(*c.host[0], ip(c.node_ip[1]));
  EXPECT_TRUE(
      to_node.starts_with("192.168.56.11 dev enp0s8 src 192.168.56.10 uid 0 \n"
                          "    cache expires 5"))
      << to_node;
  EXPECT_TRUE(to_node.ends_with("sec mtu 1450 \n")) << to_node;
  const std::string to_pod = views::ip_route_get(*c.host[0], ip(c.pod_ip[1]));
  EXPECT_TRUE(
      to_pod.starts_with("10.244.2.7 via 192.168.56.11 dev tunl0 src 10.244.1.0 uid 0 \n"
                         "    cache expires 5"))
      << to_pod;
  EXPECT_TRUE(to_pod.ends_with("sec mtu 1480 \n")) << to_pod;
}

TEST(TunnelPmtu, Tunl0WithPmtudiscSendsThePodAFragNeededAndTheTransferCompletes) {
  Cluster c(Encap::kIpip);
  static_cast<IpipTunnel&>(*c.host[0]->device("tunl0")).set_pmtudisc(true);
  c.host[0]->device("enp0s8")->set_mtu(1450);
  TcpStack ta(*c.pod[0]);
  TcpStack tb(*c.pod[1]);
  const auto data = payload(256 * 1024);
  Transfer t;
  start_transfer(t, ta, tb, ip(c.pod_ip[1]), data);
  c.sim.run_until(Time::zero() + Duration::seconds(30));
  ASSERT_EQ(t.received.size(), data.size());
  EXPECT_TRUE(t.received == data);
  EXPECT_EQ(t.client->connection().send_mss(), 1450 - 20 - 40);
  EXPECT_GE(t.client->connection().counters().pmtu_reductions, 1u);
  // The pod keeps the PMTU too (its own route cache), the node the tunnel's.
  ASSERT_NE(c.pod[0]->pmtu_exception(ip(c.pod_ip[1])), nullptr);
  EXPECT_EQ(c.pod[0]->pmtu_exception(ip(c.pod_ip[1]))->mtu, 1430u);
  ASSERT_NE(c.host[0]->pmtu_exception(ip(c.pod_ip[1])), nullptr);
  EXPECT_EQ(c.host[0]->pmtu_exception(ip(c.pod_ip[1]))->mtu, 1430u);
}

TEST(TunnelPmtu, VxlanLowersTheInnerRoutePmtuAndFragmentsTheOuterPackets) {
  Cluster c(Encap::kVxlan);
  c.host[0]->device("enp0s8")->set_mtu(1450 - 30);  // vxlan.calico stays 1450
  TcpStack ta(*c.pod[0]);
  TcpStack tb(*c.pod[1]);
  const auto data = payload(256 * 1024);
  Transfer t;
  start_transfer(t, ta, tb, ip(c.pod_ip[1]), data);
  c.sim.run_until(Time::zero() + Duration::seconds(30));
  ASSERT_EQ(t.received.size(), data.size());
  EXPECT_TRUE(t.received == data);
  // No Frag-Needed for the pod: it keeps its MSS, the outer packets travel in fragments.
  EXPECT_EQ(t.client->connection().send_mss(), 1450 - 40);
  EXPECT_EQ(t.client->connection().counters().pmtu_reductions, 0u);
  EXPECT_EQ(c.host[0]->drops(DropReason::kMtu), 0u);
  ASSERT_NE(c.host[0]->pmtu_exception(ip(c.pod_ip[1])), nullptr);
  EXPECT_EQ(c.host[0]->pmtu_exception(ip(c.pod_ip[1]))->mtu, 1420u - 50u);
  EXPECT_EQ(c.pod[0]->pmtu_exception(ip(c.pod_ip[1])), nullptr);
}

// A PMTU to the remote node locked at 552 (a Frag-Needed below min_pmtu): iptunnel_xmit then
// sends the outer packets without DF whatever the inner says, so they are fragmented instead of
// bouncing off node-a's own PMTU.
TEST(TunnelPmtu, LockedOuterPmtuClearsTheOuterDf) {
  Cluster c(Encap::kIpip);
  c.host[0]->update_pmtu(ip(c.node_ip[1]), 500);
  ASSERT_NE(c.host[0]->pmtu_exception(ip(c.node_ip[1])), nullptr);
  ASSERT_TRUE(c.host[0]->pmtu_exception(ip(c.node_ip[1]))->locked);
  EXPECT_EQ(c.host[0]->pmtu_exception(ip(c.node_ip[1]))->mtu, 552u);
  Ping ping(*c.pod[0], ip(c.pod_ip[1]), PingOptions{.count = 2, .data_bytes = 1000});
  c.sim.run_until(Time::zero() + Duration::seconds(3));
  EXPECT_EQ(ping.statistics().received, 2u) << ping.output();
  EXPECT_EQ(c.host[0]->drops(DropReason::kMtu), 0u);
}

// The outer VXLAN datagrams node-a puts on enp0s8, as bytes.
struct WireTap final : PacketTap {
  std::vector<std::vector<std::uint8_t>> frames;
  void on_packet(const Device& device, Time, wire::Bytes frame, Direction dir) override {
    if (device.name() == "enp0s8" && dir == Direction::kOutbound) {
      frames.emplace_back(frame.begin(), frame.end());
    }
  }
};

// RFC 768 / RFC 1071, computed here from the bytes rather than with the library under test:
// the ones' complement sum of the pseudo-header and the UDP datagram, checksum field included.
std::uint16_t udp_sum(const std::uint8_t* ip_header, const std::uint8_t* udp, std::size_t len) {
  std::uint32_t sum = 0;
  auto add16 = [&](std::uint32_t hi, std::uint32_t lo) { sum += (hi << 8) | lo; };
  for (int i = 12; i < 20; i += 2) add16(ip_header[i], ip_header[i + 1]);  // addresses
  sum += 17;
  sum += static_cast<std::uint32_t>(len);
  for (std::size_t i = 0; i + 1 < len; i += 2) add16(udp[i], udp[i + 1]);
  if (len % 2 != 0) add16(udp[len - 1], 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// The UDP checksum field of every outer VXLAN datagram in `frames` (Ethernet 14 + IPv4 20 +
// UDP: destination port at +2, checksum at +6), after checking each sums up when it is set.
std::vector<std::uint16_t> vxlan_checksums(const std::vector<std::vector<std::uint8_t>>& frames) {
  std::vector<std::uint16_t> out;
  for (const auto& f : frames) {
    if (f.size() < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 17) continue;
    const std::uint8_t* udp = f.data() + 14 + 20;
    if (((udp[2] << 8) | udp[3]) != 4789) continue;
    const std::size_t len = static_cast<std::size_t>((udp[4] << 8) | udp[5]);
    const auto checksum = static_cast<std::uint16_t>((udp[6] << 8) | udp[7]);
    if (checksum != 0) {
      EXPECT_EQ(udp_sum(f.data() + 14, udp, len), 0xffff);
    }
    out.push_back(checksum);
  }
  return out;
}

TEST(VxlanUdpChecksum, OnByDefaultZeroWithNoudpcsum) {
  Cluster c(Encap::kVxlan);
  auto& vx = static_cast<VxlanTunnel&>(*c.host[0]->device("vxlan.calico"));
  EXPECT_TRUE(vx.udp_checksum());
  WireTap tap;
  c.host[0]->set_tap(&tap);
  Ping with(*c.pod[0], ip(c.pod_ip[1]), PingOptions{.count = 2});
  c.sim.run_until(Time::zero() + Duration::seconds(3));
  ASSERT_EQ(with.statistics().received, 2u) << with.output();
  const auto on = vxlan_checksums(tap.frames);
  ASSERT_EQ(on.size(), 2u);
  for (std::uint16_t sum : on) EXPECT_NE(sum, 0u);
  // `ip link set vxlan.calico type vxlan noudpcsum`: zero on the wire, and the other end still
  // takes it (RFC 7348 §5: a zero UDP checksum is accepted).
  vx.set_udp_checksum(false);
  tap.frames.clear();
  Ping without(*c.pod[0], ip(c.pod_ip[1]), PingOptions{.count = 2});
  c.sim.run_until(Time::zero() + Duration::seconds(6));
  ASSERT_EQ(without.statistics().received, 2u) << without.output();
  const auto off = vxlan_checksums(tap.frames);
  ASSERT_EQ(off.size(), 2u);
  for (std::uint16_t sum : off) EXPECT_EQ(sum, 0u);
  c.host[0]->set_tap(nullptr);
}

}  // namespace
}  // namespace calisim::dataplane
