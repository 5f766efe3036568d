#include <calisim/dataplane/capture_tap.hpp>

namespace calisim::dataplane {

void CaptureTap::on_packet(const Device& device, Time at, wire::Bytes frame, Direction dir) {
  if (failure_) return;
  auto it = ids_.find(&device);
  if (it == ids_.end()) {
    const auto link =
        device.has_ethernet_header() ? capture::LinkType::kEthernet : capture::LinkType::kRawIp;
    auto id = capture_->add_interface(device.owner().name() + "/" + device.name(), link);
    if (!id) {
      failure_ = id.error();
      return;
    }
    it = ids_.emplace(&device, *id).first;
  }
  const auto direction =
      dir == Direction::kInbound ? capture::Direction::kInbound : capture::Direction::kOutbound;
  if (auto r = capture_->write_packet(it->second, at, frame, direction); !r) failure_ = r.error();
}

}  // namespace calisim::dataplane
