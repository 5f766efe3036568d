#include <calisim/calico/cluster.hpp>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include <calisim/bgp/kernel.hpp>
#include <calisim/bgp/policy.hpp>
#include <calisim/bgp/sim_io.hpp>
#include <calisim/bgp/speaker.hpp>
#include <calisim/calico/autodetect.hpp>
#include <calisim/calico/calicoctl_views.hpp>
#include <calisim/calico/cni.hpp>
#include <calisim/calico/ipam_views.hpp>
#include <calisim/capture/capture_set.hpp>
#include <calisim/dataplane/capture_tap.hpp>
#include <calisim/dataplane/faults.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tcp_stack.hpp>
#include <calisim/dataplane/tunnel.hpp>
#include <calisim/dataplane/views.hpp>
#include <calisim/sim/event_log.hpp>
#include <calisim/wire/sha1.hpp>

#include "calico/flow_runner.hpp"

namespace calisim::calico {
namespace {

using dataplane::Namespace;
using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

// VirtualBox's OUI and three bytes of sha1("<host>/<ifname>"): stable names, stable MACs.
MacAddress nic_mac(std::string_view host, std::string_view ifname) {
  const auto d = wire::sha1(fmt::format("{}/{}", host, ifname));
  return MacAddress({0x08, 0x00, 0x27, d[0], d[1], d[2]});
}

// felix/calc/vxlan_resolver.go vtepMACForHost: 0x66 then sha1(nodename)[0:5].
MacAddress vtep_mac(std::string_view node) {
  const auto d = wire::sha1(node);
  return MacAddress({0x66, d[0], d[1], d[2], d[3], d[4]});
}

std::string bird_name(std::string_view prefix, Ipv4Address a) {
  std::string s = fmt::format("{}_{}", prefix, a);
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

bgp::EncapMode to_bird(scenario::EncapsulationMode m) {
  switch (m) {
    case scenario::EncapsulationMode::kAlways: return bgp::EncapMode::kAlways;
    case scenario::EncapsulationMode::kCrossSubnet: return bgp::EncapMode::kCrossSubnet;
    case scenario::EncapsulationMode::kNever: break;
  }
  return bgp::EncapMode::kNever;
}

// Calico selectors, the part scenarios use: all(), has(k), !has(k), k == 'v', k != 'v', joined
// by &&.
bool selector_matches(std::string_view selector, const scenario::Labels& labels) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  selector = trim(selector);
  if (selector.empty() || selector == "all()") return true;
  std::size_t pos = 0;
  while (pos <= selector.size()) {
    const auto amp = selector.find("&&", pos);
    std::string_view term =
        trim(selector.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos));
    bool ok = false;
    auto unquote = [&](std::string_view v) {
      v = trim(v);
      if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"')) v = v.substr(1, v.size() - 2);
      return v;
    };
    if (term == "all()") {
      ok = true;
    } else if (term.starts_with("!has(") && term.ends_with(")")) {
      ok = !labels.contains(std::string(term.substr(5, term.size() - 6)));
    } else if (term.starts_with("has(") && term.ends_with(")")) {
      ok = labels.contains(std::string(term.substr(4, term.size() - 5)));
    } else if (auto ne = term.find("!="); ne != std::string_view::npos) {
      auto it = labels.find(std::string(trim(term.substr(0, ne))));
      ok = it == labels.end() || it->second != unquote(term.substr(ne + 2));
    } else if (auto eq = term.find("=="); eq != std::string_view::npos) {
      auto it = labels.find(std::string(trim(term.substr(0, eq))));
      ok = it != labels.end() && it->second == unquote(term.substr(eq + 2));
    }
    if (!ok) return false;
    if (amp == std::string_view::npos) break;
    pos = amp + 2;
  }
  return true;
}

}  // namespace

struct Cluster::Impl {
  struct PeerExport {
    bgp::Filter internal;  // calico_export_to_bgp_peers(true)
    bgp::Filter external;
  };
  struct NodeState {
    const scenario::Node* spec = nullptr;
    std::unique_ptr<Namespace> ns;
    std::vector<dataplane::EthernetPort*> nics;
    std::optional<DetectedAddress> address;  // the node's BGP address, if autodetection worked
    std::string autodetect_error;
    // calico/node got through start-up; it terminates (and the pod crash-loops) when it has no
    // address or another node already uses its address (startup.go checkConflictingNodes).
    bool calico_running = true;
    std::uint32_t host_mtu = 1500;
    dataplane::IpipTunnel* tunl0 = nullptr;
    dataplane::VxlanTunnel* vxlan = nullptr;
    std::optional<Ipv4Address> ipip_address;
    std::optional<Ipv4Address> vxlan_address;
    MacAddress vtep;
    std::unique_ptr<dataplane::TcpStack> tcp;
    std::unique_ptr<bgp::SimBgpIo> io;
    std::unique_ptr<bgp::Speaker> speaker;
    std::vector<Ipv4Prefix> originated;
    std::vector<Ipv4Prefix> felix_routes;  // VXLAN routes Felix installed
    // The mesh peers' export filters, as confd last wrote them (rewritten when the node claims
    // a block, so calico_aggr() knows it; BIRD re-runs changed filters on reconfigure).
    std::shared_ptr<PeerExport> peer_export;
  };
  struct PodState {
    const scenario::Pod* spec = nullptr;
    std::size_t node = 0;
    std::unique_ptr<Namespace> ns;
    Ipv4Address ip;
    std::string interface;
    bool alive = false;
  };

  Scenario scenario;
  ClusterOptions options;
  Simulator sim;
  wire::PacketPool pool;
  std::map<std::string, std::unique_ptr<dataplane::Segment>> segments;
  std::vector<NodeState> nodes;
  std::vector<std::unique_ptr<Namespace>> routers;
  std::vector<PodState> pods;
  Ipam ipam;
  std::optional<capture::CaptureSet> capture;
  std::optional<dataplane::CaptureTap> tap;
  EventLog events;
  std::unique_ptr<dataplane::FaultSchedule> faults;
  std::vector<std::unique_ptr<dataplane::Ping>> ping_objects;
  std::vector<PingRun> pings;
  bool ipip_enabled = false;
  bool vxlan_enabled = false;

  void count_sessions(Convergence& c) const {
    for (const auto& n : nodes) {
      if (!n.speaker) continue;
      c.sessions += n.speaker->neighbor_count();
      for (std::size_t i = 0; i < n.speaker->neighbor_count(); ++i) {
        if (n.speaker->session(i).state() == bgp::State::kEstablished) ++c.established;
      }
    }
  }

  // Every node has a unicast route for exactly each block affine to another node.
  void count_routes(Convergence& c) const {
    for (const auto& n : nodes) {
      const dataplane::RouteTable* main = n.ns->fib().table(dataplane::kMainTable);
      for (const auto& block : ipam.blocks()) {
        if (!block.affinity() || block.affine_to(n.spec->name)) continue;
        ++c.routes_expected;
        if (main == nullptr) continue;
        const dataplane::Route* r = main->lookup(block.cidr().network(), 0);
        if (r != nullptr && r->destination == block.cidr() &&
            r->type == dataplane::RouteType::kUnicast) {
          ++c.routes_installed;
        }
      }
    }
  }
  std::uint32_t pod_mtu = 1500;
  // TCP for flows in namespaces that have none (pods, nodes without BIRD). Declared after the
  // namespaces: destroyed before them.
  std::map<const Namespace*, std::unique_ptr<dataplane::TcpStack>> flow_stacks;
  std::unique_ptr<detail::FlowRunner> flow_runner;

  explicit Impl(const Scenario& s, ClusterOptions o)
      : scenario(s), options(std::move(o)), sim(s.seed) {
    flow_runner = std::make_unique<detail::FlowRunner>(
        sim, [this](std::string_view type, std::initializer_list<EventLog::Field> fields) {
          events.record(sim.now(), type, fields);
        });
  }

  dataplane::Segment& segment(const std::string& name, const scenario::Link* link) {
    auto it = segments.find(name);
    if (it != segments.end()) return *it->second;
    dataplane::LinkParams params = link != nullptr ? link->params : dataplane::LinkParams{};
    return *segments.emplace(name, std::make_unique<dataplane::Segment>(sim, name, params))
                .first->second;
  }

  void record(std::string_view type, std::initializer_list<EventLog::Field> fields) {
    events.record(sim.now(), type, fields);
  }

  void watch(Namespace& ns) {
    if (tap) tap->attach(ns);
    const std::string name = ns.name();
    ns.set_drop_listener([this, name](const dataplane::DropEvent& e) {
      record("drop", {{"namespace", std::string_view(name)},
                      {"reason", to_string(e.reason)},
                      {"device", e.device != nullptr ? std::string_view(e.device->name())
                                                     : std::string_view("")}});
    });
  }

  Result<void> build_hosts(Namespace& ns, const std::vector<scenario::Interface>& interfaces,
                           std::string_view owner, std::vector<dataplane::EthernetPort*>* nics) {
    (void)ns.set_up("lo", true);
    (void)ns.add_address("lo", Ipv4Prefix(Ipv4Address(127, 0, 0, 1), 8));
    for (const auto& i : interfaces) {
      const scenario::Subnet* subnet = scenario.find_subnet(i.subnet);
      auto& seg = segment(i.segment(owner), subnet != nullptr ? &subnet->link : nullptr);
      auto& port = ns.add_device<dataplane::EthernetPort>(i.name, nic_mac(owner, i.name), seg,
                                                          i.mtu_bytes);
      if (nics != nullptr) nics->push_back(&port);
      if (auto r = ns.add_address(i.name, i.address); !r) return r;
      if (auto r = ns.set_up(i.name, true); !r) return r;
    }
    return {};
  }

  Result<void> add_routes(Namespace& ns, const std::optional<Ipv4Address>& gateway,
                          const std::vector<scenario::Route>& routes, bool dhcp) {
    auto add = [&](Ipv4Prefix to, Ipv4Address via, std::uint8_t protocol,
                   std::uint32_t metric) -> Result<void> {
      auto out = ns.route_output(via);
      if (!out.ok()) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("{}: gateway {} is not on a connected subnet", ns.name(), via));
      }
      dataplane::Route r;
      r.destination = to;
      r.gateway = via;
      r.ifindex = out.route->ifindex;
      r.protocol = protocol;
      r.metric = metric;
      return ns.fib().add_route(r);
    };
    for (const auto& r : routes) {
      if (auto x = add(r.to, r.via, dataplane::route_protocol::kBoot, 0); !x) return x;
    }
    // A NAT default route as VirtualBox's DHCP hands it out: `proto dhcp metric 100`.
    if (gateway) {
      if (auto x = add(Ipv4Prefix(Ipv4Address(0), 0), *gateway,
                       dhcp ? dataplane::route_protocol::kDhcp : dataplane::route_protocol::kBoot,
                       dhcp ? 100 : 0);
          !x) {
        return x;
      }
    }
    return {};
  }

  Result<void> build() {
    if (!options.run_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(options.run_dir, ec);
      if (ec) {
        return make_error(Errc::kIo, fmt::format("cannot create run directory {}: {}",
                                                 options.run_dir.string(), ec.message()));
      }
      auto log = EventLog::open(options.run_dir / "events.jsonl");
      if (!log) return std::unexpected(log.error());
      events = std::move(*log);
      if (options.capture) {
        capture::CaptureOptions co;
        co.pcapng_path = options.run_dir / "capture.pcapng";
        co.filtered = options.filtered;
        auto cap = capture::CaptureSet::open(co);
        if (!cap) return std::unexpected(cap.error());
        capture.emplace(std::move(*cap));
        tap.emplace(*capture);
      }
    }
    // IPAM: the pools and the configuration.
    IpamConfig config;
    config.strict_affinity = scenario.ipam.strict_affinity;
    config.auto_allocate_blocks = scenario.ipam.auto_allocate_blocks;
    config.max_blocks_per_host = scenario.ipam.max_blocks_per_host;
    if (auto r = ipam.set_config(config); !r) return r;
    for (const auto& p : scenario.ip_pools) {
      IpPool ip_pool;
      ip_pool.name = p.name;
      ip_pool.cidr = p.cidr;
      ip_pool.block_size = p.block_size;
      ip_pool.disabled = p.disabled;
      if (auto r = ipam.add_pool(ip_pool); !r) return r;
      if (!p.disabled && p.ipip_mode != scenario::EncapsulationMode::kNever) ipip_enabled = true;
      if (!p.disabled && p.vxlan_mode != scenario::EncapsulationMode::kNever) vxlan_enabled = true;
    }
    // Routers first: plain Linux boxes forwarding between subnets.
    for (const auto& r : scenario.routers) {
      auto ns = std::make_unique<Namespace>(sim, pool, r.name);
      if (auto x = build_hosts(*ns, r.interfaces, r.name, nullptr); !x) return x;
      ns->set_ip_forward(true);
      if (auto x = add_routes(*ns, r.default_gateway, r.routes, false); !x) return x;
      watch(*ns);
      routers.push_back(std::move(ns));
    }
    for (const auto& n : scenario.nodes) {
      NodeState st;
      st.spec = &n;
      st.ns = std::make_unique<Namespace>(sim, pool, n.name);
      if (auto x = build_hosts(*st.ns, n.interfaces, n.name, &st.nics); !x) return x;
      st.ns->set_ip_forward(true);  // kubeadm's prerequisite
      if (auto x = add_routes(*st.ns, n.default_gateway, n.routes, true); !x) return x;
      watch(*st.ns);
      nodes.push_back(std::move(st));
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) start_calico_node(i);
    for (std::size_t i = 0; i < nodes.size(); ++i) program_felix(i);
    for (std::size_t i = 0; i < nodes.size(); ++i) start_bird(i);
    schedule_pods();
    schedule_traffic();
    schedule_events();
    return {};
  }

  // calico/node start-up: the node's address, its tunnel addresses, Felix's devices.
  void start_calico_node(std::size_t index) {
    NodeState& st = nodes[index];
    const auto& cn = st.spec->calico_node;
    if (st.spec->calico.ipv4_address) {
      st.address = DetectedAddress{"", st.spec->calico.ipv4_address->address(),
                                   st.spec->calico.ipv4_address->length()};
    } else if (cn.ip_mode == scenario::NodeIpMode::kFixed && cn.ip) {
      st.address = DetectedAddress{"", cn.ip->address(), cn.ip->length()};
    } else {
      const scenario::EnvVar* method = cn.find("IP_AUTODETECTION_METHOD");
      auto detected = autodetect_ipv4(*st.ns, method != nullptr ? method->value : "first-found");
      if (detected) {
        st.address = *detected;
      } else {
        st.autodetect_error = detected.error().message;
      }
    }
    // startup.go: "Node IPv4 changed, will check for conflicts"; a node that already has the
    // address wins, this one logs "Calico node '<other>' is already using the IPv4 address
    // <ip>.", clears the address from its Node resource and terminates. Nodes start in file
    // order (the control plane is usually first).
    for (std::size_t j = 0; j < index && st.address; ++j) {
      const NodeState& other = nodes[j];
      if (other.calico_running && other.address && other.address->address == st.address->address) {
        st.autodetect_error = fmt::format("Calico node '{}' is already using the IPv4 address {}.",
                                          other.spec->name, st.address->address);
        st.address.reset();
      }
    }
    st.calico_running = st.address.has_value();
    record("calico-node", {{"node", std::string_view(st.spec->name)},
                           {"address", st.address ? std::string_view(st.address->to_cidr())
                                                  : std::string_view("")},
                           {"interface", st.address ? std::string_view(st.address->interface)
                                                    : std::string_view("")},
                           {"error", std::string_view(st.autodetect_error)}});
    if (!st.calico_running) return;  // no tunnel addresses, no Felix, no BIRD
    // Felix's MTU: the smallest MTU of the NICs matching its pattern (here: every NIC).
    st.host_mtu = 1500;
    bool any = false;
    for (auto* nic : st.nics) {
      st.host_mtu = any ? std::min(st.host_mtu, nic->mtu()) : nic->mtu();
      any = true;
    }
    // Felix's MTUs (felix/dataplane/linux/int_dataplane.go, ConfigureDefaultMTUs and
    // determinePodMTU): an encapsulation's MTU is FelixConfiguration's ipipMTU / vxlanMTU
    // (FELIX_IPINIPMTU / FELIX_VXLANMTU), 0 or unset meaning host MTU - overhead (20 for IPIP,
    // 50 for VXLAN); tunl0 and vxlan.calico get theirs, and the pod MTU Felix writes to
    // /var/lib/calico/mtu (the CNI plugin's veth MTU) is the smallest over the enabled ones.
    const auto felix = scenario.felix_for(st.spec->name);
    auto configured = [](const std::optional<int>& v, std::uint32_t automatic) {
      return v && *v > 0 ? static_cast<std::uint32_t>(*v) : automatic;
    };
    const std::uint32_t ipip_mtu = configured(felix.ipip_mtu, st.host_mtu - 20);
    const std::uint32_t vxlan_mtu = configured(felix.vxlan_mtu, st.host_mtu - 50);
    // The tunnel addresses, before any pod (allocateip.go).
    if (ipip_enabled) {
      auto a = ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, st.spec->name));
      if (a) st.ipip_address = a->address;
    }
    if (vxlan_enabled) {
      auto a = ipam.auto_assign(tunnel_assign_args(TunnelType::kVxlan, st.spec->name));
      if (a) st.vxlan_address = a->address;
    }
    if (ipip_enabled) {
      st.tunl0 = &st.ns->add_device<dataplane::IpipTunnel>("tunl0", ipip_mtu);
      if (st.ipip_address) (void)st.ns->add_address("tunl0", Ipv4Prefix(*st.ipip_address, 32));
      (void)st.ns->set_up("tunl0", true);
    }
    if (vxlan_enabled) {
      st.vtep = vtep_mac(st.spec->name);
      st.vxlan = &st.ns->add_device<dataplane::VxlanTunnel>("vxlan.calico", st.vtep, 4096, 4789,
                                                            vxlan_mtu);
      if (st.vxlan_address) {
        (void)st.ns->add_address("vxlan.calico", Ipv4Prefix(*st.vxlan_address, 32));
      }
      (void)st.ns->set_up("vxlan.calico", true);
    }
    std::uint32_t mtu = st.host_mtu;
    if (ipip_enabled || vxlan_enabled) mtu = std::numeric_limits<std::uint32_t>::max();
    if (ipip_enabled) mtu = std::min(mtu, ipip_mtu);
    if (vxlan_enabled) mtu = std::min(mtu, vxlan_mtu);
    pod_mtu = mtu;
  }

  const scenario::IpPool* pool_of(Ipv4Address a) const {
    for (const auto& p : scenario.ip_pools) {
      if (p.cidr.contains(a)) return &p;
    }
    return nullptr;
  }

  // Felix's VXLAN routes, neighbours and FDB entries for every other node's blocks
  // (vxlan_mgr.go), and the blackholes for this node's own VXLAN blocks. The blackholes and
  // the same-subnet routes carry proto 80 (calculateNonEncapRouteProtocol); the routes through
  // vxlan.calico are Felix's ordinary device routes, proto boot, which `ip route` does not print.
  void program_felix(std::size_t index) {
    NodeState& st = nodes[index];
    if (st.vxlan == nullptr) return;
    for (const auto& prefix : st.felix_routes) {
      dataplane::RouteSelector sel;
      sel.destination = prefix;
      sel.protocol = dataplane::route_protocol::kFelix;
      if (!st.ns->fib().remove_route(sel)) {
        sel.protocol = dataplane::route_protocol::kBoot;
        sel.ifindex = st.vxlan->ifindex();
        (void)st.ns->fib().remove_route(sel);
      }
    }
    st.felix_routes.clear();
    for (std::size_t j = 0; j < nodes.size(); ++j) {
      const NodeState& other = nodes[j];
      for (const auto& block : ipam.affine_blocks(other.spec->name)) {
        const scenario::IpPool* p = pool_of(block.address());
        if (p == nullptr || p->vxlan_mode == scenario::EncapsulationMode::kNever) continue;
        dataplane::Route r;
        r.destination = block;
        r.protocol = dataplane::route_protocol::kFelix;
        if (j == index) {
          r.type = dataplane::RouteType::kBlackhole;
        } else {
          if (!other.vxlan_address || !other.address) continue;
          const bool same_subnet =
              st.address &&
              Ipv4Prefix(st.address->address, st.address->prefix_length).contains(other.address->address);
          if (p->vxlan_mode == scenario::EncapsulationMode::kCrossSubnet && same_subnet) {
            // Same subnet under CrossSubnet: straight to the node over the NIC, onlink as every
            // no-encap target (felix/routetable/target.go Target.Flags).
            auto out = st.ns->route_output(other.address->address);
            if (!out.ok()) continue;
            r.gateway = other.address->address;
            r.ifindex = out.route->ifindex;
            r.onlink = true;
          } else {
            r.gateway = *other.vxlan_address;
            r.ifindex = st.vxlan->ifindex();
            r.onlink = true;
            r.protocol = dataplane::route_protocol::kBoot;
            (void)st.ns->neighbours().add_permanent(st.vxlan->ifindex(), *other.vxlan_address,
                                                    other.vtep, sim.now());
            st.vxlan->add_fdb(other.vtep, other.address->address);
          }
        }
        if (st.ns->fib().add_route(r, dataplane::RouteAddMode::kReplace)) {
          st.felix_routes.push_back(block);
        }
      }
    }
  }

  bgp::CalicoBirdConfig bird_config(const NodeState& st) const {
    bgp::CalicoBirdConfig c;
    for (const auto& p : scenario.ip_pools) {
      c.pools.push_back(bgp::CalicoIpPool{p.cidr, to_bird(p.ipip_mode), to_bird(p.vxlan_mode),
                                          p.disable_bgp_export});
    }
    for (const auto& b : ipam.affine_blocks(st.spec->name)) c.blocks.push_back(bgp::CalicoBlock{b});
    if (st.address) c.network = Ipv4Prefix(st.address->address, st.address->prefix_length);
    return c;
  }

  // BIRD with confd's configuration: the mesh (or explicit peers), Calico's filters.
  void start_bird(std::size_t index) {
    NodeState& st = nodes[index];
    const auto bgpconf = scenario.bgp_for(st.spec->name);
    const auto& cn = st.spec->calico_node;
    if (cn.networking_backend != scenario::NetworkingBackend::kBird || !st.address) return;
    const std::uint32_t asn =
        st.spec->calico.as_number.value_or(cn.as_number.value_or(bgpconf.asn()));
    st.tcp = std::make_unique<dataplane::TcpStack>(*st.ns);
    st.io = std::make_unique<bgp::SimBgpIo>(*st.tcp, bgpconf.listen_port.value_or(179));
    st.speaker = std::make_unique<bgp::Speaker>(
        bgp::SpeakerConfig{.name = st.spec->name, .local_as = asn,
                           .router_id = st.address->address, .seed = scenario.seed,
                           .resolver = bgp::kernel_resolver(*st.ns)},
        *st.io);
    const auto config = bird_config(st);
    st.peer_export = std::make_shared<PeerExport>();
    refresh_peer_export(st);
    const std::string my_ip = fmt::format("{}", st.address->address);
    const auto my_cluster = st.spec->calico.route_reflector_cluster_id;
    // bird.cfg lists the peers in sections, and BIRD keeps that order (`show protocols`, `node
    // status`): the mesh by host name (`range lsdir "/host"`), then the global peers, then this
    // node's own, each by its key, the peer's address as a string (confd's `gets` sorts).
    struct PendingPeer {
      int section = 0;  // 0 mesh, 1 global, 2 node-specific
      std::string key;
      std::string name;
      const NodeState* other = nullptr;
      bool passive = false;
      bool rr_client = false;
      std::uint32_t peer_as = 0;
    };
    std::vector<PendingPeer> pending;
    std::unordered_set<std::string> pending_names;  // meshes of thousands: no linear search
    auto has_peer = [&](const std::string& name) { return pending_names.contains(name); };
    auto queue_peer = [&](std::string name, const NodeState& other, bool passive, bool rr_client,
                          std::uint32_t peer_as) {
      if (!pending_names.insert(name).second) return;  // one protocol per key
      const int section = name.starts_with("Mesh") ? 0 : name.starts_with("Global") ? 1 : 2;
      std::string key = section == 0 ? other.spec->name : fmt::format("{}", other.address->address);
      pending.push_back(PendingPeer{section, std::move(key), std::move(name), &other, passive,
                                    rr_client, peer_as});
    };
    auto add_peer = [&](std::string name, const NodeState& other, bool passive, bool rr_client,
                        std::uint32_t peer_as) {
      bgp::NeighborConfig c;
      c.peer.name = std::move(name);
      c.peer.address = other.address->address;
      c.peer.as_number = peer_as;
      c.peer.source_address = st.address->address;
      c.peer.interface = st.address->interface.empty() ? std::string("eth0") : st.address->interface;
      c.peer.export_filter = live_peer_export(st.peer_export, peer_as == asn);
      c.peer.rr_client = rr_client;
      if (rr_client && my_cluster) c.peer.rr_cluster_id = *my_cluster;
      c.session.passive = passive;
      c.port = bgpconf.listen_port.value_or(179);
      st.speaker->add_neighbor(std::move(c));
    };
    // The node-to-node mesh (bird.cfg.template): every other node with an address; a route
    // reflector (a node with a cluster id) stays out of it; `passive on` when the peer's
    // address is greater *as a string*, so the higher address connects.
    if (bgpconf.mesh_enabled() && !my_cluster) {
      for (const NodeState& other : nodes) {
        if (&other == &st || !other.address || other.spec->calico.route_reflector_cluster_id) continue;
        const std::string other_ip = fmt::format("{}", other.address->address);
        if (other_ip == my_ip) continue;  // a node cannot peer with its own address
        queue_peer(bird_name("Mesh", other.address->address), other, other_ip > my_ip, false,
                   bgpconf.asn());
      }
    }
    // BGPPeers that select this node and other nodes (route reflectors).
    for (const auto& bp : scenario.bgp_peers) {
      const bool selects_me =
          (!bp.node.empty() && bp.node == st.spec->name) ||
          (bp.node.empty() && (bp.node_selector.empty() ||
                               selector_matches(bp.node_selector, st.spec->labels)));
      if (!selects_me || bp.peer_selector.empty()) continue;
      const std::string prefix = bp.node.empty() && bp.node_selector.empty() ? "Global" : "Node";
      for (const NodeState& other : nodes) {
        if (&other == &st || !other.address) continue;
        if (!selector_matches(bp.peer_selector, other.spec->labels)) continue;
        const std::string other_ip = fmt::format("{}", other.address->address);
        const auto other_cluster = other.spec->calico.route_reflector_cluster_id;
        const bool rr_client = my_cluster && other_cluster != my_cluster;
        queue_peer(bird_name(prefix, other.address->address), other, other_ip > my_ip, rr_client,
                   bp.as_number.value_or(bgpconf.asn()));
      }
    }
    // Route reflectors also peer with the nodes that select them.
    if (my_cluster) {
      for (const auto& bp : scenario.bgp_peers) {
        if (bp.peer_selector.empty() || !selector_matches(bp.peer_selector, st.spec->labels)) continue;
        for (const NodeState& other : nodes) {
          if (&other == &st || !other.address) continue;
          const bool selects_other =
              (!bp.node.empty() && bp.node == other.spec->name) ||
              (bp.node.empty() && (bp.node_selector.empty() ||
                                   selector_matches(bp.node_selector, other.spec->labels)));
          if (!selects_other) continue;
          if (has_peer(bird_name("Node", other.address->address)) ||
              has_peer(bird_name("Global", other.address->address))) {
            continue;
          }
          const std::string other_ip = fmt::format("{}", other.address->address);
          const auto other_cluster = other.spec->calico.route_reflector_cluster_id;
          queue_peer(bird_name("Node", other.address->address), other, other_ip > my_ip,
                     other_cluster != my_cluster, bp.as_number.value_or(bgpconf.asn()));
        }
      }
    }
    std::stable_sort(pending.begin(), pending.end(), [](const PendingPeer& a, const PendingPeer& b) {
      return std::tie(a.section, a.key) < std::tie(b.section, b.key);
    });
    for (auto& p : pending) add_peer(std::move(p.name), *p.other, p.passive, p.rr_client, p.peer_as);
    bgp::KernelConfig kc;
    kc.export_filter = bgp::calico_kernel_programming(config);
    st.speaker->attach_kernel(*st.ns, kc);
    st.io->attach(*st.speaker);
    const std::string node = st.spec->name;
    st.speaker->set_event_listener([this, node](const bgp::NeighborEvent& e) {
      record("bgp", {{"node", std::string_view(node)},
                     {"peer", std::string_view(e.neighbor)},
                     {"event", std::string_view(e.what)},
                     {"detail", std::string_view(e.detail)}});
    });
    // Every protocol and connection state change, as the speaker's state log words it.
    st.speaker->set_state_listener([this, node](const bgp::NeighborEvent& e) {
      record("bgp-state", {{"node", std::string_view(node)},
                           {"peer", std::string_view(e.neighbor)},
                           {"event", std::string_view(e.what)},
                           {"detail", std::string_view(e.detail)}});
    });
    // `protocol kernel { learn; }`: BIRD's first scan reads the routes already in the table.
    (void)st.speaker->kernel()->scan();
    originate_blocks(index);
    st.speaker->start(sim.now());
  }

  // A filter that runs whatever confd last wrote for the node's peers.
  static bgp::Filter live_peer_export(std::shared_ptr<PeerExport> current, bool internal_peer) {
    bgp::Filter f("calico_peer_export");
    f.then([current = std::move(current), internal_peer](bgp::FilterRoute& r) {
      return (internal_peer ? current->internal : current->external).run(r);
    });
    return f;
  }

  void refresh_peer_export(NodeState& st) {
    if (!st.peer_export) return;
    const auto config = bird_config(st);
    st.peer_export->internal = bgp::calico_peer_export(config, true);
    st.peer_export->external = bgp::calico_peer_export(config, false);
  }

  // BIRD hears of every route change in the kernel table at once (netlink notifications,
  // krt_got_route_async; `scan time 2` only catches what was missed) and, with `learn` (Calico's
  // bird.cfg.template: "Learn all alien routes from the kernel"), takes other daemons' routes
  // into its table: Felix's and the CNI plugin's `<pod> dev caliX` routes.
  // That is how a pod with a borrowed address, outside every block of this node's, reaches the
  // export filter and goes to the peers as a /32 (calico_aggr() rejects the /32s inside the
  // node's own blocks; bird_ipam.cfg accepts anything else inside a pool).
  void learn_kernel_routes(std::size_t index) {
    NodeState& st = nodes[index];
    if (!st.speaker || st.speaker->kernel() == nullptr) return;
    if (st.speaker->kernel()->scan() != 0) st.speaker->routes_changed(sim.now());
  }

  // bird_aggr.cfg: `route <block> blackhole` for each affine block.
  void originate_blocks(std::size_t index) {
    NodeState& st = nodes[index];
    if (!st.speaker) return;
    bool changed = false;
    for (const auto& b : ipam.affine_blocks(st.spec->name)) {
      if (b.length() == 32) continue;
      if (std::find(st.originated.begin(), st.originated.end(), b) != st.originated.end()) continue;
      st.speaker->rib().originate(b);
      st.originated.push_back(b);
      changed = true;
    }
    if (changed) st.speaker->routes_changed(sim.now());
  }

  std::optional<std::size_t> node_index(std::string_view name) const {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].spec->name == name) return i;
    }
    return std::nullopt;
  }

  void schedule_pods() {
    for (const auto& p : scenario.pods) {
      pods.push_back(PodState{&p, 0, nullptr, {}, {}, false});
    }
    for (std::size_t i = 0; i < pods.size(); ++i) {
      const auto* spec = pods[i].spec;
      sim.schedule_at(Time::zero() + spec->create_at, [this, i] { create_pod(i); });
      if (spec->delete_at) {
        sim.schedule_at(Time::zero() + *spec->delete_at, [this, i] { delete_pod(i); });
      }
    }
  }

  void create_pod(std::size_t i) {
    PodState& pod = pods[i];
    const auto* spec = pod.spec;
    if (spec->host_network) return;
    auto n = node_index(spec->node);
    if (!n) return;
    pod.node = *n;
    NodeState& st = nodes[*n];
    const std::string container_id =
        wire::to_hex(wire::sha1(fmt::format("container/{}", spec->key()))).substr(0, 64);
    auto assigned = ipam.auto_assign(pod_assign_args(st.spec->name, spec->namespace_name,
                                                     spec->name, container_id));
    if (!assigned) {
      record("pod", {{"pod", std::string_view(spec->key())},
                     {"event", std::string_view("failed")},
                     {"error", std::string_view(assigned.error().message)}});
      return;
    }
    pod.ip = assigned->address;
    pod.ns = std::make_unique<Namespace>(sim, pool, fmt::format("{}/{}", st.spec->name, spec->name));
    (void)pod.ns->set_up("lo", true);
    (void)pod.ns->add_address("lo", Ipv4Prefix(Ipv4Address(127, 0, 0, 1), 8));
    // With the ipip module loaded every namespace has its own tunl0 (down).
    if (ipip_enabled) pod.ns->add_device<dataplane::IpipTunnel>("tunl0", 1480);
    watch(*pod.ns);
    CniArgs args;
    args.k8s_namespace = spec->namespace_name;
    args.pod = spec->name;
    args.ip = pod.ip;
    args.mtu = pod_mtu;
    auto rng = sim.random("pod-mac/" + spec->key());
    args.pod_mac = random_mac(rng.next_u64());
    auto r = cni_add(*st.ns, *pod.ns, args);
    if (!r) {
      record("pod", {{"pod", std::string_view(spec->key())},
                     {"event", std::string_view("failed")},
                     {"error", std::string_view(r.error().message)}});
      return;
    }
    pod.interface = r->host_interface;
    pod.alive = true;
    record("pod", {{"pod", std::string_view(spec->key())},
                   {"event", std::string_view("created")},
                   {"node", std::string_view(st.spec->name)},
                   {"ip", std::string_view(fmt::format("{}", pod.ip))},
                   {"interface", std::string_view(pod.interface)}});
    if (assigned->claimed_block) {
      refresh_peer_export(st);
      originate_blocks(*n);
      for (std::size_t j = 0; j < nodes.size(); ++j) program_felix(j);
      // Felix changed the tables of the nodes with VXLAN; BIRD on each hears of it.
      for (std::size_t j = 0; j < nodes.size(); ++j) {
        if (j == *n || nodes[j].vxlan != nullptr) learn_kernel_routes(j);
      }
    } else {
      learn_kernel_routes(*n);
    }
  }

  void delete_pod(std::size_t i) {
    PodState& pod = pods[i];
    if (!pod.alive) return;
    NodeState& st = nodes[pod.node];
    (void)cni_del(*st.ns, pod.interface);
    (void)ipam.release_ip(pod.ip);
    pod.alive = false;
    learn_kernel_routes(pod.node);
    record("pod", {{"pod", std::string_view(pod.spec->key())},
                   {"event", std::string_view("deleted")}});
  }

  std::optional<Ipv4Address> resolve(const scenario::Endpoint& e) const {
    switch (e.kind) {
      case scenario::Endpoint::Kind::kAddress: return e.address;
      case scenario::Endpoint::Kind::kNode: {
        if (auto n = node_index(e.name); n && nodes[*n].address) return nodes[*n].address->address;
        return std::nullopt;
      }
      case scenario::Endpoint::Kind::kPod:
        for (const auto& p : pods) {
          if (p.alive && p.spec->namespace_name == e.namespace_name && p.spec->name == e.name) {
            return p.ip;
          }
        }
        return std::nullopt;
    }
    return std::nullopt;
  }

  Namespace* source_namespace(const scenario::Endpoint& e) {
    if (e.kind == scenario::Endpoint::Kind::kNode) {
      if (auto n = node_index(e.name)) return nodes[*n].ns.get();
      for (auto& r : routers) {
        if (r->name() == e.name) return r.get();
      }
      return nullptr;
    }
    for (auto& p : pods) {
      if (p.alive && p.spec->namespace_name == e.namespace_name && p.spec->name == e.name) {
        return p.ns.get();
      }
    }
    return nullptr;
  }

  void schedule_traffic() {
    for (std::size_t i = 0; i < scenario.traffic.size(); ++i) {
      const auto& t = scenario.traffic[i];
      if (t.ping) {
        sim.schedule_at(Time::zero() + t.at, [this, i] { start_ping(*scenario.traffic[i].ping); });
      } else if (t.flow) {
        sim.schedule_at(Time::zero() + t.at, [this, i] { start_flow(*scenario.traffic[i].flow); });
      }
    }
  }

  // The TCP of a namespace: BIRD's on a node that runs it, else one made for flows.
  dataplane::TcpStack& tcp_stack(Namespace& ns) {
    for (auto& n : nodes) {
      if (n.ns.get() == &ns && n.tcp) return *n.tcp;
    }
    auto& s = flow_stacks[&ns];
    if (!s) s = std::make_unique<dataplane::TcpStack>(ns);
    return *s;
  }

  // Where a flow's server runs: a pod, a node, or the pod or node that has the address.
  Namespace* server_namespace(const scenario::Endpoint& e) {
    if (e.kind != scenario::Endpoint::Kind::kAddress) return source_namespace(e);
    for (auto& p : pods) {
      if (p.alive && p.ip == e.address) return p.ns.get();
    }
    for (auto& n : nodes) {
      if (n.address && n.address->address == e.address) return n.ns.get();
    }
    return nullptr;
  }

  std::size_t start_flow(const scenario::FlowSpec& spec) {
    FlowRun run;
    run.from = spec.from.to_string();
    run.to = spec.to.to_string();
    run.port = spec.port;
    run.bytes = spec.bytes;
    Namespace* from = source_namespace(spec.from);
    Namespace* to = server_namespace(spec.to);
    const auto address = resolve(spec.to);
    if (spec.protocol != scenario::TransportProtocol::kTcp) {
      run.error = "only TCP flows are modelled";
    } else if (from == nullptr) {
      run.error = "source is not running";
    } else if (to == nullptr || !address) {
      run.error = "destination is not running";
    }
    if (!run.error.empty()) return flow_runner->fail(std::move(run));
    return flow_runner->start(std::move(run), tcp_stack(*from), tcp_stack(*to), *address);
  }

  void start_ping(const scenario::PingSpec& spec) {
    PingRun run;
    run.from = spec.from.to_string();
    run.to = spec.to.to_string();
    Namespace* from = source_namespace(spec.from);
    auto target = resolve(spec.to);
    if (from == nullptr || !target) {
      run.lines.push_back(fmt::format("ping: {}: {}", run.to,
                                      from == nullptr ? "source is not running"
                                                      : "Name or service not known"));
      pings.push_back(std::move(run));
      return;
    }
    run.command = fmt::format("ping -c {} {}", spec.count, *target);
    dataplane::PingOptions o;
    o.count = spec.count;
    o.interval = spec.interval;
    o.data_bytes = spec.size_bytes;
    if (spec.ttl) o.ttl = *spec.ttl;
    ping_objects.push_back(std::make_unique<dataplane::Ping>(*from, *target, o));
    pings.push_back(std::move(run));
  }

  void collect_pings() {
    std::size_t k = 0;
    for (auto& run : pings) {
      if (run.command.empty()) continue;
      if (k >= ping_objects.size()) break;
      const auto& p = *ping_objects[k++];
      run.lines = p.lines();
      run.transmitted = p.statistics().transmitted;
      run.received = p.statistics().received;
      run.ttls = p.reply_ttls();
    }
  }

  void schedule_events() {
    faults = std::make_unique<dataplane::FaultSchedule>(sim);
    faults->set_listener([this](const dataplane::FaultRecord& r) {
      record("fault", {{"what", std::string_view(r.what)}});
    });
    for (const auto& e : scenario.events) (void)apply_event(e, Time::zero() + e.at);
  }

  // One fault or repair at `at`; an error names what the event refers to that does not exist.
  Result<void> apply_event(const scenario::Event& e, Time at) {
    Namespace* host = nullptr;
    if (auto n = node_index(e.node)) host = nodes[*n].ns.get();
    for (auto& r : routers) {
      if (r->name() == e.node) host = r.get();
    }
    dataplane::Segment* seg = nullptr;
    if (auto it = segments.find(e.subnet); it != segments.end()) seg = it->second.get();
    auto* port = host != nullptr
                     ? dynamic_cast<dataplane::EthernetPort*>(host->device(e.interface))
                     : nullptr;
    using A = scenario::EventAction;
    const bool needs_host = e.action == A::kLinkDown || e.action == A::kLinkUp ||
                            e.action == A::kNodeCrash || e.action == A::kNodeRestart ||
                            (e.action == A::kSetMtu && e.subnet.empty());
    const bool needs_port = needs_host && e.action != A::kNodeCrash && e.action != A::kNodeRestart;
    if (needs_host && host == nullptr) {
      return make_error(Errc::kNotFound, fmt::format("no node or router '{}'", e.node));
    }
    if (needs_port && port == nullptr) {
      return make_error(Errc::kNotFound,
                        fmt::format("{} has no NIC '{}'", e.node, e.interface));
    }
    if (!needs_host && seg == nullptr) {
      return make_error(Errc::kNotFound, fmt::format("no subnet '{}'", e.subnet));
    }
    switch (e.action) {
      case A::kLinkDown: faults->unplug(at, *port); break;
      case A::kLinkUp: faults->plug(at, *port); break;
      case A::kNodeCrash: faults->crash(at, *host); break;
      case A::kNodeRestart: faults->restart(at, *host); break;
      case A::kSetLoss: faults->set_loss(at, *seg, e.loss); break;
      case A::kSetDelay: faults->set_delay(at, *seg, e.delay); break;
      case A::kSetRate: faults->set_rate(at, *seg, e.rate_bps); break;
      case A::kSetMtu:
        if (port != nullptr) {
          faults->set_mtu(at, *port, e.mtu_bytes);
        } else {
          // The subnet's MTU: every NIC on it, nodes' and routers'.
          auto on_segment = [&](Namespace& ns) {
            for (const auto& d : ns.devices()) {
              auto* nic = dynamic_cast<dataplane::EthernetPort*>(d.get());
              if (nic != nullptr && &nic->segment() == seg) faults->set_mtu(at, *nic, e.mtu_bytes);
            }
          };
          for (auto& n : nodes) on_segment(*n.ns);
          for (auto& r : routers) on_segment(*r);
        }
        break;
      case A::kSetFabricMtu: faults->set_fabric_mtu(at, *seg, e.mtu_bytes); break;
      case A::kBlockProtocol:
        if (e.protocol.ip_protocol == 17 && e.protocol.port) {
          faults->block_udp_port(at, *seg, *e.protocol.port);
        } else {
          faults->block_ip_protocol(at, *seg, e.protocol.ip_protocol);
        }
        break;
      case A::kUnblockProtocol:
        if (e.protocol.ip_protocol == 17 && e.protocol.port) {
          faults->unblock_udp_port(at, *seg, *e.protocol.port);
        } else {
          faults->unblock_ip_protocol(at, *seg, e.protocol.ip_protocol);
        }
        break;
    }
    return {};
  }

  // An endpoint named at run time (Cluster::ping, Cluster::flow): "namespace/pod", a node
  // ("node:NAME" too), a router when `routers_ok`, an IPv4 address when `address_ok` (one a node
  // or pod has, when `address_must_serve`). Errors say what the text is not.
  Result<scenario::Endpoint> runtime_endpoint(std::string_view text, bool address_ok,
                                              bool routers_ok, bool address_must_serve = false) {
    scenario::Endpoint e;
    if (const auto slash = text.find('/'); slash != std::string_view::npos) {
      e.kind = scenario::Endpoint::Kind::kPod;
      e.namespace_name = std::string(text.substr(0, slash));
      e.name = std::string(text.substr(slash + 1));
      if (find_pod(e.namespace_name, e.name) == nullptr) {
        return make_error(Errc::kNotFound, fmt::format("no running pod '{}'", text));
      }
      return e;
    }
    if (text.starts_with("node:")) text.remove_prefix(5);
    if (auto a = wire::Ipv4Address::parse(text); a && address_ok) {
      e.kind = scenario::Endpoint::Kind::kAddress;
      e.address = *a;
      if (address_must_serve && server_namespace(e) == nullptr) {
        return make_error(Errc::kNotFound, fmt::format("no node or pod has address {}", text));
      }
      return e;
    }
    e.kind = scenario::Endpoint::Kind::kNode;
    e.name = std::string(text);
    bool known = node_index(e.name).has_value();
    if (routers_ok) {
      for (const auto& r : routers) known = known || r->name() == e.name;
    }
    if (!known) {
      return make_error(Errc::kNotFound,
                        fmt::format("'{}' is not a pod (namespace/name){}{}", text,
                                    routers_ok ? ", a node or a router" : " or a node",
                                    address_ok ? " or an IPv4 address" : ""));
    }
    return e;
  }

  const PodState* find_pod(std::string_view ns, std::string_view name) const {
    for (const auto& p : pods) {
      if (p.alive && p.spec->namespace_name == ns && p.spec->name == name) return &p;
    }
    return nullptr;
  }
};

Cluster::Cluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cluster::~Cluster() = default;

Result<std::unique_ptr<Cluster>> Cluster::create(const Scenario& scenario, ClusterOptions options) {
  auto impl = std::make_unique<Impl>(scenario, std::move(options));
  if (auto r = impl->build(); !r) return std::unexpected(r.error());
  return std::unique_ptr<Cluster>(new Cluster(std::move(impl)));
}

Simulator& Cluster::sim() { return impl_->sim; }
const Scenario& Cluster::scenario() const { return impl_->scenario; }

void Cluster::run_until(Time until) {
  impl_->sim.run_until(until);
  impl_->collect_pings();
}

void Cluster::run() { run_until(Time::zero() + impl_->scenario.duration); }

Convergence Cluster::convergence() const {
  Convergence c;
  impl_->count_sessions(c);
  impl_->count_routes(c);
  return c;
}

std::optional<Time> Cluster::run_until_converged(Time limit, Duration step) {
  std::optional<Time> at;
  while (impl_->sim.now() < limit) {
    const Time next = std::min(limit, impl_->sim.now() + step);
    impl_->sim.run_until(next);
    // Sessions first: cheap, and the routes cannot all be there before them.
    Convergence c;
    impl_->count_sessions(c);
    if (c.established != c.sessions) continue;
    impl_->count_routes(c);
    if (c.converged()) {
      at = impl_->sim.now();
      break;
    }
  }
  impl_->collect_pings();
  return at;
}

Result<void> Cluster::finish() {
  impl_->collect_pings();
  Result<void> result;
  if (impl_->capture) {
    if (auto r = impl_->capture->close(); !r && result) result = r;
  }
  if (auto r = impl_->events.close(); !r && result) result = r;
  if (impl_->options.run_dir.empty()) return result;
  // summary.json: what happened, in a form a notebook reads.
  std::string s = "{\n";
  auto str = [](std::string_view v) {
    std::string out;
    EventLog::append_json_string(out, v);
    return out;
  };
  s += fmt::format("  \"scenario\": {},\n  \"seed\": {},\n  \"simulated_seconds\": {:.9f},\n",
                   str(impl_->scenario.name), impl_->scenario.seed,
                   static_cast<double>(impl_->sim.now().ns()) / 1e9);
  s += "  \"nodes\": [\n";
  for (std::size_t i = 0; i < impl_->nodes.size(); ++i) {
    const auto& n = impl_->nodes[i];
    s += fmt::format("    {{\"name\": {}, \"address\": {}, \"peers\": [", str(n.spec->name),
                     str(n.address ? n.address->to_cidr() : ""));
    if (n.speaker) {
      for (std::size_t k = 0; k < n.speaker->neighbor_count(); ++k) {
        const auto st = n.speaker->status(k);
        s += fmt::format("{}{{\"name\": {}, \"state\": {}, \"info\": {}}}", k == 0 ? "" : ", ",
                         str(st.name), str(bgp::to_string(st.session.state)),
                         str(st.session.info));
      }
    }
    // The node's `ip route` at the end, a line each (what `calisim diff` compares of two runs).
    s += "], \"routes\": [";
    const std::string routes = dataplane::views::ip_route(*n.ns);
    bool first = true;
    for (std::size_t at = 0; at < routes.size();) {
      const auto nl = routes.find('\n', at);
      const auto end = nl == std::string::npos ? routes.size() : nl;
      s += (first ? "" : ", ") + str(std::string_view(routes).substr(at, end - at));
      first = false;
      at = end + 1;
    }
    s += fmt::format("]}}{}\n", i + 1 == impl_->nodes.size() ? "" : ",");
  }
  s += "  ],\n  \"pings\": [\n";
  for (std::size_t i = 0; i < impl_->pings.size(); ++i) {
    const auto& p = impl_->pings[i];
    s += fmt::format("    {{\"from\": {}, \"to\": {}, \"transmitted\": {}, \"received\": {}}}{}\n",
                     str(p.from), str(p.to), p.transmitted, p.received,
                     i + 1 == impl_->pings.size() ? "" : ",");
  }
  s += "  ],\n  \"flows\": [\n";
  const auto& flows = impl_->flow_runner->runs();
  auto seconds = [](const std::optional<Time>& t) {
    return t ? fmt::format("{:.9f}", t->to_seconds()) : std::string("null");
  };
  for (std::size_t i = 0; i < flows.size(); ++i) {
    const auto& f = flows[i];
    // The samples where the byte count changed (and the last): a stall is one step, not
    // hundreds of equal points.
    std::string samples;
    for (std::size_t k = 0; k < f.samples.size(); ++k) {
      const bool changed = k == 0 || f.samples[k].bytes != f.samples[k - 1].bytes;
      if (!changed && k + 1 != f.samples.size()) continue;
      samples += fmt::format("{}[{:.3f}, {}]", samples.empty() ? "" : ", ",
                             f.samples[k].at.to_seconds(), f.samples[k].bytes);
    }
    s += fmt::format(
        "    {{\"from\": {}, \"to\": {}, \"port\": {}, \"bytes\": {}, \"state\": {}, "
        "\"start\": {}, \"established\": {}, \"completed\": {}, \"stalled\": {}, "
        "\"received\": {}, \"retransmissions\": {}, \"timeouts\": {}, \"client_mss\": {}, "
        "\"server_mss\": {}, \"error\": {}, \"samples\": [{}]}}{}\n",
        str(f.from), str(f.to), f.port, f.bytes, str(f.state()), seconds(f.start),
        seconds(f.established), seconds(f.completed), seconds(f.stalled), f.received,
        f.retransmissions, f.timeouts, f.client_mss, f.server_mss, str(f.error), samples,
        i + 1 == flows.size() ? "" : ",");
  }
  s += "  ]\n}\n";
  std::ofstream out(impl_->options.run_dir / "summary.json", std::ios::trunc);
  out << s;
  if (!out && result) {
    result = make_error(Errc::kIo, fmt::format("cannot write {}",
                                               (impl_->options.run_dir / "summary.json").string()));
  }
  return result;
}

dataplane::Namespace* Cluster::node_namespace(std::string_view node) {
  auto n = impl_->node_index(node);
  return n ? impl_->nodes[*n].ns.get() : nullptr;
}

dataplane::Namespace* Cluster::pod_namespace(std::string_view ns, std::string_view pod) {
  const auto* p = impl_->find_pod(ns, pod);
  return p != nullptr ? p->ns.get() : nullptr;
}

std::optional<wire::Ipv4Address> Cluster::pod_ip(std::string_view ns, std::string_view pod) const {
  const auto* p = impl_->find_pod(ns, pod);
  if (p == nullptr) return std::nullopt;
  return p->ip;
}

std::optional<wire::Ipv4Prefix> Cluster::node_ip(std::string_view node) const {
  auto n = impl_->node_index(node);
  if (!n || !impl_->nodes[*n].address) return std::nullopt;
  const auto& a = *impl_->nodes[*n].address;
  return wire::Ipv4Prefix(a.address, a.prefix_length);
}

const Ipam& Cluster::ipam() const { return impl_->ipam; }
const std::vector<PingRun>& Cluster::pings() const { return impl_->pings; }
const std::vector<FlowRun>& Cluster::flows() const { return impl_->flow_runner->runs(); }

std::string Cluster::calicoctl_ipam_show(bool show_blocks) const {
  return calico::calicoctl_ipam_show(impl_->ipam, show_blocks);
}

std::string Cluster::calicoctl_node_status(std::string_view node) const {
  auto n = impl_->node_index(node);
  if (!n) return fmt::format("Node {} not found\n", node);
  const auto& st = impl_->nodes[*n];
  std::vector<views::BgpPeerRow> rows;
  if (st.speaker) {
    for (std::size_t k = 0; k < st.speaker->neighbor_count(); ++k) {
      const auto status = st.speaker->status(k);
      rows.push_back(views::BgpPeerRow{status.name,
                                       std::string(bgp::to_string(status.session.protocol_state)),
                                       status.session.since, status.session.info});
    }
  }
  return views::calicoctl_node_status(st.ns->running() && st.calico_running, st.speaker != nullptr,
                                      rows,
                                      impl_->sim.now());
}

std::string Cluster::calicoctl_get_workloadendpoints(bool all_namespaces, bool wide,
                                                     std::string_view namespace_flag) const {
  std::vector<views::WorkloadEndpointRow> rows;
  for (const auto& p : impl_->pods) {
    if (!p.alive) continue;
    const auto& node = impl_->nodes[p.node].spec->name;
    views::WorkloadEndpointRow row;
    row.k8s_namespace = p.spec->namespace_name;
    row.pod = p.spec->name;
    row.name = workload_endpoint_name(node, p.spec->name);
    row.node = node;
    row.networks = {fmt::format("{}/32", p.ip)};
    row.interface_name = p.interface;
    row.profiles = {"kns." + p.spec->namespace_name, "ksa." + p.spec->namespace_name + ".default"};
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) {
    return x.k8s_namespace + "/" + x.pod < y.k8s_namespace + "/" + y.pod;
  });
  return views::calicoctl_get_workloadendpoints(rows, all_namespaces, wide, namespace_flag);
}

const dataplane::Namespace* Cluster::find_namespace(std::string_view where) const {
  const Namespace* ns = nullptr;
  if (auto slash = where.find('/'); slash != std::string_view::npos) {
    const auto* p = impl_->find_pod(where.substr(0, slash), where.substr(slash + 1));
    if (p != nullptr) ns = p->ns.get();
  } else if (auto n = impl_->node_index(where)) {
    ns = impl_->nodes[*n].ns.get();
  } else {
    for (const auto& r : impl_->routers) {
      if (r->name() == where) ns = r.get();
    }
  }
  return ns;
}

std::string Cluster::view(std::string_view what, std::string_view where) const {
  const Namespace* ns = find_namespace(where);
  if (ns == nullptr) return fmt::format("{}: no such node or pod\n", where);
  if (what == "route -n") return dataplane::views::route_n(*ns);
  if (what == "ip route") return dataplane::views::ip_route(*ns);
  if (what == "ip -br addr") return dataplane::views::ip_br_addr(*ns);
  if (what == "ip -br link") return dataplane::views::ip_br_link(*ns);
  if (what == "ip neigh") return dataplane::views::ip_neigh(*ns);
  if (what == "ip rule") return dataplane::views::ip_rule(*ns);
  return fmt::format("{}: unknown view\n", what);
}

std::string Cluster::bgp_state(std::string_view node, std::string_view peer) const {
  auto n = impl_->node_index(node);
  if (!n || !impl_->nodes[*n].speaker) return "";
  auto k = impl_->nodes[*n].speaker->find_neighbor(peer);
  if (!k) return "";
  return std::string(bgp::to_string(impl_->nodes[*n].speaker->status(*k).session.state));
}

std::vector<std::pair<std::string, std::string>> Cluster::bgp_sessions(
    std::string_view node) const {
  std::vector<std::pair<std::string, std::string>> out;
  auto n = impl_->node_index(node);
  if (!n || !impl_->nodes[*n].speaker) return out;
  const bgp::Speaker& sp = *impl_->nodes[*n].speaker;
  for (std::size_t k = 0; k < sp.neighbor_count(); ++k) {
    const auto st = sp.status(k);
    out.emplace_back(st.name, std::string(bgp::to_string(st.session.state)));
  }
  return out;
}

Time Cluster::now() const { return impl_->sim.now(); }

const bgp::Speaker* Cluster::bgp_speaker(std::string_view node) const {
  auto n = impl_->node_index(node);
  if (!n) return nullptr;
  const auto& st = impl_->nodes[*n];
  if (!st.speaker || !st.ns->running() || !st.calico_running) return nullptr;
  return st.speaker.get();
}

std::size_t Reachability::reachable() const {
  std::size_t n = 0;
  for (const auto& row : ok) n += static_cast<std::size_t>(std::count(row.begin(), row.end(), true));
  return n;
}

Result<std::size_t> Cluster::ping(std::string_view from, std::string_view to, int count,
                                  Duration interval, std::size_t size_bytes) {
  if (count < 1) return make_error(Errc::kInvalidArgument, "ping: bad number of packets to transmit.");
  auto src = impl_->runtime_endpoint(from, /*address_ok=*/false, /*routers_ok=*/true);
  if (!src) return std::unexpected(src.error());
  auto dst = impl_->runtime_endpoint(to, /*address_ok=*/true, /*routers_ok=*/true);
  if (!dst) return std::unexpected(dst.error());
  scenario::PingSpec spec;
  spec.from = *src;
  spec.to = *dst;
  spec.count = count;
  spec.interval = interval;
  spec.size_bytes = size_bytes;
  impl_->start_ping(spec);
  return impl_->pings.size() - 1;
}

Result<std::size_t> Cluster::flow(std::string_view from, std::string_view to, std::uint16_t port,
                                  std::uint64_t bytes) {
  if (port == 0) return make_error(Errc::kInvalidArgument, "flow: port must be 1-65535");
  // Flows run between nodes and pods; an address must be one of theirs (someone must serve).
  auto src = impl_->runtime_endpoint(from, /*address_ok=*/false, /*routers_ok=*/false);
  if (!src) return std::unexpected(src.error());
  auto dst = impl_->runtime_endpoint(to, /*address_ok=*/true, /*routers_ok=*/false,
                                     /*address_must_serve=*/true);
  if (!dst) return std::unexpected(dst.error());
  scenario::FlowSpec spec;
  spec.from = *src;
  spec.to = *dst;
  spec.port = port;
  spec.bytes = bytes;
  return impl_->start_flow(spec);
}

Result<void> Cluster::inject(const scenario::Event& event) {
  const Time at = std::max(impl_->sim.now(), Time::zero() + event.at);
  return impl_->apply_event(event, at);
}

Reachability Cluster::reachability(Duration wait) {
  Reachability r;
  std::vector<const Impl::PodState*> alive;
  for (const auto& p : impl_->pods) {
    if (!p.alive) continue;
    alive.push_back(&p);
    r.pods.push_back(p.spec->namespace_name + "/" + p.spec->name);
  }
  // One echo per ordered pair, all sent now; the replies are read from the Ping objects after
  // `wait` (they are not part of pings(): the matrix is its own measurement).
  std::vector<std::unique_ptr<dataplane::Ping>> probes;
  for (const auto* a : alive) {
    for (const auto* b : alive) {
      if (a == b) {
        probes.push_back(nullptr);
        continue;
      }
      dataplane::PingOptions o;
      o.count = 1;
      probes.push_back(std::make_unique<dataplane::Ping>(*a->ns, b->ip, o));
    }
  }
  impl_->sim.run_until(impl_->sim.now() + wait);
  impl_->collect_pings();
  r.ok.assign(alive.size(), std::vector<bool>(alive.size(), false));
  for (std::size_t i = 0; i < alive.size(); ++i) {
    for (std::size_t j = 0; j < alive.size(); ++j) {
      const auto& p = probes[i * alive.size() + j];
      r.ok[i][j] = i == j || (p != nullptr && p->statistics().received > 0);
    }
  }
  return r;
}

}  // namespace calisim::calico
