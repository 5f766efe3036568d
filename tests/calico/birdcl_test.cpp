// `birdcl` on a node, as users type it in the calico-node container, printed as Calico's BIRD 1.6
// fork prints it (projectcalico/bird nest/proto.c proto_cmd_show, nest/rt-table.c rt_show_rte,
// proto/bgp/attrs.c bgp_get_route_info, nest/rt-fib.c walk order). The layout was checked against
// real calico-node output quoted in issue threads and guides:
//
//   BIRD v0.3.3+birdv1.6.8 ready.
//   name     proto    table    state  since       info
//   kernel1  Kernel   master   up     07:45:49
//   Mesh_11_1_0_251 BGP      master   up     07:45:55    Established
//   0.0.0.0/0          via 10.39.0.1 on eth0 [kernel1 2017-07-25] * (10)
//   192.168.106.64/26  via 10.39.0.108 on eth0 [Mesh_10_39_0_108 05:12:02] * (100/0) [i]
//   10.244.187.1/32    dev cali79dc463f951 [kernel1 07:45:58] * (10)
//   10.48.231.0/26     blackhole [static1 18:13:32] * (200)
//
// (rows end in the padding BIRD leaves: "%-10s  %s" with an empty info, "Established   ").

#include <calisim/calico/cluster.hpp>

#include <gtest/gtest.h>

#include <string>

#include "calico/example_cluster.hpp"
#include "test_util.hpp"

namespace calisim::calico {
namespace {

using test::error_of;
using test::view;

TEST(Birdcl, LabShowProtocols) {
  auto c = test::run_example("lab-ipip.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(view(*c, "user-controller", "birdcl show protocols"),
            "BIRD v0.3.3+birdv1.6.8 ready.\n"
            "name     proto    table    state  since       info\n"
            "static1  Static   master   up     00:00:00    \n"
            "kernel1  Kernel   master   up     00:00:00    \n"
            "device1  Device   master   up     00:00:00    \n"
            "direct1  Direct   master   up     00:00:00    \n"
            "Mesh_203_248_23_215 BGP      master   up     00:00:01    Established   \n");
  // One protocol by name (birdcl's abbreviations; -s the socket calico-node uses).
  EXPECT_EQ(
      view(*c, "user-worker", "birdcl -s /var/run/calico/bird.ctl sh pro Mesh_203_248_23_214"),
      "BIRD v0.3.3+birdv1.6.8 ready.\n"
      "name     proto    table    state  since       info\n"
      "Mesh_203_248_23_214 BGP      master   up     00:00:01    Established   \n");
  EXPECT_EQ(view(*c, "user-worker", "birdcl show protocols Mesh_10_0_0_1"),
            "BIRD v0.3.3+birdv1.6.8 ready.\nNo protocols match\n");
}

TEST(Birdcl, LabShowRoute) {
  auto c = test::run_example("lab-ipip.yaml");
  ASSERT_NE(c, nullptr);
  // BIRD's table on the controller: the kernel's default route and the CNI's pod routes (learned,
  // `protocol kernel { learn; }`), the node's block (static1's blackhole), the worker's block
  // from the mesh with its next hop on enp0s8 (IGP metric 0: resolved through a connected
  // network). In the FIB's walk order (ascending ip4_hash of the address).
  EXPECT_EQ(view(*c, "user-controller", "birdcl show route"),
            "BIRD v0.3.3+birdv1.6.8 ready.\n"
            "0.0.0.0/0          via 10.0.2.2 on enp0s3 [kernel1 00:00:00] * (10)\n"
            "192.168.136.2/32   dev calid6edae09645 [kernel1 00:00:00] * (10)\n"
            "192.168.136.3/32   dev calic6bfd11bfbe [kernel1 00:00:00] * (10)\n"
            "192.168.136.0/26   blackhole [static1 00:00:00] * (200)\n"
            "192.168.136.1/32   dev calibc6c3028870 [kernel1 00:00:00] * (10)\n"
            "192.168.153.192/26 via 203.248.23.215 on enp0s8 [Mesh_203_248_23_215 00:00:01] * "
            "(100/0) [i]\n"
            "192.168.136.5/32   dev cali77d085837b5 [kernel1 00:00:01] * (10)\n");
  EXPECT_EQ(view(*c, "user-controller", "birdcl show route protocol Mesh_203_248_23_215 all"),
            "BIRD v0.3.3+birdv1.6.8 ready.\n"
            "192.168.153.192/26 via 203.248.23.215 on enp0s8 [Mesh_203_248_23_215 00:00:01] * "
            "(100/0) [i]\n"
            "\tType: BGP unicast univ\n"
            "\tBGP.origin: IGP\n"
            "\tBGP.as_path: \n"
            "\tBGP.next_hop: 203.248.23.215\n"
            "\tBGP.local_pref: 100\n");
  // What the controller sends the worker: its own block only (calico_export_to_bgp_peers).
  EXPECT_EQ(view(*c, "user-controller", "birdcl show route export Mesh_203_248_23_215"),
            "BIRD v0.3.3+birdv1.6.8 ready.\n"
            "192.168.136.0/26   blackhole [static1 00:00:00] * (200)\n");
  EXPECT_EQ(view(*c, "user-worker", "birdcl show route for 192.168.136.5"),
            "BIRD v0.3.3+birdv1.6.8 ready.\n"
            "192.168.136.0/26   via 203.248.23.214 on enp0s8 [Mesh_203_248_23_214 00:00:01] * "
            "(100/0) [i]\n");
  EXPECT_EQ(view(*c, "user-worker", "birdcl show route 10.9.9.0/24"),
            "BIRD v0.3.3+birdv1.6.8 ready.\nNetwork not in table\n");
  EXPECT_EQ(view(*c, "user-worker", "birdcl show route protocol Mesh_1_2_3_4"),
            "BIRD v0.3.3+birdv1.6.8 ready.\nMesh_1_2_3_4 is not a protocol\n");
}

// Across the router (CrossSubnet IPIP): BIRD resolves the next hop of a peer on another subnet
// recursively (`gateway recursive`) through the kernel's default route, learned by kernel1, so
// the route goes via the router, shows who sent it ("from"), and the IGP metric of a kernel
// route is unknown ("/?", rt_get_igp_metric). The kernel route still goes to the peer itself
// through tunl0 (the fork's krt_tunnel uses the BGP next hop); within the rack, plain.
TEST(Birdcl, CrossSubnetResolvesThroughTheRouter) {
  auto c = test::run_example("ipip-crosssubnet.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(view(*c, "a1", "birdcl show route"),
            "BIRD v0.3.3+birdv1.6.8 ready.\n"
            "0.0.0.0/0          via 10.10.1.1 on eth0 [kernel1 00:00:00] * (10)\n"
            "192.168.78.192/26  via 10.10.1.12 on eth0 [Mesh_10_10_1_12 00:00:01] * (100/0) [i]\n"
            "192.168.80.128/26  via 10.10.1.1 on eth0 [Mesh_10_10_2_11 00:00:01 from 10.10.2.11] * "
            "(100/?) [i]\n"
            "192.168.15.128/26  via 10.10.1.1 on eth0 [Mesh_10_10_2_12 00:00:01 from 10.10.2.12] * "
            "(100/?) [i]\n"
            "192.168.141.129/32 dev cali6bddc8fd68a [kernel1 00:00:00] * (10)\n"
            "192.168.141.128/26 blackhole [static1 00:00:00] * (200)\n");
  const std::string routes = view(*c, "a1", "ip route");
  EXPECT_NE(routes.find("192.168.80.128/26 via 10.10.2.11 dev tunl0 proto bird onlink \n"),
            std::string::npos)
      << routes;
  EXPECT_NE(routes.find("192.168.78.192/26 via 10.10.1.12 dev eth0 proto bird \n"),
            std::string::npos)
      << routes;
}

TEST(Birdcl, ErrorsAndNodesWithoutBird) {
  auto c = test::run_example("lab-ipip.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_NE(error_of(*c, "user-controller", "birdcl show").find("what?"), std::string::npos);
  EXPECT_NE(
      error_of(*c, "user-controller", "birdcl show route p x").find("ambiguous command \"p\""),
      std::string::npos);
  EXPECT_NE(
      error_of(*c, "user-controller", "birdcl show route for 10.0.0").find("not an IPv4 address"),
      std::string::npos);
  EXPECT_NE(error_of(*c, "user-controller", "birdcl configure").find("calisim answers"),
            std::string::npos);
  // A pod has no BIRD.
  const auto pods = c->scenario().pods;
  ASSERT_FALSE(pods.empty());
  const std::string pod = pods.front().namespace_name + "/" + pods.front().name;
  EXPECT_NE(error_of(*c, pod, "birdcl show protocols").find("is not a node"), std::string::npos);
  EXPECT_TRUE(Cluster::check_command("birdcl show route all").has_value());
}

// calico/node that found no address runs no BIRD: birdcl cannot reach the socket.
TEST(Birdcl, NodeWithoutBird) {
  auto c = test::run_example("lab-wrong-autodetect.yaml");
  ASSERT_NE(c, nullptr);
  bool found = false;
  for (const auto& n : c->scenario().nodes) {
    if (c->bgp_speaker(n.name) != nullptr) continue;
    found = true;
    EXPECT_EQ(view(*c, n.name, "birdcl show protocols"),
              "Unable to connect to server control socket (/var/run/calico/bird.ctl): No such file "
              "or directory\n");
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace calisim::calico
