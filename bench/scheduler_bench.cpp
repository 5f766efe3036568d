// The scheduler's hold model: keep N events pending; each event, when it runs, schedules one new
// event at now + an exponential delay. Measures events per second at N = 1e3, 1e5, 1e6, beside a
// baseline of std::priority_queue<(time, seq)> with a heap-allocated std::function per event.

#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <queue>
#include <vector>

#include <calisim/sim/random.hpp>
#include <calisim/sim/simulator.hpp>

namespace {

using calisim::Duration;
using calisim::RandomStream;
using calisim::Simulator;

constexpr std::int64_t kMeanDelayNs = 1'000'000;  // 1 ms

struct HoldEvent {
  Simulator* sim;
  RandomStream* rng;
  std::uint64_t* counter;
  void operator()() const {
    ++*counter;
    sim->schedule_after(Duration::nanoseconds(1 + static_cast<std::int64_t>(
                                                      rng->exponential(double(kMeanDelayNs)))),
                        HoldEvent{sim, rng, counter});
  }
};

void BM_SimulatorHold(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  Simulator sim(42);
  RandomStream rng = sim.random("bench.hold");
  std::uint64_t counter = 0;
  for (std::size_t i = 0; i < pending; ++i) {
    sim.schedule_after(Duration::nanoseconds(static_cast<std::int64_t>(
                           rng.exponential(double(kMeanDelayNs)))),
                       HoldEvent{&sim, &rng, &counter});
  }
  for (auto _ : state) {
    for (int k = 0; k < 1000; ++k) sim.step();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
  state.counters["pending"] = static_cast<double>(sim.pending());
}
BENCHMARK(BM_SimulatorHold)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

// Baseline: what a straightforward engine does.
struct BaselineEvent {
  std::int64_t time;
  std::uint64_t seq;
  std::unique_ptr<std::function<void()>> fn;
  bool operator>(const BaselineEvent& o) const {
    return time > o.time || (time == o.time && seq > o.seq);
  }
};

struct BaselineSim {
  std::priority_queue<BaselineEvent, std::vector<BaselineEvent>, std::greater<>> queue;
  std::int64_t now = 0;
  std::uint64_t seq = 0;
  void schedule_after(std::int64_t delay, std::function<void()> fn) {
    queue.push(BaselineEvent{now + delay, seq++,
                             std::make_unique<std::function<void()>>(std::move(fn))});
  }
  void step() {
    // priority_queue::top is const; moving the event out needs the usual const_cast dance.
    BaselineEvent ev = std::move(const_cast<BaselineEvent&>(queue.top()));
    queue.pop();
    now = ev.time;
    (*ev.fn)();
  }
};

void schedule_baseline(BaselineSim* sim, RandomStream* rng, std::uint64_t* counter) {
  sim->schedule_after(1 + static_cast<std::int64_t>(rng->exponential(double(kMeanDelayNs))),
                      [sim, rng, counter] {
                        ++*counter;
                        schedule_baseline(sim, rng, counter);
                      });
}

void BM_BaselineHold(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  BaselineSim sim;
  RandomStream rng(42, "bench.hold");
  std::uint64_t counter = 0;
  for (std::size_t i = 0; i < pending; ++i) schedule_baseline(&sim, &rng, &counter);
  for (auto _ : state) {
    for (int k = 0; k < 1000; ++k) sim.step();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_BaselineHold)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

}  // namespace
