#pragma once
// The example scenarios (examples/*.yaml) as clusters, for the tests that check what each
// example shows.

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scenario.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace calisim::test {

inline const std::filesystem::path kExamples =
    std::filesystem::path(CALISIM_TEST_DATA_DIR) / ".." / ".." / "examples";

// The example `file` built (not run), writing its run directory to `dir` when given; null
// after a test failure naming what went wrong.
inline std::unique_ptr<calico::Cluster> example_cluster(const std::string& file,
                                                        const std::filesystem::path& dir = {}) {
  auto scenario = calico::load_scenario(kExamples / file);
  EXPECT_TRUE(scenario.has_value()) << (scenario ? "" : scenario.error().message);
  if (!scenario) return nullptr;
  calico::ClusterOptions o;
  o.run_dir = dir;
  auto cluster = calico::Cluster::create(*scenario, o);
  EXPECT_TRUE(cluster.has_value()) << (cluster ? "" : cluster.error().message);
  if (!cluster) return nullptr;
  return std::move(*cluster);
}

// The same, run for the scenario's duration.
inline std::unique_ptr<calico::Cluster> run_example(const std::string& file,
                                                    const std::filesystem::path& dir = {}) {
  auto cluster = example_cluster(file, dir);
  if (cluster) cluster->run();
  return cluster;
}

inline Time at(std::int64_t seconds) {
  return Time::zero() + Duration::seconds(seconds);
}

// What `command` prints at `where` (Cluster::command); "" after a test failure naming the error.
inline std::string view(const calico::Cluster& c, std::string_view where,
                        std::string_view command) {
  auto out = c.command(where, command);
  if (!out) {
    ADD_FAILURE() << where << "$ " << command << ": " << out.error().message;
    return "";
  }
  return *out;
}

// The usage error `command` draws at `where` (kInvalidArgument); "" after a test failure when it
// succeeds.
inline std::string error_of(const calico::Cluster& c, std::string_view where,
                            std::string_view command) {
  auto out = c.command(where, command);
  if (out) {
    ADD_FAILURE() << where << "$ " << command << " succeeded:\n" << *out;
    return "";
  }
  EXPECT_EQ(out.error().code, Errc::kInvalidArgument);
  return out.error().message;
}

}  // namespace calisim::test
