#include "cli/commands.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include <unistd.h>

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/quantity.hpp>
#include <calisim/calico/run_summary.hpp>
#include <calisim/calico/scenario.hpp>
#include <calisim/dataplane/namespace.hpp>

#include "cli/progress.hpp"

namespace calisim::cli {
// JSON string literal (RFC 8259 escapes).
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_lines(const std::vector<std::string>& lines) {
  std::string out = "[";
  for (std::size_t i = 0; i < lines.size(); ++i) out += (i ? ", " : "") + json_string(lines[i]);
  return out + "]";
}

namespace {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    const auto end = nl == std::string_view::npos ? text.size() : nl;
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The scenario of `path` (the built-in lab when empty), with --seed applied; errors printed.
std::optional<calico::Scenario> load(const CommonOptions& common, const std::string& path) {
  Result<calico::Scenario> s =
      path.empty() ? calico::parse_scenario(calico::default_lab_scenario_yaml(), "lab-ipip.yaml")
                   : calico::load_scenario(path);
  if (!s) {
    fmt::print(stderr, "calisim: {}\n", s.error().message);
    return std::nullopt;
  }
  for (const auto& w : s->warnings) fmt::print(stderr, "{}\n", w.to_string());
  if (common.seed) s->seed = *common.seed;
  return std::move(*s);
}

// --until as a time, or the scenario's duration. nullopt after printing the error.
std::optional<Time> end_time(const CommonOptions& common, const calico::Scenario& s) {
  if (common.until.empty()) return Time::zero() + s.duration;
  auto d = calico::parse_duration(common.until);
  if (!d) {
    fmt::print(stderr, "calisim: --until '{}': {}\n", common.until, d.error().message);
    return std::nullopt;
  }
  return Time::zero() + *d;
}

std::unique_ptr<calico::Cluster> build(const calico::Scenario& s, calico::ClusterOptions o = {}) {
  auto c = calico::Cluster::create(s, std::move(o));
  if (!c) {
    fmt::print(stderr, "calisim: {}\n", c.error().message);
    return nullptr;
  }
  return std::move(*c);
}

std::string default_node(const calico::Scenario& s) {
  for (const auto& n : s.nodes) {
    if (n.role == calico::scenario::NodeRole::kControlPlane) return n.name;
  }
  return s.nodes.empty() ? std::string() : s.nodes.front().name;
}

}  // namespace

int validate(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    fmt::print(stderr, "calisim: cannot open {}\n", path);
    return kExitUsage;
  }
  std::string text;
  char buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  const auto parsed = calico::check_scenario(text, path);
  for (const auto& d : parsed.diagnostics) fmt::print(stderr, "{}\n", d.to_string());
  if (!parsed.ok()) return kExitUsage;
  fmt::print("{}: ok ({} nodes, {} pods)\n", path, parsed.scenario->nodes.size(),
             parsed.scenario->pods.size());
  return kExitOk;
}

int show(const CommonOptions& common, const std::string& view, const std::string& node,
         const std::string& pod) {
  auto s = load(common, common.scenario);
  if (!s) return kExitUsage;
  const auto until = end_time(common, *s);
  if (!until) return kExitUsage;
  if (!node.empty() && !pod.empty()) {
    fmt::print(stderr, "calisim show: --node and --pod name two places; give one\n");
    return kExitUsage;
  }
  std::string where = !pod.empty() ? pod : !node.empty() ? node : default_node(*s);
  std::string command = view;
  if (view == "bgp") command = "calicoctl node status";
  const bool pings = view == "pings";
  if (!pings) {
    if (auto ok = calico::Cluster::check_command(command); !ok) {
      fmt::print(stderr, "calisim show: {}\n", ok.error().message);
      return kExitUsage;
    }
  }
  auto cluster = build(*s);
  if (!cluster) return kExitRunFailed;
  run_with_progress(*cluster, *until);
  if (pings) {
    if (common.json) {
      std::string out = "[";
      const auto& all = cluster->pings();
      for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& p = all[i];
        out += fmt::format("{}{{\"from\": {}, \"to\": {}, \"command\": {}, \"transmitted\": {}, "
                           "\"received\": {}, \"lines\": {}}}",
                           i ? ", " : "", json_string(p.from), json_string(p.to), json_string(p.command),
                           p.transmitted, p.received, json_lines(p.lines));
      }
      fmt::print("{}]\n", out);
      return kExitOk;
    }
    for (const auto& p : cluster->pings()) {
      fmt::print("$ kubectl exec {} -- {}\n", p.from, p.command);
      for (const auto& line : p.lines) fmt::print("{}\n", line);
    }
    return kExitOk;
  }
  auto out = cluster->command(where, command);
  if (!out) {
    fmt::print(stderr, "calisim show: {}\n", out.error().message);
    return kExitUsage;
  }
  if (common.json) {
    fmt::print("{{\"where\": {}, \"command\": {}, \"at_s\": {:.3f}, \"lines\": {}}}\n",
               json_string(where), json_string(command),
               static_cast<double>(cluster->sim().now().ns()) / 1e9,
               json_lines(split_lines(*out)));
  } else {
    fmt::print("{}", *out);
  }
  return kExitOk;
}

int ping(const CommonOptions& common, const std::string& from, const std::string& to, int count) {
  auto s = load(common, common.scenario);
  if (!s) return kExitUsage;
  auto cluster = build(*s);
  if (!cluster) return kExitRunFailed;
  // Start when asked (--until), else once BGP and the routes have converged (at most the
  // scenario's duration): a user pings a cluster that is up.
  if (!common.until.empty()) {
    const auto until = end_time(common, *s);
    if (!until) return kExitUsage;
    run_with_progress(*cluster, *until);
  } else {
    // Every pod the scenario creates exists (the last creation plus a second for the CNI), and
    // the control plane has converged.
    Duration pods_up;
    for (const auto& p : s->pods) pods_up = std::max(pods_up, p.create_at);
    cluster->run_until(std::min(Time::zero() + s->duration,
                                Time::zero() + pods_up + Duration::seconds(1)));
    (void)cluster->run_until_converged(Time::zero() + s->duration);
  }
  auto index = cluster->ping(from, to, count);
  if (!index) {
    fmt::print(stderr, "calisim ping: {}\n", index.error().message);
    return kExitUsage;
  }
  // iputils: count echoes a second apart, then it waits for the last reply (up to 10 s here).
  cluster->run_until(cluster->sim().now() + Duration::seconds(count) + Duration::seconds(10));
  const auto& p = cluster->pings()[*index];
  if (common.json) {
    std::string ttls = "[";
    for (std::size_t i = 0; i < p.ttls.size(); ++i) ttls += fmt::format("{}{}", i ? ", " : "", p.ttls[i]);
    fmt::print("{{\"from\": {}, \"to\": {}, \"command\": {}, \"transmitted\": {}, \"received\": "
               "{}, \"ttls\": {}], \"lines\": {}}}\n",
               json_string(p.from), json_string(p.to), json_string(p.command), p.transmitted, p.received, ttls,
               json_lines(p.lines));
  } else {
    for (const auto& line : p.lines) fmt::print("{}\n", line);
  }
  return p.received > 0 ? kExitOk : kExitRunFailed;
}

int capture(const CommonOptions& common, const std::string& iface, const std::string& filter,
            const std::string& write_to) {
  auto s = load(common, common.scenario);
  if (!s) return kExitUsage;
  const auto until = end_time(common, *s);
  if (!until) return kExitUsage;
  const auto slash = iface.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == iface.size()) {
    fmt::print(stderr, "calisim capture: --iface '{}': expected NODE/IFNAME (user-worker/enp0s8) "
                       "or NAMESPACE/POD/IFNAME\n", iface);
    return kExitUsage;
  }
  const std::string where = iface.substr(0, slash);
  const std::string ifname = iface.substr(slash + 1);
  bool known = s->find_node(where) != nullptr || s->find_router(where) != nullptr;
  if (const auto ps = where.find('/'); !known && ps != std::string::npos) {
    known = s->find_pod(where.substr(0, ps), where.substr(ps + 1)) != nullptr;
  }
  if (!known) {
    fmt::print(stderr, "calisim capture: --iface '{}': the scenario has no node, router or pod "
                       "\"{}\"\n", iface, where);
    return kExitUsage;
  }
  const std::filesystem::path run_dir = std::filesystem::path(common.out) / s->name;
  const std::filesystem::path out =
      write_to.empty() ? run_dir / (ifname + ".pcap") : std::filesystem::path(write_to);
  calico::ClusterOptions o;
  o.run_dir = run_dir;
  o.filtered = capture::FilteredCaptureOptions{out, filter, {iface}};
  auto cluster = build(*s, o);
  if (!cluster) return kExitUsage;  // a filter that does not compile is reported here
  run_with_progress(*cluster, *until);
  const dataplane::Namespace* ns = cluster->find_namespace(where);
  const bool has_device = ns != nullptr && ns->device(ifname) != nullptr;
  auto finished = cluster->finish();
  if (!has_device) {
    std::error_code ec;
    std::filesystem::remove(out, ec);  // nothing half-done
    fmt::print(stderr, "calisim capture: {} has no interface '{}' at the end of the run\n", where,
               ifname);
    return kExitUsage;
  }
  if (!finished) {
    fmt::print(stderr, "calisim capture: {}\n", finished.error().message);
    return kExitRunFailed;
  }
  if (common.json) {
    fmt::print("{{\"iface\": {}, \"filter\": {}, \"wrote\": {}}}\n", json_string(iface),
               json_string(filter), json_string(out.string()));
  } else {
    fmt::print("wrote {}\n", out.string());
  }
  return kExitOk;
}

namespace {

// What `diff` compares of one run.
struct Snapshot {
  std::map<std::string, std::vector<std::string>> routes;  // node -> `ip route` lines
  std::map<std::string, std::map<std::string, std::string>> bgp;  // node -> peer -> state
  std::map<std::pair<std::string, std::string>, bool> reach;       // (from, to) -> reply
};

// A run directory's snapshot from its summary.json: routes and BGP states at the end of that
// run; reachability from the run's own pings (a pair is reachable when a reply came).
std::optional<Snapshot> snapshot_of_run(const std::string& dir) {
  auto summary = calico::load_run_summary(dir);
  if (!summary) {
    fmt::print(stderr, "calisim diff: {}\n", summary.error().message);
    return std::nullopt;
  }
  Snapshot snap;
  for (const auto& n : summary->nodes) {
    snap.routes[n.name] = n.routes;
    for (const auto& p : n.peers) snap.bgp[n.name][p.name] = p.state;
  }
  for (const auto& p : summary->pings) {
    bool& ok = snap.reach[{p.from, p.to}];
    ok = ok || p.received > 0;
  }
  return snap;
}

std::optional<Snapshot> snapshot(const CommonOptions& common, const std::string& path) {
  if (std::filesystem::is_directory(path)) return snapshot_of_run(path);
  auto s = load(common, path);
  if (!s) return std::nullopt;
  const auto until = end_time(common, *s);
  if (!until) return std::nullopt;
  auto cluster = build(*s);
  if (!cluster) return std::nullopt;
  run_with_progress(*cluster, *until);
  Snapshot snap;
  for (const auto& n : s->nodes) {
    snap.routes[n.name] = split_lines(cluster->view("ip route", n.name));
    for (const auto& [peer, state] : cluster->bgp_sessions(n.name)) snap.bgp[n.name][peer] = state;
  }
  const auto r = cluster->reachability();
  for (std::size_t i = 0; i < r.pods.size(); ++i) {
    for (std::size_t j = 0; j < r.pods.size(); ++j) {
      if (i != j) snap.reach[{r.pods[i], r.pods[j]}] = r.ok[i][j];
    }
  }
  return snap;
}

}  // namespace

int diff(const CommonOptions& common, const std::string& a, const std::string& b) {
  if (std::filesystem::is_directory(a) != std::filesystem::is_directory(b)) {
    fmt::print(stderr, "calisim diff: compare two scenarios or two run directories, not one of "
                       "each ({} and {})\n", a, b);
    return kExitUsage;
  }
  auto sa = snapshot(common, a);
  if (!sa) return kExitUsage;
  auto sb = snapshot(common, b);
  if (!sb) return kExitUsage;
  std::vector<std::string> text;   // the report, diff(1)-like
  std::vector<std::string> json;   // the same as JSON objects
  // Routes: per node (union of both), lines only in A ("-") or only in B ("+").
  std::set<std::string> nodes;
  for (const auto& [n, _] : sa->routes) nodes.insert(n);
  for (const auto& [n, _] : sb->routes) nodes.insert(n);
  for (const auto& n : nodes) {
    const auto& ra = sa->routes[n];
    const auto& rb = sb->routes[n];
    std::vector<std::string> lines;
    for (const auto& l : ra) {
      if (std::find(rb.begin(), rb.end(), l) == rb.end()) {
        lines.push_back("- " + l);
        json.push_back(fmt::format("{{\"kind\": \"route\", \"node\": {}, \"only_in\": \"a\", "
                                   "\"route\": {}}}", json_string(n), json_string(l)));
      }
    }
    for (const auto& l : rb) {
      if (std::find(ra.begin(), ra.end(), l) == ra.end()) {
        lines.push_back("+ " + l);
        json.push_back(fmt::format("{{\"kind\": \"route\", \"node\": {}, \"only_in\": \"b\", "
                                   "\"route\": {}}}", json_string(n), json_string(l)));
      }
    }
    if (!lines.empty()) {
      text.push_back(fmt::format("routes on {}:", n));
      for (auto& l : lines) text.push_back("  " + l);
    }
  }
  // BGP sessions: state per (node, peer), "-" when the session does not exist.
  std::set<std::pair<std::string, std::string>> sessions;
  for (const auto* snap : {&*sa, &*sb}) {
    for (const auto& [n, peers] : snap->bgp) {
      for (const auto& [p, _] : peers) sessions.emplace(n, p);
    }
  }
  for (const auto& [n, p] : sessions) {
    auto state = [&](const Snapshot& snap) -> std::string {
      auto it = snap.bgp.find(n);
      if (it == snap.bgp.end()) return "-";
      auto jt = it->second.find(p);
      return jt == it->second.end() ? "-" : jt->second;
    };
    const std::string x = state(*sa);
    const std::string y = state(*sb);
    if (x == y) continue;
    text.push_back(fmt::format("bgp {} {}: {} -> {}", n, p, x, y));
    json.push_back(fmt::format("{{\"kind\": \"bgp\", \"node\": {}, \"peer\": {}, \"a\": {}, "
                               "\"b\": {}}}", json_string(n), json_string(p), json_string(x), json_string(y)));
  }
  // Reachability: pairs whose answer differs, or that exist in one run only.
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& [k, _] : sa->reach) pairs.insert(k);
  for (const auto& [k, _] : sb->reach) pairs.insert(k);
  for (const auto& k : pairs) {
    auto word = [&](const Snapshot& snap) -> std::string {
      auto it = snap.reach.find(k);
      return it == snap.reach.end() ? "absent" : it->second ? "reachable" : "unreachable";
    };
    const std::string x = word(*sa);
    const std::string y = word(*sb);
    if (x == y) continue;
    text.push_back(fmt::format("reachability {} -> {}: {} -> {}", k.first, k.second, x, y));
    json.push_back(fmt::format("{{\"kind\": \"reachability\", \"from\": {}, \"to\": {}, \"a\": "
                               "{}, \"b\": {}}}", json_string(k.first), json_string(k.second), json_string(x),
                               json_string(y)));
  }
  const std::string name_a = a.empty() ? "(built-in lab)" : a;
  const std::string name_b = b.empty() ? "(built-in lab)" : b;
  if (common.json) {
    std::string out = fmt::format("{{\"a\": {}, \"b\": {}, \"same\": {}, \"differences\": [",
                                  json_string(name_a), json_string(name_b), json.empty() ? "true" : "false");
    for (std::size_t i = 0; i < json.size(); ++i) out += (i ? ", " : "") + json[i];
    fmt::print("{}]}}\n", out);
  } else if (text.empty()) {
    fmt::print("{} and {}: same routes, BGP sessions and reachability\n", name_a, name_b);
  } else {
    fmt::print("--- {}\n+++ {}\n", name_a, name_b);
    for (const auto& l : text) fmt::print("{}\n", l);
  }
  return text.empty() ? kExitOk : kExitRunFailed;
}

}  // namespace calisim::cli
