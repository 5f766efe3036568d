#include <calisim/wire/packet.hpp>

#include <new>

namespace calisim::wire {

MutableBytes Packet::push_front(std::size_t n) {
  if (n > head_) regrow(n, 0);
  head_ -= static_cast<std::uint32_t>(n);
  len_ += static_cast<std::uint32_t>(n);
  return {data(), n};
}

void Packet::pull_front(std::size_t n) {
  CALISIM_CHECK(n <= len_, "pull_front past the end of the packet");
  head_ += static_cast<std::uint32_t>(n);
  len_ -= static_cast<std::uint32_t>(n);
}

MutableBytes Packet::push_back(std::size_t n) {
  if (n > tailroom()) regrow(0, n);
  std::uint8_t* start = data() + len_;
  len_ += static_cast<std::uint32_t>(n);
  return {start, n};
}

void Packet::trim(std::size_t new_size) {
  CALISIM_CHECK(new_size <= len_, "trim beyond the packet's size");
  len_ = static_cast<std::uint32_t>(new_size);
}

Packet Packet::clone() const {
  CALISIM_CHECK(pool_ != nullptr, "clone of an empty packet");
  Packet p = pool_->make(len_);
  if (len_ != 0) std::memcpy(p.data(), data(), len_);
  p.meta = meta;
  return p;
}

void Packet::release() {
  if (buf_ != nullptr) pool_->recycle(buf_, capacity_);
  buf_ = nullptr;
  pool_ = nullptr;
}

// Rare path: not enough headroom or tailroom. Move the bytes into a larger buffer (or recentre
// them in this one) so that `front` bytes fit before and `back` bytes after.
void Packet::regrow(std::size_t front, std::size_t back) {
  CALISIM_CHECK(pool_ != nullptr, "growing an empty packet");
  const std::size_t need = PacketPool::kHeadroom + front + len_ + back;
  CALISIM_CHECK(need <= PacketPool::kLargeBuffer, "packet larger than the largest buffer");
  const std::size_t capacity =
      need <= PacketPool::kSmallBuffer ? PacketPool::kSmallBuffer : PacketPool::kLargeBuffer;
  std::uint8_t* fresh = pool_->acquire(capacity);
  const std::size_t new_head = PacketPool::kHeadroom + front;
  if (len_ != 0) std::memcpy(fresh + new_head, data(), len_);
  pool_->recycle(buf_, capacity_);
  buf_ = fresh;
  capacity_ = static_cast<std::uint32_t>(capacity);
  head_ = static_cast<std::uint32_t>(new_head);
}

PacketPool::~PacketPool() {
  CALISIM_CHECK(outstanding_ == 0, "PacketPool destroyed while packets are alive");
  for (auto* b : free_small_) ::operator delete(b);
  for (auto* b : free_large_) ::operator delete(b);
}

Packet PacketPool::make(std::size_t length) {
  CALISIM_CHECK(length <= kMaxPacket, "packet larger than PacketPool::kMaxPacket");
  const std::size_t capacity =
      kHeadroom + length <= kSmallBuffer ? kSmallBuffer : kLargeBuffer;
  Packet p;
  p.pool_ = this;
  p.buf_ = acquire(capacity);
  p.capacity_ = static_cast<std::uint32_t>(capacity);
  p.head_ = kHeadroom;
  p.len_ = static_cast<std::uint32_t>(length);
  return p;
}

std::uint8_t* PacketPool::acquire(std::size_t capacity) {
  auto& list = capacity == kSmallBuffer ? free_small_ : free_large_;
  ++outstanding_;
  if (!list.empty()) {
    std::uint8_t* b = list.back();
    list.pop_back();
    return b;
  }
  ++allocated_;
  return static_cast<std::uint8_t*>(::operator new(capacity));
}

void PacketPool::recycle(std::uint8_t* buf, std::size_t capacity) {
  --outstanding_;
  (capacity == kSmallBuffer ? free_small_ : free_large_).push_back(buf);
}

}  // namespace calisim::wire
