#pragma once
// A packet: one contiguous, move-only buffer from a pool, with headroom so that adding an outer
// header (IPIP, VXLAN, Ethernet) moves a pointer instead of copying, and metadata beside the
// bytes. What the engine moves is the exact wire bytes; a capture is just the buffer.

#include <cstdint>
#include <cstring>
#include <vector>

#include <calisim/sim/result.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

class PacketPool;

// Kernel-side facts that travel with a packet but are not on the wire.
struct PacketMeta {
  std::uint32_t ingress_ifindex = 0;  // 0: originated locally
  std::uint32_t mark = 0;             // Linux skb->mark (fwmark)
  std::uint32_t conntrack = 0;        // conntrack entry id, 0: none
  std::uint64_t trace_id = 0;         // follows a packet through encapsulation for tracing
  std::uint32_t next_hop = 0;         // IPv4 next hop chosen by routing (skb_rtable's nexthop),
                                      // for devices that need it: tunl0's outer destination
};

class Packet {
 public:
  Packet() = default;
  Packet(Packet&& other) noexcept { take(other); }
  Packet& operator=(Packet&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  Packet(const Packet&) = delete;
  Packet& operator=(const Packet&) = delete;
  ~Packet() { release(); }

  bool empty() const { return buf_ == nullptr; }
  std::size_t size() const { return len_; }
  std::uint8_t* data() { return buf_ + head_; }
  const std::uint8_t* data() const { return buf_ + head_; }
  MutableBytes bytes() { return {data(), len_}; }
  Bytes bytes() const { return {data(), len_}; }
  std::size_t headroom() const { return head_; }
  std::size_t tailroom() const { return capacity_ - head_ - len_; }

  // Room for a new outer header of n bytes at the front; returns it (uninitialised).
  MutableBytes push_front(std::size_t n);
  // Strip n bytes from the front (decapsulation). n <= size().
  void pull_front(std::size_t n);
  // Grow at the tail by n bytes; returns the new bytes (uninitialised).
  MutableBytes push_back(std::size_t n);
  // Drop bytes beyond new_size (e.g. Ethernet padding). new_size <= size().
  void trim(std::size_t new_size);

  // A deep copy from the same pool (bytes and metadata).
  Packet clone() const;

  PacketMeta meta;

 private:
  friend class PacketPool;
  void take(Packet& other) {
    pool_ = other.pool_;
    buf_ = other.buf_;
    capacity_ = other.capacity_;
    head_ = other.head_;
    len_ = other.len_;
    meta = other.meta;
    other.pool_ = nullptr;
    other.buf_ = nullptr;
    other.capacity_ = other.head_ = other.len_ = 0;
  }
  void release();
  void regrow(std::size_t front, std::size_t back);

  PacketPool* pool_ = nullptr;
  std::uint8_t* buf_ = nullptr;
  std::uint32_t capacity_ = 0;
  std::uint32_t head_ = 0;
  std::uint32_t len_ = 0;
};

// Buffers in two size classes, recycled through free lists. Not thread-safe: one pool per
// simulator (or per thread). Packets must not outlive their pool.
class PacketPool {
 public:
  static constexpr std::size_t kHeadroom = 128;
  static constexpr std::size_t kSmallBuffer = 2048;          // headroom + a 1500-byte frame + tunnels
  static constexpr std::size_t kLargeBuffer = 65536 + 512;   // a full IPv4 datagram, reassembled
  static constexpr std::size_t kMaxPacket = kLargeBuffer - kHeadroom;

  PacketPool() = default;
  ~PacketPool();
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  // A packet of `length` bytes (uninitialised) with kHeadroom bytes in front. length <= kMaxPacket.
  Packet make(std::size_t length);
  Packet make_copy(Bytes bytes) {
    Packet p = make(bytes.size());
    if (!bytes.empty()) std::memcpy(p.data(), bytes.data(), bytes.size());
    return p;
  }

  std::size_t outstanding() const { return outstanding_; }  // buffers held by live packets
  std::size_t allocated() const { return allocated_; }      // buffers ever obtained from the heap

 private:
  friend class Packet;
  std::uint8_t* acquire(std::size_t capacity);
  void recycle(std::uint8_t* buf, std::size_t capacity);

  std::vector<std::uint8_t*> free_small_;
  std::vector<std::uint8_t*> free_large_;
  std::size_t outstanding_ = 0;
  std::size_t allocated_ = 0;
};

}  // namespace calisim::wire
