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
  if (!update_pmtu(datagram, outer_dst)) return drop_tx(DropReason::kMtu);
  const std::uint16_t id = ns.ip_ident().next(*src, outer_dst, 4, ns.sim().now());
  if (!ipip_encapsulate(datagram, *src, outer_dst, id)) return drop_tx(DropReason::kMalformed);
  if (ns.path_mtu_locked(outer_dst)) {
    // iptunnel_xmit: frag_off = ip_mtu_locked(&rt->dst) ? 0 : df.
    wire::Ipv4Header outer = wire::Ipv4Header::from_view(*wire::Ipv4View::parse(datagram.bytes()));
    outer.dont_fragment = false;
    outer.emit(datagram.bytes());
  }
  ++stats_.tx_packets;
  stats_.tx_bytes += datagram.size();
  (void)ns.send(std::move(datagram));
}

// tnl_update_pmtu (net/ipv4/ip_tunnel.c), for an IPv4 inner packet. Returns false when the
// packet must be dropped (E2BIG) after the Frag-Needed went to the inner source.
bool IpipTunnel::update_pmtu(const wire::Packet& datagram, wire::Ipv4Address outer_dst) {
  Namespace& ns = owner();
  auto inner = wire::Ipv4View::parse(datagram.bytes());
  if (!inner) return true;
  std::optional<std::uint32_t> limit;
  if (pmtudisc_) {
    // df: the outer route's MTU (a learned PMTU included) less the outer header.
    const auto outer = ns.path_mtu(outer_dst);
    if (!outer) return true;
    limit = outer->mtu - static_cast<std::uint32_t>(kIpipOverhead);
  }
  // nopmtudisc: the inner route's own MTU (dst_mtu(skb_dst(skb))), tunl0's unless learned.
  // skb_dst_update_pmtu_no_confirm: recorded on the inner route even when nothing is too big
  // (an equal MTU creates the exception too: __ip_rt_update_pmtu only refuses a larger one).
  const std::uint32_t mtu = ns.record_tunnel_pmtu(inner->destination(), limit, this->mtu());
  if (inner->dont_fragment() && datagram.size() > mtu) {
    ns.send_icmp_error(datagram.bytes(), 3, 4, static_cast<std::uint16_t>(mtu));  // icmp_ndo_send
    return false;
  }
  return true;
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
  check_pmtu(frame, remote);
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
  outer.udp_checksum = udp_checksum_;
  outer.identification = ns.ip_ident().next(*src, remote, 17, ns.sim().now());
  if (!vxlan_encapsulate(frame, outer)) return drop_tx(DropReason::kMalformed);
  ++stats_.tx_packets;
  stats_.tx_bytes += frame.size();
  (void)ns.send(std::move(frame));
}

// vxlan_xmit_one -> skb_tunnel_check_pmtu(skb, ndst, VXLAN_HEADROOM, reply) (net/ipv4/
// ip_tunnel_core.c): an inner IPv4 packet larger than the outer path MTU - 50 lowers the inner
// route's PMTU. Only a bridge port (reply true) also answers with a Frag-Needed; a routed
// vxlan.calico does not, and the outer packet (DF clear) is fragmented on the way out.
void VxlanTunnel::check_pmtu(const wire::Packet& frame, wire::Ipv4Address remote) {
  Namespace& ns = owner();
  auto eth = wire::EthernetView::parse(frame.bytes());
  if (!eth || eth->ethertype() != wire::EtherType::kIpv4) return;
  auto inner = wire::Ipv4View::parse(eth->payload());
  if (!inner) return;
  const auto outer = ns.path_mtu(remote);
  if (!outer || outer->mtu <= kVxlanOverhead) return;
  const std::uint32_t mtu = outer->mtu - static_cast<std::uint32_t>(kVxlanOverhead);
  if (inner->datagram().size() <= mtu) return;
  ns.update_pmtu(inner->destination(), mtu);
}

void VxlanTunnel::receive_encapsulated(wire::Packet&& outer) {
  auto r = vxlan_decapsulate(outer);
  if (!r) return drop_rx(r.error().code == Errc::kBadChecksum ? DropReason::kBadChecksum
                                                               : DropReason::kMalformed);
  if (r->vni != vni_) return drop_rx(DropReason::kTunnelMismatch);
  deliver(std::move(outer));
}

}  // namespace calisim::dataplane
