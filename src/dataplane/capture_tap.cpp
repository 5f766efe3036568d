#include <calisim/dataplane/capture_tap.hpp>

#include <atomic>

namespace calisim::dataplane {
namespace {
std::atomic<std::uint64_t> next_token{1};
}  // namespace

CaptureTap::CaptureTap(capture::CaptureSet& capture)
    : capture_(&capture), token_(next_token.fetch_add(1, std::memory_order_relaxed)) {}

void CaptureTap::on_packet(const Device& device, Time at, wire::Bytes frame, Direction dir) {
  if (failure_) return;
  Device::TapSlot& slot = device.tap_slot();
  if (slot.owner != token_) {
    const auto link =
        device.has_ethernet_header() ? capture::LinkType::kEthernet : capture::LinkType::kRawIp;
    auto id = capture_->add_interface(device.owner().name() + "/" + device.name(), link);
    if (!id) {
      failure_ = id.error();
      return;
    }
    slot = Device::TapSlot{token_, id->value};
  }
  const auto direction =
      dir == Direction::kInbound ? capture::Direction::kInbound : capture::Direction::kOutbound;
  if (auto r = capture_->write_packet(capture::InterfaceId{slot.value}, at, frame, direction); !r) failure_ = r.error();
}

}  // namespace calisim::dataplane
