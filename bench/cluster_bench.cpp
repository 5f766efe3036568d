// A full-mesh Calico cluster from scenario to convergence (issue #5's scale benchmark): the
// generated scenario of `calisim scale` (N nodes on one L2 subnet, IPIP Always, 10 pods per
// node) is parsed, built and simulated until every BGP session is Established and every node
// has a route for every other node's blocks. Counters: simulated seconds to convergence,
// sessions, events, peak RSS of the process. `calisim scale --nodes N` prints the same figures
// for one run.
//
//   calisim_bench --benchmark_filter=FullMesh
//
// 500 nodes take minutes on two cores: that size is registered only when CALISIM_BENCH_LARGE
// is set in the environment.

#include <benchmark/benchmark.h>

#include <cstdlib>

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scale.hpp>
#include <calisim/calico/scenario.hpp>

namespace {

using namespace calisim;

void BM_FullMeshIpip(benchmark::State& state) {
  calico::ScaleOptions o;
  o.nodes = static_cast<std::size_t>(state.range(0));
  o.pods_per_node = 10;
  const auto yaml = calico::scale_scenario_yaml(o);
  if (!yaml) {
    state.SkipWithError(yaml.error().message.c_str());
    return;
  }
  double simulated_s = 0;
  std::uint64_t events = 0;
  calico::Convergence c;
  for (auto _ : state) {
    auto scenario = calico::parse_scenario(*yaml, "scale.yaml");
    if (!scenario) {
      state.SkipWithError(scenario.error().message.c_str());
      return;
    }
    auto cluster = calico::Cluster::create(*scenario, calico::ClusterOptions{});
    if (!cluster) {
      state.SkipWithError(cluster.error().message.c_str());
      return;
    }
    const auto at = (*cluster)->run_until_converged(Time::zero() + Duration::seconds(60));
    if (!at) {
      state.SkipWithError("did not converge within 60 simulated seconds");
      return;
    }
    simulated_s = static_cast<double>(at->ns()) / 1e9;
    events = (*cluster)->sim().executed();
    c = (*cluster)->convergence();
  }
  state.counters["nodes"] = static_cast<double>(o.nodes);
  state.counters["sessions"] = static_cast<double>(c.sessions);
  state.counters["routes"] = static_cast<double>(c.routes_installed);
  state.counters["simulated_s"] = simulated_s;
  state.counters["events"] = static_cast<double>(events);
  state.counters["peak_rss_MiB"] =
      static_cast<double>(calico::peak_rss_bytes()) / (1024.0 * 1024.0);
}
BENCHMARK(BM_FullMeshIpip)->Arg(20)->Arg(100)->Unit(benchmark::kMillisecond)->Iterations(1);
const bool kLargeRegistered = [] {
  if (std::getenv("CALISIM_BENCH_LARGE") == nullptr) return false;
  benchmark::RegisterBenchmark("BM_FullMeshIpip", BM_FullMeshIpip)
      ->Arg(500)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1);
  return true;
}();

}  // namespace
