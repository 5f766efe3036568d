#pragma once
// The two byte stores of a TCP connection, each a ring of a fixed capacity (the socket buffer
// size: what the window and the writer see). The ring's storage grows on demand, doubling, up
// to that capacity and never shrinks, so the steady state allocates nothing while ten thousand
// idle BGP sockets do not each hold 320 KiB (Linux, too, allocates skbs as data arrives rather
// than reserving sk_sndbuf/sk_rcvbuf up front):
//   TcpSendBuffer     what the application wrote and the peer has not acknowledged yet;
//   TcpReceiveBuffer  what arrived in order and the application has not read yet, plus the
//                     out-of-order ranges held for reassembly (RFC 9293 §3.10.7.4, "seventh").
// Neither knows sequence numbers: TcpConnection maps them to offsets.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <calisim/wire/bytes.hpp>

namespace calisim::dataplane {

class TcpSendBuffer {
 public:
  explicit TcpSendBuffer(std::size_t capacity);

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return size_; }
  std::size_t free() const { return capacity_ - size_; }
  // Bytes of storage held now (<= capacity()).
  std::size_t storage() const { return ring_.size(); }

  // Appends as much of `data` as fits; returns how many bytes were taken.
  std::size_t write(wire::Bytes data);
  // Drops `n` bytes at the front (the peer acknowledged them). n <= size().
  void consume(std::size_t n);
  // `n` bytes starting `offset` bytes after the front (offset + n <= size()): a span into the ring
  // when they are contiguous there, otherwise a copy into `scratch` (n <= scratch.size()).
  wire::Bytes peek(std::size_t offset, std::size_t n, wire::MutableBytes scratch) const;

 private:
  void grow(std::size_t needed);

  std::size_t capacity_;
  std::vector<std::uint8_t> ring_;
  std::size_t head_ = 0;  // index of the front byte
  std::size_t size_ = 0;
};

class TcpReceiveBuffer {
 public:
  // Out-of-order ranges held at once. A segment that would need one more is dropped (the sender
  // retransmits it); Linux bounds its out-of-order queue by memory instead.
  static constexpr std::size_t kMaxRanges = 32;

  explicit TcpReceiveBuffer(std::size_t capacity);

  std::size_t capacity() const { return capacity_; }
  // Bytes of storage held now (<= capacity()).
  std::size_t storage() const { return ring_.size(); }
  // In-order bytes waiting for read().
  std::size_t readable() const { return static_cast<std::size_t>(end_ - read_); }
  // Room after the in-order bytes, out-of-order ranges included (they sit inside it).
  std::size_t free() const { return capacity_ - readable(); }
  bool has_out_of_order() const { return range_count_ != 0; }
  std::size_t out_of_order_ranges() const { return range_count_; }

  struct InsertResult {
    bool stored = false;        // false: out of order and no range left, nothing kept
    std::size_t advanced = 0;   // how far the in-order end moved (may exceed data.size())
  };
  // Stores `data` `offset` bytes past the in-order end; offset + data.size() <= free(). Bytes
  // already held are overwritten with the same sequence positions' bytes (a retransmission).
  InsertResult insert(std::size_t offset, wire::Bytes data);
  // Copies up to out.size() in-order bytes out; returns how many.
  std::size_t read(wire::MutableBytes out);

 private:
  // Positions count bytes of the stream since the connection began (never wrap in practice).
  struct Range {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
  };
  void copy_in(std::uint64_t position, wire::Bytes data);
  // Makes the storage hold positions [read_, read_ + span).
  void grow(std::size_t span);

  std::size_t capacity_;
  std::vector<std::uint8_t> ring_;
  std::uint64_t read_ = 0;  // next position read() returns
  std::uint64_t end_ = 0;   // end of the in-order bytes
  std::array<Range, kMaxRanges> ranges_{};  // sorted, disjoint, non-adjacent, all beyond end_
  std::size_t range_count_ = 0;
};

}  // namespace calisim::dataplane
