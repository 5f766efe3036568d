#pragma once
// `calisim scale`: a generated full-mesh cluster run until every BGP session is Established and
// every node has a route for every other node's blocks; prints wall time, simulated time and
// peak memory.

#include <calisim/calico/scale.hpp>

namespace calisim::cli {

struct ScaleRunOptions {
  calico::ScaleOptions scale;
  bool json = false;  // one JSON object on stdout instead of the text report
};

// Returns the process exit code (0 converged, 1 did not converge or failed, 2 bad options).
int run_scale(const ScaleRunOptions& options);

}  // namespace calisim::cli
