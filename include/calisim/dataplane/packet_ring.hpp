#pragma once
// Packets in flight on one direction of a link, in order, each with its arrival time. Links and
// veths deliver in FIFO order, so one event per packet can carry just the link's pointer and
// take the oldest packet from here: no packet inside an event, no allocation once the ring has
// grown to the link's working size.

#include <cstddef>
#include <utility>
#include <vector>

#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/packet.hpp>

namespace calisim::dataplane {

class PacketRing {
 public:
  struct Entry {
    Time arrival;
    wire::Packet packet;
  };

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  void push(Time arrival, wire::Packet&& packet) {
    if (size_ == slots_.size()) grow();
    Entry& e = slots_[(head_ + size_) & (slots_.size() - 1)];
    e.arrival = arrival;
    e.packet = std::move(packet);
    ++size_;
  }
  Entry pop() {
    CALISIM_CHECK(size_ != 0, "pop from an empty PacketRing");
    Entry e = std::move(slots_[head_]);
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    return e;
  }
  const Entry& front() const { return slots_[head_]; }
  void clear() {
    while (!empty()) pop();
  }

 private:
  void grow() {
    std::vector<Entry> bigger(slots_.empty() ? 16 : slots_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) {
      bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    }
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<Entry> slots_;  // size is a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace calisim::dataplane
