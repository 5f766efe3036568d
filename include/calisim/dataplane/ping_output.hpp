#pragma once
// What iputils `ping` (20221126) prints, reproduced from its ping_common.c / ping.c
// (linux.md §1.7): the banner, one line per reply or error, and the statistics summary.
// Pure formatting: the ping socket that produces the numbers lives with the namespace.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::dataplane {

// "PING 10.200.2.2 (10.200.2.2) 56(84) bytes of data."
std::string ping_banner(std::string_view target, wire::Ipv4Address address,
                        std::size_t data_bytes);

// "64 bytes from 10.200.2.2: icmp_seq=1 ttl=63 time=0.149 ms"; `icmp_bytes` is the ICMP
// length (data + 8).
std::string ping_reply_line(std::size_t icmp_bytes, wire::Ipv4Address from, std::uint16_t seq,
                            std::uint8_t ttl, Duration rtt);

// The round-trip time as ping prints it, from its microsecond count: >= 99950 µs "620 ms"
// style (rounded), >= 9995 one decimal, >= 1000 two, else three (truncated).
std::string ping_time(Duration rtt);

// "From 10.200.1.1 icmp_seq=1 Destination Host Unreachable" (no colon after the address).
std::string ping_error_line(wire::Ipv4Address from, std::uint16_t seq, std::string_view text);

// The text ping prints for an ICMP error (type, code; next-hop MTU for frag needed).
std::string ping_error_text(std::uint8_t type, std::uint8_t code, std::uint16_t mtu);

struct PingStatistics {
  std::uint64_t transmitted = 0;
  std::uint64_t received = 0;
  std::uint64_t errors = 0;
  std::vector<Duration> rtts;  // of the received replies
  Duration elapsed;            // from the first send to the last (ping's "time")
  std::uint64_t max_outstanding = 0;  // "pipe N" is printed when more than one was in flight
};

// The blank line, "--- X ping statistics ---", the counts line, then the rtt line (when
// anything came back) and "pipe N", and the final newline, which is an empty line when neither
// is printed.
std::string ping_summary(std::string_view target, const PingStatistics& stats);

}  // namespace calisim::dataplane
