// Acting on a running cluster (what the Python module and the CLI build on): a ping started at
// any time, a fault injected at any time, and the pod-to-pod reachability matrix.

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scenario.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace calisim::calico {
namespace {

std::unique_ptr<Cluster> lab() {
  auto scenario = parse_scenario(default_lab_scenario_yaml(), "lab-ipip.yaml");
  EXPECT_TRUE(scenario.has_value());
  if (!scenario) return nullptr;
  auto cluster = Cluster::create(*scenario, ClusterOptions{});
  EXPECT_TRUE(cluster.has_value()) << (cluster ? "" : cluster.error().message);
  if (!cluster) return nullptr;
  return std::move(*cluster);
}

TEST(ClusterRuntime, PingStartedLaterCrossesTheTunnel) {
  auto c = lab();
  ASSERT_NE(c, nullptr);
  c->run_until(Time::zero() + Duration::seconds(20));
  auto idx = c->ping("default/hello-776c774f98-894tt", "default/hi", 3);
  ASSERT_TRUE(idx) << idx.error().message;
  c->run_until(Time::zero() + Duration::seconds(25));
  const PingRun& p = c->pings()[*idx];
  EXPECT_EQ(p.command, "ping -c 3 192.168.136.5");
  EXPECT_EQ(p.transmitted, 3u);
  EXPECT_EQ(p.received, 3u);
  for (auto ttl : p.ttls) EXPECT_EQ(ttl, 62);
  // From a node to a pod: one forwarding host.
  auto node = c->ping("user-worker", "192.168.136.5", 1);
  ASSERT_TRUE(node) << node.error().message;
  c->run_until(Time::zero() + Duration::seconds(27));
  ASSERT_EQ(c->pings()[*node].ttls.size(), 1u);
  EXPECT_EQ(c->pings()[*node].ttls[0], 63);
}

TEST(ClusterRuntime, PingErrorsNameTheEndpoint) {
  auto c = lab();
  ASSERT_NE(c, nullptr);
  c->run_until(Time::zero() + Duration::seconds(15));
  auto pod = c->ping("default/nope", "default/hi");
  ASSERT_FALSE(pod);
  EXPECT_EQ(pod.error().message, "no running pod 'default/nope'");
  auto node = c->ping("user-nobody", "default/hi");
  ASSERT_FALSE(node);
  EXPECT_EQ(node.error().message, "'user-nobody' is not a pod (namespace/name), a node or a router");
  // default/tmp was deleted before 15 s.
  EXPECT_FALSE(c->ping("default/hi", "default/tmp"));
}

TEST(ClusterRuntime, ReachabilityMatrixBeforeAndAfterACablePull) {
  auto c = lab();
  ASSERT_NE(c, nullptr);
  c->run_until(Time::zero() + Duration::seconds(20));
  const Reachability all = c->reachability();
  ASSERT_EQ(all.pods.size(), 5u);  // coredns x2, calico-kube-controllers, hi; hello on the worker
  const auto at = std::find(all.pods.begin(), all.pods.end(), "default/hello-776c774f98-894tt");
  ASSERT_NE(at, all.pods.end());
  const auto hello = static_cast<std::size_t>(at - all.pods.begin());
  EXPECT_EQ(all.reachable(), 25u);

  scenario::Event cut;
  cut.action = scenario::EventAction::kLinkDown;
  cut.node = "user-controller";
  cut.interface = "enp0s8";
  ASSERT_TRUE(c->inject(cut));
  const Reachability split = c->reachability();
  // The worker's pod and the controller's four reach each other no more (2 x 4 pairs).
  EXPECT_EQ(split.reachable(), 25u - 8u);
  ASSERT_EQ(split.pods, all.pods);
  for (std::size_t i = 0; i < split.pods.size(); ++i) {
    if (i == hello) continue;
    EXPECT_FALSE(split.ok[hello][i]) << split.pods[i];
    EXPECT_FALSE(split.ok[i][hello]) << split.pods[i];
  }

  scenario::Event bad = cut;
  bad.node = "user-nobody";
  auto r = c->inject(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no node or router 'user-nobody'");
  bad.node = "user-controller";
  bad.interface = "eth9";
  r = c->inject(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "user-controller has no NIC 'eth9'");
}

}  // namespace
}  // namespace calisim::calico
