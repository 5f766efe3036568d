#pragma once
// The `calisim` subcommands that run a scenario and then look at it: show, ping, capture, diff,
// validate; and what they share (loading a scenario, --until, the progress line).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calisim::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRunFailed = 1;  // also: ping got no reply, diff found differences
inline constexpr int kExitUsage = 2;

struct CommonOptions {
  std::string scenario;             // empty: the built-in lab
  std::optional<std::uint64_t> seed;
  std::string until;                // "30s": stop there instead of the scenario's duration
  bool json = false;
  std::string out = "calisim-out";  // run directories (capture only)
};

// A JSON string literal (RFC 8259 escapes), and a list of them.
std::string json_string(std::string_view s);
std::string json_lines(const std::vector<std::string>& lines);

// `calisim validate FILE`: every problem with file:line:column; runs nothing.
int validate(const std::string& path);

// `calisim show VIEW [--node N | --pod NS/NAME]`: runs the scenario, prints one view at the end.
// VIEW is a command as typed (`calicoctl node status`, `ip route`, ...) or `pings` (the
// scenario's ping output) or `bgp` (BGP sessions: calicoctl node status).
int show(const CommonOptions& common, const std::string& view, const std::string& node,
         const std::string& pod);

// `calisim ping SRC DST [-c N]`: runs the scenario until its control plane has converged (or
// --until), then pings and prints what iputils prints. Exit 1 when no reply came (as ping).
int ping(const CommonOptions& common, const std::string& from, const std::string& to, int count);

// `calisim capture --iface NODE/IFNAME [--filter EXPR] [-w FILE]`: runs the scenario and writes
// what `tcpdump -i IFNAME -w FILE EXPR` on that node would have written.
int capture(const CommonOptions& common, const std::string& iface, const std::string& filter,
            const std::string& write_to);

// `calisim diff A B`: runs both scenarios and compares every node's routes, BGP session
// states and the pod-to-pod reachability matrix; or, given two run directories, compares what
// their summary.json recorded (routes and sessions at the end, reachability from the runs'
// pings). Exit 0 same, 1 different, 2 bad input.
int diff(const CommonOptions& common, const std::string& a, const std::string& b);

}  // namespace calisim::cli
