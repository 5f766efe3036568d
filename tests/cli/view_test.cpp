// `calisim run --view 'WHERE: COMMAND'`: any view, on any node or pod, after the run; a bad
// view is a usage error (exit 2) that names what was wrong, before the run when it can be.

#include <gtest/gtest.h>

#include <string>

#include <unistd.h>

#include "test_util.hpp"

namespace calisim::test {
namespace {

const std::string kCli = CALISIM_CLI_PATH;
const std::string kExamples =
    (std::filesystem::path(CALISIM_TEST_DATA_DIR) / ".." / ".." / "examples").string();

CommandResult calisim(const std::string& name, const std::string& args,
                      const std::string& redirect = "2>&1") {
  const auto dir = work_dir(name + "-" + std::to_string(::getpid()));
  return run_command(kCli + " run --out '" + dir.string() + "' " + args + " " + redirect);
}

TEST(CliView, RouteReflectorViewsPrintAfterTheDefaultOutput) {
  const auto r = calisim("view-rr", "'" + kExamples +
                                        "/route-reflectors.yaml' --no-capture "
                                        "--view 'node-02: calicoctl node status' "
                                        "--view 'calicoctl get bgppeer' "
                                        "--view 'node-05:ip route'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The default output first (the control-plane node's route -n), then the views in order,
  // each as `WHERE$ COMMAND`; a view without WHERE runs on the default node.
  const auto route_n = r.out.find("node-01$ route -n\n");
  const auto status = r.out.find("\nnode-02$ calicoctl node status\n");
  const auto peers = r.out.find("\nnode-01$ calicoctl get bgppeer\n");
  const auto routes = r.out.find("\nnode-05$ ip route\n");
  const auto run_dir = r.out.find("\nrun directory: ");
  ASSERT_NE(route_n, std::string::npos) << r.out;
  ASSERT_NE(status, std::string::npos) << r.out;
  ASSERT_NE(peers, std::string::npos) << r.out;
  ASSERT_NE(routes, std::string::npos) << r.out;
  ASSERT_NE(run_dir, std::string::npos) << r.out;
  EXPECT_LT(route_n, status);
  EXPECT_LT(status, peers);
  EXPECT_LT(peers, routes);
  EXPECT_LT(routes, run_dir);
  EXPECT_EQ(r.out.substr(peers + 1, routes - peers - 1),
            "node-01$ calicoctl get bgppeer\n"
            "NAME                         PEERIP   NODE    ASN   \n"
            "peer-with-route-reflectors            all()   0     \n"
            "\n");
  // A reflector peers with every node; its clients are listed as node-specific peers.
  const std::string status_text = r.out.substr(status + 1, peers - status - 1);
  EXPECT_NE(status_text.find("| 10.20.0.11   | node specific | up    |"), std::string::npos)
      << status_text;
  EXPECT_NE(status_text.find("| 10.20.0.30   | node specific | up    |"), std::string::npos)
      << status_text;
  const std::string routes_text = r.out.substr(routes + 1, run_dir - routes - 1);
  EXPECT_NE(routes_text.find(" via 10.20.0.22 dev tunl0 proto bird onlink \n"), std::string::npos)
      << routes_text;
}

TEST(CliView, ViewsOnlyPrintsTheViewsAlone) {
  const auto r = calisim("view-only", "'" + kExamples +
                                          "/no-encap.yaml' --no-capture --views-only "
                                          "--view 'calicoctl get ippool -o wide' "
                                          "--view 'default/a: ip route'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out,
            "cp-1$ calicoctl get ippool -o wide\n"
            "NAME            CIDR           NAT    IPIPMODE   VXLANMODE   DISABLED   "
            "DISABLEBGPEXPORT   SELECTOR   \n"
            "no-encap-pool   10.48.0.0/16   true   Never      Never       false      "
            "false              all()      \n"
            "\n"
            "\n"
            "default/a$ ip route\n"
            "default via 169.254.1.1 dev eth0 \n"
            "169.254.1.1 dev eth0 scope link \n");
}

TEST(CliView, UnknownCommandIsAUsageErrorBeforeTheRun) {
  const auto r = calisim("view-bad-cmd", "--no-capture --view 'user-worker: calicoctl get ippol'",
                         "2>&1 >/dev/null");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("calisim: --view 'user-worker: calicoctl get ippol': calicoctl get: unknown "
                       "resource type \"ippol\""),
            std::string::npos)
      << r.out;
  const auto u = calisim("view-bad-tool", "--no-capture --view 'netstat -rn'", "2>&1");
  EXPECT_EQ(u.exit_code, 2) << u.out;
  EXPECT_NE(u.out.find("unknown command \"netstat -rn\"; calisim knows:\n"), std::string::npos)
      << u.out;
  EXPECT_NE(u.out.find("  calicoctl node status\n"), std::string::npos) << u.out;
  // Before the run: nothing was simulated.
  EXPECT_EQ(u.out.find("simulating"), std::string::npos) << u.out;
}

TEST(CliView, UnknownPlaceAndBadAddressAreUsageErrors) {
  const auto place = calisim("view-bad-where", "--no-capture --view 'user-wroker: ip route'");
  EXPECT_EQ(place.exit_code, 2) << place.out;
  EXPECT_NE(place.out.find("the scenario has no node, router or pod \"user-wroker\""),
            std::string::npos)
      << place.out;
  EXPECT_EQ(place.out.find("simulating"), std::string::npos) << place.out;
  const auto ip =
      calisim("view-bad-ip", "--no-capture --view 'calicoctl ipam show --ip=192.168.1'");
  EXPECT_EQ(ip.exit_code, 2) << ip.out;
  EXPECT_NE(ip.out.find("--ip=192.168.1: not an IPv4 address"), std::string::npos) << ip.out;
  const auto flag = calisim("view-bad-flag", "--no-capture --view 'calicoctl get node -o yaml'");
  EXPECT_EQ(flag.exit_code, 2) << flag.out;
  EXPECT_NE(flag.out.find("output format \"yaml\""), std::string::npos) << flag.out;
}

TEST(CliView, APodGoneByTheEndIsReportedAfterTheRun) {
  // default/tmp is deleted at 2 s: the scenario has it, the end of the run does not.
  const auto r = calisim("view-gone", "--no-capture --view 'default/tmp: ip route'");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("simulating"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("calisim: --view 'default/tmp: ip route': \"default/tmp\": no such node, "
                       "router or running pod"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace calisim::test
