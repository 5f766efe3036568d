// calisim._core.Cluster: one running calico::Cluster for Python.
//
// Every call releases the GIL before it takes the cluster's lock, and converts to Python objects
// only after the C++ work is done: a simulation runs while other Python threads run, and two
// threads that share one cluster take turns instead of racing. (The GIL is never held while
// waiting for the lock, so the two cannot deadlock.)

#include "bindings.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/quantity.hpp>
#include <calisim/calico/scenario.hpp>

#include "errors.hpp"

namespace py = pybind11;

namespace calisim::python {
namespace {

using calico::Cluster;

constexpr double kMaxSeconds = 9.0e9;  // well inside int64 nanoseconds (292 years)

Duration seconds_to_duration(double seconds, std::string_view what) {
  if (!std::isfinite(seconds) || seconds < 0) {
    raise(Errc::kInvalidArgument,
          fmt::format("{}: {} is not a number of seconds >= 0", what, seconds));
  }
  if (seconds > kMaxSeconds) {
    raise(Errc::kOutOfRange,
          fmt::format("{}: {} s is beyond what calisim can simulate", what, seconds));
  }
  return Duration::nanoseconds(std::llround(seconds * 1e9));
}

// A duration given as seconds (int or float) or as Go's syntax ("20ms", "1m30s").
Duration duration_arg(const py::handle& value, std::string_view what) {
  if (py::isinstance<py::str>(value)) {
    auto d = calico::parse_duration(value.cast<std::string>());
    if (!d) raise(Errc::kInvalidArgument, fmt::format("{}: {}", what, d.error().message));
    if (*d < Duration::zero()) {
      raise(Errc::kInvalidArgument, fmt::format("{}: a negative duration", what));
    }
    return *d;
  }
  if (py::isinstance<py::bool_>(value) ||
      !(py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value))) {
    throw py::type_error(
        fmt::format("{}: want seconds (a number) or a duration such as \"20ms\"", what));
  }
  return seconds_to_duration(value.cast<double>(), what);
}

std::string string_arg(const py::handle& value, std::string_view what) {
  if (!py::isinstance<py::str>(value)) throw py::type_error(fmt::format("{}: want a str", what));
  return value.cast<std::string>();
}

// "link_down", "LinkDown" and "linkDown" all name linkDown.
std::string action_key(std::string_view name) {
  std::string key;
  for (char ch : name) {
    if (ch == '_' || ch == '-') continue;
    key += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  }
  return key;
}

std::string join_names(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

// inject()'s keyword arguments as a scenario Event, checked as the scenario file's events are.
calico::scenario::Event make_event(std::string_view action, const py::kwargs& params) {
  namespace sc = calico::scenario;
  const sc::EventActionRule* rule = nullptr;
  std::vector<std::string_view> names;
  for (const auto& r : sc::event_action_rules()) {
    names.push_back(r.name);
    if (action_key(r.name) == action_key(action)) rule = &r;
  }
  if (rule == nullptr) {
    raise(Errc::kInvalidArgument, fmt::format("inject: \"{}\" is not an event action (want {})",
                                              action, join_names(names)));
  }
  sc::Event e;
  e.action = rule->action;
  bool has_node = false;
  bool has_interface = false;
  bool has_subnet = false;
  for (const auto& [key_handle, value] : params) {
    const std::string key = py::str(key_handle);
    if (key == "at") {
      e.at = duration_arg(value, "inject: at");
      continue;
    }
    const auto allowed = std::find(rule->allowed.begin(), rule->allowed.end(), key);
    if (allowed == rule->allowed.end()) {
      raise(Errc::kInvalidArgument, fmt::format("inject: {} takes {} (and at), not {}", rule->name,
                                                join_names(rule->allowed), key));
    }
    if (key == "node") {
      e.node = string_arg(value, "inject: node");
      has_node = true;
    } else if (key == "interface") {
      e.interface = string_arg(value, "inject: interface");
      has_interface = true;
    } else if (key == "subnet") {
      e.subnet = string_arg(value, "inject: subnet");
      has_subnet = true;
    } else if (key == "loss") {
      if (py::isinstance<py::str>(value)) {
        auto p = calico::parse_percentage(value.cast<std::string>());
        if (!p) raise(Errc::kInvalidArgument, "inject: loss: " + p.error().message);
        e.loss = *p;
      } else if (!py::isinstance<py::bool_>(value) &&
                 (py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value))) {
        e.loss = value.cast<double>();
        if (!(e.loss >= 0.0 && e.loss <= 1.0)) {
          raise(Errc::kInvalidArgument,
                fmt::format("inject: loss: {} is not a probability in [0, 1] (or write \"1%\")",
                            e.loss));
        }
      } else {
        throw py::type_error("inject: loss: want a probability (0.01) or a percentage (\"1%\")");
      }
    } else if (key == "delay") {
      e.delay = duration_arg(value, "inject: delay");
    } else if (key == "rate") {
      if (py::isinstance<py::str>(value)) {
        auto r = calico::parse_rate_bps(value.cast<std::string>());
        if (!r) raise(Errc::kInvalidArgument, "inject: rate: " + r.error().message);
        e.rate_bps = *r;
      } else if (py::isinstance<py::int_>(value) && !py::isinstance<py::bool_>(value)) {
        e.rate_bps = value.cast<std::int64_t>();
        if (e.rate_bps < 1) {
          raise(Errc::kInvalidArgument,
                fmt::format("inject: rate: {} bit/s (want at least 1)", e.rate_bps));
        }
      } else {
        throw py::type_error("inject: rate: want bits per second (an int) or tc's \"10Mbit\"");
      }
    } else if (key == "mtu") {
      if (!py::isinstance<py::int_>(value) || py::isinstance<py::bool_>(value)) {
        throw py::type_error("inject: mtu: want an int");
      }
      const auto mtu = value.cast<std::int64_t>();
      if (mtu < 68 || mtu > 65535) {
        raise(Errc::kInvalidArgument, fmt::format("inject: mtu: {} is not in 68..65535", mtu));
      }
      e.mtu_bytes = static_cast<std::uint32_t>(mtu);
    } else if (key == "protocol") {
      std::string text;
      if (py::isinstance<py::int_>(value) && !py::isinstance<py::bool_>(value)) {
        text = std::to_string(value.cast<long long>());
      } else {
        text = string_arg(value, "inject: protocol");
      }
      auto p = sc::parse_protocol_match(text);
      if (!p) {
        raise(Errc::kInvalidArgument,
              fmt::format("inject: protocol: \"{}\" is not a protocol (want ipip, vxlan, "
                          "wireguard, bgp, icmp, tcp, udp, esp, an IP protocol number 0..255, "
                          "udp/<port> or tcp/<port>)",
                          text));
      }
      e.protocol = *p;
    }
  }
  for (const auto& need : rule->required) {
    if (!params.contains(py::str(std::string(need)))) {
      raise(Errc::kInvalidArgument,
            fmt::format("inject: {} needs {}", rule->name, join_names(rule->required)));
    }
  }
  if (rule->action == sc::EventAction::kSetMtu) {
    if (has_subnet == (has_node || has_interface)) {
      raise(Errc::kInvalidArgument, "inject: setMtu takes either subnet, or node and interface");
    }
    if (has_node != has_interface) {
      raise(Errc::kInvalidArgument, "inject: setMtu on an interface needs both node and interface");
    }
  }
  return e;
}

// A ping's output is complete once ping printed its statistics, or failed to start.
bool ping_finished(const calico::PingRun& p) {
  if (p.lines.size() == 1 && p.lines[0].starts_with("ping: ")) return true;
  for (const auto& line : p.lines) {
    if (line.starts_with("--- ") && line.ends_with(" ping statistics ---")) return true;
  }
  return false;
}

py::dict ping_dict(const calico::PingRun& p, std::size_t index) {
  py::dict d;
  d["index"] = index;
  d["source"] = p.from;
  d["destination"] = p.to;
  d["command"] = p.command;
  d["lines"] = p.lines;
  d["transmitted"] = p.transmitted;
  d["received"] = p.received;
  std::vector<int> ttls(p.ttls.begin(), p.ttls.end());
  d["ttls"] = ttls;
  d["finished"] = ping_finished(p);
  return d;
}

class PyCluster {
 public:
  PyCluster(std::unique_ptr<Cluster> cluster, std::filesystem::path run_dir, bool capture)
      : cluster_(std::move(cluster)), run_dir_(std::move(run_dir)), capture_(capture) {}

  ~PyCluster() {
    // A run directory left open would lose the end of the capture and summary.json.
    if (!finished_ && !run_dir_.empty()) {
      py::gil_scoped_release release;
      (void)cluster_->finish();
    }
  }

  PyCluster(const PyCluster&) = delete;
  PyCluster& operator=(const PyCluster&) = delete;

  static std::unique_ptr<PyCluster> create(std::function<Result<calico::Scenario>()> parse,
                                           std::optional<std::filesystem::path> run_dir,
                                           bool capture) {
    calico::ClusterOptions options;
    if (run_dir) options.run_dir = *run_dir;
    options.capture = capture && run_dir.has_value();
    Result<std::unique_ptr<Cluster>> made = [&]() -> Result<std::unique_ptr<Cluster>> {
      py::gil_scoped_release release;
      auto scenario = parse();
      if (!scenario) return std::unexpected(scenario.error());
      return Cluster::create(*scenario, options);
    }();
    return std::make_unique<PyCluster>(unwrap(std::move(made)), options.run_dir, options.capture);
  }

  // Runs `f(cluster)` without the GIL, holding the cluster's lock.
  template <class F>
  auto locked(F&& f) {
    py::gil_scoped_release release;
    std::lock_guard lock(mu_);
    return f(*cluster_);
  }

  // Runs `f(cluster)` holding the lock and the GIL: for reads that build Python objects.
  template <class F>
  py::object inspect(F&& f) {
    py::gil_scoped_release release;
    std::lock_guard lock(mu_);
    py::gil_scoped_acquire acquire;
    return f(*cluster_);
  }

  void check_running(std::string_view what) const {
    if (finished_) {
      raise(Errc::kUnavailable,
            fmt::format("{}: the cluster is finished (finish() closed its run directory); "
                        "views still work, running does not",
                        what));
    }
  }

  double now() {
    return locked([](Cluster& c) { return c.sim().now().to_seconds(); });
  }
  std::int64_t now_ns() {
    return locked([](Cluster& c) { return c.sim().now().ns(); });
  }

  void run() {
    check_running("run");
    locked([](Cluster& c) { c.run(); });
  }

  void run_until(double seconds) {
    check_running("run_until");
    const Duration until = seconds_to_duration(seconds, "run_until");
    locked([&](Cluster& c) { c.run_until(Time::zero() + until); });
  }

  void step(double seconds) {
    check_running("step");
    const Duration d = seconds_to_duration(seconds, "step");
    locked([&](Cluster& c) { c.run_until(c.sim().now() + d); });
  }

  std::optional<double> run_until_converged(double limit, double step_seconds) {
    check_running("run_until_converged");
    const Duration l = seconds_to_duration(limit, "run_until_converged: limit");
    const Duration s = seconds_to_duration(step_seconds, "run_until_converged: step");
    if (s == Duration::zero()) raise(Errc::kInvalidArgument, "run_until_converged: step is 0");
    auto at = locked([&](Cluster& c) { return c.run_until_converged(Time::zero() + l, s); });
    if (!at) return std::nullopt;
    return at->to_seconds();
  }

  py::dict convergence() {
    const auto c = locked([](Cluster& cl) { return cl.convergence(); });
    py::dict d;
    d["sessions"] = c.sessions;
    d["established"] = c.established;
    d["routes_expected"] = c.routes_expected;
    d["routes_installed"] = c.routes_installed;
    d["converged"] = c.converged();
    return d;
  }

  std::size_t ping(const std::string& from, const std::string& to, int count, double interval,
                   std::size_t size) {
    check_running("ping");
    const Duration i = seconds_to_duration(interval, "ping: interval");
    if (i == Duration::zero()) raise(Errc::kInvalidArgument, "ping: interval is 0");
    return unwrap(locked([&](Cluster& c) { return c.ping(from, to, count, i, size); }));
  }

  py::dict ping_run(std::size_t index) {
    auto run = locked([&](Cluster& c) -> std::optional<calico::PingRun> {
      if (index >= c.pings().size()) return std::nullopt;
      return c.pings()[index];
    });
    if (!run) raise(Errc::kNotFound, fmt::format("no ping number {}", index));
    return ping_dict(*run, index);
  }

  py::list pings() {
    auto runs = locked([](Cluster& c) { return c.pings(); });
    py::list out;
    for (std::size_t i = 0; i < runs.size(); ++i) out.append(ping_dict(runs[i], i));
    return out;
  }

  void inject(const std::string& action, const py::kwargs& params) {
    check_running("inject");
    const auto event = make_event(action, params);
    unwrap(locked([&](Cluster& c) -> Result<void> {
      auto r = c.inject(event);
      // A fault for now is an event at the current time, queued behind what is already there.
      // Run the queue up to now (no time passes), so that it has happened when inject returns:
      // otherwise link_up() followed at once by ping() or reachability() would send into the
      // still unplugged cable, since a ping sends its first request synchronously.
      if (r) c.run_until(c.sim().now());
      return r;
    }));
  }

  std::pair<std::vector<std::string>, std::vector<std::vector<bool>>> reachability(double wait) {
    check_running("reachability");
    const Duration w = seconds_to_duration(wait, "reachability: wait");
    auto r = locked([&](Cluster& c) { return c.reachability(w); });
    return {std::move(r.pods), std::move(r.ok)};
  }

  std::string command(const std::string& where, const std::string& line) {
    return unwrap(locked([&](Cluster& c) { return c.command(where, line); }));
  }

  std::string node_ip(const std::string& node) {
    auto ip = locked([&](Cluster& c) { return c.node_ip(node); });
    if (!ip) {
      raise(Errc::kNotFound, fmt::format("no node '{}' with an address (is it a node, and did "
                                         "calico-node start?)",
                                         node));
    }
    return ip->to_string();
  }

  std::string pod_ip(const std::string& pod) {
    const auto slash = pod.find('/');
    const std::string ns = slash == std::string::npos ? "default" : pod.substr(0, slash);
    const std::string name = slash == std::string::npos ? pod : pod.substr(slash + 1);
    auto ip = locked([&](Cluster& c) { return c.pod_ip(ns, name); });
    if (!ip) raise(Errc::kNotFound, fmt::format("no running pod '{}/{}'", ns, name));
    return ip->to_string();
  }

  std::string bgp_state(const std::string& node, const std::string& peer) {
    return locked([&](Cluster& c) { return c.bgp_state(node, peer); });
  }

  py::object ipam_blocks() {
    return inspect([](Cluster& c) -> py::object {
      py::list out;
      for (const auto& b : c.ipam().blocks()) {
        py::dict d;
        d["cidr"] = b.cidr().to_string();
        d["name"] = b.name();
        d["affinity"] = b.affinity() ? py::object(py::str(*b.affinity())) : py::object(py::none());
        d["size"] = b.size();
        d["in_use"] = b.in_use();
        d["free"] = b.free_count();
        py::list allocations;
        for (std::uint32_t k = 0; k < b.size(); ++k) {
          const auto& a = b.allocation(k);
          if (!a) continue;
          py::dict ad;
          ad["address"] = b.address(k).to_string();
          ad["ordinal"] = k;
          ad["handle"] = a->handle;
          py::dict attrs;
          for (const auto& [key, value] : a->attributes) attrs[py::str(key)] = value;
          ad["attributes"] = attrs;
          allocations.append(ad);
        }
        d["allocations"] = allocations;
        out.append(d);
      }
      return out;
    });
  }

  py::object ipam_pools() {
    return inspect([](Cluster& c) -> py::object {
      py::list out;
      for (const auto& p : c.ipam().pools()) {
        py::dict d;
        d["name"] = p.name;
        d["cidr"] = p.cidr.to_string();
        d["block_size"] = p.block_size;
        d["node_selector"] = p.node_selector;
        d["disabled"] = p.disabled;
        out.append(d);
      }
      return out;
    });
  }

  py::object scenario_info() {
    return inspect([](Cluster& c) -> py::object {
      const auto& s = c.scenario();
      py::dict d;
      d["name"] = s.name;
      d["file"] = s.file;
      d["seed"] = s.seed;
      d["duration"] = s.duration.to_seconds();
      py::list nodes;
      for (const auto& n : s.nodes) nodes.append(n.name);
      d["nodes"] = nodes;
      py::list routers;
      for (const auto& r : s.routers) routers.append(r.name);
      d["routers"] = routers;
      py::list subnets;
      for (const auto& sn : s.subnets) {
        py::dict sd;
        sd["name"] = sn.name;
        sd["cidr"] = sn.cidr.to_string();
        subnets.append(sd);
      }
      d["subnets"] = subnets;
      py::list pods;
      for (const auto& p : s.pods) pods.append(p.key());
      d["pods"] = pods;
      py::list warnings;
      for (const auto& w : s.warnings) warnings.append(w.to_string());
      d["warnings"] = warnings;
      return d;
    });
  }

  void finish() {
    if (finished_) return;
    auto r = locked([](Cluster& c) { return c.finish(); });
    finished_ = true;
    unwrap(std::move(r));
  }

  std::optional<std::filesystem::path> run_dir() const {
    if (run_dir_.empty()) return std::nullopt;
    return run_dir_;
  }
  bool capture() const { return capture_; }
  bool finished() const { return finished_; }

 private:
  std::unique_ptr<Cluster> cluster_;
  std::filesystem::path run_dir_;
  bool capture_ = false;
  bool finished_ = false;
  std::mutex mu_;
};

}  // namespace

void bind_cluster(py::module_& m) {
  py::class_<PyCluster>(m, "Cluster", R"doc(
A running simulated Calico cluster (the C++ calisim::calico::Cluster).

This is the low-level object; most code uses the pure-Python ``calisim.Cluster``, which wraps
it and adds NumPy results, structured views and the context manager. Times are seconds of
simulated time (float); the simulation starts at 0 and only moves when run_until/step/run,
ping(wait) or reachability run it. Every method releases the GIL while it works.
)doc")
      .def_static(
          "from_yaml",
          [](std::string text, std::string filename, std::optional<std::filesystem::path> run_dir,
             bool capture) {
            return PyCluster::create(
                [text = std::move(text), filename = std::move(filename)] {
                  return calico::parse_scenario(text, filename);
                },
                std::move(run_dir), capture);
          },
          py::arg("text"), py::arg("filename") = "scenario.yaml", py::arg("run_dir") = py::none(),
          py::arg("capture") = true,
          "Parses a scenario (one multi-document YAML text) and builds the cluster at time 0. "
          "`filename` names the text in error messages. With `run_dir`, the run writes "
          "capture.pcapng (when `capture`), events.jsonl and summary.json there. A scenario "
          "error raises ValueError listing every problem, one a line.")
      .def_static(
          "from_file",
          [](std::filesystem::path path, std::optional<std::filesystem::path> run_dir,
             bool capture) {
            return PyCluster::create(
                [path = std::move(path)] { return calico::load_scenario(path); },
                std::move(run_dir), capture);
          },
          py::arg("path"), py::arg("run_dir") = py::none(), py::arg("capture") = true,
          "As from_yaml, reading a scenario file (OSError when it cannot be read).")
      .def_property_readonly("now", &PyCluster::now, "Simulated time now, in seconds.")
      .def_property_readonly("now_ns", &PyCluster::now_ns, "Simulated time now, in nanoseconds.")
      .def_property_readonly("run_dir", &PyCluster::run_dir,
                             "The run directory (pathlib.Path), or None when nothing is written.")
      .def_property_readonly("capture", &PyCluster::capture,
                             "True when the run writes run_dir/capture.pcapng.")
      .def_property_readonly("finished", &PyCluster::finished, "True once finish() was called.")
      .def("scenario_info", &PyCluster::scenario_info,
           "The scenario as parsed: name, file, seed, duration (s), nodes, routers, subnets "
           "(name, cidr), pods ('namespace/name', in creation order) and warnings.")
      .def("run", &PyCluster::run, "Runs to the end of the scenario's duration.")
      .def("run_until", &PyCluster::run_until, py::arg("seconds"),
           "Runs until simulated time `seconds` (nothing happens if that is not later than now).")
      .def("step", &PyCluster::step, py::arg("seconds"), "Runs `seconds` further.")
      .def("run_until_converged", &PyCluster::run_until_converged, py::arg("limit"),
           py::arg("step") = 0.01,
           "Runs until every BGP session is Established and every node has a route for every "
           "other node's blocks (checked every `step` s), or until time `limit`; the time it "
           "converged, or None.")
      .def("convergence", &PyCluster::convergence,
           "{'sessions', 'established', 'routes_expected', 'routes_installed', 'converged'} now.")
      .def("ping", &PyCluster::ping, py::arg("source"), py::arg("destination"),
           py::arg("count") = 5, py::arg("interval") = 1.0, py::arg("size") = 56,
           "Starts `ping -c count -i interval -s size` now, from a pod ('namespace/name'), a node "
           "or a router ('node:NAME' also works) to one of those or an IPv4 address. Returns the "
           "ping's index for ping_run(); its output fills in as the simulation runs.")
      .def("ping_run", &PyCluster::ping_run, py::arg("index"),
           "What ping number `index` has printed so far: {'index', 'source', 'destination', "
           "'command', 'lines', 'transmitted', 'received', 'ttls', 'finished'}.")
      .def("pings", &PyCluster::pings,
           "Every ping so far, the scenario's traffic and ping()'s, as ping_run() gives them.")
      .def("inject", &PyCluster::inject, py::arg("action"),
           "inject(action, *, at=None, node=..., interface=..., subnet=..., loss=..., delay=..., "
           "rate=..., mtu=..., protocol=...)\n\n"
           "A fault or repair, as a scenario's events: linkDown/linkUp (node, interface), "
           "nodeCrash/nodeRestart (node), setLoss (subnet, loss), setDelay (subnet, delay), "
           "setRate (subnet, rate), setMtu (mtu; subnet, or node and interface), "
           "setFabricMtu (subnet, mtu), "
           "blockProtocol/unblockProtocol (subnet, protocol). `action` may also be written "
           "link_down. It happens now, or at simulated time `at` if that is later. loss: a "
           "probability or '1%'; delay and at: seconds or '20ms'; rate: bit/s or '10Mbit'; "
           "protocol: 'ipip', 'vxlan', 'bgp', 'udp/4789', a number, ... ValueError for a bad "
           "parameter, KeyError for an unknown node, interface or subnet.")
      .def("reachability", &PyCluster::reachability, py::arg("wait") = 2.0,
           "Every running pod pings every other once, all at once, and the simulation runs "
           "`wait` s further. Returns (pods, ok): pod names and ok[i][j], True when pods[i] got a "
           "reply from pods[j].")
      .def("command", &PyCluster::command, py::arg("where"), py::arg("command"),
           "What `command` prints on a node, a router or in a pod ('namespace/name') now: "
           "calicoctl ipam show / node status / get ..., ip route|rule|link|addr|neigh, route -n. "
           "ValueError names what was wrong with the command.")
      .def("node_ip", &PyCluster::node_ip, py::arg("node"),
           "The address calico-node uses on `node`, as 'a.b.c.d/len' (KeyError if none).")
      .def("pod_ip", &PyCluster::pod_ip, py::arg("pod"),
           "A running pod's address ('namespace/name', or a name in default).")
      .def("bgp_state", &PyCluster::bgp_state, py::arg("node"), py::arg("peer"),
           "The BGP state of `node`'s session named `peer` ('Mesh_10_0_0_12'): 'Established', "
           "'Active', ...; '' when there is no such session.")
      .def("ipam_blocks", &PyCluster::ipam_blocks,
           "Every IPAM allocation block: cidr, name, affinity (node or None), size, in_use, "
           "free and allocations (address, ordinal, handle, attributes).")
      .def("ipam_pools", &PyCluster::ipam_pools,
           "The IP pools IPAM allocates from: name, cidr, block_size, node_selector, disabled.")
      .def("finish", &PyCluster::finish,
           "Flushes and closes the run directory (capture.pcapng, events.jsonl) and writes "
           "summary.json. Afterwards views still work; running, pings and faults raise "
           "SimulationError. Calling it again does nothing.");
}

}  // namespace calisim::python
