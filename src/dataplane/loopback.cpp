#include <calisim/dataplane/loopback.hpp>

#include <calisim/dataplane/namespace.hpp>

namespace calisim::dataplane {

// Linux's loopback MTU is 65536 (drivers/net/loopback.c, since 3.x).
Loopback::Loopback(Namespace& ns) : Device(ns, "lo", DeviceKind::kLoopback, wire::MacAddress(), 65536) {}

OperState Loopback::oper_state() const {
  return admin_up() ? OperState::kUnknown : OperState::kDown;
}

std::string Loopback::link_flags() const {
  return admin_up() ? "LOOPBACK,UP,LOWER_UP" : "LOOPBACK";
}

void Loopback::transmit(wire::Packet&& packet) {
  ++stats_.tx_packets;
  stats_.tx_bytes += packet.size();
  Simulator& sim = owner().sim();
  in_flight_.push(sim.now(), std::move(packet));
  sim.schedule_at(sim.now(), [this] { arrive(); });
}

void Loopback::arrive() { deliver(in_flight_.pop().packet); }

}  // namespace calisim::dataplane
