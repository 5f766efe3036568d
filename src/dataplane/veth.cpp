#include <calisim/dataplane/veth.hpp>

#include <fmt/format.h>

#include <calisim/dataplane/namespace.hpp>

namespace calisim::dataplane {

std::pair<Veth&, Veth&> Veth::create(Namespace& ns_a, std::string name_a, wire::MacAddress mac_a,
                                     Namespace& ns_b, std::string name_b, wire::MacAddress mac_b,
                                     std::uint32_t mtu) {
  // `ip link add A type veth peer name B` registers the peer first (linux.md §1.3).
  Veth& b = ns_b.add_device<Veth>(std::move(name_b), mac_b, mtu);
  Veth& a = ns_a.add_device<Veth>(std::move(name_a), mac_a, mtu);
  a.peer_ = &b;
  b.peer_ = &a;
  return {a, b};
}

std::string Veth::link_suffix() const {
  if (&peer_->owner() == &owner()) return "@" + peer_->name();
  return fmt::format("@if{}", peer_->ifindex());
}

std::string Veth::link_flags() const {
  std::string flags = Device::link_flags();
  if (&peer_->owner() == &owner() && !peer_->admin_up()) flags += ",M-DOWN";
  return flags;
}

void Veth::transmit(wire::Packet&& packet) {
  // veth_xmit: a peer that is not up drops the frame (counted as a tx drop here).
  if (!peer_->admin_up()) {
    drop_tx(DropReason::kLinkDown);
    return;
  }
  ++stats_.tx_packets;
  stats_.tx_bytes += packet.size();
  Simulator& sim = owner().sim();
  peer_->in_flight_.push(sim.now(), std::move(packet));
  Veth* to = peer_;
  sim.schedule_at(sim.now(), [to] { to->arrive(); });
}

void Veth::arrive() { deliver(in_flight_.pop().packet); }

}  // namespace calisim::dataplane
