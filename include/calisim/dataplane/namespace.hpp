#pragma once
// A network namespace: Linux's IPv4 host stack, as every node, pod and router in calisim runs
// it. Devices, addresses, the FIB (tables and rules), the neighbour table, sysctls, and the
// packet path:
//
//   device rx -> tap -> PREROUTING -> route lookup -> INPUT   -> local delivery (ICMP, sockets)
//                                                  -> TTL-1 -> FORWARD -> POSTROUTING
//                                                     -> neighbour resolution -> device tx -> tap
//   local send -> route lookup -> OUTPUT -> POSTROUTING -> fragmentation -> neighbour -> tx
//
// The netfilter hooks are extension points (netfilter.hpp).
//
// Every packet that dies here records a DropReason.

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <calisim/dataplane/device.hpp>
#include <calisim/dataplane/drop.hpp>
#include <calisim/dataplane/fib.hpp>
#include <calisim/dataplane/icmp_rate_limit.hpp>
#include <calisim/dataplane/ip_ident.hpp>
#include <calisim/dataplane/loopback.hpp>
#include <calisim/dataplane/neighbour.hpp>
#include <calisim/dataplane/netfilter.hpp>
#include <calisim/dataplane/pmtu.hpp>
#include <calisim/dataplane/reassembly.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/simulator.hpp>
#include <calisim/sim/timer.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/arp.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/packet.hpp>

namespace calisim::dataplane {

// Per-device IPv4 settings (net.ipv4.conf.<dev>.*); `all` holds conf/all. Effective values
// combine them as the kernel does (ip-sysctl.rst): rp_filter and proxy_arp take the max,
// forwarding is per device (writing ip_forward sets all of them).
struct DeviceSysctls {
  bool forwarding = false;
  bool proxy_arp = false;
  std::uint32_t proxy_delay_centis = 80;  // neigh.<dev>.proxy_delay, in 1/100 s
  std::uint8_t rp_filter = 0;             // 0 off, 1 strict, 2 loose
  bool route_localnet = false;
  bool accept_local = false;
};

// Something that sees every packet crossing every device of a namespace (captures).
class PacketTap {
 public:
  enum class Direction { kInbound, kOutbound };
  virtual ~PacketTap() = default;
  virtual void on_packet(const Device& device, Time at, wire::Bytes frame, Direction dir) = 0;
};

// Where a namespace reports what happens to packets (events.jsonl, counters in the views).
struct DropEvent {
  Time at;
  DropReason reason;
  const Device* device;  // nullptr when no device is involved
};

class Namespace {
 public:
  Namespace(Simulator& sim, wire::PacketPool& pool, std::string name);
  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& name() const { return name_; }
  Simulator& sim() const { return *sim_; }
  wire::PacketPool& pool() const { return *pool_; }

  // --- devices -------------------------------------------------------------------------
  // Constructs a device owned by this namespace and gives it the next ifindex.
  template <class D, class... Args>
  D& add_device(Args&&... args) {
    auto d = std::make_unique<D>(*this, std::forward<Args>(args)...);
    D& ref = *d;
    attach(std::move(d));
    return ref;
  }
  // An ifindex used and given up: a veth end created here and moved to another namespace
  // (`ip link add eth0 type veth peer name caliX` inside a pod, then caliX moved out, as
  // Calico's CNI does: the pod's eth0 comes one index after the peer's).
  void skip_ifindex() { ++next_ifindex_; }
  Loopback& loopback() const { return *loopback_; }
  Device* device(std::string_view name) const;
  Device* device(std::uint32_t ifindex) const;
  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }

  // `ip link del DEV`: the device goes down (its routes and neighbours with it), loses its
  // addresses and leaves the namespace; a veth takes its peer along (in whichever namespace
  // the peer is), as deleting either end of a pair does in Linux. ifindexes are not reused.
  Result<void> delete_device(std::string_view device);

  // `ip link set DEV up|down`. Up adds the connected routes of its addresses; down removes
  // every route through the device, as the kernel does (fib_disable_ip).
  Result<void> set_up(std::string_view device, bool up);

  // --- addresses -------------------------------------------------------------------------
  // `ip addr add A/LEN dev D`: the first address in a subnet is primary, later ones secondary.
  Result<void> add_address(std::string_view device, wire::Ipv4Prefix address);
  Result<void> remove_address(std::string_view device, wire::Ipv4Prefix address);
  struct Address {
    std::uint32_t ifindex;
    wire::Ipv4Prefix prefix;
    bool secondary;
  };
  const std::vector<Address>& addresses() const { return addresses_; }
  AddressRouteOptions route_options(const Address& a) const;
  bool is_local_address(wire::Ipv4Address a) const;
  // The address Linux picks as the source for a destination reached via `device`
  // (inet_select_addr): a primary address of the device in the same subnet as the next hop,
  // else its first primary address, else any address of the namespace.
  std::optional<wire::Ipv4Address> select_source(std::uint32_t ifindex,
                                                 wire::Ipv4Address toward) const;

  // --- routing, neighbours, sysctls --------------------------------------------------------
  Fib& fib() { return fib_; }
  const Fib& fib() const { return fib_; }
  NeighbourTable& neighbours() { return neighbours_; }
  const NeighbourTable& neighbours() const { return neighbours_; }
  DeviceSysctls& conf_all() { return conf_all_; }
  DeviceSysctls& conf(std::string_view device);
  // net.ipv4.ip_forward: sets `forwarding` on all and on every device.
  void set_ip_forward(bool on);
  // net.ipv4.icmp_ratelimit, icmp_ratemask, icmp_msgs_per_sec/burst, route.error_cost/burst.
  IcmpSysctls& icmp_sysctls() { return icmp_limits_.sysctls(); }

  // The five IPv4 netfilter hooks of this namespace (netfilter.hpp).
  Netfilter& netfilter() { return netfilter_; }

  // --- packet path ---------------------------------------------------------------------------
  // A device received a frame (Ethernet devices) or a datagram (tunnels, TUN).
  void receive(Device& device, wire::Packet&& packet);
  // A locally generated IPv4 datagram (sockets, ICMP): routed and sent. A zero source address
  // is filled in from the route. Returns the route error if there is no way out (what
  // connect()/sendto() would return: EHOSTUNREACH etc.), the packet being dropped.
  Result<void> send(wire::Packet&& datagram);

  // The output route to `destination` from this namespace (no source, no mark).
  FibLookup route_output(wire::Ipv4Address destination) const;
  // The source address a socket connected to `destination` gets: the route's preferred source,
  // else the egress device's address (inet_select_addr). Errors as connect() reports them.
  Result<wire::Ipv4Address> source_for(wire::Ipv4Address destination) const;

  // --- path MTU (pmtu.cpp) ------------------------------------------------------------------
  struct PathMtu {
    std::uint32_t mtu;
    bool locked;  // a PMTU below min_pmtu: senders no longer set DF
  };
  // dst_mtu of the output route to `destination`, as a local socket sees it: a live PMTU
  // exception, else the route's mtu metric, else the device MTU. nullopt without a route.
  std::optional<PathMtu> path_mtu(wire::Ipv4Address destination) const;
  // The live PMTU exception for `destination` (what `ip route get` prints as `cache ...`).
  const PmtuException* pmtu_exception(wire::Ipv4Address destination) const;
  // ip_mtu_locked of the output route to `destination` (a PMTU locked below min_pmtu).
  bool path_mtu_locked(wire::Ipv4Address destination) const {
    if (!pmtu_.any_locked()) return false;
    const PmtuException* e = pmtu_exception(destination);
    return e != nullptr && e->locked;
  }
  // skb_dst_update_pmtu / ipv4_update_pmtu: record that `destination` takes at most `mtu`
  // (kernel rules in PmtuCache::update).
  void update_pmtu(wire::Ipv4Address destination, std::uint32_t mtu);
  // tnl_update_pmtu's inner side, with one route lookup: the MTU the tunnel holds the inner
  // packet to (`limit` when the tunnel does pmtudisc, else the inner route's own MTU, or
  // `fallback` without one), recorded on the inner route as update_pmtu does.
  std::uint32_t record_tunnel_pmtu(wire::Ipv4Address destination, std::optional<std::uint32_t> limit,
                                   std::uint32_t fallback);

  // Sends ICMP error `type`/`code` about `offending` (an IPv4 datagram as received) back to its
  // source, with Linux's rules: not about ICMP errors or non-first fragments, not to broadcast
  // or multicast, rate-limited as icmp_rate_limit.hpp describes (for sockets: port
  // unreachable). `in_ifindex` is the device it came in on (0: unknown; a datagram from one of
  // our own addresses then counts as having come in on loopback).
  void send_icmp_error(wire::Bytes offending, std::uint8_t type, std::uint8_t code,
                       std::uint16_t next_hop_mtu = 0, std::uint32_t in_ifindex = 0);

  // Local protocol handlers (sockets). Each sees every datagram of its protocol delivered to
  // this namespace, after ICMP echo requests have been answered. Removing one from inside a
  // handler is safe.
  using ProtocolHandler = std::function<void(const wire::Ipv4View& ip, Time now)>;
  std::size_t add_protocol_handler(std::uint8_t protocol, ProtocolHandler handler);
  void remove_protocol_handler(std::size_t id);

  void set_tap(PacketTap* tap) { tap_ = tap; }
  void set_drop_listener(std::function<void(const DropEvent&)> listener) {
    drop_listener_ = std::move(listener);
  }
  void count_drop(DropReason reason, const Device* device);
  std::uint64_t drops(DropReason reason) const {
    return drop_counts_[static_cast<std::size_t>(reason)];
  }

  IpIdentGenerator& ip_ident() { return ip_ident_; }

  // A device lost its carrier (a cable pulled): NETDEV_CHANGE without carrier evicts the
  // device's neighbour entries except PERMANENT ones (neigh_carrier_down, Linux 4.20+ "net:
  // Evict neighbor entries on carrier down"); packets waiting on an INCOMPLETE entry are
  // dropped without an error. Routes stay (marked linkdown).
  void carrier_lost(Device& device);

  // --- crash and restart (a fault) -----------------------------------------------------------
  // Power loss. Every device goes down without a word on the wire (a veth peer or a segment
  // sees no carrier); what lived in memory is lost: the neighbour cache (except PERMANENT
  // entries), fragments waiting for reassembly, ICMP rate-limit state, queued proxy-ARP
  // replies; crash listeners (socket layers) drop their sockets silently. The configuration —
  // devices, addresses, routes, rules, sysctls — stays, standing for what the node's boot
  // re-applies; daemons that own state (BIRD, Felix) are restarted by the layer that runs them.
  void crash();
  // Power back on: the devices that were up before the crash come up again.
  void restart();
  bool running() const { return running_; }
  std::size_t add_crash_listener(std::function<void()> listener);
  void remove_crash_listener(std::size_t id);

 private:
  void attach(std::unique_ptr<Device> device);
  void unlink(Device& device);
  void tap(const Device& device, const wire::Packet& p, PacketTap::Direction dir);

  void arp_receive(Device& device, wire::Packet&& frame);
  void ip_receive(Device& device, wire::Packet&& datagram);
  bool source_is_martian(const Device& in, const wire::Ipv4View& ip) const;
  std::optional<DropReason> validate_source(const Device& in, const wire::Ipv4View& ip,
                                            std::uint32_t oif) const;
  void local_deliver(Device& device, wire::Packet&& datagram);
  void forward(Device& in, wire::Packet&& datagram, const FibLookup& route);
  // Sends an outgoing datagram through `route` (fragmenting it when allowed and needed).
  void output(wire::Packet&& datagram, const Route& route);
  // send()'s tail when OUTPUT hooks are registered: run them, route again if they re-aimed it.
  Result<void> output_hooked(wire::Packet&& datagram, FlowKey key, const Route& route);
  std::uint32_t output_mtu(const Route& route, const Device& out, wire::Ipv4Address destination,
                           bool local) const;
  void learn_pmtu(const wire::Ipv4View& ip);
  std::optional<PathMtu> path_mtu_of(const Route& route, wire::Ipv4Address destination) const;
  void fragment(wire::Packet&& datagram, std::uint32_t mtu,
                const std::function<void(wire::Packet&&)>& emit);
  void neighbour_output(Device& out, wire::Ipv4Address next_hop, wire::Packet&& datagram);
  void transmit(Device& out, wire::Packet&& frame);
  void send_arp(Device& out, const wire::ArpPacket& arp, wire::MacAddress destination);
  void release(Device& out, ReleasedPackets released);
  void send_arp_request(const SendArpRequest& request);
  void run_neighbour_timers();
  void schedule_neighbour_timer();
  void run_reassembly_timer();
  Result<void> route_error(const FibLookup& r, wire::Ipv4Address destination) const;
  bool has_handler(std::uint8_t protocol) const;
  void dispatch(std::uint8_t protocol, const wire::Ipv4View& ip);
  // Runs a netfilter hook; false (and a kNetfilterDrop) when a hook function dropped the
  // packet. Nothing registered: one empty check.
  bool nf_hook(NfHook hook, wire::Packet& datagram, const Device* in, const Device* out) {
    return netfilter_.empty(hook) || nf_hook_slow(hook, datagram, in, out);
  }
  bool nf_hook_slow(NfHook hook, wire::Packet& datagram, const Device* in, const Device* out);

  // ICMP errors about `offending` (the datagram as received), sent back to its source.
  void icmp_error(const wire::Packet& offending, std::uint8_t type, std::uint8_t code,
                  std::uint16_t next_hop_mtu = 0);
  void icmp_echo_reply(const wire::Ipv4View& request);

  Simulator* sim_;
  wire::PacketPool* pool_;
  std::string name_;
  std::vector<std::unique_ptr<Device>> devices_;
  // Deleted devices: kept alive for events already scheduled with them (a frame in flight on a
  // veth), but no longer reachable by name or ifindex.
  std::vector<std::unique_ptr<Device>> deleted_devices_;
  Loopback* loopback_ = nullptr;
  std::uint32_t next_ifindex_ = 1;
  std::vector<Address> addresses_;
  Fib fib_;
  NeighbourTable neighbours_;
  Timer neighbour_timer_;
  DeviceSysctls conf_all_;
  // Indexed by ifindex (dense from 1): the packet path reads these for every packet, so they
  // are plain vector look-ups, not hash or linear searches.
  std::vector<DeviceSysctls> conf_;
  std::vector<Device*> by_ifindex_;
  IpIdentGenerator ip_ident_;
  RandomStream proxy_rng_;
  // Bumped by crash(): delayed proxy-ARP replies queued before it are forgotten.
  std::uint32_t boot_ = 0;
  std::uint32_t proxy_queue_len_ = 0;  // delayed proxy-ARP replies waiting
  Reassembly reassembly_;
  PmtuCache pmtu_;
  Timer reassembly_timer_;
  IcmpRateLimiter icmp_limits_;
  Netfilter netfilter_;
  struct Handler {
    std::size_t id;
    std::uint8_t protocol;
    ProtocolHandler fn;
  };
  std::vector<Handler> handlers_;
  std::size_t next_handler_id_ = 1;
  PacketTap* tap_ = nullptr;
  std::function<void(const DropEvent&)> drop_listener_;
  bool running_ = true;
  std::vector<std::uint32_t> up_before_crash_;  // ifindexes
  std::vector<std::pair<std::size_t, std::function<void()>>> crash_listeners_;
  std::size_t next_crash_listener_id_ = 1;
  std::array<std::uint64_t, kDropReasonCount> drop_counts_{};
};

}  // namespace calisim::dataplane
