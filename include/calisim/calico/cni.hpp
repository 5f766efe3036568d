#pragma once
// Calico's CNI plugin, ADD and DEL for a Kubernetes pod (cni-plugin/pkg/dataplane/linux/
// dataplane_linux.go, calico.md §1): the veth pair with the host end named cali + 11 hex of
// sha1("<namespace>.<pod>") and MAC ee:ee:ee:ee:ee:ee, its sysctls (proxy_arp, proxy_delay 0,
// forwarding, route_localnet), inside the pod `169.254.1.1 dev eth0 scope link`,
// `default via 169.254.1.1 dev eth0` and the pod IP as a /32 on eth0; on the host the
// `<podIP> dev caliX scope link` route and (Felix's) PERMANENT neighbour entry for the pod.

#include <cstdint>
#include <string>
#include <string_view>

#include <calisim/dataplane/namespace.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::calico {

// VethNameForWorkload (libcalico-go/lib/backend/k8s/conversion/workload_endpoint_default.go):
// prefix + the first 11 hex digits of sha1("<namespace>.<pod>").
std::string veth_name_for_workload(std::string_view k8s_namespace, std::string_view pod,
                                   std::string_view prefix = "cali");

// The WorkloadEndpoint resource name <node>-k8s-<pod>-<iface>, each '-' inside a part doubled
// (libcalico-go/lib/names/workloadendpoint.go).
std::string workload_endpoint_name(std::string_view node, std::string_view pod,
                                   std::string_view interface = "eth0");

// The MAC Calico gives every host-side veth (hostSideMAC).
inline constexpr wire::MacAddress kHostSideMac({0xee, 0xee, 0xee, 0xee, 0xee, 0xee});
// What nothing owns and proxy ARP answers for: the pod's gateway.
inline constexpr wire::Ipv4Address kPodGateway(169, 254, 1, 1);

struct CniArgs {
  std::string k8s_namespace;
  std::string pod;
  wire::Ipv4Address ip;
  std::uint32_t mtu = 1500;
  wire::MacAddress pod_mac;          // the kernel's random MAC for eth0 (the caller draws it)
  std::string interface_prefix = "cali";  // FELIX_INTERFACEPREFIX's first entry
};

struct CniResult {
  std::string host_interface;
  std::uint32_t host_ifindex = 0;
  std::uint32_t pod_ifindex = 0;
};

// Plumbs `pod` (a fresh namespace) to `host`. Fails, changing nothing, if the host already has
// an interface of that name (the same pod twice).
Result<CniResult> cni_add(dataplane::Namespace& host, dataplane::Namespace& pod,
                          const CniArgs& args);
// CNI DEL: the pod's veth goes (both ends; the host route and neighbour with it).
Result<void> cni_del(dataplane::Namespace& host, std::string_view host_interface);

// A MAC as the kernel's eth_random_addr makes it (locally administered, unicast), drawn from
// `bits`.
wire::MacAddress random_mac(std::uint64_t bits);

}  // namespace calisim::calico
