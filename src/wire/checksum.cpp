#include <calisim/wire/checksum.hpp>

namespace calisim::wire {

std::uint32_t checksum_accumulate(std::uint32_t sum, Bytes data) {
  // 64-bit accumulator: no carry handling inside the loop for any packet size we carry.
  std::uint64_t acc = sum;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  while (n >= 8) {
    acc += load_be16(p) + load_be16(p + 2) + load_be16(p + 4) + load_be16(p + 6);
    p += 8;
    n -= 8;
  }
  while (n >= 2) {
    acc += load_be16(p);
    p += 2;
    n -= 2;
  }
  if (n == 1) acc += std::uint32_t{p[0]} << 8;
  // Fold with end-around carry (ones' complement addition is associative, RFC 1071 §2(B)), so
  // the partial sum stays <= 0xffff and callers may add a few of them without overflow.
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint32_t>(acc);
}

}  // namespace calisim::wire
