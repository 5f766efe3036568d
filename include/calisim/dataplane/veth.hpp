#pragma once
// A veth pair: what one end transmits, the other end receives, at once (veth_xmit hands the
// skb straight to the peer's netif_rx). Calico joins every pod to its host with one: `eth0` in
// the pod, `caliXXXXXXXXXXX` on the host.

#include <string>
#include <utility>

#include <calisim/dataplane/device.hpp>
#include <calisim/dataplane/packet_ring.hpp>

namespace calisim::dataplane {

class Veth final : public Device {
 public:
  // Creates both ends, each owned by its namespace (which may be the same one). Both start
  // administratively down, as `ip link add` leaves them. ifindexes follow Linux: the peer (b)
  // is created first.
  static std::pair<Veth&, Veth&> create(Namespace& ns_a, std::string name_a,
                                        wire::MacAddress mac_a, Namespace& ns_b,
                                        std::string name_b, wire::MacAddress mac_b,
                                        std::uint32_t mtu = 1500);

  Veth& peer() const { return *peer_; }
  // A veth has carrier when both ends are up (veth_open / netif_carrier_on on the peer).
  bool carrier() const override { return admin_up() && peer_->admin_up(); }
  std::string link_suffix() const override;
  // iproute2 adds M-DOWN when the device's link (here the peer) is not up (lib/utils.c); it
  // can only tell for a peer in the same namespace.
  std::string link_flags() const override;
  void transmit(wire::Packet&& packet) override;

  Veth(Namespace& ns, std::string name, wire::MacAddress mac, std::uint32_t mtu)
      : Device(ns, std::move(name), DeviceKind::kVeth, mac, mtu) {}

 private:
  void arrive();

  Veth* peer_ = nullptr;
  PacketRing in_flight_;  // towards this end
};

}  // namespace calisim::dataplane
