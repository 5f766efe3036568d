#include <calisim/dataplane/segment.hpp>

#include <algorithm>

#include <calisim/dataplane/namespace.hpp>
#include <calisim/wire/ethernet.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/udp.hpp>

namespace calisim::dataplane {
namespace {

std::uint64_t mac_key(const wire::MacAddress& mac) {
  std::uint64_t k = 0;
  for (std::uint8_t b : mac.bytes()) k = (k << 8) | b;
  return k;
}

// Preamble + start delimiter (8), FCS (4) and the inter-frame gap (12) occupy the wire too; a
// frame shorter than 60 bytes is padded.
constexpr std::size_t kWireOverheadBytes = 24;
constexpr std::size_t kMinFrameBytes = 60;

}  // namespace

Segment::Segment(Simulator& sim, std::string name, LinkParams params)
    : sim_(sim),
      name_(std::move(name)),
      params_(params),
      loss_rng_(sim.random("segment.loss/" + name_)) {}

std::size_t Segment::attach(EthernetPort* port) {
  ports_.push_back(Port{port, Time::zero(), Time::zero(), {}, {}});
  return ports_.size() - 1;
}

void Segment::TxQueue::advance(Time now) {
  while (size_ != 0 && starts_[head_] <= now) {
    head_ = (head_ + 1) & (starts_.size() - 1);
    --size_;
  }
}

void Segment::TxQueue::push(Time start) {
  if (size_ == starts_.size()) {
    std::vector<Time> bigger(starts_.empty() ? 16 : starts_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = starts_[(head_ + i) & (starts_.size() - 1)];
    starts_ = std::move(bigger);
    head_ = 0;
  }
  starts_[(head_ + size_) & (starts_.size() - 1)] = start;
  ++size_;
}

std::size_t Segment::backlog(const EthernetPort& port) {
  TxQueue& q = ports_[port.port_].queue;
  q.advance(sim_.now());
  return q.size();
}

bool Segment::blocked(const wire::Packet& frame) const {
  if (blocked_protocols_.empty() && blocked_udp_ports_.empty()) return false;
  auto eth = wire::EthernetView::parse(frame.bytes());
  if (!eth || eth->ethertype() != wire::EtherType::kIpv4) return false;
  auto ip = wire::Ipv4View::parse(eth->payload());
  if (!ip) return false;
  const auto proto = static_cast<std::uint8_t>(ip->protocol());
  if (blocked_protocols_.count(proto) != 0) return true;
  if (ip->protocol() == wire::IpProtocol::kUdp && ip->fragment_offset_bytes() == 0) {
    if (auto udp = wire::UdpView::parse(ip->payload())) {
      return blocked_udp_ports_.count(udp->destination_port()) != 0 ||
             blocked_udp_ports_.count(udp->source_port()) != 0;
    }
  }
  return false;
}

void Segment::send(std::size_t from, wire::Packet&& frame) {
  Port& port = ports_[from];
  EthernetPort& dev = *port.device;
  if (!up_ || !dev.plugged()) return dev.drop_tx(DropReason::kLinkDown);
  // txqueuelen bounds the frames waiting for the wire, not those already on it: a long cable
  // holds any number of frames without filling the queue (pfifo_fast's ring is txqueuelen
  // packets, net/sched/sch_generic.c; a dequeued frame no longer counts).
  port.queue.advance(sim_.now());
  if (port.queue.size() >= params_.queue_limit_packets) {
    return dev.drop_tx(DropReason::kQueueFull);
  }
  const std::size_t wire_bytes = std::max(frame.size(), kMinFrameBytes) + kWireOverheadBytes;
  const auto tx_ns = static_cast<std::int64_t>(wire_bytes) * 8 * 1'000'000'000 / params_.rate_bps;
  const Time start = std::max(sim_.now(), port.busy_until);
  port.busy_until = start + Duration::nanoseconds(tx_ns);
  if (start > sim_.now()) port.queue.push(start);
  // The frame occupies the port's queue and the wire either way; loss and fabric filters act
  // where the frame would have been delivered.
  const bool lost = params_.loss > 0 && loss_rng_.bernoulli(params_.loss);
  // A fabric MTU below the NICs': the IP packet (the Ethernet payload) does not fit, and no
  // switch answers with ICMP — the frame is gone (RFC 2923 §2.1, "PMTUD black hole").
  if (!lost && params_.mtu_bytes != 0 &&
      frame.size() > wire::EthernetHeader::kLength + params_.mtu_bytes) {
    ++mtu_drops_;
    dev.drop_tx(DropReason::kFabricMtu);
    return;
  }
  if (lost || blocked(frame)) {
    dev.drop_tx(lost ? DropReason::kLoss : DropReason::kFilteredByFabric);
    return;
  }
  // After a delay change, frames sent before keep their arrival; a newer one never arrives
  // before them (arrive() takes the oldest frame, so the order must hold on the wire too).
  const Time arrival = std::max(port.busy_until + params_.delay, port.last_arrival);
  port.last_arrival = arrival;
  port.in_flight.push(arrival, std::move(frame));
  sim_.schedule_at(arrival, [this, from] { arrive(from); });
}

void Segment::arrive(std::size_t from) {
  wire::Packet frame = ports_[from].in_flight.pop().packet;
  auto eth = wire::EthernetView::parse(frame.bytes());
  if (!eth) return ports_[from].device->drop_tx(DropReason::kMalformed);
  const wire::MacAddress src = eth->source();
  const wire::MacAddress dst = eth->destination();
  if (!src.is_multicast()) mac_table_[mac_key(src)] = from;
  if (!dst.is_multicast()) {
    auto it = mac_table_.find(mac_key(dst));
    if (it != mac_table_.end()) {
      if (it->second != from) ports_[it->second].device->from_segment(std::move(frame));
      return;
    }
  }
  // Broadcast, multicast or unknown unicast: flood to every other port.
  std::size_t last = ports_.size();
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    if (i != from) last = i;
  }
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    if (i == from) continue;
    if (i == last) {
      ports_[i].device->from_segment(std::move(frame));
    } else {
      ports_[i].device->from_segment(frame.clone());
    }
  }
}

EthernetPort::EthernetPort(Namespace& ns, std::string name, wire::MacAddress mac, Segment& segment,
                           std::uint32_t mtu)
    : Device(ns, std::move(name), DeviceKind::kEthernet, mac, mtu),
      segment_(&segment),
      port_(segment.attach(this)) {}

void EthernetPort::set_plugged(bool plugged) {
  const bool lost = plugged_ && !plugged && admin_up();
  plugged_ = plugged;
  if (lost) owner().carrier_lost(*this);
}

void EthernetPort::transmit(wire::Packet&& frame) {
  ++stats_.tx_packets;
  stats_.tx_bytes += frame.size();
  segment_->send(port_, std::move(frame));
}

void EthernetPort::from_segment(wire::Packet&& frame) {
  if (!carrier()) {
    return drop_rx(owner().running() ? DropReason::kLinkDown : DropReason::kNodeDown);
  }
  auto eth = wire::EthernetView::parse(frame.bytes());
  if (!eth) return drop_rx(DropReason::kMalformed);
  const wire::MacAddress dst = eth->destination();
  if (dst != mac() && !dst.is_multicast()) return drop_rx(DropReason::kNotForUs);
  deliver(std::move(frame));
}

}  // namespace calisim::dataplane
