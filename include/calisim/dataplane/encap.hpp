#pragma once
// The encapsulations Calico uses, built the way the Linux devices build them:
// - IPIP (`tunl0`, the fallback device of the ipip module: RFC 2003, IP protocol 4);
// - VXLAN (`vxlan.calico`: RFC 7348, UDP 4789, VNI 4096).
// These are the transmit and receive halves of the tunnel devices; routing decides when to call
// them and which outer addresses to use.

#include <cstdint>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/packet.hpp>

namespace calisim::dataplane {

// Outer IPv4 header only: Calico's tunl0 MTU is 1500 - 20 = 1480.
inline constexpr std::size_t kIpipOverhead = 20;

// INET_ECN_encapsulate (include/net/inet_ecn.h): the outer header keeps its DSCP and takes the
// inner ECN bits, except that an inner CE becomes ECT(0) (RFC 6040 §4.1, "normal mode").
constexpr std::uint8_t ecn_encapsulate(std::uint8_t outer_tos, std::uint8_t inner_tos) {
  const std::uint8_t inner_ecn = inner_tos & 0x03;
  const std::uint8_t ecn = inner_ecn == 0x03 ? 0x02 : inner_ecn;
  return static_cast<std::uint8_t>((outer_tos & 0xfc) | ecn);
}

// tunl0's transmit (net/ipv4/ip_tunnel.c ip_tunnel_xmit + ip_tunnel_core.c iptunnel_xmit, with
// the fallback device's zeroed parameters):
// - TTL 0 means "inherit": the outer TTL is the inner TTL (already decremented when forwarding);
// - DF: parms.frag_off is 0, so the outer DF is the inner DF;
// - TOS: parms.tos is 0, plus the inner ECN (ecn_encapsulate);
// - Identification from __ip_select_ident (see IpIdentGenerator), whatever DF says;
// - the outer source is what routing picked (the egress device's primary address), the outer
//   destination the gateway of the inner route (`via <nodeIP> dev tunl0 onlink`).
// `packet` holds an IPv4 datagram; an outer 20-byte header is pushed in front of it.
[[nodiscard]] Result<void> ipip_encapsulate(wire::Packet& packet, wire::Ipv4Address source,
                                            wire::Ipv4Address destination,
                                            std::uint16_t identification);

// tunl0's receive (ipip_rcv): `packet` holds an IPv4 datagram of protocol 4; the outer header is
// checked (checksum included) and stripped, leaving the inner datagram, which is checked too.
// The inner TTL is not changed by decapsulation. Returns the outer header.
[[nodiscard]] Result<wire::Ipv4Header> ipip_decapsulate(wire::Packet& packet);

// Outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8: Calico's vxlan.calico MTU is 1500 - 50 = 1450.
inline constexpr std::size_t kVxlanOverhead = 50;
// What vxlan_encapsulate pushes (the outer Ethernet header is the underlay's business).
inline constexpr std::size_t kVxlanHeadersWithoutEthernet = 36;

// The outer headers of one VXLAN packet, as Felix's vxlan.calico sends them. Felix creates the
// device with netlink and sets neither ttl, tos, df nor udpcsum (felix/dataplane/linux/
// vxlan_mgr.go; vishvananda/netlink sends IFLA_VXLAN_UDP_CSUM only when asked), so the kernel's
// defaults apply (drivers/net/vxlan/vxlan_core.c, linux.md §4): TTL 64 for a unicast remote
// ("ttl auto"), TOS 0 plus the inner ECN, DF clear, and a UDP checksum (VXLAN_F_UDP_ZERO_CSUM_TX
// is only set on request). The source port is hashed from the inner flow (vxlan_source_port).
struct VxlanOuter {
  wire::Ipv4Address source;
  wire::Ipv4Address destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 4789;
  std::uint32_t vni = 4096;
  std::uint16_t identification = 0;
  std::uint8_t ttl = 64;
  bool udp_checksum = true;
};

// vxlan.calico's transmit: `packet` holds the inner Ethernet frame (VTEP MAC to VTEP MAC);
// IPv4 + UDP + VXLAN headers (36 bytes) are pushed in front of it.
[[nodiscard]] Result<void> vxlan_encapsulate(wire::Packet& packet, const VxlanOuter& outer);

struct VxlanReceived {
  wire::Ipv4Header outer;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t vni = 0;
};

// vxlan.calico's receive: `packet` holds the outer IPv4 datagram (UDP to the VXLAN port);
// the IPv4 and UDP checksums are verified (a zero UDP checksum is accepted, RFC 7348 §5), the
// headers stripped, and the inner Ethernet frame left in `packet`.
[[nodiscard]] Result<VxlanReceived> vxlan_decapsulate(wire::Packet& packet);

}  // namespace calisim::dataplane
