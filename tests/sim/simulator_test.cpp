#include <calisim/sim/simulator.hpp>
#include <calisim/sim/timer.hpp>

#include <gtest/gtest.h>

#include <map>
#include <tuple>
#include <vector>

namespace calisim {
namespace {

Time at_ns(std::int64_t ns) { return Time::from_ns(ns); }

TEST(Simulator, RunsEventsInTimeOrder) {
  Simulator sim;
  std::vector<int> order;
  sim.schedule_at(at_ns(30), [&] { order.push_back(3); });
  sim.schedule_at(at_ns(10), [&] { order.push_back(1); });
  sim.schedule_at(at_ns(20), [&] { order.push_back(2); });
  sim.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(sim.now(), at_ns(30));
  EXPECT_EQ(sim.executed(), 3u);
  EXPECT_EQ(sim.pending(), 0u);
}

TEST(Simulator, EqualTimesRunInSchedulingOrder) {
  Simulator sim;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) sim.schedule_at(at_ns(5), [&order, i] { order.push_back(i); });
  // Scheduled from inside an event at the same time: runs after everything already queued.
  sim.schedule_at(at_ns(5), [&] { sim.schedule_at(sim.now(), [&] { order.push_back(1000); }); });
  sim.run();
  ASSERT_EQ(order.size(), 101u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(order.back(), 1000);
}

TEST(Simulator, CancelIsExactAndIdsAreNotReused) {
  Simulator sim;
  int ran = 0;
  EventId a = sim.schedule_at(at_ns(10), [&] { ran += 1; });
  EventId b = sim.schedule_at(at_ns(20), [&] { ran += 10; });
  EXPECT_TRUE(sim.is_pending(a));
  EXPECT_TRUE(sim.cancel(a));
  EXPECT_FALSE(sim.cancel(a));  // twice
  EXPECT_FALSE(sim.is_pending(a));
  // The freed slot is reused by the next event; the old id must not name it.
  EventId c = sim.schedule_at(at_ns(15), [&] { ran += 100; });
  EXPECT_FALSE(sim.is_pending(a));
  EXPECT_FALSE(sim.cancel(a));
  EXPECT_TRUE(sim.is_pending(c));
  sim.run();
  EXPECT_EQ(ran, 110);
  EXPECT_FALSE(sim.cancel(b));  // already ran
  EXPECT_FALSE(sim.cancel(EventId()));
}

TEST(Simulator, AnEventCannotCancelItselfButCanCancelOthers) {
  Simulator sim;
  EventId self;
  EventId other;
  bool self_cancel_result = true;
  bool other_ran = false;
  self = sim.schedule_at(at_ns(1), [&] {
    self_cancel_result = sim.cancel(self);
    EXPECT_TRUE(sim.cancel(other));
  });
  other = sim.schedule_at(at_ns(1), [&] { other_ran = true; });
  sim.run();
  EXPECT_FALSE(self_cancel_result);
  EXPECT_FALSE(other_ran);
}

TEST(Simulator, RunUntilStopsAtTheLimitAndAdvancesTheClock) {
  Simulator sim;
  std::vector<std::int64_t> seen;
  for (std::int64_t t : {5, 10, 15, 20}) sim.schedule_at(at_ns(t), [&] { seen.push_back(sim.now().ns()); });
  sim.run_until(at_ns(10));
  EXPECT_EQ(seen, (std::vector<std::int64_t>{5, 10}));
  EXPECT_EQ(sim.now(), at_ns(10));
  sim.run_until(at_ns(12));
  EXPECT_EQ(sim.now(), at_ns(12));
  // Scheduling between the clock and the next queued event must still order correctly.
  sim.schedule_at(at_ns(13), [&] { seen.push_back(sim.now().ns()); });
  ASSERT_TRUE(sim.next_event_time().has_value());
  EXPECT_EQ(*sim.next_event_time(), at_ns(13));
  sim.run();
  EXPECT_EQ(seen, (std::vector<std::int64_t>{5, 10, 13, 15, 20}));
}

TEST(Simulator, RunUntilPastOnlyCancelledEventsKeepsOrder) {
  Simulator sim;
  std::vector<std::int64_t> seen;
  EventId dead = sim.schedule_at(at_ns(50), [&] { seen.push_back(-1); });
  sim.schedule_at(at_ns(300), [&] { seen.push_back(sim.now().ns()); });
  ASSERT_TRUE(sim.cancel(dead));
  sim.run_until(at_ns(100));
  EXPECT_EQ(sim.now(), at_ns(100));
  sim.schedule_at(at_ns(120), [&] { seen.push_back(sim.now().ns()); });
  sim.run();
  EXPECT_EQ(seen, (std::vector<std::int64_t>{120, 300}));
}

TEST(Simulator, StopReturnsAfterTheCurrentEvent) {
  Simulator sim;
  int ran = 0;
  sim.schedule_at(at_ns(1), [&] { ++ran; sim.stop(); });
  sim.schedule_at(at_ns(2), [&] { ++ran; });
  sim.run();
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(sim.pending(), 1u);
  sim.run();
  EXPECT_EQ(ran, 2);
}

TEST(Simulator, StepRunsOneEvent) {
  Simulator sim;
  int ran = 0;
  sim.schedule_after(Duration::microseconds(1), [&] { ++ran; });
  sim.schedule_after(Duration::microseconds(2), [&] { ++ran; });
  EXPECT_TRUE(sim.step());
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(sim.now(), at_ns(1000));
  EXPECT_TRUE(sim.step());
  EXPECT_FALSE(sim.step());
}

TEST(Simulator, SimulatorsAreIndependent) {
  Simulator a(1);
  Simulator b(1);
  int ra = 0;
  int rb = 0;
  a.schedule_at(at_ns(10), [&] { ++ra; });
  b.schedule_at(at_ns(20), [&] { ++rb; });
  a.run();
  EXPECT_EQ(ra, 1);
  EXPECT_EQ(rb, 0);
  EXPECT_EQ(b.now(), Time::zero());
  b.run();
  EXPECT_EQ(rb, 1);
}

// Random schedules and cancels checked against a straightforward reference: an ordered map
// keyed by (time, scheduling sequence).
TEST(Simulator, MatchesAReferenceQueueUnderRandomScheduleAndCancel) {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    Simulator sim(seed);
    RandomStream rng = sim.random("test.ops");
    std::map<std::tuple<std::int64_t, std::uint64_t>, int> reference;
    std::vector<std::pair<EventId, std::tuple<std::int64_t, std::uint64_t>>> handles;
    std::vector<int> ran;
    std::uint64_t seq = 0;
    int next_tag = 0;
    auto schedule = [&](std::int64_t delay) {
      const int tag = next_tag++;
      const auto key = std::make_tuple(sim.now().ns() + delay, seq++);
      EventId id = sim.schedule_after(Duration::nanoseconds(delay), [&ran, tag] { ran.push_back(tag); });
      reference.emplace(key, tag);
      handles.emplace_back(id, key);
    };
    for (int i = 0; i < 5000; ++i) {
      // Small delays make ties common; large ones spread across many buckets.
      schedule(rng.bernoulli(0.3) ? static_cast<std::int64_t>(rng.uniform(4))
                                  : static_cast<std::int64_t>(rng.uniform(1u << 30)));
    }
    std::vector<int> expected;
    for (int round = 0; round < 20000 && !reference.empty(); ++round) {
      const double op = rng.uniform01();
      if (op < 0.25 && !handles.empty()) {
        auto& [id, key] = handles[rng.uniform(handles.size())];
        const bool in_reference = reference.count(key) != 0;
        EXPECT_EQ(sim.cancel(id), in_reference);
        reference.erase(key);
      } else if (op < 0.5) {
        schedule(static_cast<std::int64_t>(rng.uniform(1u << 20)));
      } else {
        auto first = reference.begin();
        expected.push_back(first->second);
        const std::int64_t t = std::get<0>(first->first);
        reference.erase(first);
        ASSERT_TRUE(sim.step());
        EXPECT_EQ(sim.now().ns(), t);
      }
      ASSERT_EQ(sim.pending(), reference.size());
    }
    for (auto& [key, tag] : reference) expected.push_back(tag);
    sim.run();
    EXPECT_EQ(ran, expected) << "seed " << seed;
  }
}

TEST(Simulator, ManyCancelledEventsAreSwept) {
  Simulator sim;
  int ran = 0;
  std::vector<EventId> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(sim.schedule_at(at_ns(1000 + i), [&] { ++ran; }));
  for (int i = 0; i < 20000; ++i) {
    if (i % 10 != 0) {
      EXPECT_TRUE(sim.cancel(ids[static_cast<std::size_t>(i)]));
    }
  }
  EXPECT_EQ(sim.pending(), 2000u);
  sim.run();
  EXPECT_EQ(ran, 2000);
  EXPECT_EQ(sim.now(), at_ns(1000 + 19990));
}

// A small model whose every choice comes from named random streams: the trace of (time, event)
// must depend on the seed and on nothing else.
std::vector<std::pair<std::int64_t, int>> traced_run(std::uint64_t seed) {
  Simulator sim(seed);
  std::vector<std::pair<std::int64_t, int>> trace;
  RandomStream arrivals = sim.random("model.arrivals");
  RandomStream service = sim.random("model.service");
  struct Ctx {
    Simulator* sim;
    RandomStream* arrivals;
    RandomStream* service;
    std::vector<std::pair<std::int64_t, int>>* trace;
  } ctx{&sim, &arrivals, &service, &trace};
  struct Arrive {
    Ctx* c;
    int n;
    void operator()() const {
      c->trace->emplace_back(c->sim->now().ns(), n);
      if (n < 2000) {
        c->sim->schedule_after(c->arrivals->exponential(Duration::microseconds(10)), Arrive{c, n + 1});
      }
      Ctx* cc = c;
      const int id = n;
      c->sim->schedule_after(c->service->exponential(Duration::microseconds(25)),
                             [cc, id] { cc->trace->emplace_back(cc->sim->now().ns(), -id); });
    }
  };
  sim.schedule_at(Time::zero(), Arrive{&ctx, 0});
  sim.run();
  return trace;
}

TEST(Simulator, SameSeedSameEventTraceOtherSeedOtherTrace) {
  const auto a = traced_run(11);
  const auto b = traced_run(11);
  const auto c = traced_run(12);
  ASSERT_EQ(a.size(), 4002u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Timer, ArmCancelRearm) {
  Simulator sim;
  std::vector<std::int64_t> fired;
  Timer timer(sim, [&] { fired.push_back(sim.now().ns()); });
  EXPECT_FALSE(timer.armed());
  timer.arm_after(Duration::nanoseconds(100));
  EXPECT_TRUE(timer.armed());
  EXPECT_EQ(timer.deadline(), at_ns(100));
  timer.arm_after(Duration::nanoseconds(50));  // re-arm replaces
  sim.run();
  EXPECT_EQ(fired, (std::vector<std::int64_t>{50}));
  EXPECT_FALSE(timer.armed());
  timer.arm_at(at_ns(70));
  timer.cancel();
  sim.run();
  EXPECT_EQ(fired.size(), 1u);
}

TEST(Timer, CallbackMayRearm) {
  Simulator sim;
  int count = 0;
  Timer* self = nullptr;
  Timer timer(sim, [&] {
    if (++count < 5) self->arm_after(Duration::milliseconds(10));
  });
  self = &timer;
  timer.arm_after(Duration::milliseconds(10));
  sim.run();
  EXPECT_EQ(count, 5);
  EXPECT_EQ(sim.now(), Time::zero() + Duration::milliseconds(50));
}

TEST(Timer, DestroyedTimerNeverFires) {
  Simulator sim;
  int count = 0;
  {
    Timer timer(sim, [&] { ++count; });
    timer.arm_after(Duration::seconds(1));
  }
  sim.run();
  EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace calisim
