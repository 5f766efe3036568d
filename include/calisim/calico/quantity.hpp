#pragma once
// Quantities as people write them in scenario files, in the syntax of the tool they come from:
// durations as Go writes them (time.ParseDuration: the syntax of every Duration field in Calico's
// and Kubernetes' resources), link rates as tc writes them (iproute2's get_rate units),
// percentages as netem writes them ("loss 1%"), and byte counts.

#include <cstdint>
#include <string>
#include <string_view>

#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>

namespace calisim::calico {

// Go's time.ParseDuration: an optional sign, then one or more <decimal><unit> pairs, units ns,
// us (or µs, μs), ms, s, m, h: "5s", "100ms", "1m30s", "1.5h", "-2s". "0" alone needs no unit;
// any other bare number is an error (Go: "missing unit"). Fractions are exact, truncated to the
// nanosecond. A total beyond the int64 nanosecond range is an error.
[[nodiscard]] Result<Duration> parse_duration(std::string_view text);

// Go's Duration.String(): "0s", "999ns", "1.5µs", "100ms", "1m30s", "1h0m0s", "-2.5s".
std::string format_duration(Duration d);

// tc's rate syntax (iproute2 tc_util.c get_rate64): <decimal><unit>, the unit matched without
// regard to case:
//   bit, kbit, mbit, gbit, tbit          bits per second, powers of 1000
//   kibit, mibit, gibit, tibit           bits per second, powers of 1024
//   bps, kbps, mbps, gbps, tbps          BYTES per second, powers of 1000 (tc's reading:
//   kibps, mibps, gibps, tibps           "100mbps" is 800 Mbit/s), and powers of 1024
// A bare number is refused: tc reads it as bit/s, which is rarely what anyone meant. The result
// is in bits per second, rounded down; it must be at least 1 bit/s.
[[nodiscard]] Result<std::int64_t> parse_rate_bps(std::string_view text);

// tc's way of printing a rate (print_rate): the largest of bit, Kbit, Mbit, Gbit, Tbit that
// leaves a whole number, or a number below 1000 of the next unit: 1000000 -> "1Mbit",
// 1500000 -> "1500Kbit", 999 -> "999bit".
std::string format_rate(std::int64_t bps);

// netem's percentages: "1%", "0.25%", "100%" -> a probability in [0, 1].
[[nodiscard]] Result<double> parse_percentage(std::string_view text);

// A count of bytes: a bare integer, or <decimal><unit> with B, kB (or KB), MB, GB, TB (powers
// of 1000) or KiB, MiB, GiB, TiB (powers of 1024), matched exactly. It must come out whole:
// "1.5KiB" is 1536, "1.5B" is an error.
[[nodiscard]] Result<std::uint64_t> parse_byte_size(std::string_view text);

}  // namespace calisim::calico
