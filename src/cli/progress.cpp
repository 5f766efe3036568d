#include "cli/progress.hpp"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include <unistd.h>

namespace calisim::cli {

void run_with_progress(calico::Cluster& cluster, Time until) {
  if (::isatty(STDOUT_FILENO) == 0 || ::isatty(STDERR_FILENO) == 0) {
    cluster.run_until(until);
    return;
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last = start;
  std::uint64_t last_events = cluster.sim().executed();
  bool shown = false;
  const Duration step = Duration::milliseconds(100);
  while (cluster.sim().now() < until) {
    const Time next = std::min(until, cluster.sim().now() + step);
    cluster.run_until(next);
    const auto now = Clock::now();
    if (now - last < std::chrono::milliseconds(250)) continue;
    const double seconds = std::chrono::duration<double>(now - last).count();
    const std::uint64_t events = cluster.sim().executed();
    fmt::print(stderr, "\r  simulated {:.1f} / {:.1f} s, {:.0f} events/s   ",
               static_cast<double>(cluster.sim().now().ns()) / 1e9,
               static_cast<double>(until.ns()) / 1e9,
               static_cast<double>(events - last_events) / seconds);
    std::fflush(stderr);
    shown = true;
    last = now;
    last_events = events;
  }
  if (shown) fmt::print(stderr, "\r{:60}\r", "");
}

}  // namespace calisim::cli
