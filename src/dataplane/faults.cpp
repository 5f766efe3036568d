#include <calisim/dataplane/faults.hpp>

#include <utility>

#include <fmt/format.h>

namespace calisim::dataplane {
namespace {

std::string where(const Device& d) {
  return d.owner().name() + "/" + d.name();
}

}  // namespace

void FaultSchedule::schedule(Time at, std::string what, std::function<void()> apply) {
  const std::size_t index = pending_.size();
  pending_.push_back(Pending{std::move(what), std::move(apply)});
  sim_->schedule_at(at, [this, index] {
    Pending& p = pending_[index];
    p.apply();
    applied_.push_back(FaultRecord{sim_->now(), std::move(p.what)});
    p.apply = nullptr;
    if (listener_) listener_(applied_.back());
  });
}

void FaultSchedule::unplug(Time at, EthernetPort& port) {
  schedule(at, "link-down " + where(port), [&port] { port.set_plugged(false); });
}
void FaultSchedule::plug(Time at, EthernetPort& port) {
  schedule(at, "link-up " + where(port), [&port] { port.set_plugged(true); });
}
void FaultSchedule::device_down(Time at, Device& device) {
  schedule(at, "device-down " + where(device),
           [&device] { (void)device.owner().set_up(device.name(), false); });
}
void FaultSchedule::device_up(Time at, Device& device) {
  schedule(at, "device-up " + where(device),
           [&device] { (void)device.owner().set_up(device.name(), true); });
}
void FaultSchedule::segment_down(Time at, Segment& segment) {
  schedule(at, "segment-down " + segment.name(), [&segment] { segment.set_up(false); });
}
void FaultSchedule::segment_up(Time at, Segment& segment) {
  schedule(at, "segment-up " + segment.name(), [&segment] { segment.set_up(true); });
}
void FaultSchedule::set_loss(Time at, Segment& segment, double loss) {
  schedule(at, fmt::format("loss {} {}%", segment.name(), loss * 100),
           [&segment, loss] { segment.set_loss(loss); });
}
void FaultSchedule::set_delay(Time at, Segment& segment, Duration delay) {
  schedule(at, fmt::format("delay {} {}us", segment.name(), delay.ns() / 1000),
           [&segment, delay] { segment.set_delay(delay); });
}
void FaultSchedule::set_rate(Time at, Segment& segment, std::int64_t rate_bps) {
  schedule(at, fmt::format("rate {} {}bit", segment.name(), rate_bps),
           [&segment, rate_bps] { segment.set_rate(rate_bps); });
}
void FaultSchedule::set_mtu(Time at, Device& device, std::uint32_t mtu) {
  schedule(at, fmt::format("mtu {} {}", where(device), mtu),
           [&device, mtu] { device.set_mtu(mtu); });
}
void FaultSchedule::set_fabric_mtu(Time at, Segment& segment, std::uint32_t mtu) {
  schedule(at, fmt::format("fabric-mtu {} {}", segment.name(), mtu),
           [&segment, mtu] { segment.set_mtu(mtu); });
}
void FaultSchedule::block_ip_protocol(Time at, Segment& segment, std::uint8_t protocol) {
  schedule(at, fmt::format("block {} ip-protocol {}", segment.name(), protocol),
           [&segment, protocol] { segment.block_ip_protocol(protocol); });
}
void FaultSchedule::unblock_ip_protocol(Time at, Segment& segment, std::uint8_t protocol) {
  schedule(at, fmt::format("unblock {} ip-protocol {}", segment.name(), protocol),
           [&segment, protocol] { segment.unblock_ip_protocol(protocol); });
}
void FaultSchedule::block_udp_port(Time at, Segment& segment, std::uint16_t port) {
  schedule(at, fmt::format("block {} udp-port {}", segment.name(), port),
           [&segment, port] { segment.block_udp_port(port); });
}
void FaultSchedule::unblock_udp_port(Time at, Segment& segment, std::uint16_t port) {
  schedule(at, fmt::format("unblock {} udp-port {}", segment.name(), port),
           [&segment, port] { segment.unblock_udp_port(port); });
}
void FaultSchedule::crash(Time at, Namespace& node) {
  schedule(at, "node-crash " + node.name(), [&node] { node.crash(); });
}
void FaultSchedule::restart(Time at, Namespace& node) {
  schedule(at, "node-restart " + node.name(), [&node] { node.restart(); });
}

}  // namespace calisim::dataplane
