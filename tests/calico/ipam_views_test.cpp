// `calicoctl ipam show` views. Where a real cluster's output is quoted, the expected text is that
// output verbatim; the lab scenario's tables follow the same layout.

#include <calisim/calico/ipam_views.hpp>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace calisim::calico {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

Ipv4Address addr(std::string_view text) {
  return *Ipv4Address::parse(text);
}

IpPool pool(std::string_view cidr, int block_size) {
  IpPool p;
  p.cidr = *Ipv4Prefix::parse(cidr);
  p.block_size = block_size;
  return p;
}

void pods(Ipam& ipam, std::string_view node, int n) {
  for (int i = 0; i < n; ++i) {
    const std::string name = std::string(node) + "-pod-" + std::to_string(i);
    ASSERT_TRUE(ipam.auto_assign(pod_assign_args(node, "default", name, name)).has_value());
  }
}

// A two-node minikube cluster: an IPIP tunnel address and four pods on each node. Output
// quoted from the blog post "在k8s中calico部署和使用" (2023-05, Calico v3.25.1).
TEST(IpamViews, MinikubeShowAndShowBlocksAsPrinted) {
  Ipam ipam;
  ASSERT_TRUE(ipam.add_pool(pool("10.244.0.0/16", 26)));
  for (const char* node : {"minikube", "minikube-m02"}) {
    ASSERT_TRUE(ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, node)).has_value());
    pods(ipam, node, 4);
  }
  EXPECT_EQ(calicoctl_ipam_show(ipam),
            "+----------+---------------+-----------+------------+--------------+\n"
            "| GROUPING |     CIDR      | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+---------------+-----------+------------+--------------+\n"
            "| IP Pool  | 10.244.0.0/16 |     65536 | 10 (0%)    | 65526 (100%) |\n"
            "+----------+---------------+-----------+------------+--------------+\n");
  EXPECT_EQ(calicoctl_ipam_show(ipam, true),
            "+----------+-------------------+-----------+------------+--------------+\n"
            "| GROUPING |       CIDR        | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+-------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 10.244.0.0/16     |     65536 | 10 (0%)    | 65526 (100%) |\n"
            "| Block    | 10.244.120.64/26  |        64 | 5 (8%)     | 59 (92%)     |\n"
            "| Block    | 10.244.205.192/26 |        64 | 5 (8%)     | 59 (92%)     |\n"
            "+----------+-------------------+-----------+------------+--------------+\n");
}

// A three-node kubeadm cluster on pool 10.244.0.0/24 (Calico v3.29): 8, 1 and 2 addresses in
// the blocks of a1, a3 and a2; blocks list by name, so .128 < .192 < .64. Output quoted from a
// public operations notebook ("Calico : On-prem K8s").
TEST(IpamViews, SmallPoolShowBlocksConfigurationAndIpAsPrinted) {
  Ipam ipam;
  IpPool p = pool("10.244.0.0/24", 26);
  ASSERT_TRUE(ipam.add_pool(p));
  pods(ipam, "a1", 7);
  IpamAttributes coredns = {{"namespace", "kube-system"},
                            {"node", "a1"},
                            {"pod", "coredns-76f75df574-fsxvc"},
                            {"timestamp", "2024-12-14 21:44:05.795537491 +0000 UTC"}};
  ASSERT_TRUE(ipam.assign_ip(
      {addr("10.244.0.142"), "a1", "k8s-pod-network.c0", coredns, IpPoolUse::kWorkload}));
  pods(ipam, "a3", 1);
  pods(ipam, "a2", 2);
  EXPECT_EQ(calicoctl_ipam_show(ipam, true),
            "+----------+-----------------+-----------+------------+-----------+\n"
            "| GROUPING |      CIDR       | IPS TOTAL | IPS IN USE | IPS FREE  |\n"
            "+----------+-----------------+-----------+------------+-----------+\n"
            "| IP Pool  | 10.244.0.0/24   |       256 | 11 (4%)    | 245 (96%) |\n"
            "| Block    | 10.244.0.128/26 |        64 | 8 (12%)    | 56 (88%)  |\n"
            "| Block    | 10.244.0.192/26 |        64 | 1 (2%)     | 63 (98%)  |\n"
            "| Block    | 10.244.0.64/26  |        64 | 2 (3%)     | 62 (97%)  |\n"
            "+----------+-----------------+-----------+------------+-----------+\n");
  EXPECT_EQ(calicoctl_ipam_show_configuration(ipam),
            "+--------------------+-------+\n"
            "|      PROPERTY      | VALUE |\n"
            "+--------------------+-------+\n"
            "| StrictAffinity     | false |\n"
            "| AutoAllocateBlocks | true  |\n"
            "| MaxBlocksPerHost   |     0 |\n"
            "+--------------------+-------+\n");
  EXPECT_EQ(calicoctl_ipam_show_ip(ipam, addr("10.244.0.142")),
            "IP 10.244.0.142 is in use\n"
            "Attributes:\n"
            "  namespace: kube-system\n"
            "  node: a1\n"
            "  pod: coredns-76f75df574-fsxvc\n"
            "  timestamp: 2024-12-14 21:44:05.795537491 +0000 UTC\n");
}

// The seed's lab: pool 192.168.0.0/16 (blockSize 26), IPIP tunnel addresses first, then the
// pods in the order they were created; default/tmp was deleted again.
Ipam lab() {
  Ipam ipam;
  EXPECT_TRUE(ipam.add_pool(IpPool{}));
  const auto pod = [&](std::string_view node, std::string_view ns, std::string_view name) {
    EXPECT_TRUE(ipam.auto_assign(pod_assign_args(node, ns, name, name)).has_value());
  };
  EXPECT_TRUE(ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, "user-controller")));
  pod("user-controller", "kube-system", "coredns-64897985d-vbpn4");
  pod("user-controller", "kube-system", "calico-kube-controllers-56fcbf9d6b-nlqg2");
  pod("user-controller", "kube-system", "coredns-64897985d-jgj5s");
  pod("user-controller", "default", "tmp");
  EXPECT_EQ(ipam.release_by_handle(pod_handle("tmp")), 1u);
  pod("user-controller", "default", "hi");
  EXPECT_TRUE(ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, "user-worker")));
  pod("user-worker", "default", "hello-776c774f98-894tt");
  return ipam;
}

TEST(IpamViews, LabShow) {
  const Ipam ipam = lab();
  EXPECT_EQ(calicoctl_ipam_show(ipam),
            "+----------+----------------+-----------+------------+--------------+\n"
            "| GROUPING |      CIDR      | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+----------------+-----------+------------+--------------+\n"
            "| IP Pool  | 192.168.0.0/16 |     65536 | 7 (0%)     | 65529 (100%) |\n"
            "+----------+----------------+-----------+------------+--------------+\n");
  EXPECT_EQ(calicoctl_ipam_show(ipam, true),
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| GROUPING |        CIDR        | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 192.168.0.0/16     |     65536 | 7 (0%)     | 65529 (100%) |\n"
            "| Block    | 192.168.136.0/26   |        64 | 5 (8%)     | 59 (92%)     |\n"
            "| Block    | 192.168.153.192/26 |        64 | 2 (3%)     | 62 (97%)     |\n"
            "+----------+--------------------+-----------+------------+--------------+\n");
}

TEST(IpamViews, LabShowIp) {
  const Ipam ipam = lab();
  EXPECT_EQ(calicoctl_ipam_show_ip(ipam, addr("192.168.136.5")),
            "IP 192.168.136.5 is in use\n"
            "Attributes:\n"
            "  namespace: default\n"
            "  node: user-controller\n"
            "  pod: hi\n");
  EXPECT_EQ(calicoctl_ipam_show_ip(ipam, addr("192.168.153.192")),
            "IP 192.168.153.192 is in use\n"
            "Attributes:\n"
            "  node: user-worker\n"
            "  type: ipipTunnelAddress\n");
  // The deleted pod's address, an unclaimed block, and an address outside every pool.
  EXPECT_EQ(calicoctl_ipam_show_ip(ipam, addr("192.168.136.4")), "192.168.136.4 is not assigned\n");
  EXPECT_EQ(calicoctl_ipam_show_ip(ipam, addr("192.168.7.7")), "192.168.7.7 is not assigned\n");
  EXPECT_EQ(calicoctl_ipam_show_ip(ipam, addr("10.0.0.1")), "10.0.0.1 is not assigned\n");
}

TEST(IpamViews, LabShowBorrowedIsEmpty) {
  const Ipam ipam = lab();
  EXPECT_EQ(calicoctl_ipam_show_borrowed(ipam),
            "+----+----------------+-------+-------------+------+--------------+\n"
            "| IP | BORROWING-NODE | BLOCK | BLOCK OWNER | TYPE | ALLOCATED-TO |\n"
            "+----+----------------+-------+-------------+------+--------------+\n"
            "+----+----------------+-------+-------------+------+--------------+\n");
}

// The layout of Calico's documentation example (calicoctl ipam show --show-borrowed, v3.24
// docs): block 172.16.0.0/29 owned by worker-node-2, two pods borrowed by other nodes. (The
// docs print BORROWING-NODE one column wider than any of its cells; calicoctl's code cannot,
// so the docs were edited by hand. This follows the code.)
TEST(IpamViews, ShowBorrowed) {
  Ipam ipam;
  ASSERT_TRUE(ipam.add_pool(pool("172.16.0.0/28", 29)));
  ASSERT_TRUE(ipam.assign_ip({addr("172.16.0.0"),
                              "worker-node-2",
                              "h0",
                              {{"node", "worker-node-2"}, {"type", "ipipTunnelAddress"}},
                              std::nullopt}));
  const auto borrow = [&](const char* ip, const char* node, const char* pod) {
    auto r = ipam.assign_ip({addr(ip),
                             node,
                             std::string("h-") + pod,
                             {{"namespace", "external-ns"}, {"node", node}, {"pod", pod}},
                             IpPoolUse::kWorkload});
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->borrowed);
  };
  borrow("172.16.0.1", "worker-node-1", "nginx-6db489d4b7-gln7h");
  borrow("172.16.0.2", "worker-node-3", "nginx-6db489d4b7-kzkbv");
  // clang-format off
  EXPECT_EQ(calicoctl_ipam_show_borrowed(ipam),
            "+------------+----------------+---------------+---------------+------+------------------------------------+\n"
            "|     IP     | BORROWING-NODE |     BLOCK     |  BLOCK OWNER  | TYPE |            ALLOCATED-TO            |\n"
            "+------------+----------------+---------------+---------------+------+------------------------------------+\n"
            "| 172.16.0.1 | worker-node-1  | 172.16.0.0/29 | worker-node-2 | pod  | external-ns/nginx-6db489d4b7-gln7h |\n"
            "| 172.16.0.2 | worker-node-3  | 172.16.0.0/29 | worker-node-2 | pod  | external-ns/nginx-6db489d4b7-kzkbv |\n"
            "+------------+----------------+---------------+---------------+------+------------------------------------+\n");
  // clang-format on
  // An allocation without a node attribute cannot be classified.
  ASSERT_TRUE(ipam.assign_ip({addr("172.16.0.3"), "worker-node-2", "old", {}, std::nullopt}));
  const std::string out = calicoctl_ipam_show_borrowed(ipam);
  EXPECT_NE(out.find("\nNote: found 1 IP allocations without an explicit node association. "
                     "Unable to determine if they are borrowed.\n"),
            std::string::npos)
      << out;
}

// A borrowed tunnel address shows its type and no ALLOCATED-TO.
TEST(IpamViews, ShowBorrowedTunnel) {
  Ipam ipam;
  ASSERT_TRUE(ipam.add_pool(pool("10.0.0.0/26", 26)));
  ASSERT_TRUE(ipam.auto_assign(pod_assign_args("n1", "ns", "p", "p")));
  ASSERT_TRUE(ipam.auto_assign(tunnel_assign_args(TunnelType::kVxlan, "n2")));  // borrows
  // clang-format off
  EXPECT_EQ(calicoctl_ipam_show_borrowed(ipam),
            "+----------+----------------+-------------+-------------+--------------------+--------------+\n"
            "|    IP    | BORROWING-NODE |    BLOCK    | BLOCK OWNER |        TYPE        | ALLOCATED-TO |\n"
            "+----------+----------------+-------------+-------------+--------------------+--------------+\n"
            "| 10.0.0.1 | n2             | 10.0.0.0/26 | n1          | vxlanTunnelAddress |              |\n"
            "+----------+----------------+-------------+-------------+--------------------+--------------+\n");
  // clang-format on
}

// Numbers past five significant digits switch to %g's exponent form and, no longer matching
// tablewriter's decimal pattern, are left-aligned; a disabled pool still gets a row; blocks
// outside every pool are listed without a pool row.
TEST(IpamViews, LargePoolExponentAndOrphans) {
  Ipam ipam;
  IpPool big = pool("10.0.0.0/8", 26);
  big.name = "big";
  ASSERT_TRUE(ipam.add_pool(big));
  ASSERT_TRUE(ipam.auto_assign(pod_assign_args("n1", "ns", "p", "p")));
  IpPool off = pool("172.20.0.0/16", 26);
  off.name = "off";
  off.disabled = true;
  ASSERT_TRUE(ipam.add_pool(off));
  const std::string out = calicoctl_ipam_show(ipam);
  // clang-format off
  EXPECT_NE(out.find("| IP Pool  | 10.0.0.0/8    | 1.6777e+07 | 1 (0%)     | 1.6777e+07 (100%) |\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("| IP Pool  | 172.20.0.0/16 |      65536 | 0 (0%)     | 65536 (100%)      |\n"),
            std::string::npos)
      << out;
  // clang-format on
}

// tablewriter wraps a cell wider than 30 columns at spaces (minimal raggedness), keeps the
// column 30 wide, and pads the row's other cells with blank lines. `calicoctl node status` output
// quoted from a public Kubernetes install note (the case of Calico issue #2255).
TEST(IpamViews, TablewriterWrapsLongCellsAsCalicoctlPrints) {
  const std::vector<std::string> header = {"PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"};
  const std::vector<std::vector<std::string>> rows = {
      {"192.168.7.101", "node-to-node mesh", "up", "01:47:42", "Established"},
      {"192.168.7.102", "node-to-node mesh", "start", "01:47:41",
       "Active Socket: Host is unreachable"},
      {"192.168.7.110", "node-to-node mesh", "up", "01:48:17", "Established"}};
  // clang-format off
  EXPECT_EQ(render_tablewriter(header, rows),
            "+---------------+-------------------+-------+----------+--------------------------------+\n"
            "| PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |              INFO              |\n"
            "+---------------+-------------------+-------+----------+--------------------------------+\n"
            "| 192.168.7.101 | node-to-node mesh | up    | 01:47:42 | Established                    |\n"
            "| 192.168.7.102 | node-to-node mesh | start | 01:47:41 | Active Socket: Host is         |\n"
            "|               |                   |       |          | unreachable                    |\n"
            "| 192.168.7.110 | node-to-node mesh | up    | 01:48:17 | Established                    |\n"
            "+---------------+-------------------+-------+----------+--------------------------------+\n");
  // clang-format on
}

}  // namespace
}  // namespace calisim::calico
