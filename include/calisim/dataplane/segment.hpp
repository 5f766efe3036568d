#pragma once
// An Ethernet segment: a learning switch and the cables to it. Each attached EthernetPort has
// its own transmit queue (rate, queue limit), frames then take the segment's propagation delay,
// and the switch forwards by learned MAC or floods. Faults live here: link down, loss, delay,
// a fabric that silently drops one IP protocol or UDP port (a cloud network that blocks
// IPIP, protocol 4), and a fabric MTU smaller than the NICs' (an overlay or cloud network that
// carries fewer bytes than the hosts were told): a switch does not route, so it sends no ICMP
// "fragmentation needed" — an oversized frame simply vanishes, the classic PMTU black hole
// (RFC 2923 §2.1).

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <calisim/dataplane/device.hpp>
#include <calisim/dataplane/packet_ring.hpp>
#include <calisim/sim/random.hpp>
#include <calisim/sim/simulator.hpp>

namespace calisim::dataplane {

struct LinkParams {
  std::int64_t rate_bps = 1'000'000'000;        // serialization rate of each port
  Duration delay = Duration::microseconds(50);  // propagation, one way
  std::size_t queue_limit_packets = 1000;       // a port's transmit queue (txqueuelen)
  double loss = 0.0;                            // probability a frame is lost
  // The largest IP packet (Ethernet payload) the fabric carries; 0: no limit beyond the NICs'.
  std::uint32_t mtu_bytes = 0;
};

class EthernetPort;

class Segment {
 public:
  Segment(Simulator& sim, std::string name, LinkParams params = {});
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::string& name() const { return name_; }
  const LinkParams& params() const { return params_; }

  // Faults and their repair; they take effect for frames sent from now on. Frames already on
  // the wire keep their arrival time; a lower delay never lets a newer frame overtake an older
  // one from the same port (a cable does not reorder), it arrives right behind it instead.
  void set_up(bool up) { up_ = up; }
  bool up() const { return up_; }
  void set_loss(double loss) { params_.loss = loss; }
  void set_delay(Duration delay) { params_.delay = delay; }
  void set_rate(std::int64_t rate_bps) { params_.rate_bps = rate_bps; }
  // The fabric's MTU (0: none): larger frames are dropped silently (DropReason::kFabricMtu).
  void set_mtu(std::uint32_t mtu_bytes) { params_.mtu_bytes = mtu_bytes; }
  // Frames the fabric dropped for exceeding its MTU, since the start.
  std::uint64_t mtu_drops() const { return mtu_drops_; }
  void block_ip_protocol(std::uint8_t protocol) { blocked_protocols_.insert(protocol); }
  void unblock_ip_protocol(std::uint8_t protocol) { blocked_protocols_.erase(protocol); }
  void block_udp_port(std::uint16_t port) { blocked_udp_ports_.insert(port); }
  void unblock_udp_port(std::uint16_t port) { blocked_udp_ports_.erase(port); }

  std::size_t port_count() const { return ports_.size(); }
  // Frames waiting in a port's transmit queue (not yet being serialized), as of now.
  std::size_t backlog(const EthernetPort& port);

 private:
  friend class EthernetPort;
  // When each queued frame starts serializing, oldest first: the port's transmit queue (a
  // qdisc's backlog). A frame leaves it once its first bit is on the wire; propagation holds no
  // place in the queue. Grows to the working size once, then never allocates.
  class TxQueue {
   public:
    std::size_t size() const { return size_; }
    // Forgets the frames whose serialization has started by `now`.
    void advance(Time now);
    void push(Time start);

   private:
    std::vector<Time> starts_;  // size is a power of two
    std::size_t head_ = 0;
    std::size_t size_ = 0;
  };
  struct Port {
    EthernetPort* device;
    Time busy_until;
    Time last_arrival;     // of the newest frame on the wire: arrivals never go backwards
    TxQueue queue;         // waiting to be serialized
    PacketRing in_flight;  // sent by this port, on its way to the switch
  };

  std::size_t attach(EthernetPort* port);
  void send(std::size_t from, wire::Packet&& frame);
  void arrive(std::size_t from);
  bool blocked(const wire::Packet& frame) const;

  Simulator& sim_;
  std::string name_;
  LinkParams params_;
  RandomStream loss_rng_;
  bool up_ = true;
  std::vector<Port> ports_;
  std::unordered_map<std::uint64_t, std::size_t> mac_table_;  // learned MAC -> port
  std::set<std::uint8_t> blocked_protocols_;
  std::set<std::uint16_t> blocked_udp_ports_;
  std::uint64_t mtu_drops_ = 0;
};

// A NIC (enp0s8, eth0 on a node) plugged into a Segment.
class EthernetPort final : public Device {
 public:
  EthernetPort(Namespace& ns, std::string name, wire::MacAddress mac, Segment& segment,
               std::uint32_t mtu = 1500);
  bool carrier() const override { return admin_up() && plugged_ && segment_->up(); }
  // The cable (a fault): unplugged, the port has no carrier but stays administratively up and
  // keeps its routes, as a Linux NIC does when its link drops.
  // Unplugging also evicts the port's neighbour entries (Namespace::carrier_lost).
  void set_plugged(bool plugged);
  bool plugged() const { return plugged_; }
  void transmit(wire::Packet&& frame) override;
  Segment& segment() const { return *segment_; }

 private:
  friend class Segment;
  // From the switch: accept frames for our MAC, broadcast and multicast.
  void from_segment(wire::Packet&& frame);

  Segment* segment_;
  std::size_t port_;
  bool plugged_ = true;
};

}  // namespace calisim::dataplane
