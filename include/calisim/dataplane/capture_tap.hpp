#pragma once
// Captures on every device: a PacketTap that writes each packet a namespace sees into the run's
// CaptureSet, one interface per device, named "<namespace>/<ifname>" (DESIGN.md, "What every
// run leaves behind"). Interfaces are registered the first time they carry a packet, so the
// file lists them in a deterministic order. Each device keeps its interface id in its tap slot.

#include <cstdint>
#include <optional>

#include <calisim/capture/capture_set.hpp>
#include <calisim/dataplane/namespace.hpp>

namespace calisim::dataplane {

class CaptureTap final : public PacketTap {
 public:
  explicit CaptureTap(capture::CaptureSet& capture);

  // Taps every device of `ns` from now on.
  void attach(Namespace& ns) { ns.set_tap(this); }

  void on_packet(const Device& device, Time at, wire::Bytes frame, Direction dir) override;

  // The first write error, if any; later packets are not written.
  const std::optional<Error>& failure() const { return failure_; }

 private:
  capture::CaptureSet* capture_;
  std::uint64_t token_;  // unique per tap for the process's life: marks the devices' tap slots
  std::optional<Error> failure_;
};

}  // namespace calisim::dataplane
