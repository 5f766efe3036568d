#pragma once
// A run directory's summary.json read back (what `calisim diff RUN_A RUN_B` compares): each
// node's routes and BGP sessions at the end of the run, and the pings' outcomes.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <calisim/sim/result.hpp>

namespace calisim::calico {

struct RunSummary {
  struct Peer {
    std::string name;
    std::string state;
  };
  struct Node {
    std::string name;
    std::vector<Peer> peers;
    std::vector<std::string> routes;  // `ip route` lines
  };
  struct Ping {
    std::string from;
    std::string to;
    std::uint64_t transmitted = 0;
    std::uint64_t received = 0;
  };
  std::string scenario;
  std::vector<Node> nodes;
  std::vector<Ping> pings;
};

// Reads `dir`/summary.json. Errors name the file and what is missing or malformed.
Result<RunSummary> load_run_summary(const std::filesystem::path& dir);

}  // namespace calisim::calico
