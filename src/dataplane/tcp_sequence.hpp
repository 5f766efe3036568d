#pragma once
// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): a < b when b lies less than 2^31
// ahead of a.

#include <cstdint>

// A namespace of its own: these short names must not collide with the rest of the dataplane.
namespace calisim::dataplane::tcp_internal {

constexpr bool seq_lt(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) < 0;
}
constexpr bool seq_le(std::uint32_t a, std::uint32_t b) { return !seq_lt(b, a); }
constexpr bool seq_gt(std::uint32_t a, std::uint32_t b) { return seq_lt(b, a); }
constexpr bool seq_ge(std::uint32_t a, std::uint32_t b) { return !seq_lt(a, b); }

// Largest window without window scaling (RFC 7323 §2).
inline constexpr std::uint32_t kMaxUnscaledWindow = 65535;
// The MSS assumed when a SYN carries none (RFC 9293 §3.7.1, Linux TCP_MSS_DEFAULT).
inline constexpr std::uint16_t kDefaultMss = 536;
// The smallest MSS Linux sends with (net.ipv4.tcp_min_snd_mss).
inline constexpr std::uint16_t kMinSendMss = 48;
// cwnd never grows past this (bytes), so that sums of windows cannot overflow.
inline constexpr std::uint32_t kMaxCwnd = std::uint32_t{1} << 30;
// IPv4 and TCP headers without options.
inline constexpr std::uint16_t kIpTcpHeaderBytes = 40;

}  // namespace calisim::dataplane::tcp_internal
