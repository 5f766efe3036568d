// The `calisim` command.

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/demo.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitUsage = 2;

int run_lab(const calisim::cli::DemoOptions& options) {
  using calisim::cli::DemoEncapsulation;
  fmt::print(
      "calisim {} (foundation build)\n"
      "The cluster model (host stack, IPAM, Felix, BGP) is not built yet, so this is a\n"
      "constructed demonstration, not a simulation: {} ICMP echo exchanges from pod\n"
      "default/hello-776c774f98-894tt on user-worker (203.248.23.215) to pod default/hi on\n"
      "user-controller (203.248.23.214), carried the way Calico's IPIP and VXLAN modes carry\n"
      "them, and written as captures that open in Wireshark. Pod addresses are illustrative.\n",
      CALISIM_VERSION, options.echoes);
  struct Mode {
    DemoEncapsulation mode;
    const char* title;
  };
  for (const Mode& m : {Mode{DemoEncapsulation::kIpip, "IPIP (tunl0, IP protocol 4)"},
                        Mode{DemoEncapsulation::kVxlan, "VXLAN (vxlan.calico, UDP 4789, VNI 4096)"}}) {
    fmt::print("\n{}:\n", m.title);
    auto result = calisim::cli::run_encapsulation_demo(m.mode, options);
    if (!result) {
      fmt::print(stderr, "calisim: {}\n", result.error().message);
      return kExitRunFailed;
    }
    for (const auto& line : result->lines) fmt::print("  {}\n", line);
    fmt::print("  wrote {} ({} packets)\n", result->capture.string(), result->packets_written);
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"calisim: Kubernetes networking as Calico does it, simulated packet by packet"};
  app.set_version_flag("--version", std::string("calisim ") + CALISIM_VERSION);
  calisim::cli::DemoOptions options;
  std::string out = options.out_root.string();
  app.add_option("--out", out, "Folder for run directories")->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of every random choice (same seed, same bytes)")
      ->capture_default_str();
  app.add_option("--echoes", options.echoes, "ICMP echo exchanges to send")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  auto* run = app.add_subcommand("run", "Run the built-in two-node lab (the default)");
  (void)run;
  app.require_subcommand(0, 1);
  app.fallthrough();  // `calisim run --seed 3` as well as `calisim --seed 3 run`
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  options.out_root = out;
  return run_lab(options);
}
