#pragma once
// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).

#include <cstdint>

#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

// Adds `data` as big-endian 16-bit words to a running 32-bit (unfolded) sum. Only the last span
// of a sum may have odd length (its final byte is padded with zero, RFC 1071 §4.1).
std::uint32_t checksum_accumulate(std::uint32_t sum, Bytes data);

// Folds the carries and returns the ones' complement: the value to put on the wire.
constexpr std::uint16_t checksum_finish(std::uint32_t sum) {
  std::uint64_t s = sum;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(~s & 0xffff);
}

inline std::uint16_t internet_checksum(Bytes data) {
  return checksum_finish(checksum_accumulate(0, data));
}

// The IPv4 pseudo-header of TCP and UDP (RFC 9293 §3.1, RFC 768): src, dst, zero, protocol,
// length of the transport header plus data.
constexpr std::uint32_t pseudo_header_sum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                          std::uint16_t length) {
  const std::uint32_t s = src.value();
  const std::uint32_t d = dst.value();
  return (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + protocol + length;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from m to m'.
// Unlike eqn. 2 it never yields 0xffff from a non-0xffff checksum's perspective (no -0 issue).
constexpr std::uint16_t checksum_adjust(std::uint16_t checksum, std::uint16_t old_word,
                                        std::uint16_t new_word) {
  std::uint32_t sum = static_cast<std::uint16_t>(~checksum);
  sum += static_cast<std::uint16_t>(~old_word);
  sum += new_word;
  return checksum_finish(sum);
}

}  // namespace calisim::wire
