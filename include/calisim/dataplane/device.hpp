#pragma once
// A network device in a namespace. The namespace calls transmit(); the device hands what it
// receives up with deliver(). What lies beyond a device — the other end of a veth, a simulated
// segment, a tunnel's underlay, a real /dev/net/tun — is the device's business only.

#include <cstdint>
#include <string>
#include <string_view>

#include <calisim/dataplane/drop.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/packet.hpp>

namespace calisim::dataplane {

class Namespace;

enum class DeviceKind : std::uint8_t { kLoopback, kVeth, kEthernet, kIpip, kVxlan, kWireguard, kTun };

// The operstate `ip -br link` prints (RFC 2863 as Linux reports it).
enum class OperState : std::uint8_t { kUnknown, kDown, kLowerLayerDown, kUp };

std::string_view to_string(OperState state);

class Device {
 public:
  virtual ~Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const std::string& name() const { return name_; }
  std::uint32_t ifindex() const { return ifindex_; }
  DeviceKind kind() const { return kind_; }
  Namespace& owner() const { return *ns_; }
  const wire::MacAddress& mac() const { return mac_; }
  std::uint32_t mtu() const { return mtu_; }
  void set_mtu(std::uint32_t mtu) { mtu_ = mtu; }

  // Frames on this device start with an Ethernet header (veth, NIC, vxlan); otherwise they are
  // bare IPv4 datagrams (tunl0, wireguard.cali, TUN).
  virtual bool has_ethernet_header() const { return true; }
  // NOARP devices (tunnels, loopback) never resolve neighbours.
  virtual bool uses_arp() const { return has_ethernet_header(); }

  bool admin_up() const { return admin_up_; }
  void set_admin_up(bool up) { admin_up_ = up; }
  // LOWER_UP: the link has carrier (for a veth: its peer is up).
  virtual bool carrier() const { return admin_up_; }
  virtual OperState oper_state() const;

  // The link-layer address as `ip link` prints it (a MAC; "0.0.0.0" for an IPIP tunnel).
  virtual std::string link_address() const { return mac_.to_string(); }
  // What iproute2 prints after the name: "@peer", "@if12", "@NONE", or nothing.
  virtual std::string link_suffix() const { return {}; }
  // The flags between < > in `ip link`, e.g. "BROADCAST,MULTICAST,UP,LOWER_UP".
  virtual std::string link_flags() const;

  // Sends a frame (or datagram, for devices without an Ethernet header). The namespace has
  // already checked admin state and tapped the packet.
  virtual void transmit(wire::Packet&& packet) = 0;

  // Counters as `ip -s link` shows them.
  struct Stats {
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t rx_dropped = 0;
    std::uint64_t tx_dropped = 0;
  };
  const Stats& stats() const { return stats_; }

  // A slot a packet tap keeps per device (a capture's interface id), so tapping a packet needs
  // no lookup. `owner` is the token of the tap that wrote it (never 0); another tap sees a
  // mismatch and starts over.
  struct TapSlot {
    std::uint64_t owner = 0;
    std::uint32_t value = 0;
  };
  TapSlot& tap_slot() const { return tap_slot_; }

 protected:
  Device(Namespace& ns, std::string name, DeviceKind kind, wire::MacAddress mac, std::uint32_t mtu);

  // Hands a received frame up to the namespace (counts it, taps it, processes it).
  void deliver(wire::Packet&& packet);
  // A frame this device could not send or receive.
  void drop_tx(DropReason reason);
  void drop_rx(DropReason reason);

  Stats stats_;

 private:
  friend class Namespace;
  Namespace* ns_;
  std::string name_;
  std::uint32_t ifindex_ = 0;
  DeviceKind kind_;
  wire::MacAddress mac_;
  std::uint32_t mtu_;
  bool admin_up_ = false;
  mutable TapSlot tap_slot_;
};

}  // namespace calisim::dataplane
