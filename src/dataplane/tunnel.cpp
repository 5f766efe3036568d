#include <calisim/dataplane/tunnel.hpp>

#include <calisim/dataplane/encap.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/wire/ethernet.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/udp.hpp>
#include <calisim/wire/vxlan.hpp>

namespace calisim::dataplane {
namespace {

std::uint64_t mac_key(const wire::MacAddress& mac) {
  std::uint64_t k = 0;
  for (std::uint8_t b : mac.bytes()) k = (k << 8) | b;
  return k;
}

}  // namespace

IpipTunnel::IpipTunnel(Namespace& ns, std::string name, std::uint32_t mtu)
    : TunnelDevice(ns, std::move(name), DeviceKind::kIpip, wire::MacAddress(), mtu) {}

OperState IpipTunnel::oper_state() const {
  return admin_up() ? OperState::kUnknown : OperState::kDown;
}

void IpipTunnel::transmit(wire::Packet&& datagram) {
  Namespace& ns = owner();
  const wire::Ipv4Address outer_dst(datagram.meta.next_hop);
  // The outer route must not lead back into the tunnel (ip_tunnel_xmit: "collisions").
  const FibLookup r = ns.route_output(outer_dst);
  if (r.kind != FibLookup::Kind::kRoute || r.route->ifindex == ifindex()) {
    return drop_tx(DropReason::kNoRoute);
  }
  auto src = ns.source_for(outer_dst);
  if (!src) return drop_tx(DropReason::kNoRoute);
  const std::uint16_t id = ns.ip_ident().next(*src, outer_dst, 4, ns.sim().now());
  if (!ipip_encapsulate(datagram, *src, outer_dst, id)) return drop_tx(DropReason::kMalformed);
  ++stats_.tx_packets;
  stats_.tx_bytes += datagram.size();
  (void)ns.send(std::move(datagram));
}

void IpipTunnel::receive_encapsulated(wire::Packet&& outer) {
  if (!ipip_decapsulate(outer)) return drop_rx(DropReason::kMalformed);
  deliver(std::move(outer));
}

VxlanTunnel::VxlanTunnel(Namespace& ns, std::string name, wire::MacAddress mac, std::uint32_t vni,
                         std::uint16_t port, std::uint32_t mtu)
    : TunnelDevice(ns, std::move(name), DeviceKind::kVxlan, mac, mtu), vni_(vni), port_(port) {}

void VxlanTunnel::add_fdb(wire::MacAddress mac, wire::Ipv4Address remote) {
  fdb_[mac_key(mac)] = remote;
}

void VxlanTunnel::remove_fdb(wire::MacAddress mac) { fdb_.erase(mac_key(mac)); }

OperState VxlanTunnel::oper_state() const {
  return admin_up() ? OperState::kUnknown : OperState::kDown;
}

void VxlanTunnel::transmit(wire::Packet&& frame) {
  Namespace& ns = owner();
  auto eth = wire::EthernetView::parse(frame.bytes());
  if (!eth) return drop_tx(DropReason::kMalformed);
  auto it = fdb_.find(mac_key(eth->destination()));
  if (it == fdb_.end()) return drop_tx(DropReason::kNoRoute);  // no FDB entry, learning off
  const wire::Ipv4Address remote = it->second;
  auto src = ns.source_for(remote);
  if (!src) return drop_tx(DropReason::kNoRoute);
  // udp_flow_src_port hashes the inner flow; both directions of a flow share a port.
  std::uint32_t hash = 0;
  if (eth->ethertype() == wire::EtherType::kIpv4) {
    if (auto ip = wire::Ipv4View::parse(eth->payload())) {
      std::uint16_t sport = 0;
      std::uint16_t dport = 0;
      if (ip->protocol() == wire::IpProtocol::kUdp || ip->protocol() == wire::IpProtocol::kTcp) {
        if (ip->payload().size() >= 4 && !ip->is_fragment()) {
          sport = wire::load_be16(ip->payload().data());
          dport = wire::load_be16(ip->payload().data() + 2);
        }
      }
      hash = wire::flow_hash(ip->source(), ip->destination(),
                             static_cast<std::uint8_t>(ip->protocol()), sport, dport);
    }
  }
  VxlanOuter outer;
  outer.source = *src;
  outer.destination = remote;
  outer.source_port = wire::vxlan_source_port(hash);
  outer.destination_port = port_;
  outer.vni = vni_;
  outer.identification = ns.ip_ident().next(*src, remote, 17, ns.sim().now());
  if (!vxlan_encapsulate(frame, outer)) return drop_tx(DropReason::kMalformed);
  ++stats_.tx_packets;
  stats_.tx_bytes += frame.size();
  (void)ns.send(std::move(frame));
}

void VxlanTunnel::receive_encapsulated(wire::Packet&& outer) {
  auto r = vxlan_decapsulate(outer);
  if (!r) return drop_rx(r.error().code == Errc::kBadChecksum ? DropReason::kBadChecksum
                                                               : DropReason::kMalformed);
  if (r->vni != vni_) return drop_rx(DropReason::kTunnelMismatch);
  deliver(std::move(outer));
}

}  // namespace calisim::dataplane
