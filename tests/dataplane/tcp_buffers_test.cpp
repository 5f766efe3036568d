#include <calisim/dataplane/tcp_buffers.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <vector>

namespace calisim::dataplane {
namespace {

std::vector<std::uint8_t> iota_bytes(std::size_t n, std::uint8_t first = 0) {
  std::vector<std::uint8_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST(TcpSendBuffer, WritesUpToCapacityAndWrapsAround) {
  TcpSendBuffer buf(10);
  const auto data = iota_bytes(16);
  EXPECT_EQ(buf.write(wire::Bytes(data).first(6)), 6u);
  buf.consume(4);  // front now at ring index 4
  EXPECT_EQ(buf.write(wire::Bytes(data).subspan(6)), 8u);  // only 8 of 10 fit
  EXPECT_EQ(buf.size(), 10u);
  EXPECT_EQ(buf.free(), 0u);
  std::array<std::uint8_t, 10> scratch{};
  const wire::Bytes all = buf.peek(0, 10, scratch);
  EXPECT_EQ(std::vector<std::uint8_t>(all.begin(), all.end()),
            std::vector<std::uint8_t>(data.begin() + 4, data.begin() + 14));
  EXPECT_EQ(all.data(), scratch.data());  // wrapped: copied
  const wire::Bytes front = buf.peek(1, 3, scratch);
  EXPECT_NE(front.data(), scratch.data());  // contiguous: a view into the ring
  EXPECT_EQ(front[0], 5);
}

TEST(TcpReceiveBuffer, ReassemblesOutOfOrderRanges) {
  TcpReceiveBuffer buf(100);
  const auto data = iota_bytes(40);
  const wire::Bytes d(data);
  auto r = buf.insert(20, d.subspan(20, 10));  // [20,30)
  EXPECT_TRUE(r.stored);
  EXPECT_EQ(r.advanced, 0u);
  EXPECT_EQ(buf.out_of_order_ranges(), 1u);
  r = buf.insert(5, d.subspan(5, 5));  // [5,10)
  EXPECT_EQ(buf.out_of_order_ranges(), 2u);
  r = buf.insert(8, d.subspan(8, 14));  // [8,22) joins both
  EXPECT_EQ(buf.out_of_order_ranges(), 1u);
  EXPECT_EQ(buf.readable(), 0u);
  r = buf.insert(0, d.first(5));  // fills the hole: [0,30) in order
  EXPECT_EQ(r.advanced, 30u);
  EXPECT_FALSE(buf.has_out_of_order());
  std::vector<std::uint8_t> out(64);
  EXPECT_EQ(buf.read(out), 30u);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 30),
            std::vector<std::uint8_t>(data.begin(), data.begin() + 30));
  EXPECT_EQ(buf.free(), 100u);
}

TEST(TcpReceiveBuffer, WrapsAndRefusesARangeBeyondTheLimit) {
  TcpReceiveBuffer buf(8);
  const auto data = iota_bytes(20);
  const wire::Bytes d(data);
  ASSERT_EQ(buf.insert(0, d.first(6)).advanced, 6u);
  std::vector<std::uint8_t> out(4);
  ASSERT_EQ(buf.read(out), 4u);
  ASSERT_EQ(buf.insert(0, d.subspan(6, 6)).advanced, 6u);  // wraps in the ring
  std::vector<std::uint8_t> rest(8);
  ASSERT_EQ(buf.read(rest), 8u);
  EXPECT_EQ(std::vector<std::uint8_t>(rest.begin(), rest.end()),
            std::vector<std::uint8_t>(data.begin() + 4, data.begin() + 12));

  TcpReceiveBuffer many(4 * TcpReceiveBuffer::kMaxRanges + 8);
  const auto one = iota_bytes(1);
  for (std::size_t i = 0; i < TcpReceiveBuffer::kMaxRanges; ++i) {
    ASSERT_TRUE(many.insert(2 + 2 * i, one).stored);
  }
  EXPECT_FALSE(many.insert(2 + 2 * TcpReceiveBuffer::kMaxRanges, one).stored);
  EXPECT_TRUE(many.insert(3, one).stored);  // merges two ranges: no new slot needed
  EXPECT_EQ(many.out_of_order_ranges(), TcpReceiveBuffer::kMaxRanges - 1);
}

// The storage grows on demand (up to the capacity, never beyond) while the bytes sit wrapped
// around the end of the smaller ring: checked against a plain model of the stream through
// writes and acknowledgements of many sizes.
TEST(TcpSendBuffer, StorageGrowsOnDemandKeepingWrappedBytes) {
  constexpr std::size_t kCapacity = 64 * 1024;
  TcpSendBuffer buf(kCapacity);
  EXPECT_EQ(buf.storage(), 0u);
  const auto stream = iota_bytes(400000, 7);
  std::size_t written = 0;
  std::size_t acked = 0;
  std::size_t grew = 0;
  std::vector<std::uint8_t> scratch(kCapacity);
  for (std::size_t step = 1; written < stream.size() - 70000; ++step) {
    const std::size_t before = buf.storage();
    const std::size_t n = (step * 7919) % 9000;
    written += buf.write(wire::Bytes(stream).subspan(written, n));
    EXPECT_LE(buf.storage(), kCapacity);
    EXPECT_GE(buf.storage(), buf.size());
    if (buf.storage() != before) ++grew;
    ASSERT_EQ(buf.size(), written - acked);
    const wire::Bytes all = buf.peek(0, buf.size(), scratch);
    ASSERT_TRUE(std::equal(all.begin(), all.end(), stream.begin() + static_cast<long>(acked)))
        << "step " << step;
    const std::size_t ack = std::min(buf.size(), (step * 104729) % 7000);
    buf.consume(ack);
    acked += ack;
  }
  EXPECT_GT(grew, 2u);  // it grew in steps, not at once
  EXPECT_EQ(buf.storage(), kCapacity);  // the stream filled the buffer at some point
}

TEST(TcpReceiveBuffer, StorageGrowsOnDemandKeepingWrappedAndOutOfOrderBytes) {
  TcpReceiveBuffer buf(64 * 1024);
  EXPECT_EQ(buf.storage(), 0u);
  const auto stream = iota_bytes(10000, 3);
  const wire::Bytes s(stream);
  std::vector<std::uint8_t> out(10000);
  ASSERT_EQ(buf.insert(0, s.first(300)).advanced, 300u);
  const std::size_t first = buf.storage();
  EXPECT_GE(first, 300u);
  EXPECT_LT(first, 64u * 1024);
  // Read most of it, then let the in-order bytes wrap around the ring's end.
  ASSERT_EQ(buf.read(wire::MutableBytes(out).first(250)), 250u);
  ASSERT_EQ(buf.insert(0, s.subspan(300, first - 100)).advanced, first - 100);
  EXPECT_EQ(buf.storage(), first);  // it fitted: no growth
  const std::size_t read_pos = 250;
  const std::size_t end = 300 + first - 100;
  // Out of order far beyond the storage: it grows, keeping the wrapped in-order bytes.
  auto r = buf.insert(3000, s.subspan(end + 3000, 1000));
  EXPECT_TRUE(r.stored);
  EXPECT_EQ(r.advanced, 0u);
  EXPECT_GE(buf.storage(), end + 4000 - read_pos);
  EXPECT_EQ(buf.insert(0, s.subspan(end, 3000)).advanced, 4000u);  // fills the hole
  const std::size_t total = end + 4000 - read_pos;
  ASSERT_EQ(buf.read(out), total);
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + static_cast<long>(total),
                         stream.begin() + static_cast<long>(read_pos)));
  EXPECT_EQ(buf.free(), 64u * 1024);
}

}  // namespace
}  // namespace calisim::dataplane
