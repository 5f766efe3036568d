#pragma once
// Running a cluster with a progress line: when stdout is a terminal, stderr shows the simulated
// time reached and the events per second, rewritten in place a few times a second and erased
// at the end; otherwise (a pipe, a file, CI) the run is silent.

#include <calisim/calico/cluster.hpp>

namespace calisim::cli {

void run_with_progress(calico::Cluster& cluster, Time until);

}  // namespace calisim::cli
