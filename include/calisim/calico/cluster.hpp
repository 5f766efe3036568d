#pragma once
// A running Calico cluster built from a Scenario (issue #5): the nodes' and routers'
// namespaces on their segments, calico/node's start-up on each node (address autodetection,
// the tunnel address from IPAM, Felix's tunnel devices and VXLAN routes), BIRD as a BGP
// speaker per node over simulated TCP (the node-to-node mesh or route reflectors, Calico's
// export and kernel filters), pods plumbed by the CNI plugin when the scenario creates them,
// the scenario's traffic and faults at their times — and the run directory: capture.pcapng with
// every interface of every namespace, events.jsonl, summary.json.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <calisim/calico/ipam.hpp>
#include <calisim/capture/capture_set.hpp>
#include <calisim/calico/scenario.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/simulator.hpp>

namespace calisim::bgp {
class Speaker;
}

namespace calisim::calico {

struct ClusterOptions {
  // The run directory; empty: nothing is written (views and results stay in memory).
  std::filesystem::path run_dir;
  bool capture = true;  // capture.pcapng in run_dir
  // Also a filtered capture (`tcpdump -i IFACE -w FILE EXPR`), when capturing.
  std::optional<capture::FilteredCaptureOptions> filtered;
};

// One ping of the scenario's traffic, with what it printed.
struct PingRun {
  std::string from;  // "default/hello-776c774f98-894tt"
  std::string to;    // "default/hi"
  std::string command;  // "ping -c 5 192.168.136.5"
  std::vector<std::string> lines;
  std::uint64_t transmitted = 0;
  std::uint64_t received = 0;
  std::vector<std::uint8_t> ttls;
};

// One TCP flow of the scenario's traffic (or Cluster::flow). The model is a request and a large
// response, an HTTP GET of a big file: the server listens on `port` in the destination pod (or
// node); the client connects, sends a small HTTP/1.1 GET; the server answers with `bytes` bytes
// in all (an HTTP/1.1 200 header with Content-Length, then zeros; just zeros when `bytes` is
// smaller than the header) and closes; the client reads to end of file and closes. Both ends are
// calisim's Linux-like TCP (MSS = route MTU - 40, DF set, PMTU discovery from frag-needed).
struct FlowSample {
  Time at;                  // simulated time
  std::uint64_t bytes = 0;  // response bytes the client had read by then
};

struct FlowRun {
  std::string from;  // "default/client"
  std::string to;    // "default/server"
  std::string command;  // what it stands for: "curl -o /dev/null http://10.244.1.2:8080/"
  std::uint16_t port = 0;
  std::uint64_t bytes = 0;  // the response's size
  Time start;
  std::optional<Time> established;  // the client's connection reached ESTABLISHED
  std::optional<Time> completed;    // the client read the last byte and end of file
  // No response byte arrived for Cluster::kFlowStallAfter (set when that is noticed; cleared if
  // bytes flow again).
  std::optional<Time> stalled;
  std::uint64_t received = 0;  // response bytes the client read
  // `received` at the start and every 10 ms of simulated time after it until completion (or
  // until the run ends), the last sample at the completion time.
  std::vector<FlowSample> samples;
  std::uint64_t retransmissions = 0;  // segments sent again, both ends (SYN, data, FIN)
  std::uint64_t timeouts = 0;         // retransmission timer expiries, both ends
  std::uint16_t client_mss = 0;       // the MSS each end sends with (after PMTU discovery)
  std::uint16_t server_mss = 0;
  std::string error;  // why it never started or the connection failed ("ETIMEDOUT", ...)
  // "done", "failed", "stalled" or "running".
  std::string state() const;
};

// Every running pod pinging every other once: ok[i][j] is true when pods[i] got an echo reply
// from pods[j] ("namespace/name", in creation order).
struct Reachability {
  std::vector<std::string> pods;
  std::vector<std::vector<bool>> ok;
  std::size_t reachable() const;  // pairs with a reply
};

// How far the control plane has come: BGP sessions Established, and on every node a route for
// every block affine to another node (what BIRD, or Felix under VXLAN, installs).
struct Convergence {
  std::size_t sessions = 0;
  std::size_t established = 0;
  std::size_t routes_expected = 0;
  std::size_t routes_installed = 0;
  bool converged() const {
    return established == sessions && routes_installed == routes_expected;
  }
};

class Cluster {
 public:
  static Result<std::unique_ptr<Cluster>> create(const Scenario& scenario,
                                                 ClusterOptions options = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  Simulator& sim();
  Time now() const;  // the simulated time
  const Scenario& scenario() const;
  // Runs the simulation to `until` (default: the scenario's duration).
  void run_until(Time until);
  void run();
  // Runs until convergence() says converged (checked every `step` of simulated time) or until
  // `limit`; the simulated time it converged at, or nullopt.
  std::optional<Time> run_until_converged(Time limit, Duration step = Duration::milliseconds(10));
  Convergence convergence() const;
  // Flushes and closes the run directory's files and writes summary.json.
  Result<void> finish();

  // ---- acting on a running cluster (the Python module and the CLI use these) ---------------
  // Starts `ping -c count` now from `from` to `to`, as a scenario's traffic would: `from` is
  // "namespace/pod" or a node or router ("node:NAME" also works); `to` also an IPv4 address.
  // Returns its index in pings() (its lines fill in as the simulation runs).
  Result<std::size_t> ping(std::string_view from, std::string_view to, int count = 5,
                           Duration interval = Duration::seconds(1), std::size_t size_bytes = 56);
  // Starts a TCP flow now from `from` to `to` (pods "namespace/name", nodes, "node:NAME"; `to`
  // also an IPv4 address of a node or pod): `to` listens on `port`, `from` fetches `bytes`
  // bytes (FlowRun's model). Returns its index in flows().
  Result<std::size_t> flow(std::string_view from, std::string_view to, std::uint16_t port,
                           std::uint64_t bytes);
  // A flow that received nothing for this long is marked stalled.
  static constexpr Duration kFlowStallAfter = Duration::seconds(5);
  // A scenario event (fault or repair) at max(now, event.at); errors name an unknown node,
  // interface or subnet.
  Result<void> inject(const scenario::Event& event);
  // Every running pod pings every other pod once, all at once; the simulation runs `wait`
  // further to collect the replies.
  Reachability reachability(Duration wait = Duration::seconds(2));

  // ---- what a user inspects ----------------------------------------------------------------
  dataplane::Namespace* node_namespace(std::string_view node);
  dataplane::Namespace* pod_namespace(std::string_view namespace_name, std::string_view pod);
  std::optional<wire::Ipv4Address> pod_ip(std::string_view namespace_name,
                                          std::string_view pod) const;
  std::optional<wire::Ipv4Prefix> node_ip(std::string_view node) const;
  const Ipam& ipam() const;
  const std::vector<PingRun>& pings() const;
  const std::vector<FlowRun>& flows() const;

  // `calicoctl ipam show [--show-blocks]`.
  std::string calicoctl_ipam_show(bool show_blocks) const;
  // `calicoctl node status` on a node.
  std::string calicoctl_node_status(std::string_view node) const;
  // `calicoctl get workloadendpoint [-A | -n NAMESPACE] [-o wide]` (`namespace_flag`: -n's
  // value, empty without -n, which lists "default").
  std::string calicoctl_get_workloadendpoints(bool all_namespaces, bool wide = false,
                                              std::string_view namespace_flag = {}) const;
  // `calicoctl get ippool|node|bgppeer|bgpconfig [-o wide]`: the resources of the scenario as
  // the running cluster has them (nodes with the address calico/node autodetected and wrote to
  // spec.bgp, the AS it runs with).
  std::string calicoctl_get_ippools(bool wide = false) const;
  std::string calicoctl_get_nodes(bool wide = false) const;
  std::string calicoctl_get_bgppeers() const;
  std::string calicoctl_get_bgpconfigs() const;
  // `route -n`, `ip route`, `ip -br addr`, `ip -br link`, `ip neigh` on a node or a pod
  // ("node" or "namespace/pod").
  std::string view(std::string_view what, std::string_view where) const;
  // What a user types on a node or in a pod, as the tool prints it now (src/calico/
  // cluster_commands.cpp): `calicoctl ipam show [--show-blocks] [--show-borrowed] [--ip=IP]
  // [--show-configuration]`, `calicoctl node status`, `calicoctl get KIND [-o wide] [-A | -n NS]`,
  // `ip [-br] route|rule|link|addr|neigh ...`, `route -n`. `where` is a node, a router or
  // "namespace/pod"; calicoctl's commands other than `node status` are cluster-wide. Errors
  // (Errc::kInvalidArgument) name the word that was wrong; an unknown command's lists the
  // supported ones.
  Result<std::string> command(std::string_view where, std::string_view command_line) const;
  // The checks `command` makes without a cluster: the command, its flags and their values.
  static Result<void> check_command(std::string_view command_line);
  // The commands `command` accepts, one a line, indented by two spaces.
  static std::string supported_commands();
  // A node's, a router's or a pod's ("namespace/pod") network namespace; nullptr if none.
  const dataplane::Namespace* find_namespace(std::string_view where) const;

  // The BGP state of `node`'s session named `peer` (Mesh_203_248_23_215): "Established", ...
  std::string bgp_state(std::string_view node, std::string_view peer) const;
  // Every BGP session of `node` as (protocol name, state), in BIRD's order; empty when the
  // node runs no BIRD.
  std::vector<std::pair<std::string, std::string>> bgp_sessions(std::string_view node) const;
  // The node's BIRD (nullptr when calico/node or BIRD is not running there): for views such as
  // `birdcl show route`.
  const bgp::Speaker* bgp_speaker(std::string_view node) const;

 private:
  struct Impl;
  explicit Cluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace calisim::calico
