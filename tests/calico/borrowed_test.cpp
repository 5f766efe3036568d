// A pod with a borrowed address (examples/borrowed-ip.yaml): Calico IPAM without strict affinity
// hands web-4 an address from the controller's block because the worker's only block is full
// and the pool has no block left to claim; the worker's BIRD learns the CNI plugin's
// `<ip> dev caliX` route and exports it as a /32, which the controller installs over its own
// block's blackhole (Calico issue #2612), so the pod is reachable; the /32 goes with the pod.

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/ipam_views.hpp>
#include <calisim/calico/scenario.hpp>

#include <gtest/gtest.h>

#include "calico/example_cluster.hpp"

#include <string>
#include <vector>

namespace calisim::calico {
namespace {

using test::at;

std::unique_ptr<Cluster> borrowed_ip() { return test::example_cluster("borrowed-ip.yaml"); }

TEST(ClusterBorrowedAddress, TheFourthPodOnTheWorkerBorrowsFromTheControllersBlock) {
  auto c = borrowed_ip();
  ASSERT_NE(c, nullptr);
  c->run_until(at(15));
  // Tunnel addresses first (ordinal 0 of each node's block), then the pods in order.
  EXPECT_EQ(c->pod_ip("default", "hi")->to_string(), "10.244.0.1");
  EXPECT_EQ(c->pod_ip("default", "web-3")->to_string(), "10.244.0.7");
  EXPECT_EQ(c->pod_ip("default", "web-4")->to_string(), "10.244.0.2");
  EXPECT_EQ(
      calicoctl_ipam_show_borrowed(c->ipam()),
      "+------------+----------------+---------------+-------------+------+---------------+\n"
      "|     IP     | BORROWING-NODE |     BLOCK     | BLOCK OWNER | TYPE | ALLOCATED-TO  |\n"
      "+------------+----------------+---------------+-------------+------+---------------+\n"
      "| 10.244.0.2 | worker         | 10.244.0.0/30 | controller  | pod  | default/web-4 |\n"
      "+------------+----------------+---------------+-------------+------+---------------+\n");
}

TEST(ClusterBorrowedAddress, PeersRouteTheSlash32ToTheBorrowingNodeUntilThePodGoes) {
  auto c = borrowed_ip();
  ASSERT_NE(c, nullptr);
  c->run_until(at(15));
  // The block owner: its blackhole for 10.244.0.0/30 (bird_aggr.cfg), and the more specific
  // /32 the worker announced, programmed like any IPIP route (bird_ipam.cfg kernel filter).
  EXPECT_EQ(c->view("ip route", "controller"),
            "default via 172.31.0.1 dev eth0 proto dhcp metric 100 \n"
            "blackhole 10.244.0.0/30 proto bird \n"
            "10.244.0.1 dev cali77d085837b5 scope link \n"
            "10.244.0.2 via 172.31.0.21 dev tunl0 proto bird onlink \n"
            "10.244.0.4/30 via 172.31.0.21 dev tunl0 proto bird onlink \n"
            "172.31.0.0/24 dev eth0 proto kernel scope link src 172.31.0.10 \n");
  // The borrower: the CNI plugin's /32 for web-4 and nothing from BIRD for it (learned routes
  // are not programmed back); the pods inside its own block are not announced one by one
  // (calico_aggr() rejects what lies inside an own block), so the controller has no /32 for
  // 10.244.0.5-7.
  EXPECT_EQ(c->view("ip route", "worker"),
            "default via 172.31.0.1 dev eth0 proto dhcp metric 100 \n"
            "10.244.0.0/30 via 172.31.0.10 dev tunl0 proto bird onlink \n"
            "10.244.0.2 dev cali456b3b54a7e scope link \n"
            "blackhole 10.244.0.4/30 proto bird \n"
            "10.244.0.5 dev cali0761ccbeace scope link \n"
            "10.244.0.6 dev cali9fb0db7f13e scope link \n"
            "10.244.0.7 dev cali4448cbddedf scope link \n"
            "172.31.0.0/24 dev eth0 proto kernel scope link src 172.31.0.21 \n");
  // web-4 is deleted at 20 s: the CNI plugin removes its route, BIRD sees it go and withdraws
  // the /32; the controller is back to its blackhole for the whole block.
  c->run_until(at(25));
  EXPECT_EQ(c->view("ip route", "controller"),
            "default via 172.31.0.1 dev eth0 proto dhcp metric 100 \n"
            "blackhole 10.244.0.0/30 proto bird \n"
            "10.244.0.1 dev cali77d085837b5 scope link \n"
            "10.244.0.4/30 via 172.31.0.21 dev tunl0 proto bird onlink \n"
            "172.31.0.0/24 dev eth0 proto kernel scope link src 172.31.0.10 \n");
}

// Without the /32 the controller would blackhole hi's packets to 10.244.0.2 (its own block);
// with it both directions cross two forwarding hosts: ttl=62.
TEST(ClusterBorrowedAddress, PingsToAndFromTheBorrowedPodCrossTwoHosts) {
  auto c = borrowed_ip();
  ASSERT_NE(c, nullptr);
  c->run();
  ASSERT_EQ(c->pings().size(), 2u);
  const auto& to = c->pings()[0];
  EXPECT_EQ(to.command, "ping -c 5 10.244.0.2");
  EXPECT_EQ(to.received, 5u);
  EXPECT_EQ(to.ttls, (std::vector<std::uint8_t>{62, 62, 62, 62, 62}));
  EXPECT_EQ(to.lines[1], "64 bytes from 10.244.0.2: icmp_seq=1 ttl=62 time=0.102 ms");
  const auto& from = c->pings()[1];
  EXPECT_EQ(from.from, "default/web-4");
  EXPECT_EQ(from.command, "ping -c 3 10.244.0.1");
  EXPECT_EQ(from.received, 3u);
  EXPECT_EQ(from.ttls, (std::vector<std::uint8_t>{62, 62, 62}));
}

}  // namespace
}  // namespace calisim::calico
