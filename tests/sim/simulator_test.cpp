#include <calisim/sim/simulator.hpp>
#include <calisim/sim/timer.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace calisim {
namespace {

TEST(Simulator, RunsEventsInTimeOrder) {
  Simulator sim;
  std::vector<int> order;
  sim.schedule_at(Time::from_ns(30), [&] { order.push_back(3); });
  sim.schedule_at(Time::from_ns(10), [&] { order.push_back(1); });
  sim.schedule_at(Time::from_ns(20), [&] { order.push_back(2); });
  sim.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(sim.now(), Time::from_ns(30));
  EXPECT_EQ(sim.executed(), 3u);
}

}  // namespace
}  // namespace calisim
