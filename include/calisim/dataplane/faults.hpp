#pragma once
// Faults at simulated times (issue #3 §7): a link or device going down and up, loss, delay and
// rate changes, an MTU change, a fabric that silently drops a protocol or a UDP port (the cloud
// network that blocks IPIP), a node crash and restart. Each fault is scheduled on the
// simulator, applied at its time, and recorded (time and a one-line description) so a run can
// list what it did in events.jsonl next to what followed.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <calisim/dataplane/device.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/sim/simulator.hpp>
#include <calisim/sim/time.hpp>

namespace calisim::dataplane {

struct FaultRecord {
  Time at;
  std::string what;  // "link-down user-worker/enp0s8", "loss lab 1%", "node-crash user-worker"
};

class FaultSchedule {
 public:
  explicit FaultSchedule(Simulator& sim) : sim_(&sim) {}
  FaultSchedule(const FaultSchedule&) = delete;
  FaultSchedule& operator=(const FaultSchedule&) = delete;

  // The cable of a NIC: no carrier, routes kept (`ip link` shows NO-CARRIER).
  void unplug(Time at, EthernetPort& port);
  void plug(Time at, EthernetPort& port);
  // `ip link set DEV down|up`: routes through the device go, and come back for its addresses.
  void device_down(Time at, Device& device);
  void device_up(Time at, Device& device);
  // A whole segment (the switch) down and up.
  void segment_down(Time at, Segment& segment);
  void segment_up(Time at, Segment& segment);
  void set_loss(Time at, Segment& segment, double loss);
  void set_delay(Time at, Segment& segment, Duration delay);
  void set_rate(Time at, Segment& segment, std::int64_t rate_bps);
  // `ip link set DEV mtu N`.
  void set_mtu(Time at, Device& device, std::uint32_t mtu);
  // The fabric's MTU on a segment (0: none); the NICs keep theirs.
  void set_fabric_mtu(Time at, Segment& segment, std::uint32_t mtu);
  void block_ip_protocol(Time at, Segment& segment, std::uint8_t protocol);
  void unblock_ip_protocol(Time at, Segment& segment, std::uint8_t protocol);
  void block_udp_port(Time at, Segment& segment, std::uint16_t port);
  void unblock_udp_port(Time at, Segment& segment, std::uint16_t port);
  void crash(Time at, Namespace& node);
  void restart(Time at, Namespace& node);

  // Called as each fault is applied (after it took effect), e.g. to write events.jsonl.
  void set_listener(std::function<void(const FaultRecord&)> listener) {
    listener_ = std::move(listener);
  }
  // Every fault applied so far, in order.
  const std::vector<FaultRecord>& applied() const { return applied_; }

 private:
  void schedule(Time at, std::string what, std::function<void()> apply);

  struct Pending {
    std::string what;
    std::function<void()> apply;
  };
  Simulator* sim_;
  std::vector<Pending> pending_;  // indexed by the scheduled events
  std::vector<FaultRecord> applied_;
  std::function<void(const FaultRecord&)> listener_;
};

}  // namespace calisim::dataplane
