// `calisim scale`: a generated full mesh run to convergence, reporting what it took; and the
// convergence measure itself on a cluster that cannot converge.

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scale.hpp>
#include <calisim/calico/scenario.hpp>

#include <gtest/gtest.h>

#include <string>

#include "test_util.hpp"

namespace calisim::test {
namespace {

const std::string kCli = CALISIM_CLI_PATH;

TEST(CliScale, SmallMeshConvergesAndReportsItsFigures) {
  const auto r = run_command(kCli + " scale --nodes 6 --pods-per-node 3 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // 6 nodes: 30 sessions (each node peers with 5), 30 block routes (each node learns 5).
  EXPECT_NE(r.out.find("calisim scale: 6 nodes, 3 pods per node, ipip (seed 1)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("converged: 30/30 BGP sessions Established, 30/30 block routes installed\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("simulated time  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak memory     "), std::string::npos) << r.out;
}

TEST(CliScale, JsonReportAndVxlanNeedsNoBgp) {
  const auto r = run_command(kCli + " scale --nodes 4 --pods-per-node 2 --encap vxlan --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // Felix programs VXLAN routes without BGP: no sessions, 4 x 3 routes.
  EXPECT_NE(r.out.find("\"converged\": true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"sessions\": 0, \"established\": 0, \"routes_expected\": 12, "
                       "\"routes_installed\": 12"),
            std::string::npos)
      << r.out;
}

TEST(CliScale, BadSizesAreUsageErrors) {
  const auto zero = run_command(kCli + " scale --nodes 0 2>&1");
  EXPECT_EQ(zero.exit_code, 2) << zero.out;
  EXPECT_NE(zero.out.find("--nodes 0: between 1 and 65000 nodes"), std::string::npos) << zero.out;
  // 1100 nodes need more /26 blocks than 192.168.0.0/16 has.
  const auto big = run_command(kCli + " scale --nodes 1100 2>&1");
  EXPECT_EQ(big.exit_code, 2) << big.out;
  EXPECT_NE(big.out.find("1024 /26 blocks"), std::string::npos) << big.out;
  const auto encap = run_command(kCli + " scale --encap gre 2>&1");
  EXPECT_EQ(encap.exit_code, 2) << encap.out;
}

// Two nodes whose BGP traffic is blocked on the wire never converge: the measure says which
// part is missing.
TEST(ClusterConvergence, BlockedBgpNeverConverges) {
  calico::ScaleOptions o;
  o.nodes = 3;
  o.pods_per_node = 1;
  auto yaml = calico::scale_scenario_yaml(o);
  ASSERT_TRUE(yaml);
  // node-0002's NIC is unplugged from the start.
  const auto nodes = yaml->find("  nodes:\n");
  ASSERT_NE(nodes, std::string::npos);
  yaml->insert(nodes, "  events:\n  - {at: 0s, action: linkDown, node: node-0002, interface: eth0}\n");
  auto scenario = calico::parse_scenario(*yaml, "blocked.yaml");
  ASSERT_TRUE(scenario) << scenario.error().message;
  auto cluster = calico::Cluster::create(*scenario, calico::ClusterOptions{});
  ASSERT_TRUE(cluster) << cluster.error().message;
  const auto at = (*cluster)->run_until_converged(Time::zero() + Duration::seconds(20));
  EXPECT_FALSE(at.has_value());
  const auto c = (*cluster)->convergence();
  EXPECT_EQ(c.sessions, 6u);
  EXPECT_EQ(c.established, 2u);  // node-0000 <-> node-0001 only, counted on both ends
  EXPECT_EQ(c.routes_expected, 6u);
  EXPECT_EQ(c.routes_installed, 2u);
  EXPECT_FALSE(c.converged());
}

}  // namespace
}  // namespace calisim::test
