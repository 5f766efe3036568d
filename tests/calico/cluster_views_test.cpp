// Every view of issue #5 on every example, as users type the commands (Cluster::command) and
// byte for byte as the tools print them: iproute2 6.1's `ip route` (BIRD's routes `proto bird`,
// IPIP ones `dev tunl0 ... onlink`, the node's own block a `blackhole`; Felix's VXLAN routes
// `dev vxlan.calico onlink` and its blackholes and same-subnet routes `proto 80`, the CNI's
// /32s `scope link`), calicoctl v3.28's `get` tables (Go tabwriter) and `node status` and
// `ipam show` (tablewriter). Then what each mode puts on the wire, read back with tshark.
//
// How the expectations were derived, beyond the code under test: the route shapes from real
// node tables (calico#8953 for IPIP, calico#7462 for a same-subnet BIRD route; felix
// vxlan_mgr.go and routetable/target.go for VXLAN: onlink on tunnel and no-encap targets, proto
// 80 only on blackholes and same-subnet routes); the kernel's dump order (fib_trie: by address,
// a /32 before the /26 with the same address); calicoctl's columns from resourcemgr/*.go; peers
// in bird.cfg order (mesh by host name, node-specific peers by address); a manifest install
// has no BGPConfiguration until one is applied, so `get bgpconfig` lists only the file's.

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scenario.hpp>

#include <gtest/gtest.h>

#include <string>

#include <unistd.h>

#include "calico/example_cluster.hpp"
#include "test_util.hpp"

namespace calisim::calico {
namespace {

using test::error_of;
using test::view;

using test::kExamples;

std::unique_ptr<Cluster> run(const std::string& file, const std::filesystem::path& dir = {}) {
  return test::run_example(file, dir);
}

TEST(ClusterViews, LabIpip) {
  auto c = run("lab-ipip.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(view(*c, "user-controller", "ip route"),
            "default via 10.0.2.2 dev enp0s3 proto dhcp metric 100 \n"
            "10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15 \n"
            "blackhole 192.168.136.0/26 proto bird \n"
            "192.168.136.1 dev calibc6c3028870 scope link \n"
            "192.168.136.2 dev calid6edae09645 scope link \n"
            "192.168.136.3 dev calic6bfd11bfbe scope link \n"
            "192.168.136.5 dev cali77d085837b5 scope link \n"
            "192.168.153.192/26 via 203.248.23.215 dev tunl0 proto bird onlink \n"
            "203.248.23.128/25 dev enp0s8 proto kernel scope link src 203.248.23.214 \n");
  EXPECT_EQ(view(*c, "user-worker", "ip route"),
            "default via 10.0.2.2 dev enp0s3 proto dhcp metric 100 \n"
            "10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15 \n"
            "192.168.136.0/26 via 203.248.23.214 dev tunl0 proto bird onlink \n"
            "blackhole 192.168.153.192/26 proto bird \n"
            "192.168.153.193 dev cali21c68c06609 scope link \n"
            "203.248.23.128/25 dev enp0s8 proto kernel scope link src 203.248.23.215 \n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get ippool -o wide"),
            "NAME                  CIDR             NAT    IPIPMODE   VXLANMODE   DISABLED   "
            "DISABLEBGPEXPORT   SELECTOR   \n"
            "default-ipv4-ippool   192.168.0.0/16   true   Always     Never       false      false "
            "             all()      \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get node -o wide"),
            "NAME              ASN       IPV4                IPV6   \n"
            "user-controller   (64512)   203.248.23.214/25          \n"
            "user-worker       (64512)   203.248.23.215/25          \n"
            "\n");
  EXPECT_EQ(view(*c, "user-worker", "calicoctl node status"),
            "Calico process is running.\n"
            "\n"
            "IPv4 BGP status\n"
            "+----------------+-------------------+-------+----------+-------------+\n"
            "|  PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |    INFO     |\n"
            "+----------------+-------------------+-------+----------+-------------+\n"
            "| 203.248.23.214 | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "+----------------+-------------------+-------+----------+-------------+\n"
            "\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get bgppeer"),
            "NAME   PEERIP   NODE   ASN   \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get bgpconfig"),
            "NAME   LOGSEVERITY   MESHENABLED   ASNUMBER   \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl ipam show --show-blocks"),
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| GROUPING |        CIDR        | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 192.168.0.0/16     |     65536 | 7 (0%)     | 65529 (100%) |\n"
            "| Block    | 192.168.136.0/26   |        64 | 5 (8%)     | 59 (92%)     |\n"
            "| Block    | 192.168.153.192/26 |        64 | 2 (3%)     | 62 (97%)     |\n"
            "+----------+--------------------+-----------+------------+--------------+\n");
}

TEST(ClusterViews, VxlanAlways) {
  auto c = run("vxlan-always.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(view(*c, "node-1", "ip route"),
            "default via 10.0.0.1 dev eth0 proto dhcp metric 100 \n"
            "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.11 \n"
            "blackhole 10.244.84.128/26 proto 80 \n"
            "10.244.139.64/26 via 10.244.139.64 dev vxlan.calico onlink \n"
            "10.244.247.0/26 via 10.244.247.0 dev vxlan.calico onlink \n");
  EXPECT_EQ(view(*c, "node-2", "ip route"),
            "default via 10.0.0.1 dev eth0 proto dhcp metric 100 \n"
            "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.12 \n"
            "10.244.84.128/26 via 10.244.84.128 dev vxlan.calico onlink \n"
            "10.244.139.64/26 via 10.244.139.64 dev vxlan.calico onlink \n"
            "blackhole 10.244.247.0/26 proto 80 \n"
            "10.244.247.1 dev calia7a3e029a7b scope link \n"
            "10.244.247.2 dev caliab21f928176 scope link \n"
            "10.244.247.3 dev calib8ac4ba9d3e scope link \n");
  EXPECT_EQ(view(*c, "node-1", "calicoctl get ippool -o wide"),
            "NAME         CIDR            NAT    IPIPMODE   VXLANMODE   DISABLED   "
            "DISABLEBGPEXPORT   SELECTOR   \n"
            "vxlan-pool   10.244.0.0/16   true   Never      Always      false      false           "
            "   all()      \n"
            "\n");
  EXPECT_EQ(view(*c, "node-1", "calicoctl get node -o wide"),
            "NAME     ASN       IPV4           IPV6   \n"
            "node-1   (64512)   10.0.0.11/24          \n"
            "node-2   (64512)   10.0.0.12/24          \n"
            "node-3   (64512)   10.0.0.13/24          \n"
            "\n");
  EXPECT_EQ(view(*c, "node-2", "calicoctl node status"),
            "Calico process is running.\n"
            "\n"
            "The BGP backend process (BIRD) is not running.\n"
            "\n");
  EXPECT_EQ(view(*c, "node-1", "calicoctl get bgpconfig"),
            "NAME   LOGSEVERITY   MESHENABLED   ASNUMBER   \n"
            "\n");
  EXPECT_EQ(view(*c, "node-1", "calicoctl ipam show --show-blocks"),
            "+----------+------------------+-----------+------------+--------------+\n"
            "| GROUPING |       CIDR       | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 10.244.0.0/16    |     65536 | 8 (0%)     | 65528 (100%) |\n"
            "| Block    | 10.244.139.64/26 |        64 | 3 (5%)     | 61 (95%)     |\n"
            "| Block    | 10.244.247.0/26  |        64 | 4 (6%)     | 60 (94%)     |\n"
            "| Block    | 10.244.84.128/26 |        64 | 1 (2%)     | 63 (98%)     |\n"
            "+----------+------------------+-----------+------------+--------------+\n");
  // No BIRD with CALICO_NETWORKING_BACKEND=vxlan: nothing originates blocks, no session.
  EXPECT_EQ(view(*c, "node-3", "ip route").find("proto bird"), std::string::npos);
}

TEST(ClusterViews, IpipCrossSubnet) {
  auto c = run("ipip-crosssubnet.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(view(*c, "a1", "ip route"),
            "default via 10.10.1.1 dev eth0 proto dhcp metric 100 \n"
            "10.10.1.0/24 dev eth0 proto kernel scope link src 10.10.1.11 \n"
            "192.168.15.128/26 via 10.10.2.12 dev tunl0 proto bird onlink \n"
            "192.168.78.192/26 via 10.10.1.12 dev eth0 proto bird \n"
            "192.168.80.128/26 via 10.10.2.11 dev tunl0 proto bird onlink \n"
            "blackhole 192.168.141.128/26 proto bird \n"
            "192.168.141.129 dev cali6bddc8fd68a scope link \n");
  EXPECT_EQ(view(*c, "b1", "ip route"),
            "default via 10.10.2.1 dev eth0 proto dhcp metric 100 \n"
            "10.10.2.0/24 dev eth0 proto kernel scope link src 10.10.2.11 \n"
            "192.168.15.128/26 via 10.10.2.12 dev eth0 proto bird \n"
            "192.168.78.192/26 via 10.10.1.12 dev tunl0 proto bird onlink \n"
            "blackhole 192.168.80.128/26 proto bird \n"
            "192.168.80.129 dev cali85788d6691c scope link \n"
            "192.168.141.128/26 via 10.10.1.11 dev tunl0 proto bird onlink \n");
  EXPECT_EQ(view(*c, "a1", "calicoctl get ippool -o wide"),
            "NAME               CIDR             NAT    IPIPMODE      VXLANMODE   DISABLED   "
            "DISABLEBGPEXPORT   SELECTOR   \n"
            "crosssubnet-pool   192.168.0.0/16   true   CrossSubnet   Never       false      false "
            "             all()      \n"
            "\n");
  EXPECT_EQ(view(*c, "a1", "calicoctl get node -o wide"),
            "NAME   ASN       IPV4            IPV6   \n"
            "a1     (64512)   10.10.1.11/24          \n"
            "a2     (64512)   10.10.1.12/24          \n"
            "b1     (64512)   10.10.2.11/24          \n"
            "b2     (64512)   10.10.2.12/24          \n"
            "\n");
  EXPECT_EQ(view(*c, "a1", "calicoctl node status"),
            "Calico process is running.\n"
            "\n"
            "IPv4 BGP status\n"
            "+--------------+-------------------+-------+----------+-------------+\n"
            "| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |\n"
            "+--------------+-------------------+-------+----------+-------------+\n"
            "| 10.10.1.12   | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "| 10.10.2.11   | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "| 10.10.2.12   | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "+--------------+-------------------+-------+----------+-------------+\n"
            "\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n"
            "\n");
  EXPECT_EQ(view(*c, "a1", "calicoctl get bgpconfig"),
            "NAME   LOGSEVERITY   MESHENABLED   ASNUMBER   \n"
            "\n");
  EXPECT_EQ(view(*c, "a1", "calicoctl ipam show --show-blocks"),
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| GROUPING |        CIDR        | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 192.168.0.0/16     |     65536 | 8 (0%)     | 65528 (100%) |\n"
            "| Block    | 192.168.141.128/26 |        64 | 2 (3%)     | 62 (97%)     |\n"
            "| Block    | 192.168.15.128/26  |        64 | 2 (3%)     | 62 (97%)     |\n"
            "| Block    | 192.168.78.192/26  |        64 | 2 (3%)     | 62 (97%)     |\n"
            "| Block    | 192.168.80.128/26  |        64 | 2 (3%)     | 62 (97%)     |\n"
            "+----------+--------------------+-----------+------------+--------------+\n");
}

TEST(ClusterViews, VxlanCrossSubnet) {
  auto c = run("vxlan-crosssubnet.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(view(*c, "a1", "ip route"),
            "default via 10.10.1.1 dev eth0 proto dhcp metric 100 \n"
            "10.10.1.0/24 dev eth0 proto kernel scope link src 10.10.1.11 \n"
            "192.168.15.128/26 via 192.168.15.128 dev vxlan.calico onlink \n"
            "192.168.78.192/26 via 10.10.1.12 dev eth0 proto 80 onlink \n"
            "192.168.80.128/26 via 192.168.80.128 dev vxlan.calico onlink \n"
            "blackhole 192.168.141.128/26 proto 80 \n"
            "192.168.141.129 dev cali6bddc8fd68a scope link \n");
  EXPECT_EQ(view(*c, "b1", "ip route"),
            "default via 10.10.2.1 dev eth0 proto dhcp metric 100 \n"
            "10.10.2.0/24 dev eth0 proto kernel scope link src 10.10.2.11 \n"
            "192.168.15.128/26 via 10.10.2.12 dev eth0 proto 80 onlink \n"
            "192.168.78.192/26 via 192.168.78.192 dev vxlan.calico onlink \n"
            "blackhole 192.168.80.128/26 proto 80 \n"
            "192.168.80.129 dev cali85788d6691c scope link \n"
            "192.168.141.128/26 via 192.168.141.128 dev vxlan.calico onlink \n");
  EXPECT_EQ(view(*c, "a1", "calicoctl get ippool -o wide"),
            "NAME                     CIDR             NAT    IPIPMODE   VXLANMODE     DISABLED   "
            "DISABLEBGPEXPORT   SELECTOR   \n"
            "vxlan-crosssubnet-pool   192.168.0.0/16   true   Never      CrossSubnet   false      "
            "false              all()      \n"
            "\n");
  EXPECT_EQ(view(*c, "a1", "calicoctl get node -o wide"),
            "NAME   ASN       IPV4            IPV6   \n"
            "a1     (64512)   10.10.1.11/24          \n"
            "a2     (64512)   10.10.1.12/24          \n"
            "b1     (64512)   10.10.2.11/24          \n"
            "b2     (64512)   10.10.2.12/24          \n"
            "\n");
  EXPECT_EQ(view(*c, "b2", "calicoctl node status"),
            "Calico process is running.\n"
            "\n"
            "IPv4 BGP status\n"
            "+--------------+-------------------+-------+----------+-------------+\n"
            "| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |\n"
            "+--------------+-------------------+-------+----------+-------------+\n"
            "| 10.10.1.11   | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "| 10.10.1.12   | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "| 10.10.2.11   | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "+--------------+-------------------+-------+----------+-------------+\n"
            "\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n"
            "\n");
  EXPECT_EQ(view(*c, "a1", "calicoctl get bgpconfig"),
            "NAME   LOGSEVERITY   MESHENABLED   ASNUMBER   \n"
            "\n");
  EXPECT_EQ(view(*c, "a1", "calicoctl ipam show --show-blocks"),
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| GROUPING |        CIDR        | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 192.168.0.0/16     |     65536 | 8 (0%)     | 65528 (100%) |\n"
            "| Block    | 192.168.141.128/26 |        64 | 2 (3%)     | 62 (97%)     |\n"
            "| Block    | 192.168.15.128/26  |        64 | 2 (3%)     | 62 (97%)     |\n"
            "| Block    | 192.168.78.192/26  |        64 | 2 (3%)     | 62 (97%)     |\n"
            "| Block    | 192.168.80.128/26  |        64 | 2 (3%)     | 62 (97%)     |\n"
            "+----------+--------------------+-----------+------------+--------------+\n");
}

TEST(ClusterViews, NoEncap) {
  auto c = run("no-encap.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(view(*c, "cp-1", "ip route"),
            "default via 172.31.0.1 dev eth0 proto dhcp metric 100 \n"
            "10.48.133.192/26 via 172.31.0.22 dev eth0 proto bird \n"
            "10.48.226.64/26 via 172.31.0.21 dev eth0 proto bird \n"
            "172.31.0.0/24 dev eth0 proto kernel scope link src 172.31.0.10 \n");
  EXPECT_EQ(view(*c, "worker-1", "ip route"),
            "default via 172.31.0.1 dev eth0 proto dhcp metric 100 \n"
            "10.48.133.192/26 via 172.31.0.22 dev eth0 proto bird \n"
            "10.48.226.64 dev caliacd53aa4120 scope link \n"
            "blackhole 10.48.226.64/26 proto bird \n"
            "172.31.0.0/24 dev eth0 proto kernel scope link src 172.31.0.21 \n");
  EXPECT_EQ(view(*c, "worker-2", "ip route"),
            "default via 172.31.0.1 dev eth0 proto dhcp metric 100 \n"
            "10.48.133.192 dev califf6fc35a693 scope link \n"
            "blackhole 10.48.133.192/26 proto bird \n"
            "10.48.226.64/26 via 172.31.0.21 dev eth0 proto bird \n"
            "172.31.0.0/24 dev eth0 proto kernel scope link src 172.31.0.22 \n");
  EXPECT_EQ(view(*c, "cp-1", "calicoctl get ippool -o wide"),
            "NAME            CIDR           NAT    IPIPMODE   VXLANMODE   DISABLED   "
            "DISABLEBGPEXPORT   SELECTOR   \n"
            "no-encap-pool   10.48.0.0/16   true   Never      Never       false      false         "
            "     all()      \n"
            "\n");
  EXPECT_EQ(view(*c, "cp-1", "calicoctl get node -o wide"),
            "NAME       ASN       IPV4             IPV6   \n"
            "cp-1       (64512)   172.31.0.10/24          \n"
            "worker-1   (64512)   172.31.0.21/24          \n"
            "worker-2   (64512)   172.31.0.22/24          \n"
            "\n");
  EXPECT_EQ(view(*c, "cp-1", "calicoctl node status"),
            "Calico process is running.\n"
            "\n"
            "IPv4 BGP status\n"
            "+--------------+-------------------+-------+----------+-------------+\n"
            "| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |\n"
            "+--------------+-------------------+-------+----------+-------------+\n"
            "| 172.31.0.21  | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "| 172.31.0.22  | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "+--------------+-------------------+-------+----------+-------------+\n"
            "\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n"
            "\n");
  EXPECT_EQ(view(*c, "cp-1", "calicoctl get bgpconfig"),
            "NAME      LOGSEVERITY   MESHENABLED   ASNUMBER   \n"
            "default   Info          true          64512      \n"
            "\n");
  EXPECT_EQ(view(*c, "cp-1", "calicoctl ipam show --show-blocks"),
            "+----------+------------------+-----------+------------+--------------+\n"
            "| GROUPING |       CIDR       | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 10.48.0.0/16     |     65536 | 2 (0%)     | 65534 (100%) |\n"
            "| Block    | 10.48.133.192/26 |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 10.48.226.64/26  |        64 | 1 (2%)     | 63 (98%)     |\n"
            "+----------+------------------+-----------+------------+--------------+\n");
}

TEST(ClusterViews, RouteReflectors) {
  auto c = run("route-reflectors.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(view(*c, "node-05", "ip route"),
            "default via 10.20.0.1 dev eth0 proto dhcp metric 100 \n"
            "10.20.0.0/24 dev eth0 proto kernel scope link src 10.20.0.15 \n"
            "192.168.32.128/26 via 10.20.0.19 dev tunl0 proto bird onlink \n"
            "192.168.35.64/26 via 10.20.0.20 dev tunl0 proto bird onlink \n"
            "192.168.45.64/26 via 10.20.0.23 dev tunl0 proto bird onlink \n"
            "192.168.89.0/26 via 10.20.0.26 dev tunl0 proto bird onlink \n"
            "192.168.104.128/26 via 10.20.0.24 dev tunl0 proto bird onlink \n"
            "192.168.149.0/26 via 10.20.0.17 dev tunl0 proto bird onlink \n"
            "192.168.149.64/26 via 10.20.0.27 dev tunl0 proto bird onlink \n"
            "192.168.164.64/26 via 10.20.0.30 dev tunl0 proto bird onlink \n"
            "192.168.167.128/26 via 10.20.0.22 dev tunl0 proto bird onlink \n"
            "192.168.169.192/26 via 10.20.0.25 dev tunl0 proto bird onlink \n"
            "blackhole 192.168.173.192/26 proto bird \n"
            "192.168.173.193 dev cali0dd41a58934 scope link \n"
            "192.168.184.0/26 via 10.20.0.12 dev tunl0 proto bird onlink \n"
            "192.168.190.0/26 via 10.20.0.11 dev tunl0 proto bird onlink \n"
            "192.168.197.128/26 via 10.20.0.29 dev tunl0 proto bird onlink \n"
            "192.168.216.192/26 via 10.20.0.16 dev tunl0 proto bird onlink \n"
            "192.168.221.192/26 via 10.20.0.28 dev tunl0 proto bird onlink \n"
            "192.168.227.0/26 via 10.20.0.14 dev tunl0 proto bird onlink \n"
            "192.168.231.64/26 via 10.20.0.21 dev tunl0 proto bird onlink \n"
            "192.168.251.192/26 via 10.20.0.18 dev tunl0 proto bird onlink \n"
            "192.168.254.64/26 via 10.20.0.13 dev tunl0 proto bird onlink \n");
  EXPECT_EQ(view(*c, "node-02", "ip route"),
            "default via 10.20.0.1 dev eth0 proto dhcp metric 100 \n"
            "10.20.0.0/24 dev eth0 proto kernel scope link src 10.20.0.12 \n"
            "192.168.32.128/26 via 10.20.0.19 dev tunl0 proto bird onlink \n"
            "192.168.35.64/26 via 10.20.0.20 dev tunl0 proto bird onlink \n"
            "192.168.45.64/26 via 10.20.0.23 dev tunl0 proto bird onlink \n"
            "192.168.89.0/26 via 10.20.0.26 dev tunl0 proto bird onlink \n"
            "192.168.104.128/26 via 10.20.0.24 dev tunl0 proto bird onlink \n"
            "192.168.149.0/26 via 10.20.0.17 dev tunl0 proto bird onlink \n"
            "192.168.149.64/26 via 10.20.0.27 dev tunl0 proto bird onlink \n"
            "192.168.164.64/26 via 10.20.0.30 dev tunl0 proto bird onlink \n"
            "192.168.167.128/26 via 10.20.0.22 dev tunl0 proto bird onlink \n"
            "192.168.169.192/26 via 10.20.0.25 dev tunl0 proto bird onlink \n"
            "192.168.173.192/26 via 10.20.0.15 dev tunl0 proto bird onlink \n"
            "blackhole 192.168.184.0/26 proto bird \n"
            "192.168.190.0/26 via 10.20.0.11 dev tunl0 proto bird onlink \n"
            "192.168.197.128/26 via 10.20.0.29 dev tunl0 proto bird onlink \n"
            "192.168.216.192/26 via 10.20.0.16 dev tunl0 proto bird onlink \n"
            "192.168.221.192/26 via 10.20.0.28 dev tunl0 proto bird onlink \n"
            "192.168.227.0/26 via 10.20.0.14 dev tunl0 proto bird onlink \n"
            "192.168.231.64/26 via 10.20.0.21 dev tunl0 proto bird onlink \n"
            "192.168.251.192/26 via 10.20.0.18 dev tunl0 proto bird onlink \n"
            "192.168.254.64/26 via 10.20.0.13 dev tunl0 proto bird onlink \n");
  EXPECT_EQ(view(*c, "node-01", "calicoctl get ippool -o wide"),
            "NAME                  CIDR             NAT    IPIPMODE   VXLANMODE   DISABLED   "
            "DISABLEBGPEXPORT   SELECTOR   \n"
            "default-ipv4-ippool   192.168.0.0/16   true   Always     Never       false      false "
            "             all()      \n"
            "\n");
  EXPECT_EQ(view(*c, "node-01", "calicoctl get node -o wide"),
            "NAME      ASN       IPV4            IPV6   \n"
            "node-01   (64512)   10.20.0.11/24          \n"
            "node-02   (64512)   10.20.0.12/24          \n"
            "node-03   (64512)   10.20.0.13/24          \n"
            "node-04   (64512)   10.20.0.14/24          \n"
            "node-05   (64512)   10.20.0.15/24          \n"
            "node-06   (64512)   10.20.0.16/24          \n"
            "node-07   (64512)   10.20.0.17/24          \n"
            "node-08   (64512)   10.20.0.18/24          \n"
            "node-09   (64512)   10.20.0.19/24          \n"
            "node-10   (64512)   10.20.0.20/24          \n"
            "node-11   (64512)   10.20.0.21/24          \n"
            "node-12   (64512)   10.20.0.22/24          \n"
            "node-13   (64512)   10.20.0.23/24          \n"
            "node-14   (64512)   10.20.0.24/24          \n"
            "node-15   (64512)   10.20.0.25/24          \n"
            "node-16   (64512)   10.20.0.26/24          \n"
            "node-17   (64512)   10.20.0.27/24          \n"
            "node-18   (64512)   10.20.0.28/24          \n"
            "node-19   (64512)   10.20.0.29/24          \n"
            "node-20   (64512)   10.20.0.30/24          \n"
            "\n");
  EXPECT_EQ(view(*c, "node-05", "calicoctl node status"),
            "Calico process is running.\n"
            "\n"
            "IPv4 BGP status\n"
            "+--------------+---------------+-------+----------+-------------+\n"
            "| PEER ADDRESS |   PEER TYPE   | STATE |  SINCE   |    INFO     |\n"
            "+--------------+---------------+-------+----------+-------------+\n"
            "| 10.20.0.12   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.13   | node specific | up    | 00:00:01 | Established |\n"
            "+--------------+---------------+-------+----------+-------------+\n"
            "\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n"
            "\n");
  EXPECT_EQ(view(*c, "node-02", "calicoctl node status"),
            "Calico process is running.\n"
            "\n"
            "IPv4 BGP status\n"
            "+--------------+---------------+-------+----------+-------------+\n"
            "| PEER ADDRESS |   PEER TYPE   | STATE |  SINCE   |    INFO     |\n"
            "+--------------+---------------+-------+----------+-------------+\n"
            "| 10.20.0.11   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.13   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.14   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.15   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.16   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.17   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.18   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.19   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.20   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.21   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.22   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.23   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.24   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.25   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.26   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.27   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.28   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.29   | node specific | up    | 00:00:01 | Established |\n"
            "| 10.20.0.30   | node specific | up    | 00:00:01 | Established |\n"
            "+--------------+---------------+-------+----------+-------------+\n"
            "\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n"
            "\n");
  EXPECT_EQ(view(*c, "node-01", "calicoctl get bgppeer"),
            "NAME                         PEERIP   NODE    ASN   \n"
            "peer-with-route-reflectors            all()   0     \n"
            "\n");
  EXPECT_EQ(view(*c, "node-01", "calicoctl get bgpconfig"),
            "NAME      LOGSEVERITY   MESHENABLED   ASNUMBER   \n"
            "default                 false         64512      \n"
            "\n");
  EXPECT_EQ(view(*c, "node-01", "calicoctl ipam show --show-blocks"),
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| GROUPING |        CIDR        | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 192.168.0.0/16     |     65536 | 23 (0%)    | 65513 (100%) |\n"
            "| Block    | 192.168.104.128/26 |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.149.0/26   |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.149.64/26  |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.164.64/26  |        64 | 2 (3%)     | 62 (97%)     |\n"
            "| Block    | 192.168.167.128/26 |        64 | 2 (3%)     | 62 (97%)     |\n"
            "| Block    | 192.168.169.192/26 |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.173.192/26 |        64 | 2 (3%)     | 62 (97%)     |\n"
            "| Block    | 192.168.184.0/26   |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.190.0/26   |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.197.128/26 |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.216.192/26 |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.221.192/26 |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.227.0/26   |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.231.64/26  |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.251.192/26 |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.254.64/26  |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.32.128/26  |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.35.64/26   |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.45.64/26   |        64 | 1 (2%)     | 63 (98%)     |\n"
            "| Block    | 192.168.89.0/26    |        64 | 1 (2%)     | 63 (98%)     |\n"
            "+----------+--------------------+-----------+------------+--------------+\n");
}

TEST(ClusterViews, LabWrongAutodetect) {
  // Both nodes detect 10.0.2.15/24 (the NAT side); the worker's calico/node finds the
  // controller already using it and terminates: no spec.bgp for the worker (empty ASN and
  // IPV4), no BIRD and no Felix there (no tunl0, no tunnel address, so the worker's pod gets the
  // block's first address), and the controller has no peer.
  auto c = run("lab-wrong-autodetect.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(view(*c, "user-controller", "ip route"),
            "default via 10.0.2.2 dev enp0s3 proto dhcp metric 100 \n"
            "10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15 \n"
            "blackhole 192.168.136.0/26 proto bird \n"
            "192.168.136.1 dev calibc6c3028870 scope link \n"
            "192.168.136.2 dev calid6edae09645 scope link \n"
            "192.168.136.3 dev calic6bfd11bfbe scope link \n"
            "192.168.136.5 dev cali77d085837b5 scope link \n"
            "203.248.23.128/25 dev enp0s8 proto kernel scope link src 203.248.23.214 \n");
  EXPECT_EQ(view(*c, "user-worker", "ip route"),
            "default via 10.0.2.2 dev enp0s3 proto dhcp metric 100 \n"
            "10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15 \n"
            "192.168.153.192 dev cali21c68c06609 scope link \n"
            "203.248.23.128/25 dev enp0s8 proto kernel scope link src 203.248.23.215 \n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get ippool -o wide"),
            "NAME                  CIDR             NAT    IPIPMODE   VXLANMODE   DISABLED   "
            "DISABLEBGPEXPORT   SELECTOR   \n"
            "default-ipv4-ippool   192.168.0.0/16   true   Always     Never       false      false "
            "             all()      \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get node -o wide"),
            "NAME              ASN       IPV4           IPV6   \n"
            "user-controller   (64512)   10.0.2.15/24          \n"
            "user-worker                                       \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl node status"),
            "Calico process is running.\n"
            "\n"
            "IPv4 BGP status\n"
            "No IPv4 peers found.\n"
            "\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n"
            "\n");
  EXPECT_EQ(view(*c, "user-worker", "calicoctl node status"), "Calico process is not running.\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get bgppeer"),
            "NAME   PEERIP   NODE   ASN   \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get bgpconfig"),
            "NAME   LOGSEVERITY   MESHENABLED   ASNUMBER   \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl ipam show --show-blocks"),
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| GROUPING |        CIDR        | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 192.168.0.0/16     |     65536 | 6 (0%)     | 65530 (100%) |\n"
            "| Block    | 192.168.136.0/26   |        64 | 5 (8%)     | 59 (92%)     |\n"
            "| Block    | 192.168.153.192/26 |        64 | 1 (2%)     | 63 (98%)     |\n"
            "+----------+--------------------+-----------+------------+--------------+\n");
}

// ---- the words users type --------------------------------------------------------------------

TEST(ClusterCommand, FlagsInAnyOrderAliasesAndShortForms) {
  auto c = run("lab-ipip.yaml");
  ASSERT_NE(c, nullptr);
  const std::string wide = view(*c, "user-controller", "calicoctl get workloadendpoint -A -o wide");
  ASSERT_NE(wide.find("PROFILES"), std::string::npos) << wide;
  for (const char* same : {"calicoctl get wep -o wide -A", "calicoctl get -A weps --output=wide",
                           "calicoctl get WorkloadEndpoints --all-namespaces --output wide",
                           "calicoctl get -owide wep -A"}) {
    EXPECT_EQ(view(*c, "user-worker", same), wide) << same;
  }
  // Without -A or -n: the default namespace, no NAMESPACE column; -n picks one.
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get wep"),
            "WORKLOAD                 NODE              NETWORKS             INTERFACE         \n"
            "hello-776c774f98-894tt   user-worker       192.168.153.193/32   cali21c68c06609   \n"
            "hi                       user-controller   192.168.136.5/32     cali77d085837b5   \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get wep -n kube-system"),
            // Each table is as wide as its own rows: NETWORKS is narrower without the worker.
            "NAMESPACE     WORKLOAD                                   NODE              NETWORKS   "
            "        INTERFACE         \n"
            "kube-system   calico-kube-controllers-56fcbf9d6b-nlqg2   user-controller   "
            "192.168.136.2/32   calid6edae09645   \n"
            "kube-system   coredns-64897985d-jgj5s                    user-controller   "
            "192.168.136.3/32   calic6bfd11bfbe   \n"
            "kube-system   coredns-64897985d-vbpn4                    user-controller   "
            "192.168.136.1/32   calibc6c3028870   \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get ippools"),
            "NAME                  CIDR             SELECTOR   \n"
            "default-ipv4-ippool   192.168.0.0/16   all()      \n"
            "\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get nodes"),
            "NAME              \nuser-controller   \nuser-worker       \n\n");
  EXPECT_EQ(view(*c, "user-controller", "calicoctl get bgpconfiguration"),
            view(*c, "user-controller", "calicoctl get bgpconfig -o wide"));
  // iproute2 matches objects and verbs by prefix.
  const std::string routes = view(*c, "user-worker", "ip route");
  for (const char* same : {"ip r", "ip ro show", "ip route list", "ip -4 route show table main"}) {
    EXPECT_EQ(view(*c, "user-worker", same), routes) << same;
  }
  EXPECT_EQ(view(*c, "user-worker", "ip -br a"), view(*c, "user-worker", "ip -brief address show"));
  EXPECT_EQ(view(*c, "user-worker", "ip n"), view(*c, "user-worker", "ip neigh show"));
  EXPECT_EQ(view(*c, "user-worker", "ip ru"),
            "0:\tfrom all lookup local\n"
            "32766:\tfrom all lookup main\n"
            "32767:\tfrom all lookup default\n");
  // The local table: the addresses' own routes.
  EXPECT_NE(
      view(*c, "user-worker", "ip route show table local")
          .find("local 203.248.23.215 dev enp0s8 proto kernel scope host src 203.248.23.215 \n"),
      std::string::npos)
      << view(*c, "user-worker", "ip route show table local");
  // In a pod: the CNI's two routes.
  EXPECT_EQ(view(*c, "default/hi", "ip route"),
            "default via 169.254.1.1 dev eth0 \n169.254.1.1 dev eth0 scope link \n");
  // ipam show's other forms.
  EXPECT_EQ(view(*c, "user-controller", "calicoctl ipam show --ip=192.168.136.9"),
            "192.168.136.9 is not assigned\n");
  EXPECT_TRUE(view(*c, "user-controller", "calicoctl ipam show --ip 192.168.136.5")
                  .starts_with("IP 192.168.136.5 is in use\n"));
  EXPECT_EQ(view(*c, "user-controller", "calicoctl ipam show"),
            "+----------+----------------+-----------+------------+--------------+\n"
            "| GROUPING |      CIDR      | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+----------------+-----------+------------+--------------+\n"
            "| IP Pool  | 192.168.0.0/16 |     65536 | 7 (0%)     | 65529 (100%) |\n"
            "+----------+----------------+-----------+------------+--------------+\n");
  // The existing entry points agree with the dispatcher.
  EXPECT_EQ(view(*c, "user-controller", "route -n"), c->view("route -n", "user-controller"));
  EXPECT_EQ(view(*c, "user-controller", "calicoctl node status"),
            c->calicoctl_node_status("user-controller"));
}

TEST(ClusterCommand, ErrorsNameWhatWasWrong) {
  auto c = run("lab-ipip.yaml");
  ASSERT_NE(c, nullptr);
  const std::string unknown = error_of(*c, "user-worker", "netstat -rn");
  EXPECT_TRUE(unknown.starts_with("unknown command \"netstat -rn\"; calisim knows:\n")) << unknown;
  EXPECT_NE(unknown.find("  calicoctl get ippool|node|bgppeer|bgpconfig [-o wide]\n"),
            std::string::npos)
      << unknown;
  EXPECT_TRUE(unknown.ends_with("\n  route -n")) << unknown;
  EXPECT_EQ(error_of(*c, "user-wroker", "ip route"),
            "\"user-wroker\": no such node, router or running pod (a pod is namespace/name)");
  EXPECT_EQ(
      error_of(*c, "default/hi", "calicoctl node status"),
      "calicoctl node status: \"default/hi\" is not a node (it reads the node's BIRD socket)");
  EXPECT_EQ(error_of(*c, "user-worker", "calicoctl get ippool --wide"),
            "calicoctl get: unknown option \"--wide\" (it takes -o wide, -A, -n NAMESPACE)");
  EXPECT_EQ(error_of(*c, "user-worker", "calicoctl get ippool -A"),
            "calicoctl get ippool: the resource is not namespaced (-A and -n are for "
            "workloadendpoint)");
  EXPECT_EQ(error_of(*c, "user-worker", "calicoctl get wep -A -n default"),
            "calicoctl get: -A and -n cannot be used together");
  EXPECT_EQ(error_of(*c, "user-worker", "calicoctl get"),
            "calicoctl get: which resource? (ippool, node, bgppeer, bgpconfig, workloadendpoint)");
  EXPECT_EQ(error_of(*c, "user-worker", "calicoctl ipam show --ip=192.168.300.1"),
            "calicoctl ipam show: --ip=192.168.300.1: not an IPv4 address (calisim models IPv4 "
            "only)");
  EXPECT_EQ(error_of(*c, "user-worker", "calicoctl ipam show --show-block"),
            "calicoctl ipam show: unknown option \"--show-block\" (it takes --show-blocks, "
            "--show-borrowed, --show-configuration, --ip=IP)");
  EXPECT_EQ(error_of(*c, "user-worker", "ip addr"),
            "\"ip addr\": calisim prints addresses and links in the brief form only (ip -br addr)");
  EXPECT_EQ(error_of(*c, "user-worker", "ip route show table x"),
            "ip route: table \"x\" is not a table (main, local or a number 1..4294967295)");
  EXPECT_EQ(error_of(*c, "user-worker", "ip -s route"),
            "ip: option \"-s\" is not supported by calisim (it has -br and -4)");
  EXPECT_EQ(error_of(*c, "user-worker", "route"),
            "\"route\": calisim has `route -n` (without -n, route resolves names)");
  // The static check agrees, without a cluster.
  EXPECT_TRUE(Cluster::check_command("calicoctl get bgppeers -o wide").has_value());
  EXPECT_FALSE(Cluster::check_command("calicoctl get bgppeerz").has_value());
  EXPECT_FALSE(Cluster::check_command("").has_value());
}

// ---- what each mode puts on the wire -------------------------------------------------------

std::string tshark(const std::string& cap, const std::string& filter, const std::string& fields) {
  return test::run_command("tshark -r '" + cap + "' -Y '" + filter + "' " + fields +
                           " 2>/dev/null | sort -u")
      .out;
}

std::size_t tshark_count(const std::string& cap, const std::string& filter) {
  const auto r =
      test::run_command("tshark -r '" + cap + "' -Y '" + filter + "' 2>/dev/null | wc -l");
  return static_cast<std::size_t>(std::stoul(r.out));
}

void expect_clean(const std::string& cap) {
  EXPECT_EQ(tshark_count(cap,
                         "_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 "
                         "|| udp.checksum.status == 0 || tcp.checksum.status == 0 || "
                         "icmp.checksum.status == 0"),
            0u)
      << cap;
}

std::string ip_of(const Cluster& c, const char* pod) {
  const auto ip = c.pod_ip("default", pod);
  EXPECT_TRUE(ip.has_value()) << pod;
  return ip ? ip->to_string() : "";
}

constexpr const char* kFieldsSrcDst =
    "-T fields -e ip.src -e ip.dst -E occurrence=a -E aggregator=,";

TEST(ClusterWire, IpipCrossSubnetIsPlainInARackAndIpipAcrossTheRouter) {
  const auto dir = test::work_dir("views-ipip-cs-" + std::to_string(::getpid()));
  auto c = run("ipip-crosssubnet.yaml", dir);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->finish().has_value());
  const std::string cap = (dir / "capture.pcapng").string();
  expect_clean(cap);
  const std::string a1 = ip_of(*c, "app-a1"), a2 = ip_of(*c, "app-a2"), b1 = ip_of(*c, "app-b1"),
                    b2 = ip_of(*c, "app-b2");
  // a1 -> a2, same rack: the pods' own addresses on a2's NIC, no IPIP there at all.
  EXPECT_EQ(tshark(cap, "frame.interface_name == \"a2/eth0\" && icmp.type == 8", kFieldsSrcDst),
            a1 + "\t" + a2 + "\n");
  EXPECT_EQ(tshark_count(cap, "frame.interface_name == \"a2/eth0\" && ip.proto == 4"), 0u);
  // b1 -> b2, same rack: likewise, and it still flows while IPIP is blocked in rack-b.
  EXPECT_EQ(tshark(cap, "frame.interface_name == \"b2/eth0\" && icmp.type == 8", kFieldsSrcDst),
            b1 + "\t" + b2 + "\n");
  EXPECT_EQ(tshark_count(cap, "frame.interface_name == \"b2/eth0\" && ip.proto == 4"), 0u);
  // a1 -> b1, across the router: IPIP between the nodes, the pods inside, never bare.
  EXPECT_EQ(tshark(cap, "frame.interface_name == \"b1/eth0\" && ip.proto == 4 && icmp.type == 8",
                   kFieldsSrcDst),
            "10.10.1.11," + a1 + "\t10.10.2.11," + b1 + "\n");
  EXPECT_EQ(
      tshark_count(cap,
                   "icmp && ip.addr == " + a1 + " && ip.addr == " + b1 +
                       " && !(ip.proto == 4) && frame.interface_name matches \"^[^/]+/eth[0-9]$\""),
      0u);
  EXPECT_EQ(tshark(cap, "frame.interface_name == \"tor/eth1\" && icmp", "-T fields -e ip.proto"),
            "4,1\n");
}

TEST(ClusterWire, VxlanCrossSubnetIsPlainInARackAndVxlanAcrossTheRouter) {
  const auto dir = test::work_dir("views-vxlan-cs-" + std::to_string(::getpid()));
  auto c = run("vxlan-crosssubnet.yaml", dir);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->finish().has_value());
  const std::string cap = (dir / "capture.pcapng").string();
  expect_clean(cap);
  const std::string a1 = ip_of(*c, "app-a1"), a2 = ip_of(*c, "app-a2"), b1 = ip_of(*c, "app-b1"),
                    b2 = ip_of(*c, "app-b2");
  EXPECT_EQ(tshark(cap, "frame.interface_name == \"a2/eth0\" && icmp.type == 8", kFieldsSrcDst),
            a1 + "\t" + a2 + "\n");
  EXPECT_EQ(tshark_count(cap, "frame.interface_name == \"a2/eth0\" && udp.port == 4789"), 0u);
  EXPECT_EQ(tshark(cap, "frame.interface_name == \"b2/eth0\" && icmp.type == 8", kFieldsSrcDst),
            b1 + "\t" + b2 + "\n");
  EXPECT_EQ(tshark_count(cap, "frame.interface_name == \"b2/eth0\" && udp.port == 4789"), 0u);
  EXPECT_EQ(
      tshark_count(cap, "icmp && ip.addr == " + a1 + " && ip.addr == " + b1 +
                            " && !vxlan && frame.interface_name matches \"^[^/]+/eth[0-9]$\""),
      0u);
  EXPECT_EQ(tshark(cap, "frame.interface_name == \"b1/eth0\" && udp.port == 4789 && icmp.type == 8",
                   "-T fields -e ip.src -e ip.dst -e udp.dstport -e vxlan.vni -E occurrence=a "
                   "-E aggregator=,"),
            "10.10.1.11," + a1 + "\t10.10.2.11," + b1 + "\t4789\t4096\n");
}

TEST(ClusterWire, NoEncapCarriesPodAddressesAsTheyAre) {
  const auto dir = test::work_dir("views-no-encap-" + std::to_string(::getpid()));
  auto c = run("no-encap.yaml", dir);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->finish().has_value());
  const std::string cap = (dir / "capture.pcapng").string();
  expect_clean(cap);
  const std::string a = ip_of(*c, "a"), b = ip_of(*c, "b");
  // The pod's ping and the node's, on the receiving node's NIC, with their own addresses.
  EXPECT_EQ(
      tshark(cap, "frame.interface_name == \"worker-2/eth0\" && icmp.type == 8", kFieldsSrcDst),
      a + "\t" + b + "\n172.31.0.10\t" + b + "\n");
  EXPECT_EQ(tshark_count(cap, "ip.proto == 4 || udp.port == 4789"), 0u);
}

}  // namespace
}  // namespace calisim::calico
