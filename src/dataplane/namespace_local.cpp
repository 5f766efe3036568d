#include <calisim/dataplane/namespace.hpp>

#include <calisim/dataplane/tunnel.hpp>
#include <calisim/wire/icmp.hpp>
#include <calisim/wire/udp.hpp>

namespace calisim::dataplane {

using wire::Ipv4Address;
using wire::Ipv4Header;
using wire::Ipv4View;
using wire::Packet;

// ---------------------------------------------------------------------------------------------
// Local delivery and ICMP

void Namespace::local_deliver(Device& device, Packet&& packet) {
  if (Ipv4View::parse(packet.bytes())->is_fragment()) {
    auto whole = reassembly_.add(std::move(packet), sim_->now());
    if (!whole) {
      if (!reassembly_timer_.armed()) {
        if (auto next = reassembly_.next_deadline()) reassembly_timer_.arm_at(*next);
      }
      return;
    }
    return local_deliver(device, std::move(*whole));
  }
  // ip_local_deliver: NF_HOOK(NF_INET_LOCAL_IN) on the reassembled datagram.
  if (!nf_hook(NfHook::kInput, packet, &device, nullptr)) return;
  const auto parsed = Ipv4View::parse(packet.bytes());  // a hook may have rewritten it
  if (!parsed) return count_drop(DropReason::kMalformed, &device);
  const Ipv4View ip = *parsed;
  const auto protocol = static_cast<std::uint8_t>(ip.protocol());
  switch (ip.protocol()) {
    case wire::IpProtocol::kIcmp: {
      auto icmp = wire::IcmpView::parse(ip.payload());
      if (!icmp || !icmp->checksum_valid()) return count_drop(DropReason::kBadChecksum, &device);
      learn_pmtu(ip);
      if (icmp->type() == wire::IcmpType::kEchoRequest) {
        icmp_echo_reply(ip);
      }
      break;
    }
    case wire::IpProtocol::kIpip:
      if (!has_handler(protocol)) {
        // ipip_rcv: with tunl0 up any IPIP packet to a local address is taken; otherwise the
        // module is not there and the kernel answers protocol unreachable.
        for (const auto& d : devices_) {
          if (d->kind() == DeviceKind::kIpip && d->admin_up()) {
            return static_cast<TunnelDevice&>(*d).receive_encapsulated(std::move(packet));
          }
        }
        icmp_error(packet, 3, 2);
        return count_drop(DropReason::kTunnelMismatch, &device);
      }
      break;
    case wire::IpProtocol::kUdp: {
      auto udp = wire::UdpView::parse(ip.payload());
      if (!udp) return count_drop(DropReason::kMalformed, &device);
      for (const auto& d : devices_) {
        if (d->kind() == DeviceKind::kVxlan && d->admin_up() &&
            static_cast<TunnelDevice&>(*d).udp_port() == udp->destination_port()) {
          return static_cast<TunnelDevice&>(*d).receive_encapsulated(std::move(packet));
        }
      }
      if (!has_handler(protocol)) {
        icmp_error(packet, 3, 3);
        return count_drop(DropReason::kNoSocket, &device);
      }
      break;
    }
    default:
      if (!has_handler(protocol)) {
        if (ip.protocol() != wire::IpProtocol::kTcp) icmp_error(packet, 3, 2);
        return count_drop(DropReason::kNoSocket, &device);
      }
  }
  dispatch(protocol, ip);
}

void Namespace::icmp_echo_reply(const Ipv4View& request) {
  auto icmp = wire::IcmpMessage::parse(request.payload());
  if (!icmp) return;
  const auto reply = wire::IcmpMessage::echo_reply(icmp->identifier, icmp->sequence, icmp->data);
  Ipv4Header h;
  h.tos = request.tos();  // icmp_reply copies the request's TOS (linux.md §2.4)
  h.total_length = static_cast<std::uint16_t>(Ipv4Header::kMinLength + reply.size());
  h.ttl = 64;
  h.protocol = wire::IpProtocol::kIcmp;
  h.source = request.destination();
  h.destination = request.source();
  h.identification = ip_ident_.next(h.source, h.destination, 1, sim_->now());
  Packet p = pool_->make(h.total_length);
  h.emit(p.bytes());
  reply.emit(p.bytes().subspan(Ipv4Header::kMinLength));
  (void)send(std::move(p));
}

void Namespace::icmp_error(const Packet& offending, std::uint8_t type, std::uint8_t code,
                           std::uint16_t next_hop_mtu) {
  send_icmp_error(offending.bytes(), type, code, next_hop_mtu, offending.meta.ingress_ifindex);
}

void Namespace::send_icmp_error(wire::Bytes offending, std::uint8_t type, std::uint8_t code,
                                std::uint16_t next_hop_mtu, std::uint32_t in_ifindex) {
  auto ip = Ipv4View::parse(offending);
  if (!ip) return;
  // icmp_send: never about ICMP errors, non-first fragments, or to broadcast/multicast/zero.
  if (ip->fragment_offset_bytes() != 0) return;
  if (ip->source().is_multicast() || ip->source().is_broadcast() ||
      ip->source().is_unspecified() || ip->destination().is_multicast() ||
      ip->destination().is_broadcast()) {
    return;
  }
  if (ip->protocol() == wire::IpProtocol::kIcmp) {
    auto inner = wire::IcmpView::parse(ip->payload());
    if (!inner || inner->is_error()) return;
  }
  // __icmp_send's limits (icmp_rate_limit.hpp), in the kernel's order since 6.12: the global
  // bucket is asked first (not for errors about packets that came in on lo, which are then not
  // limited at all), then the destination's inet_peer (skipped when the error leaves through
  // lo), and only a message that passes both takes its 0-2 global credits.
  const Time now = sim_->now();
  const bool in_loopback = in_ifindex != 0 ? in_ifindex == loopback_->ifindex()
                                           : is_local_address(ip->source());
  if (!in_loopback && !icmp_limits_.unlimited(type, code)) {
    if (!icmp_limits_.global_allow(now)) return;
    const FibLookup back = route_output(ip->source());
    if (!back.ok()) return;
    const bool out_loopback = back.route->type == RouteType::kLocal;
    if (!out_loopback && !icmp_limits_.peer_allow(ip->source(), now)) return;
    icmp_limits_.global_consume();
  }
  const wire::Bytes quote = wire::icmp_error_quote(offending, wire::kIcmpQuoteLinuxMaxBytes);
  wire::IcmpMessage msg;
  msg.type = static_cast<wire::IcmpType>(type);
  msg.code = code;
  msg.next_hop_mtu = next_hop_mtu;
  msg.data = quote;
  Ipv4Header h;
  h.tos = static_cast<std::uint8_t>((ip->tos() & 0x1e) | 0xc0);  // linux.md §2.4
  h.total_length = static_cast<std::uint16_t>(Ipv4Header::kMinLength + msg.size());
  h.ttl = 64;
  h.protocol = wire::IpProtocol::kIcmp;
  h.destination = ip->source();
  // The source is the address of the interface the error leaves by (route lookup with saddr
  // 0); icmp_errors_use_inbound_ifaddr is 0.
  auto src = source_for(h.destination);
  if (!src) return;
  h.source = *src;
  h.identification = ip_ident_.next(h.source, h.destination, 1, sim_->now());
  Packet p = pool_->make(h.total_length);
  h.emit(p.bytes());
  msg.emit(p.bytes().subspan(Ipv4Header::kMinLength));
  (void)send(std::move(p));
}

}  // namespace calisim::dataplane
