#pragma once
// Generated clusters for scale runs (`calisim scale`, bench/cluster_bench.cpp): N nodes on one
// L2 subnet, the default pool in the chosen encapsulation, P pods per node. The scenario is
// produced as YAML text and read by the same parser as a user's file, so a scale run exercises
// exactly what a user's 500-node scenario would.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <calisim/sim/result.hpp>

namespace calisim::calico {

enum class ScaleEncapsulation : std::uint8_t {
  kIpip,   // CALICO_IPV4POOL_IPIP=Always, the BGP mesh (the stock manifest)
  kVxlan,  // CALICO_NETWORKING_BACKEND=vxlan, VXLAN Always, no BGP
  kNone,   // IPIP and VXLAN Never, the BGP mesh routes pod traffic natively
};

std::string_view to_string(ScaleEncapsulation e);  // "ipip", "vxlan", "none"
Result<ScaleEncapsulation> parse_scale_encapsulation(std::string_view text);

struct ScaleOptions {
  std::size_t nodes = 100;
  std::size_t pods_per_node = 10;
  ScaleEncapsulation encapsulation = ScaleEncapsulation::kIpip;
  std::uint64_t seed = 1;
  std::int64_t duration_s = 120;  // the scenario's duration: an upper bound for convergence
};

// Nodes node-0000.. with eth0 10.0.0.10/16 onwards (at most 65,000 nodes), pods
// default/p-<node>-<k>. Errors on sizes the address plan cannot hold.
Result<std::string> scale_scenario_yaml(const ScaleOptions& options);

// Peak resident set size of this process so far, in bytes (getrusage ru_maxrss).
std::uint64_t peak_rss_bytes();

}  // namespace calisim::calico
