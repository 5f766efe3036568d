// calicoctl views other than ipam. Where a real output is quoted, the expected text is that
// output verbatim (its source is named above the test); where the source trimmed trailing
// spaces (rendered docs), the comparison trims them too and says so. The lab tests use the
// lab's nodes and pods; their interface and endpoint names are written out literally
// (sha1 computed independently) and the rows are built with cni.hpp, so both are checked.

#include <calisim/calico/calicoctl_views.hpp>

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <calisim/calico/cni.hpp>

namespace calisim::calico::views {
namespace {

Time hms(int h, int m, int s) {
  return Time::from_ns((static_cast<std::int64_t>(h) * 3600 + m * 60 + s) * 1'000'000'000);
}

// The text with the spaces at the end of each line removed (for sources that trimmed them).
std::string trim_line_ends(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    out += line;
    if (end < text.size()) out += '\n';
    start = end + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// node status

// calicoctl issue #1883 (https://github.com/projectcalico/calicoctl/issues/1883): one mesh peer
// refusing connections; tablewriter wraps the 33-character INFO at 30 columns.
TEST(CalicoctlViewsNodeStatus, Issue1883WrappedInfo) {
  const std::vector<BgpPeerRow> rows = {
      {"Mesh_192_168_63_204", "start", hms(17, 19, 38), "Active        Socket: Connection refused"},
  };
  EXPECT_EQ(calicoctl_node_status(true, true, rows, hms(17, 22, 16)),
            R"(Calico process is running.

IPv4 BGP status
+----------------+-------------------+-------+----------+--------------------------------+
|  PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |              INFO              |
+----------------+-------------------+-------+----------+--------------------------------+
| 192.168.63.204 | node-to-node mesh | start | 17:19:38 | Active Socket: Connection      |
|                |                   |       |          | refused                        |
+----------------+-------------------+-------+----------+--------------------------------+

IPv6 BGP status
No IPv6 peers found.

)");
}

// calico issue #2255 (https://github.com/projectcalico/calico/issues/2255): five unreachable
// mesh peers after a reboot, every INFO cell wrapped.
TEST(CalicoctlViewsNodeStatus, Issue2255HostUnreachable) {
  std::vector<BgpPeerRow> rows;
  for (const char* ip : {"70", "71", "72", "73", "75"}) {
    rows.push_back({std::string("Mesh_192_168_1_") + ip, "start", hms(14, 24, 15),
                    "Active        Socket: Host is unreachable"});
  }
  EXPECT_EQ(calicoctl_node_status(true, true, rows, hms(14, 30, 0)),
            R"(Calico process is running.

IPv4 BGP status
+--------------+-------------------+-------+----------+--------------------------------+
| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |              INFO              |
+--------------+-------------------+-------+----------+--------------------------------+
| 192.168.1.70 | node-to-node mesh | start | 14:24:15 | Active Socket: Host is         |
|              |                   |       |          | unreachable                    |
| 192.168.1.71 | node-to-node mesh | start | 14:24:15 | Active Socket: Host is         |
|              |                   |       |          | unreachable                    |
| 192.168.1.72 | node-to-node mesh | start | 14:24:15 | Active Socket: Host is         |
|              |                   |       |          | unreachable                    |
| 192.168.1.73 | node-to-node mesh | start | 14:24:15 | Active Socket: Host is         |
|              |                   |       |          | unreachable                    |
| 192.168.1.75 | node-to-node mesh | start | 14:24:15 | Active Socket: Host is         |
|              |                   |       |          | unreachable                    |
+--------------+-------------------+-------+----------+--------------------------------+

IPv6 BGP status
No IPv6 peers found.

)");
}

// calico issue #2905 (https://github.com/projectcalico/calico/issues/2905), node-1: both mesh
// peers Passive. (The issue's code block ends at "No IPv6 peers found."; the final blank line
// is status.go's fmt.Println.)
TEST(CalicoctlViewsNodeStatus, Issue2905Passive) {
  const std::vector<BgpPeerRow> rows = {
      {"Mesh_10_3_67_92", "start", hms(14, 7, 10), "Passive"},
      {"Mesh_10_3_67_93", "start", hms(14, 7, 10), "Passive"},
  };
  EXPECT_EQ(calicoctl_node_status(true, true, rows, hms(14, 51, 2)),
            R"(Calico process is running.

IPv4 BGP status
+--------------+-------------------+-------+----------+---------+
| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |  INFO   |
+--------------+-------------------+-------+----------+---------+
| 10.3.67.92   | node-to-node mesh | start | 14:07:10 | Passive |
| 10.3.67.93   | node-to-node mesh | start | 14:07:10 | Passive |
+--------------+-------------------+-------+----------+---------+

IPv6 BGP status
No IPv6 peers found.

)");
}

// calicoctl issue #1281 (https://github.com/projectcalico/calicoctl/issues/1281): a global peer
// Established, and the same node a second later with no peers listed.
TEST(CalicoctlViewsNodeStatus, Issue1281GlobalPeerAndNoPeers) {
  const std::vector<BgpPeerRow> rows = {
      {"Global_192_168_56_15", "up", hms(5, 4, 44), "Established"},
  };
  EXPECT_EQ(calicoctl_node_status(true, true, rows, hms(12, 43, 56)),
            R"(Calico process is running.

IPv4 BGP status
+---------------+-----------+-------+----------+-------------+
| PEER ADDRESS  | PEER TYPE | STATE |  SINCE   |    INFO     |
+---------------+-----------+-------+----------+-------------+
| 192.168.56.15 | global    | up    | 05:04:44 | Established |
+---------------+-----------+-------+----------+-------------+

IPv6 BGP status
No IPv6 peers found.

)");
  EXPECT_EQ(calicoctl_node_status(true, true, {}, hms(12, 43, 57)),
            R"(Calico process is running.

IPv4 BGP status
No IPv4 peers found.

IPv6 BGP status
No IPv6 peers found.

)");
}

// calico issue #2458 (https://github.com/projectcalico/calico/issues/2458): an IPv6-only mesh;
// bird6's protocol names turn back into addresses with ':' for '_'.
TEST(CalicoctlViewsNodeStatus, Issue2458Ipv6Peers) {
  const std::vector<BgpPeerRow> v6 = {
      {"Mesh_2002_92a_8f7a_701_250_56ff_fe8d_be72", "start", hms(5, 24, 25), "Passive"},
      {"Mesh_2002_92a_8f7a_701_250_56ff_fe8d_35f0", "start", hms(5, 24, 25), "Passive"},
  };
  EXPECT_EQ(calicoctl_node_status(true, true, {}, hms(6, 0, 0), v6),
            R"(Calico process is running.

IPv4 BGP status
No IPv4 peers found.

IPv6 BGP status
+--------------------------------------+-------------------+-------+----------+---------+
|             PEER ADDRESS             |     PEER TYPE     | STATE |  SINCE   |  INFO   |
+--------------------------------------+-------------------+-------+----------+---------+
| 2002:92a:8f7a:701:250:56ff:fe8d:be72 | node-to-node mesh | start | 05:24:25 | Passive |
| 2002:92a:8f7a:701:250:56ff:fe8d:35f0 | node-to-node mesh | start | 05:24:25 | Passive |
+--------------------------------------+-------------------+-------+----------+---------+

)");
}

// The lab, on user-controller: its one mesh session (to user-worker) came up 7.8 s into the run.
TEST(CalicoctlViewsNodeStatus, LabControllerMeshEstablished) {
  const std::vector<BgpPeerRow> rows = {
      {"Mesh_203_248_23_215", "up", Time::from_ns(7'800'000'000), "Established   "},
  };
  EXPECT_EQ(calicoctl_node_status(true, true, rows, hms(0, 5, 0)),
            R"(Calico process is running.

IPv4 BGP status
+----------------+-------------------+-------+----------+-------------+
|  PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |    INFO     |
+----------------+-------------------+-------+----------+-------------+
| 203.248.23.215 | node-to-node mesh | up    | 00:00:07 | Established |
+----------------+-------------------+-------+----------+-------------+

IPv6 BGP status
No IPv6 peers found.

)");
}

// Peer types by prefix; protocols that are not peers (kernel1, device1, a static protocol) and
// a down peer with no error (five columns: unmarshalBIRD rejects it) are not listed; a down
// peer with an error shows the error words as BGP state and info.
TEST(CalicoctlViewsNodeStatus, PeerTypesAndSkippedRows) {
  const std::vector<BgpPeerRow> rows = {
      {"kernel1", "up", hms(0, 0, 0), ""},
      {"device1", "up", hms(0, 0, 0), ""},
      {"static1", "up", hms(0, 0, 0), ""},
      {"Mesh_10_0_0_2", "up", hms(0, 0, 5), "Established"},
      {"Node_10_0_0_9", "start", hms(0, 1, 0), "Connect"},
      {"Global_10_0_0_10", "down", hms(0, 2, 0), ""},
      {"Global_10_0_0_11", "down", hms(0, 2, 0), "Socket: Connection closed"},
      {"Mesh_", "up", hms(0, 0, 5), "Established"},  // nothing after the prefix: no match
  };
  EXPECT_EQ(calicoctl_node_status(true, true, rows, hms(1, 0, 0)),
            R"(Calico process is running.

IPv4 BGP status
+--------------+-------------------+-------+----------+---------------------------+
| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |           INFO            |
+--------------+-------------------+-------+----------+---------------------------+
| 10.0.0.2     | node-to-node mesh | up    | 00:00:05 | Established               |
| 10.0.0.9     | node specific     | start | 00:01:00 | Connect                   |
| 10.0.0.11    | global            | down  | 00:02:00 | Socket: Connection closed |
+--------------+-------------------+-------+----------+---------------------------+

IPv6 BGP status
No IPv6 peers found.

)");
}

// status.go: Felix not running is an error (stderr, exit 1); BIRD not running is a message.
TEST(CalicoctlViewsNodeStatus, ProcessesNotRunning) {
  const std::vector<BgpPeerRow> rows = {
      {"Mesh_10_0_0_2", "up", hms(0, 0, 5), "Established"},
  };
  EXPECT_EQ(calicoctl_node_status(false, true, rows, hms(1, 0, 0)),
            "Calico process is not running.\n");
  EXPECT_EQ(calicoctl_node_status(true, false, rows, hms(1, 0, 0)),
            "Calico process is running.\n\nThe BGP backend process (BIRD) is not running.\n\n");
}

// BIRD 1.6's `timeformat protocol` default {"%T", "%F", 20 h}, whole seconds.
TEST(CalicoctlViewsNodeStatus, SinceIsTimeWithinTwentyHoursElseDate) {
  EXPECT_EQ(bird_protocol_since(Time::zero(), Time::zero()), "00:00:00");
  EXPECT_EQ(bird_protocol_since(hms(23, 30, 4), hms(23, 59, 0)), "23:30:04");
  EXPECT_EQ(bird_protocol_since(Time::from_ns(5'999'999'999), hms(0, 1, 0)), "00:00:05");
  // 19:59:59 old: still the time; 20:00:00 old: the date.
  EXPECT_EQ(bird_protocol_since(hms(0, 0, 1), hms(20, 0, 0)), "00:00:01");
  EXPECT_EQ(bird_protocol_since(hms(0, 0, 0), hms(20, 0, 0)), "2024-01-01");
  // Ages compare in whole seconds: 0.9 s and 72000.5 s are 72000 s apart to BIRD 1.6.
  EXPECT_EQ(bird_protocol_since(Time::from_ns(900'000'000), Time::from_ns(72'000'500'000'000)),
            "2024-01-01");
  EXPECT_EQ(bird_protocol_since(hms(48, 0, 0), hms(72, 0, 0)), "2024-01-03");
  // calico issue #5128 (https://github.com/projectcalico/calico/issues/5128) shows old
  // sessions as "2021-11-09" next to a new one's "01:50:43".
  const std::vector<BgpPeerRow> rows = {
      {"Mesh_172_28_138_128", "up", hms(0, 0, 0), "Established"},
      {"Mesh_172_20_196_48", "start", hms(24 * 30 + 1, 50, 43), "Connect"},
  };
  const std::string out = calicoctl_node_status(true, true, rows, hms(24 * 30 + 2, 0, 0));
  EXPECT_NE(out.find("| 172.28.138.128 | node-to-node mesh | up    | 2024-01-01 | Established |"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("| 172.20.196.48  | node-to-node mesh | start | 01:50:43   | Connect     |"),
            std::string::npos)
      << out;
}

// ---------------------------------------------------------------------------------------------
// text/tabwriter

// calico v3.28.0 calicoctl/tests/fv/namespace_option_test.go: `calicoctl get networkPolicy -A`
// must print exactly this.
TEST(CalicoctlViewsTabwriter, CalicoFvNetworkPolicyAllNamespaces) {
  const std::vector<std::vector<std::string>> rows = {
      {"NAMESPACE", "NAME"}, {"firstns", "policy1"}, {"secondns", "policy2"}};
  EXPECT_EQ(render_tabwriter(rows) + "\n",
            "NAMESPACE   NAME      \nfirstns     policy1   \nsecondns    policy2   \n\n");
}

// minwidth 5 includes the padding: one-letter columns are 5 wide, not 4; an empty cell is all
// padding; a wider cell widens its whole column.
TEST(CalicoctlViewsTabwriter, MinimumWidthAndEmptyCells) {
  const std::vector<std::vector<std::string>> narrow = {{"A"}, {"b"}};
  EXPECT_EQ(render_tabwriter(narrow), "A    \nb    \n");
  const std::vector<std::vector<std::string>> rows = {{"A", "B"}, {"", "xy"}, {"ccc", ""}};
  EXPECT_EQ(render_tabwriter(rows), "A     B    \n      xy   \nccc        \n");
  EXPECT_EQ(render_tabwriter({}), "");
}

// tabwriter.go's package example: a column runs only over consecutive lines that have a cell in
// it, so "b" and "cccc" are in different columns (the line "a" between them has no second
// cell) and size independently.
TEST(CalicoctlViewsTabwriter, ColumnBlocksAreContiguous) {
  const std::vector<std::vector<std::string>> rows = {
      {"aaaa", "bbb"}, {"aa", "b"}, {"a"}, {"aa", "cccc"}};
  EXPECT_EQ(render_tabwriter(rows), "aaaa   bbb   \naa     b     \na      \naa     cccc   \n");
  // An empty line ends every column: the lines after it start afresh.
  const std::vector<std::vector<std::string>> split = {{"long-name", "x"}, {}, {"a", "y"}};
  EXPECT_EQ(render_tabwriter(split), "long-name   x    \n\na    y    \n");
}

// Widths count UTF-8 code points (utf8.RuneCount), not bytes.
TEST(CalicoctlViewsTabwriter, WidthsCountCodePoints) {
  const std::vector<std::vector<std::string>> rows = {{"NAME", "X"}, {"m\xc3\xbcller", "y"}};
  EXPECT_EQ(render_tabwriter(rows), "NAME     X    \nm\xc3\xbcller   y    \n");
}

// ---------------------------------------------------------------------------------------------
// get ippool

// calico v3.28.0 calicoctl/tests/st/utils/data.py ippool_name1_rev1_table / _wide_table and
// ippool_name2_rev1_table, as test_crud.py compares them (the row's trailing padding and the
// blank line are spelled out there: `ippool_name1_rev1_table + "   \n\n"`,
// `ippool_name2_rev1_table + "      \n\n"`).
// clang-format off
TEST(CalicoctlViewsIpPool, CalicoStTables) {
  const std::vector<IpPoolRow> name1 = {{.name = "ippool-name1",
                                         .cidr = "10.0.1.0/24",
                                         .ipip_mode = "Always",
                                         .vxlan_mode = "Never",
                                         .node_selector = "foo == 'bar'"}};
  EXPECT_EQ(calicoctl_get_ippools(name1),
            "NAME           CIDR          SELECTOR       \n"
            "ippool-name1   10.0.1.0/24   foo == 'bar'   \n\n");
  EXPECT_EQ(
      calicoctl_get_ippools(name1, true),
      "NAME           CIDR          NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR       \n"
      "ippool-name1   10.0.1.0/24   false   Always     Never       false      false              foo == 'bar'   \n\n");
  const std::vector<IpPoolRow> name2 = {
      {.name = "ippool-name2", .cidr = "fed0:8001::/64", .node_selector = "all()"}};
  EXPECT_EQ(calicoctl_get_ippools(name2),
            "NAME           CIDR             SELECTOR   \n"
            "ippool-name2   fed0:8001::/64   all()      \n\n");
}
// clang-format on

// calico issue #3951 (https://github.com/projectcalico/calico/issues/3951): no pools, only the
// headings ("NAME   CIDR   SELECTOR" as quoted, trailing spaces trimmed by the issue).
TEST(CalicoctlViewsIpPool, NoPoolsPrintsHeadings) {
  EXPECT_EQ(calicoctl_get_ippools({}), "NAME   CIDR   SELECTOR   \n\n");
  EXPECT_EQ(trim_line_ends(calicoctl_get_ippools({})), "NAME   CIDR   SELECTOR\n\n");
}

// The lab's pool plus a second one given first: rows come sorted by name, empty modes print
// "Never". The docs' migrate-pools page (calico/networking/migrate-pools.md, v3.x) shows the
// same pool with the older column set NAME CIDR NAT IPIPMODE VXLANMODE DISABLED; those columns
// line up identically, so each of its lines starts ours.
// clang-format off
TEST(CalicoctlViewsIpPool, LabWideSortedByName) {
  const std::vector<IpPoolRow> rows = {
      {.name = "new-pool",
       .cidr = "10.0.0.0/16",
       .nat_outgoing = true,
       .ipip_mode = "Always",
       .node_selector = "all()"},
      {.name = "default-ipv4-ippool",
       .cidr = "192.168.0.0/16",
       .nat_outgoing = true,
       .ipip_mode = "Always",
       .vxlan_mode = "Never",
       .node_selector = "all()"},
  };
  const std::string out = calicoctl_get_ippools(rows, true);
  EXPECT_EQ(out,
            "NAME                  CIDR             NAT    IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR   \n"
            "default-ipv4-ippool   192.168.0.0/16   true   Always     Never       false      false              all()      \n"
            "new-pool              10.0.0.0/16      true   Always     Never       false      false              all()      \n\n");
  EXPECT_TRUE(out.starts_with(
      "NAME                  CIDR             NAT    IPIPMODE   VXLANMODE   DISABLED   "));
  EXPECT_NE(
      out.find("\ndefault-ipv4-ippool   192.168.0.0/16   true   Always     Never       false "),
      std::string::npos);
  EXPECT_EQ(calicoctl_get_ippools(rows),
            "NAME                  CIDR             SELECTOR   \n"
            "default-ipv4-ippool   192.168.0.0/16   all()      \n"
            "new-pool              10.0.0.0/16      all()      \n\n");
}
// clang-format on

// ---------------------------------------------------------------------------------------------
// get node, bgpconfig, bgppeer

// calico issue #1591 (https://github.com/projectcalico/calico/issues/1591), towolf's comment:
// `calicoctl get bgpconfig` and `calicoctl get nodes -o wide` on a cluster whose default
// BGPConfiguration sets 64512 and whose nodes inherit it (the first three nodes as quoted).
TEST(CalicoctlViewsNode, Issue1591InheritedAsn) {
  const std::vector<BgpConfigRow> config = {{.name = "default",
                                             .log_severity = "Info",
                                             .node_to_node_mesh_enabled = true,
                                             .as_number = 64512}};
  EXPECT_EQ(calicoctl_get_bgpconfigs(config),
            "NAME      LOGSEVERITY   MESHENABLED   ASNUMBER   \n"
            "default   Info          true          64512      \n\n");
  const std::vector<NodeRow> nodes = {
      {.name = "kvm336", .ipv4_address = "10.109.0.3/24"},
      {.name = "kvm335", .ipv4_address = "10.109.0.2/24"},
      {.name = "kvm337", .ipv4_address = "10.109.0.4/24"},
  };
  EXPECT_EQ(calicoctl_get_nodes(nodes, true, 64512),
            "NAME     ASN       IPV4            IPV6   \n"
            "kvm335   (64512)   10.109.0.2/24          \n"
            "kvm336   (64512)   10.109.0.3/24          \n"
            "kvm337   (64512)   10.109.0.4/24          \n\n");
}

// The lab's two nodes. Without a default BGPConfiguration AS the inherited AS is 64512; a
// configured one (65001) is what inheriting nodes show; a node's own AS prints bare; a node
// with no spec.bgp prints empty BGP columns.
TEST(CalicoctlViewsNode, LabNodes) {
  std::vector<NodeRow> nodes = {
      {.name = "user-worker", .ipv4_address = "203.248.23.215/25"},
      {.name = "user-controller", .ipv4_address = "203.248.23.214/25"},
  };
  EXPECT_EQ(calicoctl_get_nodes(nodes),
            "NAME              \nuser-controller   \nuser-worker       \n\n");
  EXPECT_EQ(calicoctl_get_nodes(nodes, true),
            "NAME              ASN       IPV4                IPV6   \n"
            "user-controller   (64512)   203.248.23.214/25          \n"
            "user-worker       (64512)   203.248.23.215/25          \n\n");
  nodes[0].as_number = 64600;
  nodes.push_back({.name = "edge", .has_bgp = false});
  EXPECT_EQ(calicoctl_get_nodes(nodes, true, 65001),
            "NAME              ASN       IPV4                IPV6   \n"
            "edge                                                   \n"
            "user-controller   (65001)   203.248.23.214/25          \n"
            "user-worker       64600     203.248.23.215/25          \n\n");
}

// bgpconfig.go: unset meshing and AS print "-"; an explicit false prints "false".
TEST(CalicoctlViewsBgpConfig, UnsetFieldsPrintDash) {
  const std::vector<BgpConfigRow> rows = {
      {.name = "node.user-worker", .log_severity = "Debug"},
      {.name = "default",
       .log_severity = "Info",
       .node_to_node_mesh_enabled = false,
       .as_number = 65001},
  };
  EXPECT_EQ(calicoctl_get_bgpconfigs(rows),
            "NAME               LOGSEVERITY   MESHENABLED   ASNUMBER   \n"
            "default            Info          false         65001      \n"
            "node.user-worker   Debug         -             -          \n\n");
}

// bgppeer.go: NODE is the node, else the node selector, else "(global)". (The v3.0 docs'
// example "bgppeer-global-3040   192.20.30.40   (global)  64567" was typed by hand: with
// padding 3 the gap after "(global)" cannot be two spaces.)
TEST(CalicoctlViewsBgpPeer, NodeColumn) {
  const std::vector<BgpPeerResourceRow> rows = {
      {.name = "rack1-tor",
       .peer_ip = "203.248.23.129",
       .node_selector = "rack == 'rack1'",
       .as_number = 64513},
      {.name = "bgppeer-global-3040", .peer_ip = "192.20.30.40", .as_number = 64567},
      {.name = "bgppeer-node-aabbff",
       .peer_ip = "aa:bb::ff",
       .node = "user-worker",
       .as_number = 64514},
  };
  EXPECT_EQ(calicoctl_get_bgppeers(rows),
            "NAME                  PEERIP           NODE              ASN     \n"
            "bgppeer-global-3040   192.20.30.40     (global)          64567   \n"
            "bgppeer-node-aabbff   aa:bb::ff        user-worker       64514   \n"
            "rack1-tor             203.248.23.129   rack == 'rack1'   64513   \n\n");
  EXPECT_EQ(calicoctl_get_bgppeers({}), "NAME   PEERIP   NODE   ASN   \n\n");
}

// ---------------------------------------------------------------------------------------------
// get workloadendpoints

WorkloadEndpointRow lab_pod(std::string_view ns, std::string_view pod, std::string_view node,
                            std::string_view ip, std::string_view service_account) {
  WorkloadEndpointRow w;
  w.k8s_namespace = ns;
  w.pod = pod;
  w.name = workload_endpoint_name(node, pod);
  w.node = node;
  w.networks = {std::string(ip) + "/32"};
  w.interface_name = veth_name_for_workload(ns, pod);
  w.profiles = {"kns." + std::string(ns),
                "ksa." + std::string(ns) + "." + std::string(service_account)};
  return w;
}

// The lab's five pods in the order the cluster created them.
std::vector<WorkloadEndpointRow> lab_pods() {
  return {
      lab_pod("kube-system", "coredns-64897985d-vbpn4", "user-controller", "192.168.136.1",
              "coredns"),
      lab_pod("kube-system", "calico-kube-controllers-56fcbf9d6b-nlqg2", "user-controller",
              "192.168.136.2", "calico-kube-controllers"),
      lab_pod("kube-system", "coredns-64897985d-jgj5s", "user-controller", "192.168.136.3",
              "coredns"),
      lab_pod("default", "hi", "user-controller", "192.168.136.5", "default"),
      lab_pod("default", "hello-776c774f98-894tt", "user-worker", "192.168.153.193", "default"),
  };
}

// clang-format off
TEST(CalicoctlViewsWorkloadEndpoints, LabAllNamespaces) {
  const auto rows = lab_pods();
  EXPECT_EQ(calicoctl_get_workloadendpoints(rows, true),
            "NAMESPACE     WORKLOAD                                   NODE              NETWORKS             INTERFACE         \n"
            "default       hello-776c774f98-894tt                     user-worker       192.168.153.193/32   cali21c68c06609   \n"
            "default       hi                                         user-controller   192.168.136.5/32     cali77d085837b5   \n"
            "kube-system   calico-kube-controllers-56fcbf9d6b-nlqg2   user-controller   192.168.136.2/32     calid6edae09645   \n"
            "kube-system   coredns-64897985d-jgj5s                    user-controller   192.168.136.3/32     calic6bfd11bfbe   \n"
            "kube-system   coredns-64897985d-vbpn4                    user-controller   192.168.136.1/32     calibc6c3028870   \n"
            "\n");
}
// clang-format on

// Without -A or -n: the default namespace, no NAMESPACE column; -o wide adds the endpoint name,
// profiles and (empty) NATs.
// clang-format off
TEST(CalicoctlViewsWorkloadEndpoints, LabDefaultNamespace) {
  const auto rows = lab_pods();
  EXPECT_EQ(calicoctl_get_workloadendpoints(rows),
            "WORKLOAD                 NODE              NETWORKS             INTERFACE         \n"
            "hello-776c774f98-894tt   user-worker       192.168.153.193/32   cali21c68c06609   \n"
            "hi                       user-controller   192.168.136.5/32     cali77d085837b5   \n"
            "\n");
  EXPECT_EQ(
      calicoctl_get_workloadendpoints(rows, false, true),
      "NAME                                             WORKLOAD                 NODE              NETWORKS             INTERFACE         PROFILES                          NATS   \n"
      "user--worker-k8s-hello--776c774f98--894tt-eth0   hello-776c774f98-894tt   user-worker       192.168.153.193/32   cali21c68c06609   kns.default,ksa.default.default          \n"
      "user--controller-k8s-hi-eth0                     hi                       user-controller   192.168.136.5/32     cali77d085837b5   kns.default,ksa.default.default          \n"
      "\n");
}
// clang-format on

// -n prints the NAMESPACE column too (get.go printNamespace), and lists that namespace only.
// clang-format off
TEST(CalicoctlViewsWorkloadEndpoints, LabNamespaceFlag) {
  const auto rows = lab_pods();
  EXPECT_EQ(calicoctl_get_workloadendpoints(rows, false, false, "kube-system"),
            "NAMESPACE     WORKLOAD                                   NODE              NETWORKS           INTERFACE         \n"
            "kube-system   calico-kube-controllers-56fcbf9d6b-nlqg2   user-controller   192.168.136.2/32   calid6edae09645   \n"
            "kube-system   coredns-64897985d-jgj5s                    user-controller   192.168.136.3/32   calic6bfd11bfbe   \n"
            "kube-system   coredns-64897985d-vbpn4                    user-controller   192.168.136.1/32   calibc6c3028870   \n"
            "\n");
  EXPECT_EQ(calicoctl_get_workloadendpoints(rows, false, false, "nowhere"),
            "NAMESPACE   WORKLOAD   NODE   NETWORKS   INTERFACE   \n\n");
}
// clang-format on

// calico issue #8598 (https://github.com/projectcalico/calico/issues/8598), a maintainer's
// `calicoctl get weps -n calico-apiserver` on a dual-stack kind cluster: NAMESPACE shown for -n,
// networks joined with ','. The quote is cut after the first row, whose cells set every width
// (each heading is that row's cell plus 3), so the first two lines must match exactly.
// clang-format off
TEST(CalicoctlViewsWorkloadEndpoints, Issue8598NamespaceFlagDualStack) {
  WorkloadEndpointRow w;
  w.k8s_namespace = "calico-apiserver";
  w.pod = "calico-apiserver-57589b6747-bqcdn";
  w.node = "kind-worker3";
  w.networks = {"192.168.195.194/32", "fd00:10:244:0:58fd:b191:5c13:9cc1/128"};
  w.interface_name = "cali470c2d79457";
  const std::vector<WorkloadEndpointRow> rows = {w};
  EXPECT_TRUE(
      calicoctl_get_workloadendpoints(rows, false, false, "calico-apiserver")
          .starts_with(
              "NAMESPACE          WORKLOAD                            NODE           NETWORKS                                                   INTERFACE         \n"
              "calico-apiserver   calico-apiserver-57589b6747-bqcdn   kind-worker3   192.168.195.194/32,fd00:10:244:0:58fd:b191:5c13:9cc1/128   cali470c2d79457   \n"));
}
// clang-format on

// The migrate-pools page (calico/networking/migrate-pools.md, as first written) shows
// `calicoctl get wep --all-namespaces` with kube-dns on a vagrant node; the docs trim the
// padding at line ends.
TEST(CalicoctlViewsWorkloadEndpoints, MigratePoolsDocAllNamespaces) {
  WorkloadEndpointRow w;
  w.k8s_namespace = "kube-system";
  w.pod = "kube-dns-6f4fd4bdf-8q7zp";
  w.node = "vagrant";
  w.networks = {"192.168.52.130/32"};
  w.interface_name = "cali800a63073ed";
  const std::vector<WorkloadEndpointRow> rows = {w};
  EXPECT_EQ(
      trim_line_ends(calicoctl_get_workloadendpoints(rows, true)),
      "NAMESPACE     WORKLOAD                   NODE      NETWORKS            INTERFACE\n"
      "kube-system   kube-dns-6f4fd4bdf-8q7zp   vagrant   192.168.52.130/32   cali800a63073ed\n"
      "\n");
}

// Order is etcd key order of /registry/pods/<ns>/<pod>: byte order of "<ns>/<pod>", so
// namespace "a-b" ('-' 0x2d) lists before namespace "a" ('/' 0x2f follows "a"). A pod's
// endpoints keep their given order. NATs print as Go prints the IPNAT struct.
// clang-format off
TEST(CalicoctlViewsWorkloadEndpoints, KeyOrderAndNats) {
  const auto row = [](std::string ns, std::string pod, std::string iface) {
    WorkloadEndpointRow w;
    w.k8s_namespace = std::move(ns);
    w.pod = std::move(pod);
    w.name = "n-" + iface;
    w.node = "n";
    w.interface_name = std::move(iface);
    return w;
  };
  std::vector<WorkloadEndpointRow> rows = {row("a", "x", "i1"), row("a-b", "x", "i2"),
                                           row("a", "p", "i3"), row("a", "p", "i4")};
  rows[0].nats = {{"10.0.0.5", "172.16.0.9"}, {"10.0.0.5", "172.16.0.10"}};
  EXPECT_EQ(calicoctl_get_workloadendpoints(rows, true, true),
            "NAMESPACE   NAME   WORKLOAD   NODE   NETWORKS   INTERFACE   PROFILES   NATS                                           \n"
            "a-b         n-i2   x          n                 i2                                                                    \n"
            "a           n-i3   p          n                 i3                                                                    \n"
            "a           n-i4   p          n                 i4                                                                    \n"
            "a           n-i1   x          n                 i1                     {10.0.0.5 172.16.0.9},{10.0.0.5 172.16.0.10}   \n"
            "\n");
}
// clang-format on

}  // namespace
}  // namespace calisim::calico::views
