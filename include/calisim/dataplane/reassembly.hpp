#pragma once
// IPv4 reassembly at the destination (net/ipv4/ip_fragment.c): fragments of one datagram are
// keyed by (source, destination, identification, protocol), put together when the last byte is
// there, and forgotten after ipfrag_time (30 s). If the first fragment had arrived, the expiry
// is reported so the host can send ICMP time exceeded, code 1 (ip_expire).

#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include <calisim/sim/time.hpp>
#include <calisim/wire/packet.hpp>

namespace calisim::dataplane {

class Reassembly {
 public:
  static constexpr Duration kTimeout = Duration::seconds(30);  // net.ipv4.ipfrag_time

  explicit Reassembly(wire::PacketPool& pool) : pool_(&pool) {}

  // Takes one fragment (a whole IPv4 datagram with MF set or a non-zero offset). Returns the
  // reassembled datagram once complete.
  std::optional<wire::Packet> add(wire::Packet&& fragment, Time now);

  // Drops queues older than kTimeout; returns the first fragment of each expired queue that had
  // one (for the ICMP error), in expiry order.
  std::vector<wire::Packet> expire(Time now);
  std::optional<Time> next_deadline() const;
  std::size_t pending() const { return queues_.size(); }

 private:
  using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint16_t, std::uint8_t>;
  struct Piece {
    std::uint32_t offset;
    std::vector<std::uint8_t> data;
  };
  struct Queue {
    Time started;
    std::optional<wire::Packet> first;  // offset 0, kept for its header and the ICMP quote
    std::vector<Piece> pieces;
    std::optional<std::uint32_t> total;  // known once the last fragment (MF clear) is in
  };

  wire::PacketPool* pool_;
  std::map<Key, Queue> queues_;
};

}  // namespace calisim::dataplane
