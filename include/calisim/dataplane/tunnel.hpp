#pragma once
// Tunnel devices: `tunl0` (IPIP) and `vxlan.calico` (VXLAN). Transmit wraps the packet (see
// encap.hpp for how Linux fills the outer headers) and hands the outer datagram back to the
// namespace's output path; the namespace hands them the encapsulated datagrams addressed to
// them, and what comes out of the tunnel re-enters the stack on the tunnel device.

#include <cstdint>
#include <string>
#include <unordered_map>

#include <calisim/dataplane/device.hpp>

namespace calisim::dataplane {

class TunnelDevice : public Device {
 public:
  // The UDP port this tunnel listens on (VXLAN), 0 for none.
  virtual std::uint16_t udp_port() const { return 0; }
  // An encapsulated datagram addressed to this host, for this tunnel.
  virtual void receive_encapsulated(wire::Packet&& outer) = 0;

 protected:
  using Device::Device;
};

// The ipip module's fallback device `tunl0`: no local or remote address, TTL inherit,
// nopmtudisc (linux.md §3). Calico routes remote blocks `via <node> dev tunl0 onlink`; the
// route's gateway becomes the outer destination.
class IpipTunnel final : public TunnelDevice {
 public:
  explicit IpipTunnel(Namespace& ns, std::string name = "tunl0", std::uint32_t mtu = 1480);
  bool has_ethernet_header() const override { return false; }
  std::string link_suffix() const override { return "@NONE"; }
  // link/ipip 0.0.0.0: the fallback device has no local address.
  std::string link_address() const override { return "0.0.0.0"; }
  // Tunnels report no carrier state: UNKNOWN when up.
  OperState oper_state() const override;
  void transmit(wire::Packet&& datagram) override;
  void receive_encapsulated(wire::Packet&& outer) override;

  // `ip tunnel change tunl0 mode ipip pmtudisc|nopmtudisc` (parms.iph.frag_off = DF or 0). The
  // fallback tunl0 is nopmtudisc, and Felix leaves it so: the tunnel then checks inner packets
  // against the inner route's MTU only, so an underlay MTU below tunl0's + 20 ends in a
  // Frag-Needed the node sends itself (calico#7146). With pmtudisc the tunnel MTU is the outer
  // path MTU - 20 and inner DF packets above it get a Frag-Needed to their source.
  bool pmtudisc() const { return pmtudisc_; }
  void set_pmtudisc(bool on) { pmtudisc_ = on; }

 private:
  bool update_pmtu(const wire::Packet& datagram, wire::Ipv4Address outer_dst);
  bool pmtudisc_ = false;
};

// Felix's `vxlan.calico`: VNI 4096, UDP 4789, learning off; Felix programs a permanent
// neighbour entry (VTEP IP -> VTEP MAC) and an FDB entry (VTEP MAC -> node IP) per remote node.
class VxlanTunnel final : public TunnelDevice {
 public:
  VxlanTunnel(Namespace& ns, std::string name, wire::MacAddress mac, std::uint32_t vni = 4096,
              std::uint16_t port = 4789, std::uint32_t mtu = 1450);
  // `bridge fdb add MAC dev vxlan.calico dst IP`.
  void add_fdb(wire::MacAddress mac, wire::Ipv4Address remote);
  void remove_fdb(wire::MacAddress mac);
  std::uint16_t udp_port() const override { return port_; }
  std::uint32_t vni() const { return vni_; }
  // iproute2 `udpcsum` / `noudpcsum` (VXLAN_F_UDP_ZERO_CSUM_TX when off). On by default: the
  // kernel checksums unless told not to, and Felix does not ask (see VxlanOuter in encap.hpp).
  bool udp_checksum() const { return udp_checksum_; }
  void set_udp_checksum(bool on) { udp_checksum_ = on; }
  // A vxlan device has no carrier of its own: `ip -br link` shows it UNKNOWN when up.
  OperState oper_state() const override;
  void transmit(wire::Packet&& frame) override;
  void receive_encapsulated(wire::Packet&& outer) override;

 private:
  void check_pmtu(const wire::Packet& frame, wire::Ipv4Address remote);
  std::uint32_t vni_;
  std::uint16_t port_;
  bool udp_checksum_ = true;
  std::unordered_map<std::uint64_t, wire::Ipv4Address> fdb_;
};

}  // namespace calisim::dataplane
