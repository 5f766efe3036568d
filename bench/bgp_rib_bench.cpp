// The speaker's table at scale: 100,000 prefixes (Calico /26 blocks, every fourth a borrowed /32)
// learned from three neighbours, each with its own attribute set, decided as BIRD decides; then
// what the export side costs: Calico's export filter on its own, a full Adj-RIB-Out computation
// for a new peer (preexport, filter, attribute update, diff), and a peer going down. Items are
// routes (a prefix from one neighbour) or prefixes, so items_per_second is routes/s or
// prefixes/s.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <calisim/bgp/policy.hpp>
#include <calisim/bgp/rib.hpp>

namespace {

using namespace calisim;
using namespace calisim::bgp;
using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::bgp::PathAttributes;

constexpr std::size_t kPrefixes = 100'000;
constexpr std::size_t kPerUpdate = 500;  // prefixes per UPDATE, about what fits in 4096 bytes

std::vector<Ipv4Prefix> table() {
  std::vector<Ipv4Prefix> out;
  out.reserve(kPrefixes);
  for (std::size_t i = 0; i < kPrefixes; ++i) {
    out.emplace_back(Ipv4Address(static_cast<std::uint32_t>(0x0a000000u + (i << 6))), i % 4 == 3 ? 32 : 26);
  }
  return out;
}

PathAttributes from_node(std::uint8_t last_octet, std::uint32_t local_pref) {
  PathAttributes a;
  a.origin = wire::bgp::Origin::kIgp;
  a.as_path = wire::bgp::AsPath{};
  a.next_hop = Ipv4Address(192, 168, 56, last_octet);
  a.local_pref = local_pref;
  return a;
}

CalicoBirdConfig calico() {
  CalicoBirdConfig c;
  c.pools = {{Ipv4Prefix(Ipv4Address(10, 0, 0, 0), 8), EncapMode::kAlways, EncapMode::kNever, false},
             {Ipv4Prefix(Ipv4Address(172, 16, 0, 0), 12), EncapMode::kNever, EncapMode::kNever, true}};
  for (std::uint32_t i = 0; i < 4; ++i) {
    c.blocks.push_back({Ipv4Prefix(Ipv4Address(0x0a000000u + (i << 6)), 26), BlockAffinityState::kConfirmed});
  }
  c.network = Ipv4Prefix(Ipv4Address(192, 168, 56, 10), 24);
  return c;
}

struct Table {
  Rib rib;
  SourceId peers[3];
  explicit Table(const CalicoBirdConfig& config)
      : rib(RibConfig{.local_as = 64512, .router_id = Ipv4Address(192, 168, 56, 10)}) {
    for (std::uint8_t i = 0; i < 3; ++i) {
      PeerConfig p;
      p.name = "Mesh_192_168_56_" + std::to_string(11 + i);
      p.address = Ipv4Address(192, 168, 56, static_cast<std::uint8_t>(11 + i));
      p.source_address = Ipv4Address(192, 168, 56, 10);
      p.interface = "enp0s8";
      p.export_filter = calico_peer_export(config, true);
      peers[i] = rib.add_peer(p);
      rib.peer_up(peers[i], p.address);
    }
  }
  // Three neighbours announce every prefix; the last one's LOCAL_PREF is highest, so the best
  // route changes twice per prefix.
  void learn(std::span<const Ipv4Prefix> prefixes) {
    for (std::uint8_t i = 0; i < 3; ++i) {
      PathAttributes a = from_node(static_cast<std::uint8_t>(11 + i), 100 + i);
      for (std::size_t at = 0; at < prefixes.size(); at += kPerUpdate) {
        rib.update(peers[i], prefixes.subspan(at, std::min(kPerUpdate, prefixes.size() - at)), a);
      }
    }
  }
};

void BM_RibDecision100kFrom3Peers(benchmark::State& state) {
  const auto prefixes = table();
  const CalicoBirdConfig config = calico();
  for (auto _ : state) {
    Table t(config);
    t.learn(prefixes);
    benchmark::DoNotOptimize(t.rib.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 3 * kPrefixes));
  state.SetLabel("routes (3 per prefix)");
}
BENCHMARK(BM_RibDecision100kFrom3Peers)->Unit(benchmark::kMillisecond);

// One prefix per call (no batching): the cost of interning the attributes each time.
void BM_RibDecision100kOneByOne(benchmark::State& state) {
  const auto prefixes = table();
  const CalicoBirdConfig config = calico();
  for (auto _ : state) {
    Table t(config);
    for (std::uint8_t i = 0; i < 3; ++i) {
      PathAttributes a = from_node(static_cast<std::uint8_t>(11 + i), 100 + i);
      for (const Ipv4Prefix& p : prefixes) t.rib.update(t.peers[i], p, a);
    }
    benchmark::DoNotOptimize(t.rib.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 3 * kPrefixes));
}
BENCHMARK(BM_RibDecision100kOneByOne)->Unit(benchmark::kMillisecond);

// Calico's mesh export filter on its own, over every prefix.
void BM_CalicoExportFilter100k(benchmark::State& state) {
  const auto prefixes = table();
  const Filter filter = calico_peer_export(calico(), true);
  const PathAttributes attrs = from_node(11, 100);
  std::size_t accepted = 0;
  for (auto _ : state) {
    accepted = 0;
    for (const Ipv4Prefix& p : prefixes) {
      FilterRoute r(p, RouteSource::kBgp, RouteDest::kUnicast, &attrs, "enp0s8");
      accepted += filter.accepts(r) ? 1 : 0;
    }
    benchmark::DoNotOptimize(accepted);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPrefixes));
  state.counters["accepted"] = static_cast<double>(accepted);
}
BENCHMARK(BM_CalicoExportFilter100k)->Unit(benchmark::kMillisecond);

// A new eBGP neighbour (a ToR) comes up and is fed the whole table: bgp_preexport, Calico's
// export filter, bgp_update_attrs and the Adj-RIB-Out diff for every prefix.
void BM_RibExportFeed100k(benchmark::State& state) {
  const auto prefixes = table();
  const CalicoBirdConfig config = calico();
  Table t(config);
  t.learn(prefixes);
  PeerConfig tor;
  tor.name = "Global_192_168_56_1";
  tor.address = Ipv4Address(192, 168, 56, 1);
  tor.as_number = 65001;
  tor.source_address = Ipv4Address(192, 168, 56, 10);
  tor.export_filter = calico_peer_export(config, false);
  SourceId id = t.rib.add_peer(tor);
  std::size_t announced = 0;
  for (auto _ : state) {
    t.rib.peer_up(id, tor.address);
    PeerUpdate out = t.rib.drain(id);
    announced = out.announced_count();
    state.PauseTiming();
    t.rib.peer_down(id);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPrefixes));
  state.counters["announced"] = static_cast<double>(announced);
}
BENCHMARK(BM_RibExportFeed100k)->Unit(benchmark::kMillisecond);

// The best neighbour's session goes down: 100,000 prefixes fall back to the next best, and
// every other peer's export is recomputed.
void BM_RibPeerDown100k(benchmark::State& state) {
  const auto prefixes = table();
  const CalicoBirdConfig config = calico();
  for (auto _ : state) {
    state.PauseTiming();
    Table t(config);
    t.learn(prefixes);
    state.ResumeTiming();
    benchmark::DoNotOptimize(t.rib.peer_down(t.peers[2]));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPrefixes));
}
BENCHMARK(BM_RibPeerDown100k)->Unit(benchmark::kMillisecond);

}  // namespace
