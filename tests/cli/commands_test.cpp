// The subcommands that run a scenario and then look at it (issue #6's CLI): show, ping,
// capture, diff, validate, run --until. Each is checked for its output and its exit code.

#include <gtest/gtest.h>

#include <string>

#include <unistd.h>

#include "test_util.hpp"

namespace calisim::test {
namespace {

const std::string kCli = CALISIM_CLI_PATH;
const std::string kExamples =
    (std::filesystem::path(CALISIM_TEST_DATA_DIR) / ".." / ".." / "examples").string();

CommandResult cli(const std::string& args) { return run_command(kCli + " " + args + " 2>&1"); }

TEST(CliShow, BgpOnTheWorkerIsCalicoctlNodeStatus) {
  const auto r = cli("show bgp --node user-worker");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out,
            "Calico process is running.\n\n"
            "IPv4 BGP status\n"
            "+----------------+-------------------+-------+----------+-------------+\n"
            "|  PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |    INFO     |\n"
            "+----------------+-------------------+-------+----------+-------------+\n"
            "| 203.248.23.214 | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "+----------------+-------------------+-------+----------+-------------+\n\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n\n");
}

TEST(CliShow, PodRoutesTextAndJson) {
  const auto r = cli("show 'ip route' --pod default/hi");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "default via 169.254.1.1 dev eth0 \n169.254.1.1 dev eth0 scope link \n");
  const auto j = cli("show 'ip route' --pod default/hi --json --until 20s");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  EXPECT_EQ(j.out,
            "{\"where\": \"default/hi\", \"command\": \"ip route\", \"at_s\": 20.000, \"lines\": "
            "[\"default via 169.254.1.1 dev eth0 \", \"169.254.1.1 dev eth0 scope link \"]}\n");
}

TEST(CliShow, BadViewsAndPlacesAreUsageErrors) {
  const auto view = cli("show 'ip frobnicate'");
  EXPECT_EQ(view.exit_code, 2) << view.out;
  const auto pod = cli("show 'ip route' --pod default/nope");
  EXPECT_EQ(pod.exit_code, 2) << pod.out;
  EXPECT_NE(pod.out.find("default/nope"), std::string::npos) << pod.out;
  const auto both = cli("show 'ip route' --pod default/hi --node user-worker");
  EXPECT_EQ(both.exit_code, 2) << both.out;
  const auto until = cli("show 'ip route' --until soon");
  EXPECT_EQ(until.exit_code, 2) << until.out;
  EXPECT_NE(until.out.find("--until 'soon'"), std::string::npos) << until.out;
}

TEST(CliPing, PodToPodAcrossTheTunnelAndAnUnreachableHost) {
  const auto r = cli("ping default/hello-776c774f98-894tt default/hi -c 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("PING 192.168.136.5 (192.168.136.5) 56(84) bytes of data.\n"
                       "64 bytes from 192.168.136.5: icmp_seq=1 ttl=62 time="),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("2 packets transmitted, 2 received, 0% packet loss"), std::string::npos)
      << r.out;
  // Nobody has 203.248.23.250 on the lab's /25: ARP fails, the kernel reports it, ping exits 1.
  const auto lost = cli("ping user-worker 203.248.23.250 -c 1");
  EXPECT_EQ(lost.exit_code, 1) << lost.out;
  EXPECT_NE(lost.out.find("From 203.248.23.215 icmp_seq=1 Destination Host Unreachable\n"),
            std::string::npos)
      << lost.out;
  const auto bad = cli("ping default/nope default/hi");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("no running pod 'default/nope'"), std::string::npos) << bad.out;
}

TEST(CliCapture, FilteredPcapOfOneNicHoldsTheTunnelledEchoes) {
  const auto dir = work_dir("cli-capture-" + std::to_string(::getpid()));
  const std::string pcap = (dir / "enp0s8.pcap").string();
  const auto r = cli("capture --iface user-controller/enp0s8 --filter 'proto 4' -w '" + pcap +
                     "' --out '" + dir.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // tcpdump reads it: the five echoes and replies of the lab's ping, IPIP between the nodes.
  const auto dump = run_command("tcpdump -nr '" + pcap + "' 2>/dev/null");
  const auto lines = test::lines(dump.out);
  ASSERT_EQ(lines.size(), 10u) << dump.out;
  for (const auto& l : lines) {
    EXPECT_TRUE(l.find("IP 203.248.23.215 > 203.248.23.214: IP 192.168.153.193 > 192.168.136.5: "
                       "ICMP echo request") != std::string::npos ||
                l.find("IP 203.248.23.214 > 203.248.23.215: IP 192.168.136.5 > 192.168.153.193: "
                       "ICMP echo reply") != std::string::npos)
        << l;
  }
  // tunl0 on the worker, as JSON: the echoes inside the tunnel (no outer header there).
  const std::string tunl = (dir / "tunl0.pcap").string();
  const auto j = cli("capture --iface user-worker/tunl0 --filter icmp --json -w '" + tunl +
                     "' --out '" + dir.string() + "'");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  EXPECT_EQ(j.out, "{\"iface\": \"user-worker/tunl0\", \"filter\": \"icmp\", \"wrote\": \"" +
                       tunl + "\"}\n");
  EXPECT_EQ(test::lines(run_command("tcpdump -nr '" + tunl + "' 2>/dev/null").out).size(), 10u);
  // An interface the node does not have: exit 2 and no file left behind.
  const std::string none = (dir / "none.pcap").string();
  const auto bad = cli("capture --iface user-controller/eth7 -w '" + none + "' --out '" +
                       dir.string() + "'");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_FALSE(std::filesystem::exists(none));
  const auto filter = cli("capture --iface user-controller/enp0s8 --filter 'proto (' -w '" +
                          none + "' --out '" + dir.string() + "'");
  EXPECT_EQ(filter.exit_code, 2) << filter.out;
}

TEST(CliDiff, IpipAgainstVxlanDiffersAndAScenarioMatchesItself) {
  const std::string ipip = kExamples + "/ipip-crosssubnet.yaml";
  const std::string vxlan = kExamples + "/vxlan-crosssubnet.yaml";
  const auto same = cli("diff '" + ipip + "' '" + ipip + "'");
  EXPECT_EQ(same.exit_code, 0) << same.out;
  EXPECT_NE(same.out.find(": same routes, BGP sessions and reachability\n"), std::string::npos)
      << same.out;
  const auto d = cli("diff '" + ipip + "' '" + vxlan + "'");
  EXPECT_EQ(d.exit_code, 1) << d.out;
  // BIRD's routes through tunl0 against Felix's through vxlan.calico, per node (BIRD still
  // runs the mesh under vxlan-crosssubnet: the sessions are the same).
  EXPECT_NE(d.out.find("routes on a1:\n"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("  - 192.168.15.128/26 via 10.10.2.12 dev tunl0 proto bird onlink \n"),
            std::string::npos)
      << d.out;
  EXPECT_NE(d.out.find("  + 192.168.15.128/26 via 192.168.15.128 dev vxlan.calico onlink \n"),
            std::string::npos)
      << d.out;
  EXPECT_EQ(d.out.find("\nbgp "), std::string::npos) << d.out;
  const auto j = cli("diff '" + ipip + "' '" + vxlan + "' --json");
  EXPECT_EQ(j.exit_code, 1) << j.out;
  EXPECT_NE(j.out.find("\"same\": false"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("{\"kind\": \"route\", \"node\": \"a1\", \"only_in\": \"b\", "
                       "\"route\": \"192.168.15.128/26 via 192.168.15.128 dev vxlan.calico onlink \"}"),
            std::string::npos)
      << j.out;
}

// The wrong autodetection leaves no mesh: the sessions are gone and the nodes' pods part.
TEST(CliDiff, WrongAutodetectionLosesTheSessionsAndCrossNodeReachability) {
  const auto d = cli("diff --json '" + kExamples + "/lab-ipip.yaml' '" + kExamples +
                     "/lab-wrong-autodetect.yaml'");
  EXPECT_EQ(d.exit_code, 1) << d.out;
  EXPECT_NE(d.out.find("{\"kind\": \"bgp\", \"node\": \"user-worker\", \"peer\": "
                       "\"Mesh_203_248_23_214\", \"a\": \"Established\", \"b\": \"-\"}"),
            std::string::npos)
      << d.out;
  EXPECT_NE(d.out.find("{\"kind\": \"reachability\", \"from\": \"default/hi\", \"to\": "
                       "\"default/hello-776c774f98-894tt\", \"a\": \"reachable\", \"b\": "
                       "\"unreachable\"}"),
            std::string::npos)
      << d.out;
}

TEST(CliDiff, ALinkDownShowsInReachability) {
  // The lab against the lab with the controller's enp0s8 unplugged before the end.
  const auto dir = work_dir("cli-diff-" + std::to_string(::getpid()));
  const std::string cut = (dir / "lab-cut.yaml").string();
  const auto bytes = read_file(kExamples + "/lab-ipip.yaml");
  std::string text(bytes.begin(), bytes.end());
  const auto traffic = text.find("  traffic:\n");
  ASSERT_NE(traffic, std::string::npos);
  text.insert(traffic,
              "  events:\n  - {at: 25s, action: linkDown, node: user-controller, interface: enp0s8}\n");
  {
    std::FILE* f = std::fopen(cut.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  const auto d = cli("diff '" + kExamples + "/lab-ipip.yaml' '" + cut + "'");
  EXPECT_EQ(d.exit_code, 1) << d.out;
  EXPECT_NE(d.out.find("reachability default/hello-776c774f98-894tt -> default/hi: reachable -> "
                       "unreachable\n"),
            std::string::npos)
      << d.out;
}

// Two run directories: what their summary.json recorded at the end of each run.
TEST(CliDiff, RunDirectoriesCompareWhatTheRunsRecorded) {
  const auto dir = work_dir("cli-diff-runs-" + std::to_string(::getpid()));
  const std::string a = (dir / "a").string();
  const std::string b = (dir / "b").string();
  ASSERT_EQ(cli("run --no-capture --out '" + a + "'").exit_code, 0);
  ASSERT_EQ(cli("run '" + kExamples + "/lab-link-down.yaml' --no-capture --until 300s --out '" +
                b + "'")
                .exit_code,
            0);
  const auto same = cli("diff '" + a + "/lab-ipip' '" + a + "/lab-ipip'");
  EXPECT_EQ(same.exit_code, 0) << same.out;
  // At 300 s the worker's session is down past the hold time and the controller's block is gone.
  const auto d = cli("diff '" + a + "/lab-ipip' '" + b + "/lab-link-down'");
  EXPECT_EQ(d.exit_code, 1) << d.out;
  EXPECT_NE(d.out.find("routes on user-worker:\n"
                       "  - 192.168.136.0/26 via 203.248.23.214 dev tunl0 proto bird onlink \n"),
            std::string::npos)
      << d.out;
  EXPECT_NE(d.out.find("bgp user-worker Mesh_203_248_23_214: Established -> Active\n"),
            std::string::npos)
      << d.out;
  // A run directory against a scenario file, or a folder that is no run: usage errors.
  const auto mixed = cli("diff '" + a + "/lab-ipip' '" + kExamples + "/lab-ipip.yaml'");
  EXPECT_EQ(mixed.exit_code, 2) << mixed.out;
  const auto empty = cli("diff '" + dir.string() + "' '" + a + "/lab-ipip'");
  EXPECT_EQ(empty.exit_code, 2) << empty.out;
  EXPECT_NE(empty.out.find("no summary.json"), std::string::npos) << empty.out;
}

TEST(CliValidate, EveryProblemWithFileAndLine) {
  const auto dir = work_dir("cli-validate-" + std::to_string(::getpid()));
  const std::string bad = (dir / "bad.yaml").string();
  {
    std::FILE* f = std::fopen(bad.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string y =
        "apiVersion: calisim.io/v1\nkind: Topology\nmetadata: {name: bad}\nspec:\n"
        "  nodes:\n  - name: n1\n    interfaces: [{name: eth0, address: 10.0.0.300/24}]\n";
    std::fwrite(y.data(), 1, y.size(), f);
    std::fclose(f);
  }
  const auto r = cli("validate '" + bad + "'");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(bad + ":7:"), std::string::npos) << r.out;
  const auto ok = cli("validate '" + kExamples + "/lab-ipip.yaml'");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("lab-ipip.yaml: ok (2 nodes, 6 pods)\n"), std::string::npos) << ok.out;
}

// run --json: one object a JSON parser accepts (Debian's python3 reads it back here).
TEST(CliRun, JsonIsOneParsableObject) {
  const auto dir = work_dir("cli-run-json-" + std::to_string(::getpid()));
  const std::string json = (dir / "run.json").string();
  const auto r = run_command(kCli + " run --json --no-capture --out '" + dir.string() +
                             "' --view 'user-worker: ip route' > '" + json + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto read = run_command(
      "/usr/bin/python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); "
      "p=d['pings'][0]; v=d['views'][0]; print(d['scenario'], p['received'], set(p['ttls']), "
      "v['where'], v['lines'][2])\" '" + json + "' 2>&1");
  EXPECT_EQ(read.out,
            "lab-ipip 5 {62} user-worker 192.168.136.0/26 via 203.248.23.214 dev tunl0 proto bird "
            "onlink \n");
}

TEST(CliRun, UntilStopsEarly) {
  const auto dir = work_dir("cli-until-" + std::to_string(::getpid()));
  const auto r = cli("run --until 12s --no-capture --out '" + dir.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("simulating 12 s\n"), std::string::npos) << r.out;
  // The ping starts at 10 s: before 12 s two echoes went out; no summary yet.
  EXPECT_NE(r.out.find("icmp_seq=2 ttl=62"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("icmp_seq=3"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("ping statistics"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace calisim::test
