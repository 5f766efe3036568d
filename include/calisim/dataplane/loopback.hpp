#pragma once
// `lo`: what a namespace sends to itself. Every namespace has one, ifindex 1, created down
// (a fresh `ip netns add` leaves lo DOWN; `ip link set lo up` is the first thing people do).

#include <calisim/dataplane/device.hpp>
#include <calisim/dataplane/packet_ring.hpp>

namespace calisim::dataplane {

class Loopback final : public Device {
 public:
  explicit Loopback(Namespace& ns);
  // Linux's lo frames carry an all-zero Ethernet header (tcpdump -i lo shows EN10MB), but lo
  // never does ARP.
  bool uses_arp() const override { return false; }
  // lo reports UNKNOWN when up: it has no carrier notion (ip -br link: "lo UNKNOWN").
  OperState oper_state() const override;
  std::string link_flags() const override;
  void transmit(wire::Packet&& packet) override;

 private:
  void arrive();
  PacketRing in_flight_;
};

}  // namespace calisim::dataplane
