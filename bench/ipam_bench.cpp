// Calico IPAM at cluster scale: every node claims its block (tunnel address first) and starts
// its pods; then pods churn (release by handle, assign again). Pool 10.0.0.0/8 with /26 blocks,
// 30 pods per node, as a large on-prem cluster would have.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <calisim/calico/gorand.hpp>
#include <calisim/calico/ipam.hpp>

namespace {

using namespace calisim;
using calico::Ipam;

constexpr int kPodsPerNode = 30;

Ipam fresh_ipam() {
  Ipam ipam;
  calico::IpPool pool;
  pool.cidr = wire::Ipv4Prefix(wire::Ipv4Address(10, 0, 0, 0), 8);
  (void)ipam.add_pool(pool);
  return ipam;
}

std::string node_name(int i) {
  return "node-" + std::to_string(i);
}

void fill(Ipam& ipam, int nodes) {
  for (int n = 0; n < nodes; ++n) {
    const std::string node = node_name(n);
    benchmark::DoNotOptimize(
        ipam.auto_assign(calico::tunnel_assign_args(calico::TunnelType::kIpip, node)));
    for (int p = 0; p < kPodsPerNode; ++p) {
      const std::string pod = node + "-pod-" + std::to_string(p);
      benchmark::DoNotOptimize(
          ipam.auto_assign(calico::pod_assign_args(node, "default", pod, pod)));
    }
  }
}

void BM_IpamClusterStart(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Ipam ipam = fresh_ipam();
    fill(ipam, nodes);
    benchmark::DoNotOptimize(ipam.blocks().size());
  }
  state.SetItemsProcessed(state.iterations() * nodes * (kPodsPerNode + 1));
}
BENCHMARK(BM_IpamClusterStart)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_IpamPodChurn(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  Ipam ipam = fresh_ipam();
  fill(ipam, nodes);
  int n = 0;
  int generation = 0;
  for (auto _ : state) {
    const std::string node = node_name(n);
    const std::string old_pod = node + "-pod-" + std::to_string(generation % kPodsPerNode);
    benchmark::DoNotOptimize(ipam.release_by_handle(calico::pod_handle(old_pod)));
    benchmark::DoNotOptimize(
        ipam.auto_assign(calico::pod_assign_args(node, "default", old_pod, old_pod)));
    if (++n == nodes) {
      n = 0;
      ++generation;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IpamPodChurn)->Arg(1000);

// The block choice alone: seeding Go's generator (607 words, 1841 seedrand steps) dominates.
void BM_IpamBlockWalkStart(benchmark::State& state) {
  calico::IpPool pool;
  int i = 0;
  for (auto _ : state) {
    calico::BlockWalk walk(pool, node_name(i++));
    benchmark::DoNotOptimize(walk.start_index());
  }
}
BENCHMARK(BM_IpamBlockWalkStart);

}  // namespace
