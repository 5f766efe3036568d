#include <calisim/dataplane/tcp_buffers.hpp>

#include <algorithm>
#include <cstring>

#include <calisim/sim/result.hpp>

namespace calisim::dataplane {

namespace {

// The first allocation of a ring, and the growth rule: double, at least what is needed, never
// beyond the capacity.
constexpr std::size_t kInitialStorage = 512;  // a few BGP messages

std::size_t grown_size(std::size_t current, std::size_t needed, std::size_t capacity) {
  std::size_t size = std::max(current * 2, kInitialStorage);
  size = std::max(size, needed);
  return std::min(size, capacity);
}

}  // namespace

TcpSendBuffer::TcpSendBuffer(std::size_t capacity) : capacity_(capacity) {
  CALISIM_CHECK(capacity > 0, "tcp: send buffer of zero bytes");
}

void TcpSendBuffer::grow(std::size_t needed) {
  std::vector<std::uint8_t> bigger(grown_size(ring_.size(), needed, capacity_));
  if (size_ != 0) {
    const std::size_t first = std::min(size_, ring_.size() - head_);
    std::memcpy(bigger.data(), ring_.data() + head_, first);
    if (size_ > first) std::memcpy(bigger.data() + first, ring_.data(), size_ - first);
  }
  ring_ = std::move(bigger);
  head_ = 0;
}

std::size_t TcpSendBuffer::write(wire::Bytes data) {
  const std::size_t n = std::min(data.size(), free());
  if (n == 0) return 0;
  if (size_ + n > ring_.size()) grow(size_ + n);
  const std::size_t tail = (head_ + size_) % ring_.size();
  const std::size_t first = std::min(n, ring_.size() - tail);
  if (first != 0) std::memcpy(ring_.data() + tail, data.data(), first);
  if (n > first) std::memcpy(ring_.data(), data.data() + first, n - first);
  size_ += n;
  return n;
}

void TcpSendBuffer::consume(std::size_t n) {
  CALISIM_CHECK(n <= size_, "tcp: acknowledging more than the send buffer holds");
  if (n == 0) return;
  head_ = (head_ + n) % ring_.size();
  size_ -= n;
  if (size_ == 0) head_ = 0;  // keeps later segments contiguous as long as possible
}

wire::Bytes TcpSendBuffer::peek(std::size_t offset, std::size_t n,
                                wire::MutableBytes scratch) const {
  CALISIM_CHECK(offset + n <= size_, "tcp: peek past the end of the send buffer");
  if (n == 0) return {};
  const std::size_t start = (head_ + offset) % ring_.size();
  const std::size_t first = std::min(n, ring_.size() - start);
  if (first == n) return wire::Bytes(ring_.data() + start, n);
  CALISIM_CHECK(n <= scratch.size(), "tcp: scratch smaller than a segment");
  std::memcpy(scratch.data(), ring_.data() + start, first);
  std::memcpy(scratch.data() + first, ring_.data(), n - first);
  return wire::Bytes(scratch.data(), n);
}

TcpReceiveBuffer::TcpReceiveBuffer(std::size_t capacity) : capacity_(capacity) {
  CALISIM_CHECK(capacity > 0, "tcp: receive buffer of zero bytes");
}

void TcpReceiveBuffer::grow(std::size_t span) {
  // The bytes held now, in-order and out-of-order (gaps included), as one run from read_.
  std::uint64_t held_end = end_;
  if (range_count_ != 0) held_end = std::max(held_end, ranges_[range_count_ - 1].end);
  std::vector<std::uint8_t> held(static_cast<std::size_t>(held_end - read_));
  if (!held.empty()) {
    const std::size_t start = static_cast<std::size_t>(read_ % ring_.size());
    const std::size_t first = std::min(held.size(), ring_.size() - start);
    std::memcpy(held.data(), ring_.data() + start, first);
    if (held.size() > first) std::memcpy(held.data() + first, ring_.data(), held.size() - first);
  }
  ring_.assign(grown_size(ring_.size(), span, capacity_), 0);
  copy_in(read_, held);
}

void TcpReceiveBuffer::copy_in(std::uint64_t position, wire::Bytes data) {
  const std::size_t start = static_cast<std::size_t>(position % ring_.size());
  const std::size_t first = std::min(data.size(), ring_.size() - start);
  if (first != 0) std::memcpy(ring_.data() + start, data.data(), first);
  if (data.size() > first) std::memcpy(ring_.data(), data.data() + first, data.size() - first);
}

TcpReceiveBuffer::InsertResult TcpReceiveBuffer::insert(std::size_t offset, wire::Bytes data) {
  CALISIM_CHECK(offset + data.size() <= free(), "tcp: segment beyond the receive buffer");
  InsertResult result;
  if (data.empty()) return result;
  const Range added{end_ + offset, end_ + offset + data.size()};
  if (added.end - read_ > ring_.size()) grow(static_cast<std::size_t>(added.end - read_));

  // Ranges that overlap or touch `added` merge with it; find them (the list is sorted).
  std::size_t first = 0;
  while (first < range_count_ && ranges_[first].end < added.begin) ++first;
  std::size_t last = first;
  while (last < range_count_ && ranges_[last].begin <= added.end) ++last;
  if (first == last && offset == 0) {  // in order, touching no held range: the common case
    copy_in(added.begin, data);
    end_ = added.end;
    return InsertResult{.stored = true, .advanced = data.size()};
  }
  if (first == last && range_count_ == kMaxRanges) return result;

  copy_in(added.begin, data);
  result.stored = true;
  Range merged = added;
  if (first != last) {
    merged.begin = std::min(merged.begin, ranges_[first].begin);
    merged.end = std::max(merged.end, ranges_[last - 1].end);
  }
  // Replace ranges [first, last) by `merged`.
  const std::size_t removed = last - first;
  if (removed == 0) {
    std::move_backward(ranges_.begin() + static_cast<std::ptrdiff_t>(first),
                       ranges_.begin() + static_cast<std::ptrdiff_t>(range_count_),
                       ranges_.begin() + static_cast<std::ptrdiff_t>(range_count_ + 1));
    ++range_count_;
  } else if (removed > 1) {
    std::move(ranges_.begin() + static_cast<std::ptrdiff_t>(last),
              ranges_.begin() + static_cast<std::ptrdiff_t>(range_count_),
              ranges_.begin() + static_cast<std::ptrdiff_t>(first + 1));
    range_count_ -= removed - 1;
  }
  ranges_[first] = merged;

  // The first range starting at end_ is now in order.
  if (ranges_[0].begin <= end_) {
    result.advanced = static_cast<std::size_t>(ranges_[0].end - end_);
    end_ = ranges_[0].end;
    std::move(ranges_.begin() + 1, ranges_.begin() + static_cast<std::ptrdiff_t>(range_count_),
              ranges_.begin());
    --range_count_;
  }
  return result;
}

std::size_t TcpReceiveBuffer::read(wire::MutableBytes out) {
  const std::size_t n = std::min(out.size(), readable());
  if (n == 0) return 0;
  const std::size_t start = static_cast<std::size_t>(read_ % ring_.size());
  const std::size_t first = std::min(n, ring_.size() - start);
  if (first != 0) std::memcpy(out.data(), ring_.data() + start, first);
  if (n > first) std::memcpy(out.data() + first, ring_.data(), n - first);
  read_ += n;
  return n;
}

}  // namespace calisim::dataplane
