#include <calisim/dataplane/namespace.hpp>

#include <calisim/wire/arp.hpp>
#include <calisim/wire/ethernet.hpp>

namespace calisim::dataplane {

using wire::EthernetHeader;
using wire::EtherType;
using wire::Ipv4Address;
using wire::MacAddress;
using wire::Packet;

// ---------------------------------------------------------------------------------------------
// ARP (net/ipv4/arp.c arp_process)

void Namespace::arp_receive(Device& device, Packet&& frame) {
  auto eth = wire::EthernetView::parse(frame.bytes());
  auto arp = wire::ArpPacket::parse(eth->payload());
  if (!arp) return count_drop(DropReason::kMalformed, &device);
  const Time now = sim_->now();
  ArpReceived received;
  received.ifindex = device.ifindex();
  received.sender_ip = arp->sender_ip;
  received.sender_mac = arp->sender_mac;
  received.gratuitous = arp->sender_ip == arp->target_ip;
  if (arp->operation == wire::ArpOperation::kReply) {
    received.receipt = eth->destination() == device.mac() ? ArpReceipt::kReplyToUs
                                                          : ArpReceipt::kReplyOther;
    return release(device, neighbours_.on_arp(received, now));
  }
  if (arp->operation != wire::ArpOperation::kRequest) return;
  const Ipv4Address sip = arp->sender_ip;
  const Ipv4Address tip = arp->target_ip;
  if (sip.is_multicast() || tip.is_multicast() || tip.is_loopback()) return;
  // The kernel routes the request's target as if an IP packet from sip to tip had arrived on
  // this device (ip_route_input_noref), then decides.
  FlowKey key{};
  key.destination = tip;
  key.source = sip;
  key.iif = device.name();
  const FibLookup r = fib_.lookup(key);
  bool answer = false;
  if (r.kind != FibLookup::Kind::kRoute) {
    answer = false;
  } else if (r.route->type == RouteType::kLocal) {
    answer = true;  // arp_ignore 0: any local address, on any device
  } else if (r.route->type == RouteType::kUnicast && conf_[device.ifindex()].forwarding) {
    // arp_fwd_proxy: proxy_arp on (conf/all or conf/<dev>), and the route to the target leaves
    // through another device. A host with no route to 169.254.1.1 answers nothing. Or an
    // explicit proxy entry (`ip neigh add proxy`, pneigh_lookup), again only when the route
    // leaves through another device.
    const bool other_device = r.route->ifindex != device.ifindex();
    const bool proxy = conf_all_.proxy_arp || conf_[device.ifindex()].proxy_arp;
    answer = other_device && (proxy || neighbours_.is_proxied(device.ifindex(), tip));
  }
  received.receipt = answer ? ArpReceipt::kRequestAnswered : ArpReceipt::kRequestOther;
  release(device, neighbours_.on_arp(received, now));
  if (!answer) return;
  const wire::ArpPacket reply = wire::ArpPacket::reply_to(*arp, device.mac());
  // proxy_delay: Calico sets 0 on cali devices; otherwise a proxied broadcast request waits a
  // random time below proxy_delay (pneigh_enqueue). Local answers are immediate.
  const auto delay_centis = conf_[device.ifindex()].proxy_delay_centis;
  if (r.route->type == RouteType::kLocal || delay_centis == 0 ||
      eth->destination() == device.mac()) {
    return send_arp(device, reply, arp->sender_mac);
  }
  // pneigh_enqueue: at most proxy_qlen (64) requests wait, each for its own random delay below
  // proxy_delay; when it fires, arp_redo answers it. Each timer carries its own reply (whose
  // target MAC is the asker's), and a crash in between (a new boot) silences it.
  constexpr std::uint32_t kProxyQlen = 64;
  if (proxy_queue_len_ > kProxyQlen) return;
  ++proxy_queue_len_;
  const auto delay = Duration::milliseconds(
      static_cast<std::int64_t>(proxy_rng_.uniform(std::uint64_t{delay_centis} * 10)));
  sim_->schedule_after(delay, [this, reply, ifindex = device.ifindex(), boot = boot_] {
    if (boot != boot_) return;
    --proxy_queue_len_;
    Device* dev = this->device(ifindex);
    if (dev != nullptr && dev->admin_up()) send_arp(*dev, reply, reply.target_mac);
  });
}

void Namespace::send_arp(Device& out, const wire::ArpPacket& arp, MacAddress destination) {
  Packet frame = pool_->make(EthernetHeader::kLength + wire::ArpPacket::kLength);
  EthernetHeader{destination, out.mac(), EtherType::kArp}.emit(frame.bytes());
  arp.emit(frame.bytes().subspan(EthernetHeader::kLength));
  transmit(out, std::move(frame));
}

void Namespace::release(Device& out, ReleasedPackets released) {
  for (Packet& p : released.packets) {
    EthernetHeader{released.mac, out.mac(), EtherType::kIpv4}.emit(
        p.push_front(EthernetHeader::kLength));
    transmit(out, std::move(p));
  }
  schedule_neighbour_timer();
}

void Namespace::send_arp_request(const SendArpRequest& request) {
  Device* out = device(request.ifindex);
  if (out == nullptr) return;
  // arp_solicit: the queued packet's source when it is ours (arp_announce 0), else the
  // device's address for the target.
  const Ipv4Address sip =
      is_local_address(request.packet_source)
          ? request.packet_source
          : select_source(out->ifindex(), request.target).value_or(Ipv4Address());
  const wire::ArpPacket arp = wire::ArpPacket::request(out->mac(), sip, request.target);
  send_arp(*out, arp, request.unicast_to.value_or(MacAddress::broadcast()));
}

}  // namespace calisim::dataplane
