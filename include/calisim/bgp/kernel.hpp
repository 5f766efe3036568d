#pragma once
// The protocols that connect a speaker's table to its namespace, as Calico's bird.cfg sets them
// up (calico.md §4.2):
//
//   protocol kernel { learn; persist; scan time 2; import all;
//                     export filter calico_kernel_programming; graceful restart; merge paths on; }
//   protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }
//
// KernelProtocol installs the best routes into the namespace's main table with `proto bird`
// (12), as Calico's BIRD fork does it (projectcalico/bird sysdep/linux/netlink.c nl_send_route,
// sysdep/unix/krt.c): a `via` route whose export filter set krt_tunnel is sent through that
// device with the BGP next hop as gateway and the onlink flag; blackholes stay blackholes; a
// change is a delete followed by an add (krt_replace_rte). With `learn` it also reads the other
// daemons' routes from the table (Felix's pod and VXLAN routes) into the table as kernel routes
// (RTS_INHERIT, preference 10), which is how a borrowed pod /32 reaches the export filter.
//
// The routes it installs, in `ip route` form (calico.md §1.3):
//   10.244.1.0/26 via 192.168.56.11 dev tunl0 proto bird onlink     (IPIP)
//   10.244.1.0/26 via 192.168.56.11 dev enp0s8 proto bird           (no encapsulation)
//   blackhole 10.244.0.0/26 proto bird                               (own block)
//
// Sans-IO like the rest: nothing runs by itself; the speaker calls sync() after the table
// changed and scan() every `scan time`.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <calisim/bgp/policy.hpp>
#include <calisim/bgp/rib.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/route.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::bgp {

struct KernelConfig {
  std::string name = "kernel1";
  std::uint32_t table = dataplane::kMainTable;
  // `metric`: Calico's BIRD (1.6-based) installs routes without one (0); upstream BIRD 2
  // defaults to 32 (`ip route` then shows "metric 32"). A krt_metric set by the export filter
  // is used when this is 0.
  std::uint32_t metric = 0;
  // `device routes`: off in BIRD 1.6, so `protocol direct`'s routes are not installed.
  bool device_routes = false;
  bool learn = true;  // `learn`: other daemons' routes come into the table
  Filter export_filter = Filter::accept_all();  // calico_kernel_programming(...) for Calico
};

struct KernelSyncResult {
  std::size_t added = 0;
  std::size_t removed = 0;
  std::size_t replaced = 0;
  // What the kernel refused, as BIRD logs it: "Netlink: Nexthop has invalid gateway" for the
  // prefix. The route is then marked with a sync error (`show route` prints '!').
  std::vector<std::string> errors;
};

class KernelProtocol {
 public:
  // Registers the protocol with the table (its learned routes come from `config.name`) and
  // subscribes to best-route changes. `rib` and `ns` must outlive it.
  KernelProtocol(Rib& rib, dataplane::Namespace& ns, KernelConfig config = {});

  const std::string& name() const { return config_.name; }
  SourceId source() const { return source_; }

  // krt_rt_notify for every prefix whose best route changed since the last sync.
  KernelSyncResult sync();
  // krt_scan: learn the other daemons' routes (with `learn`), forget those that went, and put
  // back own routes someone removed. Returns the number of learned routes that changed.
  std::size_t scan();
  // Removes every route this protocol installed (BIRD without `persist`, at shutdown).
  std::size_t flush();

  // The kernel route a table route becomes, or nullopt when it is not exported (rejected by the
  // filter, a learned or device route, no usable device).
  std::optional<dataplane::Route> kernel_route(const RibRoute& route) const;
  const dataplane::Route* installed(wire::Ipv4Prefix prefix) const;
  std::size_t installed_count() const { return installed_.size(); }
  bool sync_error(wire::Ipv4Prefix prefix) const;

 private:
  bool remove_installed(const dataplane::Route& route);

  Rib* rib_;
  dataplane::Namespace* ns_;
  KernelConfig config_;
  SourceId source_;
  SubscriberId subscriber_;
  std::unordered_map<std::uint64_t, dataplane::Route> installed_;
  std::unordered_map<std::uint64_t, bool> sync_errors_;
  std::unordered_map<std::uint64_t, LocalRoute> learned_;
};

// BIRD's `protocol direct`: a device route for each primary address of each up device whose name
// passes the interface patterns (first match decides; "-" excludes). sync() brings the table in
// line with the namespace and returns the number of routes that changed.
struct DirectConfig {
  std::string name = "direct1";
  std::vector<std::string> interfaces = {"-cali*", "-kube-ipvs*", "*"};
};

class DirectProtocol {
 public:
  DirectProtocol(Rib& rib, const dataplane::Namespace& ns, DirectConfig config = {});
  const std::string& name() const { return config_.name; }
  SourceId source() const { return source_; }
  std::size_t sync();

 private:
  Rib* rib_;
  const dataplane::Namespace* ns_;
  DirectConfig config_;
  SourceId source_;
  std::unordered_map<std::uint64_t, LocalRoute> routes_;
};

// Next hops resolved over the namespace's main table, as BIRD's `gateway recursive` resolves
// them over master4 (which holds the same routes through `protocol kernel { learn; }` and
// `protocol direct`): the device of the longest match, and its gateway when it has one. A route
// BIRD installed does not count ("Recursive route should not depend on another recursive
// route"), nor do blackholes and other reject routes: the next hop is then unreachable.
NextHopResolver kernel_resolver(const dataplane::Namespace& ns);

}  // namespace calisim::bgp
