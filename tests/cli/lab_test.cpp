// The main job: `calisim run` with no scenario runs the built-in two-node kubeadm lab
// (examples/lab-ipip.yaml) and prints what the seed's user saw; the run directory holds the
// capture, events and summary. Checked with tools we did not write (tshark) and by full text.

#include <gtest/gtest.h>

#include <string>

#include <unistd.h>

#include "test_util.hpp"

namespace calisim::test {
namespace {

const std::string kCli = CALISIM_CLI_PATH;

struct LabRun {
  std::filesystem::path dir;
  CommandResult result;
};

LabRun run_lab(const std::string& name, const std::string& extra = "") {
  LabRun r;
  r.dir = work_dir(name + "-" + std::to_string(::getpid()));
  r.result = run_command(kCli + " run --out '" + r.dir.string() + "' " + extra + " 2>&1");
  return r;
}

std::string section(const std::string& out, const std::string& prompt) {
  auto start = out.find(prompt);
  if (start == std::string::npos) return "";
  start = out.find('\n', start) + 1;
  auto end = out.find("user-controller$", start);
  if (end == std::string::npos) end = out.find("\nrun directory:", start);
  return out.substr(start, end - start);
}

TEST(MainJob, PingShowsTtl62AndTheViewsMatchCalico) {
  const auto lab = run_lab("lab-main");
  ASSERT_EQ(lab.result.exit_code, 0) << lab.result.out;
  const std::string& out = lab.result.out;
  EXPECT_NE(out.find("$ kubectl exec default/hello-776c774f98-894tt -- ping -c 5 192.168.136.5\n"
                     "PING 192.168.136.5 (192.168.136.5) 56(84) bytes of data.\n"),
            std::string::npos)
      << out;
  for (int seq = 1; seq <= 5; ++seq) {
    EXPECT_NE(out.find("64 bytes from 192.168.136.5: icmp_seq=" + std::to_string(seq) + " ttl=62"),
              std::string::npos)
        << out;
  }
  EXPECT_NE(out.find("5 packets transmitted, 5 received, 0% packet loss"), std::string::npos);
  EXPECT_EQ(section(out, "user-controller$ calicoctl ipam show --show-blocks"),
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| GROUPING |        CIDR        | IPS TOTAL | IPS IN USE |   IPS FREE   |\n"
            "+----------+--------------------+-----------+------------+--------------+\n"
            "| IP Pool  | 192.168.0.0/16     |     65536 | 7 (0%)     | 65529 (100%) |\n"
            "| Block    | 192.168.136.0/26   |        64 | 5 (8%)     | 59 (92%)     |\n"
            "| Block    | 192.168.153.192/26 |        64 | 2 (3%)     | 62 (97%)     |\n"
            "+----------+--------------------+-----------+------------+--------------+\n\n");
  EXPECT_EQ(section(out, "user-controller$ calicoctl node status"),
            "Calico process is running.\n\n"
            "IPv4 BGP status\n"
            "+----------------+-------------------+-------+----------+-------------+\n"
            "|  PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |    INFO     |\n"
            "+----------------+-------------------+-------+----------+-------------+\n"
            "| 203.248.23.215 | node-to-node mesh | up    | 00:00:01 | Established |\n"
            "+----------------+-------------------+-------+----------+-------------+\n\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n\n");
  EXPECT_EQ(section(out, "user-controller$ calicoctl get workloadendpoint -A"),
            "NAMESPACE     WORKLOAD                                   NODE              NETWORKS  "
            "           INTERFACE         \n"
            "default       hello-776c774f98-894tt                     user-worker       "
            "192.168.153.193/32   cali21c68c06609   \n"
            "default       hi                                         user-controller   "
            "192.168.136.5/32     cali77d085837b5   \n"
            "kube-system   calico-kube-controllers-56fcbf9d6b-nlqg2   user-controller   "
            "192.168.136.2/32     calid6edae09645   \n"
            "kube-system   coredns-64897985d-jgj5s                    user-controller   "
            "192.168.136.3/32     calic6bfd11bfbe   \n"
            "kube-system   coredns-64897985d-vbpn4                    user-controller   "
            "192.168.136.1/32     calibc6c3028870   \n\n");
  EXPECT_EQ(section(out, "user-controller$ route -n"),
            "Kernel IP routing table\n"
            "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
            "0.0.0.0         10.0.2.2        0.0.0.0         UG    100    0        0 enp0s3\n"
            "10.0.2.0        0.0.0.0         255.255.255.0   U     0      0        0 enp0s3\n"
            "192.168.136.0   0.0.0.0         255.255.255.192 U     0      0        0 *\n"
            "192.168.136.1   0.0.0.0         255.255.255.255 UH    0      0        0 calibc6c3028870\n"
            "192.168.136.2   0.0.0.0         255.255.255.255 UH    0      0        0 calid6edae09645\n"
            "192.168.136.3   0.0.0.0         255.255.255.255 UH    0      0        0 calic6bfd11bfbe\n"
            "192.168.136.5   0.0.0.0         255.255.255.255 UH    0      0        0 cali77d085837b5\n"
            "192.168.153.192 203.248.23.215  255.255.255.192 UG    0      0        0 tunl0\n"
            "203.248.23.128  0.0.0.0         255.255.255.128 U     0      0        0 enp0s8\n");
  for (const char* f : {"capture.pcapng", "events.jsonl", "summary.json"}) {
    EXPECT_TRUE(std::filesystem::exists(lab.dir / "lab-ipip" / f)) << f;
  }
}

TEST(MainJob, CaptureIsCleanAndShowsIpipBetweenTheNodes) {
  const auto lab = run_lab("lab-capture");
  ASSERT_EQ(lab.result.exit_code, 0) << lab.result.out;
  const std::string cap = (lab.dir / "lab-ipip" / "capture.pcapng").string();
  const auto bad = run_command(
      "tshark -r '" + cap +
      "' -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE "
      "-Y '_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || "
      "tcp.checksum.status == 0 || icmp.checksum.status == 0' 2>/dev/null | wc -l");
  EXPECT_EQ(bad.out, "0\n");
  // On the worker's NIC: the echo requests as IPIP, node addresses outside, pod addresses
  // inside, TTL 63 inside (one hop taken by the worker) and copied to the outer header.
  const auto ipip = run_command(
      "tshark -r '" + cap +
      "' -Y 'frame.interface_name == \"user-worker/enp0s8\" && ip.proto == 4 && icmp.type == 8' "
      "-T fields -e ip.src -e ip.dst -e ip.ttl -E occurrence=a -E aggregator=, 2>/dev/null");
  std::string expected;
  for (int i = 0; i < 5; ++i) {
    expected += "203.248.23.215,192.168.153.193\t203.248.23.214,192.168.136.5\t63,63\n";
  }
  EXPECT_EQ(ipip.out, expected);
  // BGP between the nodes decodes: the worker (higher address) opened the session.
  const auto opens = run_command("tshark -r '" + cap +
                                 "' -Y 'bgp.type == 1' -T fields -e ip.src -e ip.dst 2>/dev/null "
                                 "| sort -u");
  EXPECT_EQ(opens.out, "203.248.23.214\t203.248.23.215\n203.248.23.215\t203.248.23.214\n");
  const auto names = run_command("tshark -r '" + cap +
                                 "' -T fields -e frame.interface_name 2>/dev/null | sort -u");
  EXPECT_NE(names.out.find("user-controller/hi/eth0\n"), std::string::npos) << names.out;
  EXPECT_NE(names.out.find("user-worker/hello-776c774f98-894tt/eth0\n"), std::string::npos);
  EXPECT_NE(names.out.find("user-worker/tunl0\n"), std::string::npos);
}

TEST(MainJob, SameSeedSameRunDirectoryByteForByte) {
  const auto a = run_lab("lab-seed-a", "--seed 5");
  const auto b = run_lab("lab-seed-b", "--seed 5");
  ASSERT_EQ(a.result.exit_code, 0);
  ASSERT_EQ(b.result.exit_code, 0);
  for (const char* f : {"capture.pcapng", "events.jsonl", "summary.json"}) {
    EXPECT_TRUE(read_file(a.dir / "lab-ipip" / f) == read_file(b.dir / "lab-ipip" / f)) << f;
  }
}

TEST(MainJob, BadScenarioIsAUsageErrorNamingTheFile) {
  const auto dir = work_dir("lab-bad-" + std::to_string(::getpid()));
  const auto file = dir / "bad.yaml";
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    // Three problems: an unknown field, an address that is not one, a duplicate node.
    std::fputs("apiVersion: calisim.io/v1\nkind: Topology\nmetadata: {name: x}\nspec:\n"
               "  nodez: []\n  nodes:\n"
               "  - name: n1\n    interfaces: [{name: eth0, address: 10.0.0.300/24}]\n"
               "  - name: n1\n    interfaces: [{name: eth0, address: 10.0.0.2/24}]\n",
               f);
    std::fclose(f);
  }
  const auto out = dir / "out";
  const auto r = run_command(kCli + " run '" + file.string() + "' --out '" + out.string() + "' 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  // Every problem, each with file:line:column; and nothing written.
  EXPECT_NE(r.out.find("bad.yaml:5:3: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad.yaml:8:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad.yaml:9:"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out)) << r.out;
}

}  // namespace
}  // namespace calisim::test
