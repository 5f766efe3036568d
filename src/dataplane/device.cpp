#include <calisim/dataplane/device.hpp>

#include <calisim/dataplane/namespace.hpp>

namespace calisim::dataplane {

std::string_view to_string(OperState state) {
  switch (state) {
    case OperState::kUnknown: return "UNKNOWN";
    case OperState::kDown: return "DOWN";
    case OperState::kLowerLayerDown: return "LOWERLAYERDOWN";
    case OperState::kUp: return "UP";
  }
  return "UNKNOWN";
}

Device::Device(Namespace& ns, std::string name, DeviceKind kind, wire::MacAddress mac,
               std::uint32_t mtu)
    : ns_(&ns), name_(std::move(name)), kind_(kind), mac_(mac), mtu_(mtu) {}

OperState Device::oper_state() const {
  if (!admin_up_) return OperState::kDown;
  return carrier() ? OperState::kUp : OperState::kLowerLayerDown;
}

// iproute2 prints the kernel's IFF_* flags in its own order (ip/ipaddress.c print_link_flags):
// LOOPBACK, BROADCAST, POINTOPOINT, MULTICAST, NOARP, ..., UP, LOWER_UP; NO-CARRIER first when
// the device is up without carrier.
std::string Device::link_flags() const {
  std::string f;
  auto add = [&f](std::string_view word) {
    if (!f.empty()) f += ',';
    f += word;
  };
  if (admin_up_ && !carrier()) add("NO-CARRIER");
  if (has_ethernet_header()) {
    add("BROADCAST");
    add("MULTICAST");
  } else {
    add("NOARP");
  }
  if (admin_up_) add("UP");
  if (admin_up_ && carrier()) add("LOWER_UP");
  return f;
}

void Device::deliver(wire::Packet&& packet) {
  if (!admin_up_) {
    drop_rx(ns_->running() ? DropReason::kDeviceDown : DropReason::kNodeDown);
    return;
  }
  ++stats_.rx_packets;
  stats_.rx_bytes += packet.size();
  ns_->receive(*this, std::move(packet));
}

void Device::drop_tx(DropReason reason) {
  ++stats_.tx_dropped;
  ns_->count_drop(reason, this);
}

void Device::drop_rx(DropReason reason) {
  ++stats_.rx_dropped;
  ns_->count_drop(reason, this);
}

}  // namespace calisim::dataplane
