// The main job end to end: run the `calisim` binary, then check its captures with tshark and
// tcpdump, tools we did not write.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "test_util.hpp"

namespace calisim::test {
namespace {

const std::string kCli = CALISIM_CLI_PATH;

CommandResult run_cli(const std::string& args) { return run_command(kCli + " " + args + " 2>&1"); }

std::filesystem::path run_demo(const std::string& name, std::uint64_t seed) {
  const auto dir = work_dir(name);
  const auto r = run_cli("demo --out '" + dir.string() + "' --seed " + std::to_string(seed));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return dir;
}

// tshark on one capture; stdout only ("Running as user root" goes to stderr).
std::string tshark(const std::filesystem::path& file, const std::string& args) {
  const auto r = run_command("tshark -r '" + file.string() + "' " + args + " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << "tshark " << args;
  return r.out;
}

const char* kStrict =
    "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE ";

class DemoCapture : public ::testing::Test {
 protected:
  // ctest runs each test in its own process, possibly in parallel: one folder per process.
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(run_demo("demo-" + std::to_string(::getpid()), 1));
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path ipip() { return *dir_ / "lab-ipip" / "capture.pcapng"; }
  static std::filesystem::path vxlan() { return *dir_ / "lab-vxlan" / "capture.pcapng"; }
  static std::filesystem::path* dir_;
};
std::filesystem::path* DemoCapture::dir_ = nullptr;

TEST_F(DemoCapture, NothingMalformedAndNoBadChecksum) {
  for (const auto& f : {ipip(), vxlan()}) {
    ASSERT_TRUE(std::filesystem::exists(f)) << f;
    EXPECT_EQ(tshark(f, "-Y '_ws.malformed || _ws.expert.severity >= error'"), "") << f;
    EXPECT_EQ(tshark(f, std::string(kStrict) +
                            "-Y 'ip.checksum.status==0 || udp.checksum.status==0 || "
                            "icmp.checksum.status==0'"),
              "")
        << f;
    // Every checksum was actually checked: all IP headers report "good" (1).
    for (const auto& line : lines(tshark(f, std::string(kStrict) + "-T fields -e ip.checksum.status"))) {
      for (std::size_t i = 0; i < line.size(); i += 2) EXPECT_EQ(line[i], '1') << line;
    }
  }
}

TEST_F(DemoCapture, InterfacesAreNamedPerNodeAndPod) {
  const auto names = lines(tshark(ipip(), "-T fields -e frame.interface_name"));
  const std::set<std::string> seen(names.begin(), names.end());
  const std::set<std::string> expected = {
      "user-worker/hello-776c774f98-894tt/eth0", "user-controller/hi/eth0",
      // cali + sha1("default.hello-776c774f98-894tt")[:11], sha1("default.hi")[:11]
      "user-worker/cali21c68c06609", "user-controller/cali77d085837b5",
      "user-worker/tunl0", "user-controller/tunl0", "user-worker/enp0s8",
      "user-controller/enp0s8"};
  EXPECT_EQ(seen, expected);
}

TEST_F(DemoCapture, IpipShowsTwoIpv4LayersWithTheNodeAddressesOutside) {
  const auto rows = lines(tshark(
      ipip(), "-Y 'ip.proto == 4' -T fields -E separator='|' -e frame.interface_name -e "
              "frame.packet_flags_direction -e ip.src -e ip.dst -e ip.proto -e ip.ttl"));
  ASSERT_EQ(rows.size(), 20u);  // 5 requests + 5 replies, each on both nodes' enp0s8
  std::map<std::string, int> count;
  for (const auto& row : rows) ++count[row];
  // Outer TTL inherits the inner TTL after the first hop's decrement: 63, twice.
  EXPECT_EQ((count["user-worker/enp0s8|0x00000002|203.248.23.215,192.168.102.193|"
                   "203.248.23.214,192.168.49.69|4,1|63,63"]),
            5);
  EXPECT_EQ((count["user-controller/enp0s8|0x00000001|203.248.23.215,192.168.102.193|"
                   "203.248.23.214,192.168.49.69|4,1|63,63"]),
            5);
  EXPECT_EQ((count["user-controller/enp0s8|0x00000002|203.248.23.214,192.168.49.69|"
                   "203.248.23.215,192.168.102.193|4,1|63,63"]),
            5);
}

TEST_F(DemoCapture, TtlIsDecrementedOncePerForwardingHost) {
  const auto rows = lines(tshark(
      ipip(), "-Y 'icmp.type == 8 && !(ip.proto == 4)' -T fields -E separator='|' -e "
              "frame.interface_name -e frame.packet_flags_direction -e ip.ttl"));
  std::map<std::string, std::string> ttl;
  for (const auto& row : rows) {
    const auto a = row.rfind('|');
    ttl[row.substr(0, a)] = row.substr(a + 1);
  }
  EXPECT_EQ(ttl["user-worker/hello-776c774f98-894tt/eth0|0x00000002"], "64");
  EXPECT_EQ(ttl["user-worker/tunl0|0x00000002"], "63");
  EXPECT_EQ(ttl["user-controller/tunl0|0x00000001"], "63");
  EXPECT_EQ(ttl["user-controller/hi/eth0|0x00000001"], "62");
}

TEST_F(DemoCapture, VxlanCarriesVni4096OnPort4789) {
  const auto rows = lines(tshark(
      vxlan(), "-Y vxlan -T fields -E separator='|' -e udp.dstport -e vxlan.vni -e "
               "vxlan.flag_i -e ip.ttl -e ip.flags.df -e udp.srcport -e eth.src"));
  ASSERT_EQ(rows.size(), 20u);
  for (const auto& row : rows) {
    const auto f = [&] {
      std::vector<std::string> parts;
      std::size_t s = 0;
      for (std::size_t e; (e = row.find('|', s)) != std::string::npos; s = e + 1) {
        parts.push_back(row.substr(s, e - s));
      }
      parts.push_back(row.substr(s));
      return parts;
    }();
    ASSERT_EQ(f.size(), 7u) << row;
    EXPECT_EQ(f[0], "4789");
    EXPECT_EQ(f[1], "4096");
    EXPECT_EQ(f[2], "1");  // the I flag
    EXPECT_EQ(f[3].substr(0, 3), "64,");  // outer TTL 64 ("ttl auto"), inner after one hop
    EXPECT_EQ(f[4].substr(0, 1), "0");    // outer DF clear
    const int sport = std::stoi(f[5]);
    EXPECT_GE(sport, 32768);
    EXPECT_LT(sport, 61000);
    EXPECT_NE(f[6].find("66:"), std::string::npos);  // inner source is a VTEP MAC
  }
}

TEST_F(DemoCapture, DirectionsAreRecorded) {
  const auto dirs = lines(tshark(vxlan(), "-T fields -e frame.packet_flags_direction"));
  ASSERT_EQ(dirs.size(), 80u);
  std::map<std::string, int> count;
  for (const auto& d : dirs) ++count[d];
  EXPECT_EQ(count["0x00000001"], 40);
  EXPECT_EQ(count["0x00000002"], 40);
}

TEST(Demo, SameSeedGivesByteIdenticalCapturesAndAnotherSeedDoesNot) {
  const auto a = run_demo("demo-seed-a", 7);
  const auto b = run_demo("demo-seed-b", 7);
  const auto c = run_demo("demo-seed-c", 8);
  for (const char* mode : {"lab-ipip", "lab-vxlan"}) {
    const auto fa = read_file(a / mode / "capture.pcapng");
    ASSERT_GT(fa.size(), 1000u);
    EXPECT_EQ(fa, read_file(b / mode / "capture.pcapng")) << mode;
    EXPECT_NE(fa, read_file(c / mode / "capture.pcapng")) << mode;
  }
}

TEST(Demo, BadArgumentsExitWithUsageError) {
  EXPECT_EQ(run_cli("--seed notanumber").exit_code, 2);
  EXPECT_EQ(run_cli("--no-such-flag").exit_code, 2);
  EXPECT_EQ(run_cli("--echoes 0").exit_code, 2);
  const auto help = run_cli("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--seed"), std::string::npos);
}

TEST(Demo, UnwritableOutputIsAClearError) {
  const auto dir = work_dir("demo-unwritable");
  const auto blocker = dir / "file";
  { std::ofstream(blocker) << "x"; }
  const auto r = run_cli("--out '" + (blocker / "sub").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cannot create"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace calisim::test
