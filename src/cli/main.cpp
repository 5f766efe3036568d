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
#include <calisim/calico/quantity.hpp>
#include <calisim/calico/scenario.hpp>

#include "cli/commands.hpp"
#include "cli/demo.hpp"
#include "cli/progress.hpp"
#include "cli/scale.hpp"

namespace {

using calisim::cli::kExitOk;
using calisim::cli::kExitRunFailed;
using calisim::cli::kExitUsage;

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
  std::string until;               // stop there instead of the scenario's duration
  bool json = false;               // one JSON object instead of the text
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
  Time until = Time::zero() + scenario->duration;
  if (!options.until.empty()) {
    auto d = calico::parse_duration(options.until);
    if (!d) {
      fmt::print(stderr, "calisim: --until '{}': {}\n", options.until, d.error().message);
      return kExitUsage;
    }
    until = Time::zero() + *d;
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
  if (options.json) {
    // One object: the pings, the --view outputs and the run directory.
    calisim::cli::run_with_progress(**cluster, until);
    using calisim::cli::json_lines;
    using calisim::cli::json_string;
    std::string out = fmt::format("{{\"scenario\": {}, \"seed\": {}, \"simulated_s\": {:.3f}, ",
                                  json_string(scenario->name), scenario->seed,
                                  static_cast<double>((*cluster)->sim().now().ns()) / 1e9);
    out += "\"pings\": [";
    const auto& pings = (*cluster)->pings();
    for (std::size_t i = 0; i < pings.size(); ++i) {
      const auto& p = pings[i];
      std::string ttls;
      for (std::size_t k = 0; k < p.ttls.size(); ++k) ttls += fmt::format("{}{}", k ? ", " : "", p.ttls[k]);
      out += fmt::format("{}{{\"from\": {}, \"to\": {}, \"command\": {}, \"transmitted\": {}, "
                         "\"received\": {}, \"ttls\": [{}], \"lines\": {}}}",
                         i ? ", " : "", json_string(p.from), json_string(p.to),
                         json_string(p.command), p.transmitted, p.received, ttls,
                         json_lines(p.lines));
    }
    out += "], \"views\": [";
    bool failed = false;
    for (std::size_t i = 0; i < views.size(); ++i) {
      const auto& [where, command] = views[i];
      auto text = (*cluster)->command(where, command);
      if (!text) {
        fmt::print(stderr, "calisim: --view '{}': {}\n", options.views[i], text.error().message);
        failed = true;
        continue;
      }
      std::vector<std::string> lines;
      for (std::size_t at = 0; at < text->size();) {
        const auto nl = text->find('\n', at);
        const auto end = nl == std::string::npos ? text->size() : nl;
        lines.push_back(text->substr(at, end - at));
        at = end + 1;
      }
      out += fmt::format("{}{{\"where\": {}, \"command\": {}, \"lines\": {}}}", i ? ", " : "",
                         json_string(where), json_string(command), json_lines(lines));
    }
    auto finished = (*cluster)->finish();
    if (!finished) {
      fmt::print(stderr, "calisim: {}\n", finished.error().message);
      return kExitRunFailed;
    }
    fmt::print("{}], \"run_dir\": {}}}\n", out, json_string(run_dir.string()));
    return failed ? kExitUsage : kExitOk;
  }
  if (!options.views_only) {
    fmt::print("calisim {}: scenario {} (seed {}), {} nodes, simulating {} s\n", CALISIM_VERSION,
               scenario->name, scenario->seed, scenario->nodes.size(),
               until.ns() / 1'000'000'000);
  }
  calisim::cli::run_with_progress(**cluster, until);
  for (const auto& p : (*cluster)->pings()) {
    if (options.views_only) break;
    fmt::print("\n$ kubectl exec {} -- {}\n", p.from, p.command);
    for (const auto& line : p.lines) fmt::print("{}\n", line);
  }
  for (const auto& f : (*cluster)->flows()) {
    if (options.views_only) break;
    fmt::print("\n$ kubectl exec {} -- {}\n", f.from, f.command);
    const std::string state = f.state();
    if (!f.error.empty()) {
      fmt::print("flow {}: {}\n", state, f.error);
      continue;
    }
    fmt::print("flow {}: {} of {} bytes", state, f.received, f.bytes);
    if (f.completed) fmt::print(" in {:.3f} s", (*f.completed - f.start).to_seconds());
    if (f.established) {
      fmt::print(", connected after {:.3f} ms", (*f.established - f.start).to_milliseconds());
    }
    fmt::print(", MSS {}/{}, {} retransmissions, {} timeouts\n", f.client_mss, f.server_mss,
               f.retransmissions, f.timeouts);
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
  run->add_flag("--json", run_options.json,
                "Print one JSON object (pings, --view outputs, run directory) instead of text");
  run->add_option("--until", run_options.until,
                  "Stop at this simulated time (30s, 1m30s) instead of the scenario's duration");
  auto* check = app.add_subcommand("check", "Parse a scenario and list every problem in it");
  std::string check_path;
  check->add_option("scenario", check_path, "Scenario YAML file")->required();
  auto* validate = app.add_subcommand(
      "validate", "Report every error in a scenario with file:line:column; run nothing");
  validate->add_option("scenario", check_path, "Scenario YAML file")->required();

  // Subcommands that run a scenario and then look at it.
  calisim::cli::CommonOptions common;
  auto add_common = [&common](CLI::App* sub, bool until) {
    sub->add_option("--scenario", common.scenario,
                    "Scenario YAML file (default: the built-in lab)")
        ->check(CLI::ExistingFile);
    if (until) {
      sub->add_option("--until", common.until,
                      "Simulated time to run to (default: the scenario's duration)");
    }
    sub->add_flag("--json", common.json, "Print JSON instead of text");
  };
  auto* show = app.add_subcommand(
      "show", "Run a scenario and print one view at the end, as the tool prints it");
  std::string show_view;
  std::string show_node;
  std::string show_pod;
  show->add_option("view", show_view,
                   "What to show: a command as typed ('calicoctl node status', 'ip route', "
                   "'calicoctl get wep -A -o wide', 'route -n', ...), 'bgp' (BGP sessions) or "
                   "'pings' (the scenario's ping output)")
      ->required();
  show->add_option("--node", show_node, "The node (default: the first control-plane node)");
  show->add_option("--pod", show_pod, "A pod instead of a node: NAMESPACE/NAME");
  add_common(show, true);
  auto* ping = app.add_subcommand(
      "ping",
      "Ping from a pod or node to a pod, node or address once the cluster is up; prints what "
      "iputils prints (exit 1 when no reply came)");
  std::string ping_from;
  std::string ping_to;
  int ping_count = 5;
  ping->add_option("source", ping_from, "NAMESPACE/POD or NODE")->required();
  ping->add_option("destination", ping_to, "NAMESPACE/POD, NODE or IPv4 address")->required();
  ping->add_option("-c,--count", ping_count, "Echo requests to send")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  add_common(ping, true);
  auto* cap = app.add_subcommand(
      "capture", "Run a scenario and write one interface's packets to a pcap, like tcpdump -w");
  std::string cap_iface;
  std::string cap_filter;
  std::string cap_write;
  cap->add_option("--iface", cap_iface, "NODE/IFNAME (user-worker/enp0s8) or NS/POD/IFNAME")
      ->required();
  cap->add_option("--filter", cap_filter, "A tcpdump filter expression ('proto 4', 'icmp')");
  cap->add_option("-w,--write", cap_write,
                  "Output file (.pcap: classic pcap; default: <out>/<scenario>/<IFNAME>.pcap)");
  add_common(cap, true);
  auto* diff = app.add_subcommand(
      "diff",
      "Run two scenarios and compare every node's routes, BGP session states and the pod-to-pod "
      "reachability matrix (exit 0 same, 1 different)");
  std::string diff_a;
  std::string diff_b;
  diff->add_option("a", diff_a, "First scenario YAML file, or a run directory")
      ->required()
      ->check(CLI::ExistingPath);
  diff->add_option("b", diff_b, "Second scenario YAML file, or a run directory")
      ->required()
      ->check(CLI::ExistingPath);
  diff->add_option("--until", common.until, "Simulated time to run each to");
  diff->add_flag("--json", common.json, "Print JSON instead of text");
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
  if (check->parsed() || validate->parsed()) return calisim::cli::validate(check_path);
  common.out = out;
  if (app.get_option("--seed")->count() > 0) common.seed = options.seed;
  if (show->parsed()) return calisim::cli::show(common, show_view, show_node, show_pod);
  if (ping->parsed()) return calisim::cli::ping(common, ping_from, ping_to, ping_count);
  if (cap->parsed()) return calisim::cli::capture(common, cap_iface, cap_filter, cap_write);
  if (diff->parsed()) return calisim::cli::diff(common, diff_a, diff_b);
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
