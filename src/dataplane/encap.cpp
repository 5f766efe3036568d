#include <calisim/dataplane/encap.hpp>

#include <fmt/format.h>

#include <calisim/wire/ethernet.hpp>
#include <calisim/wire/udp.hpp>
#include <calisim/wire/vxlan.hpp>

namespace calisim::dataplane {

using wire::IpProtocol;
using wire::Ipv4Header;
using wire::Ipv4View;

Result<void> ipip_encapsulate(wire::Packet& packet, wire::Ipv4Address source,
                              wire::Ipv4Address destination, std::uint16_t identification) {
  auto inner = Ipv4View::parse(packet.bytes());
  if (!inner) {
    return make_error(inner.error().code, "tunl0: cannot encapsulate: " + inner.error().message);
  }
  const std::size_t total = inner->datagram().size() + kIpipOverhead;
  if (total > 0xffff) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("tunl0: encapsulated datagram of {} bytes exceeds 65535", total));
  }
  Ipv4Header outer;
  outer.tos = ecn_encapsulate(0, inner->tos());
  outer.total_length = static_cast<std::uint16_t>(total);
  outer.identification = identification;
  outer.dont_fragment = inner->dont_fragment();
  outer.ttl = inner->ttl();
  outer.protocol = IpProtocol::kIpip;
  outer.source = source;
  outer.destination = destination;
  // Link padding after the inner datagram's total length must not ride inside the tunnel.
  packet.trim(inner->datagram().size());
  outer.emit(packet.push_front(kIpipOverhead));
  return {};
}

Result<wire::Ipv4Header> ipip_decapsulate(wire::Packet& packet) {
  auto outer = Ipv4Header::parse(packet.bytes());
  if (!outer) return make_error(outer.error().code, "tunl0: outer header: " + outer.error().message);
  if (outer->protocol != IpProtocol::kIpip) {
    return make_error(Errc::kMalformed,
                      fmt::format("tunl0: outer protocol is {}, not 4 (IPIP)",
                                  static_cast<int>(outer->protocol)));
  }
  if (outer->more_fragments || outer->fragment_offset_bytes != 0) {
    return make_error(Errc::kUnsupported, "tunl0: outer datagram is a fragment; reassemble first");
  }
  packet.trim(outer->total_length);
  packet.pull_front(outer->header_length());
  auto inner = Ipv4View::parse(packet.bytes());
  if (!inner) return make_error(inner.error().code, "tunl0: inner datagram: " + inner.error().message);
  return *outer;
}

Result<void> vxlan_encapsulate(wire::Packet& packet, const VxlanOuter& outer) {
  auto inner = wire::EthernetView::parse(packet.bytes());
  if (!inner) {
    return make_error(inner.error().code,
                      "vxlan.calico: cannot encapsulate: " + inner.error().message);
  }
  const std::size_t total = packet.size() + kVxlanHeadersWithoutEthernet;
  if (total > 0xffff) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("vxlan.calico: encapsulated datagram of {} bytes exceeds 65535",
                                  total));
  }
  // The inner frame's IP TOS, for the ECN bits (vxlan_xmit_one: ip_tunnel_ecn_encap).
  std::uint8_t inner_tos = 0;
  if (inner->ethertype() == wire::EtherType::kIpv4) {
    if (auto ip = Ipv4View::parse(inner->payload())) inner_tos = ip->tos();
  }
  wire::VxlanHeader{outer.vni}.emit(packet.push_front(wire::VxlanHeader::kLength));
  packet.push_front(wire::UdpHeader::kLength);
  // The UDP header goes in last: its length and checksum cover the payload already in place.
  wire::UdpHeader{outer.source_port, outer.destination_port}.emit(
      packet.bytes(), outer.source, outer.destination, outer.udp_checksum);
  Ipv4Header ip;
  ip.tos = ecn_encapsulate(0, inner_tos);
  ip.total_length = static_cast<std::uint16_t>(total);
  ip.identification = outer.identification;
  ip.ttl = outer.ttl;
  ip.protocol = IpProtocol::kUdp;
  ip.source = outer.source;
  ip.destination = outer.destination;
  ip.emit(packet.push_front(Ipv4Header::kMinLength));
  return {};
}

Result<VxlanReceived> vxlan_decapsulate(wire::Packet& packet) {
  auto ip = Ipv4Header::parse(packet.bytes());
  if (!ip) return make_error(ip.error().code, "vxlan.calico: outer header: " + ip.error().message);
  if (ip->protocol != IpProtocol::kUdp) {
    return make_error(Errc::kMalformed, fmt::format("vxlan.calico: outer protocol is {}, not UDP",
                                                    static_cast<int>(ip->protocol)));
  }
  if (ip->more_fragments || ip->fragment_offset_bytes != 0) {
    return make_error(Errc::kUnsupported,
                      "vxlan.calico: outer datagram is a fragment; reassemble first");
  }
  packet.trim(ip->total_length);
  packet.pull_front(ip->header_length());
  auto udp = wire::UdpHeader::parse(packet.bytes(), ip->source, ip->destination);
  if (!udp) return make_error(udp.error().code, "vxlan.calico: " + udp.error().message);
  auto udp_view = wire::UdpView::parse(packet.bytes());
  packet.trim(udp_view->datagram().size());
  packet.pull_front(wire::UdpHeader::kLength);
  auto vxlan = wire::VxlanHeader::parse(packet.bytes());
  if (!vxlan) return make_error(vxlan.error().code, "vxlan.calico: " + vxlan.error().message);
  packet.pull_front(wire::VxlanHeader::kLength);
  if (auto eth = wire::EthernetView::parse(packet.bytes()); !eth) {
    return make_error(eth.error().code, "vxlan.calico: inner frame: " + eth.error().message);
  }
  return VxlanReceived{*ip, udp->source_port, udp->destination_port, vxlan->vni};
}

}  // namespace calisim::dataplane
