#include <calisim/calico/cni.hpp>

#include <fmt/format.h>

#include <calisim/dataplane/route.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/wire/sha1.hpp>

namespace calisim::calico {
namespace {

std::string escape_dashes(std::string_view s) {
  std::string out;
  for (char c : s) {
    out.push_back(c);
    if (c == '-') out.push_back('-');
  }
  return out;
}

}  // namespace

std::string veth_name_for_workload(std::string_view k8s_namespace, std::string_view pod,
                                   std::string_view prefix) {
  const std::string id = fmt::format("{}.{}", k8s_namespace, pod);
  return std::string(prefix) + wire::to_hex(wire::sha1(id)).substr(0, 11);
}

std::string workload_endpoint_name(std::string_view node, std::string_view pod,
                                   std::string_view interface) {
  return fmt::format("{}-k8s-{}-{}", escape_dashes(node), escape_dashes(pod),
                     escape_dashes(interface));
}

wire::MacAddress random_mac(std::uint64_t bits) {
  std::array<std::uint8_t, 6> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(bits >> (8 * i));
  b[0] = static_cast<std::uint8_t>((b[0] & 0xfe) | 0x02);  // eth_random_addr: unicast, local
  return wire::MacAddress(b);
}

Result<CniResult> cni_add(dataplane::Namespace& host, dataplane::Namespace& pod,
                          const CniArgs& args) {
  using dataplane::Route;
  using dataplane::RouteScope;
  const std::string host_name =
      veth_name_for_workload(args.k8s_namespace, args.pod, args.interface_prefix);
  if (host.device(host_name) != nullptr) {
    return make_error(Errc::kExists,
                      fmt::format("{}: interface {} for pod {}/{} already exists", host.name(),
                                  host_name, args.k8s_namespace, args.pod));
  }
  if (pod.device("eth0") != nullptr) {
    return make_error(Errc::kExists, fmt::format("{}: eth0 already exists", pod.name()));
  }
  // `ip link add eth0 type veth peer name caliX` inside the pod: the kernel registers the peer
  // first (it takes the pod's next ifindex), then eth0; caliX then moves to the host, where its
  // index is taken, so it gets the host's next one (dev_change_net_namespace).
  pod.skip_ifindex();
  auto [eth0, cali] = dataplane::Veth::create(pod, "eth0", args.pod_mac, host, host_name,
                                              kHostSideMac, args.mtu);

  // Host side: sysctls, then up (configureSysctls, then LinkSetUp).
  auto& conf = host.conf(host_name);
  conf.route_localnet = true;
  conf.proxy_delay_centis = 0;
  conf.proxy_arp = true;
  conf.forwarding = true;
  if (auto r = host.set_up(host_name, true); !r) return std::unexpected(r.error());

  // Pod side: up, 169.254.1.1 scope link, default via it, then the /32 (configureContainer).
  if (auto r = pod.set_up("eth0", true); !r) return std::unexpected(r.error());
  Route gw;
  gw.destination = wire::Ipv4Prefix(kPodGateway, 32);
  gw.ifindex = eth0.ifindex();
  gw.scope = RouteScope::kLink;
  if (auto r = pod.fib().add_route(gw); !r) return std::unexpected(r.error());
  Route def;
  def.destination = wire::Ipv4Prefix(wire::Ipv4Address(0), 0);
  def.gateway = kPodGateway;
  def.ifindex = eth0.ifindex();
  if (auto r = pod.fib().add_route(def); !r) return std::unexpected(r.error());
  if (auto r = pod.add_address("eth0", wire::Ipv4Prefix(args.ip, 32)); !r) {
    return std::unexpected(r.error());
  }

  // Host: the /32 route (proto boot, which iproute2 does not print) and the static ARP entry.
  Route to_pod;
  to_pod.destination = wire::Ipv4Prefix(args.ip, 32);
  to_pod.ifindex = cali.ifindex();
  to_pod.scope = RouteScope::kLink;
  if (auto r = host.fib().add_route(to_pod, dataplane::RouteAddMode::kReplace); !r) {
    return std::unexpected(r.error());
  }
  (void)host.neighbours().add_permanent(cali.ifindex(), args.ip, args.pod_mac, host.sim().now());
  return CniResult{host_name, cali.ifindex(), eth0.ifindex()};
}

Result<void> cni_del(dataplane::Namespace& host, std::string_view host_interface) {
  return host.delete_device(host_interface);
}

}  // namespace calisim::calico
