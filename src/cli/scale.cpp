#include "cli/scale.hpp"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scenario.hpp>

namespace calisim::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double sim_seconds(Time t) { return static_cast<double>(t.ns()) / 1e9; }

}  // namespace

int run_scale(const ScaleRunOptions& options) {
  const auto& o = options.scale;
  const auto t0 = std::chrono::steady_clock::now();
  auto yaml = calico::scale_scenario_yaml(o);
  if (!yaml) {
    fmt::print(stderr, "calisim scale: {}\n", yaml.error().message);
    return 2;
  }
  auto scenario = calico::parse_scenario(*yaml, fmt::format("scale-{}.yaml", o.nodes));
  if (!scenario) {
    fmt::print(stderr, "calisim scale: the generated scenario does not parse: {}\n",
               scenario.error().message);
    return 1;
  }
  const double parse_s = seconds_since(t0);
  auto cluster = calico::Cluster::create(*scenario, calico::ClusterOptions{});
  if (!cluster) {
    fmt::print(stderr, "calisim scale: {}\n", cluster.error().message);
    return 1;
  }
  const double build_s = seconds_since(t0);
  if (!options.json) {
    fmt::print("calisim scale: {} nodes, {} pods per node, {} (seed {})\n", o.nodes,
               o.pods_per_node, to_string(o.encapsulation), o.seed);
    std::fflush(stdout);
  }
  // Progress on stderr once per simulated second, so a long run shows it is alive.
  const Time limit = Time::zero() + Duration::seconds(o.duration_s);
  std::optional<Time> converged_at;
  while (!converged_at && (*cluster)->sim().now() < limit) {
    const Time step_end = std::min(limit, (*cluster)->sim().now() + Duration::seconds(1));
    converged_at = (*cluster)->run_until_converged(step_end);
    if (!converged_at) {
      const auto c = (*cluster)->convergence();
      fmt::print(stderr, "  simulated {:.0f} s, wall {:.2f} s: {}/{} sessions Established, {}/{} routes\n",
                 sim_seconds((*cluster)->sim().now()), seconds_since(t0), c.established,
                 c.sessions, c.routes_installed, c.routes_expected);
    }
  }
  const double wall_s = seconds_since(t0);
  const auto c = (*cluster)->convergence();
  const std::uint64_t rss = calico::peak_rss_bytes();
  const double sim_s = sim_seconds((*cluster)->sim().now());
  if (options.json) {
    fmt::print(
        "{{\"nodes\": {}, \"pods_per_node\": {}, \"encapsulation\": \"{}\", \"seed\": {}, "
        "\"converged\": {}, \"simulated_s\": {:.3f}, \"wall_s\": {:.3f}, \"build_wall_s\": "
        "{:.3f}, \"parse_wall_s\": {:.3f}, \"peak_rss_bytes\": {}, \"sessions\": {}, "
        "\"established\": {}, \"routes_expected\": {}, \"routes_installed\": {}, \"events\": {}}}\n",
        o.nodes, o.pods_per_node, to_string(o.encapsulation), o.seed,
        converged_at ? "true" : "false", sim_s, wall_s, build_s, parse_s, rss, c.sessions,
        c.established, c.routes_expected, c.routes_installed,
        (*cluster)->sim().executed());
  } else {
    fmt::print("{}: {}/{} BGP sessions Established, {}/{} block routes installed\n",
               converged_at ? "converged" : "NOT converged", c.established, c.sessions,
               c.routes_installed, c.routes_expected);
    fmt::print("simulated time  {:.3f} s\n", sim_s);
    fmt::print("wall time       {:.2f} s (scenario {:.2f} s, cluster build {:.2f} s, simulation "
               "{:.2f} s)\n",
               wall_s, parse_s, build_s - parse_s, wall_s - build_s);
    fmt::print("events          {}\n", (*cluster)->sim().executed());
    fmt::print("peak memory     {:.0f} MiB\n", static_cast<double>(rss) / (1024.0 * 1024.0));
  }
  std::fflush(stdout);
  return converged_at ? 0 : 1;
}

}  // namespace calisim::cli
