// The `calisim` command.

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scenario.hpp>

#include "cli/demo.hpp"
#include "cli/scale.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitUsage = 2;

int run_lab(const calisim::cli::DemoOptions& options) {
  using calisim::cli::DemoEncapsulation;
  fmt::print(
      "calisim {} demo\n"
      "A constructed demonstration of the two encapsulations, not a simulation (for that:\n"
      "`calisim run`): {} ICMP echo exchanges from pod\n"
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

struct RunOptions {
  std::string scenario_path;  // empty: the built-in lab
  std::string out = "calisim-out";
  std::optional<std::uint64_t> seed;
  bool capture = true;
  std::string show_node;  // whose views to print; empty: the first control-plane node
  std::vector<std::string> views;  // --view 'WHERE: COMMAND', in order
  bool views_only = false;         // print the --view output and nothing else
};

// One --view: "WHERE: COMMAND" or a bare COMMAND (run on the default node). WHERE is one word
// (a node, a router, namespace/pod) before the first ':'.
std::pair<std::string, std::string> split_view(const std::string& view) {
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return std::string();
    const auto e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
  };
  const auto colon = view.find(':');
  if (colon != std::string::npos) {
    std::string where = trim(view.substr(0, colon));
    if (!where.empty() && where.find_first_of(" \t") == std::string::npos) {
      return {where, trim(view.substr(colon + 1))};
    }
  }
  return {"", trim(view)};
}

// `calisim run [SCENARIO.yaml]`: build the cluster, run it for the scenario's duration, print
// the pings and the views a Calico user looks at, and leave the run directory.
int run_scenario(const RunOptions& options) {
  using namespace calisim;
  Result<calico::Scenario> scenario =
      options.scenario_path.empty()
          ? calico::parse_scenario(calico::default_lab_scenario_yaml(), "lab-ipip.yaml")
          : calico::load_scenario(options.scenario_path);
  if (!scenario) {
    fmt::print(stderr, "calisim: {}\n", scenario.error().message);
    return kExitUsage;
  }
  for (const auto& w : scenario->warnings) fmt::print(stderr, "{}\n", w.to_string());
  if (options.seed) scenario->seed = *options.seed;
  // Whose views: --node, else the first control-plane node, else the first node.
  std::string node = options.show_node;
  if (node.empty()) {
    for (const auto& n : scenario->nodes) {
      if (n.role == calico::scenario::NodeRole::kControlPlane) {
        node = n.name;
        break;
      }
    }
    if (node.empty() && !scenario->nodes.empty()) node = scenario->nodes.front().name;
  }
  // The --view commands, checked before anything runs: the command and its flags, and that WHERE
  // is something the scenario has (whether a pod still runs at the end is known only then).
  std::vector<std::pair<std::string, std::string>> views;
  for (const auto& v : options.views) {
    auto [where, command] = split_view(v);
    if (where.empty()) where = node;
    if (auto ok = calico::Cluster::check_command(command); !ok) {
      fmt::print(stderr, "calisim: --view '{}': {}\n", v, ok.error().message);
      return kExitUsage;
    }
    bool known = scenario->find_node(where) != nullptr || scenario->find_router(where) != nullptr;
    if (const auto slash = where.find('/'); !known && slash != std::string::npos) {
      known = scenario->find_pod(where.substr(0, slash), where.substr(slash + 1)) != nullptr;
    }
    if (!known) {
      fmt::print(stderr,
                 "calisim: --view '{}': the scenario has no node, router or pod \"{}\" (a pod is "
                 "namespace/name)\n",
                 v, where);
      return kExitUsage;
    }
    views.emplace_back(std::move(where), std::move(command));
  }
  const std::filesystem::path run_dir = std::filesystem::path(options.out) / scenario->name;
  calico::ClusterOptions co;
  co.run_dir = run_dir;
  co.capture = options.capture;
  auto cluster = calico::Cluster::create(*scenario, co);
  if (!cluster) {
    fmt::print(stderr, "calisim: {}\n", cluster.error().message);
    return kExitRunFailed;
  }
  if (!options.views_only) {
    fmt::print("calisim {}: scenario {} (seed {}), {} nodes, simulating {} s\n", CALISIM_VERSION,
               scenario->name, scenario->seed, scenario->nodes.size(),
               scenario->duration.ns() / 1'000'000'000);
  }
  (*cluster)->run();
  for (const auto& p : (*cluster)->pings()) {
    if (options.views_only) break;
    fmt::print("\n$ kubectl exec {} -- {}\n", p.from, p.command);
    for (const auto& line : p.lines) fmt::print("{}\n", line);
  }
  if (!node.empty() && !options.views_only) {
    fmt::print("\n{}$ calicoctl ipam show --show-blocks\n{}", node,
               (*cluster)->calicoctl_ipam_show(true));
    fmt::print("\n{}$ calicoctl node status\n{}", node, (*cluster)->calicoctl_node_status(node));
    fmt::print("{}$ calicoctl get workloadendpoint -A\n{}", node,
               (*cluster)->calicoctl_get_workloadendpoints(true));
    fmt::print("{}$ route -n\n{}", node, (*cluster)->view("route -n", node));
  }
  bool bad_view = false;
  for (std::size_t i = 0; i < views.size(); ++i) {
    const auto& [where, command] = views[i];
    auto out = (*cluster)->command(where, command);
    if (!out) {
      std::fflush(stdout);
      fmt::print(stderr, "calisim: --view '{}': {}\n", options.views[i], out.error().message);
      bad_view = true;
      continue;
    }
    fmt::print("{}{}$ {}\n{}", options.views_only && i == 0 ? "" : "\n", where, command, *out);
  }
  auto finished = (*cluster)->finish();
  if (!finished) {
    fmt::print(stderr, "calisim: {}\n", finished.error().message);
    return kExitRunFailed;
  }
  if (!options.views_only) {
    fmt::print("\nrun directory: {} (capture.pcapng, events.jsonl, summary.json)\n",
               run_dir.string());
  }
  std::fflush(stdout);
  return bad_view ? kExitUsage : kExitOk;
}

int check_scenario_file(const std::string& path) {
  std::string text;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
      fmt::print(stderr, "calisim: cannot open {}\n", path);
      return kExitUsage;
    }
    char buf[65536];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  const auto parsed = calisim::calico::check_scenario(text, path);
  for (const auto& d : parsed.diagnostics) fmt::print(stderr, "{}\n", d.to_string());
  if (!parsed.ok()) return kExitUsage;
  fmt::print("{}: ok ({} nodes, {} pods)\n", path, parsed.scenario->nodes.size(),
             parsed.scenario->pods.size());
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
  // `calisim run --seed 3` as well as `calisim --seed 3 run`: subcommands pass the options they
  // do not know to the app (set before the subcommands are made: they inherit it).
  app.fallthrough();
  RunOptions run_options;
  auto* run = app.add_subcommand(
      "run", "Run a scenario (default: the built-in two-node kubeadm lab, examples/lab-ipip.yaml)");
  run->add_option("scenario", run_options.scenario_path, "Scenario YAML file")
      ->check(CLI::ExistingFile);
  run->add_option("--node", run_options.show_node,
                  "Node whose views to print (default: the first control-plane node)");
  run->add_option("--view", run_options.views,
                  "Also print a view after the run: 'WHERE: COMMAND' (WHERE a node, a router or "
                  "namespace/pod; without it the --node node). Repeatable. COMMAND is what you "
                  "would type: calicoctl ipam show [--show-blocks|--show-borrowed|--ip=IP], "
                  "calicoctl node status, calicoctl get ippool|node|bgppeer|bgpconfig|wep "
                  "[-o wide] [-A|-n NS], ip route [table N], ip rule, ip -br link, ip -br addr, "
                  "ip neigh, route -n")
      ->allow_extra_args(false);
  run->add_flag("--views-only", run_options.views_only,
                "Print only the --view output (no pings, default views or run directory line)");
  bool no_capture = false;
  run->add_flag("--no-capture", no_capture, "Do not write capture.pcapng");
  auto* demo = app.add_subcommand(
      "demo", "The constructed encapsulation demo of the foundation build (IPIP and VXLAN)");
  auto* check = app.add_subcommand("check", "Parse a scenario and list every problem in it");
  std::string check_path;
  check->add_option("scenario", check_path, "Scenario YAML file")->required();
  auto* scale = app.add_subcommand(
      "scale",
      "Run a generated full-mesh cluster until every BGP session is Established and every "
      "block route installed; report wall time, simulated time and peak memory");
  calisim::cli::ScaleRunOptions scale_options;
  std::string scale_encap = "ipip";
  scale->add_option("--nodes", scale_options.scale.nodes, "Nodes")->capture_default_str();
  scale->add_option("--pods-per-node", scale_options.scale.pods_per_node, "Pods on each node")
      ->capture_default_str();
  scale->add_option("--encap", scale_encap, "ipip (BGP mesh), vxlan (no BGP) or none (BGP mesh)")
      ->check(CLI::IsMember({"ipip", "vxlan", "none"}))
      ->capture_default_str();
  scale->add_option("--limit", scale_options.scale.duration_s,
                    "Give up after this many simulated seconds")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  scale->add_flag("--json", scale_options.json, "Print one JSON object instead of the report");
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  options.out_root = out;
  if (demo->parsed()) return run_lab(options);
  if (check->parsed()) return check_scenario_file(check_path);
  if (scale->parsed()) {
    scale_options.scale.encapsulation = *calisim::calico::parse_scale_encapsulation(scale_encap);
    if (app.get_option("--seed")->count() > 0) scale_options.scale.seed = options.seed;
    return calisim::cli::run_scale(scale_options);
  }
  run_options.out = out;
  if (app.get_option("--seed")->count() > 0) run_options.seed = options.seed;
  run_options.capture = !no_capture;
  return run_scenario(run_options);
}
