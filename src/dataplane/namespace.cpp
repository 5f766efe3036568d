#include <calisim/dataplane/namespace.hpp>

#include <calisim/dataplane/veth.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <calisim/wire/arp.hpp>
#include <calisim/wire/ethernet.hpp>
#include <calisim/wire/icmp.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/udp.hpp>

#include <calisim/dataplane/tunnel.hpp>

namespace calisim::dataplane {

using wire::EthernetHeader;
using wire::EtherType;
using wire::Ipv4Address;
using wire::Ipv4Header;
using wire::Ipv4View;
using wire::MacAddress;
using wire::Packet;

Namespace::Namespace(Simulator& sim, wire::PacketPool& pool, std::string name)
    : sim_(&sim),
      pool_(&pool),
      name_(std::move(name)),
      neighbours_(sim.random("neigh/" + name_)),
      neighbour_timer_(sim, [this] { run_neighbour_timers(); }),
      ip_ident_(sim.random("ip_ident/" + name_)),
      proxy_rng_(sim.random("proxy_arp/" + name_)),
      reassembly_(pool),
      reassembly_timer_(sim, [this] { run_reassembly_timer(); }),
      icmp_limits_(sim.random("icmp/" + name_)) {
  loopback_ = &add_device<Loopback>();
}

Namespace::~Namespace() = default;

void Namespace::attach(std::unique_ptr<Device> device) {
  CALISIM_CHECK(this->device(device->name()) == nullptr, "device name already used");
  device->ifindex_ = next_ifindex_++;
  conf_.resize(device->ifindex_ + 1);
  conf_[device->ifindex_] = DeviceSysctls{conf_all_.forwarding};
  by_ifindex_.resize(device->ifindex_ + 1, nullptr);
  by_ifindex_[device->ifindex_] = device.get();
  devices_.push_back(std::move(device));
}

Device* Namespace::device(std::string_view name) const {
  for (const auto& d : devices_) {
    if (d->name() == name) return d.get();
  }
  return nullptr;
}

Device* Namespace::device(std::uint32_t ifindex) const {
  return ifindex < by_ifindex_.size() ? by_ifindex_[ifindex] : nullptr;
}

DeviceSysctls& Namespace::conf(std::string_view name) {
  Device* d = device(name);
  CALISIM_CHECK(d != nullptr, "conf() of an unknown device");
  return conf_[d->ifindex()];
}

void Namespace::set_ip_forward(bool on) {
  conf_all_.forwarding = on;
  for (auto& c : conf_) c.forwarding = on;
}

Result<void> Namespace::delete_device(std::string_view name) {
  Device* d = device(name);
  if (d == nullptr) {
    return make_error(Errc::kNotFound, fmt::format("{}: Cannot find device \"{}\"", name_, name));
  }
  if (d == loopback_) {
    return make_error(Errc::kUnsupported,
                      fmt::format("{}: RTNETLINK answers: Operation not supported", name_));
  }
  if (d->kind() == DeviceKind::kVeth) {
    Veth& peer = static_cast<Veth*>(d)->peer();
    if (&peer.owner() != this || peer.ifindex() != d->ifindex()) peer.owner().unlink(peer);
  }
  unlink(*d);
  return {};
}

void Namespace::unlink(Device& d) {
  const std::uint32_t ifindex = d.ifindex();
  (void)set_up(d.name(), false);
  std::erase_if(addresses_, [ifindex](const Address& a) { return a.ifindex == ifindex; });
  fib_.clear_device(ifindex);
  for (wire::Packet& p : neighbours_.device_down(ifindex)) {
    (void)p;
    count_drop(DropReason::kDeviceDown, &d);
  }
  by_ifindex_[ifindex] = nullptr;
  auto it = std::find_if(devices_.begin(), devices_.end(),
                         [&d](const std::unique_ptr<Device>& p) { return p.get() == &d; });
  deleted_devices_.push_back(std::move(*it));
  devices_.erase(it);
}

Result<void> Namespace::set_up(std::string_view name, bool up) {
  Device* d = device(name);
  if (d == nullptr) {
    return make_error(Errc::kNotFound, fmt::format("{}: Cannot find device \"{}\"", name_, name));
  }
  if (d->admin_up() == up) return {};
  d->set_admin_up(up);
  if (up) {
    for (const Address& a : addresses_) {
      if (a.ifindex == d->ifindex()) fib_.add_address_routes(a.ifindex, a.prefix, route_options(a));
    }
    // inetdev_event NETDEV_UP: loopback gets 127.0.0.1/8 (scope host) when it comes up;
    // inet_insert_ifa leaves an address that is already there alone.
    if (d->kind() == DeviceKind::kLoopback) {
      (void)add_address(name, wire::Ipv4Prefix(Ipv4Address(127, 0, 0, 1), 8));
    }
  } else {
    // NETDEV_DOWN: routes through the device go (fib_disable_ip); so do its neighbours.
    fib_.device_down(d->ifindex());
    pmtu_.flush_device(d->ifindex());
    for (Packet& p : neighbours_.device_down(d->ifindex())) {
      (void)p;
      count_drop(DropReason::kDeviceDown, d);
    }
  }
  return {};
}

void Namespace::carrier_lost(Device& device) {
  for (const NeighbourFailed& gone : neighbours_.flush(device.ifindex())) {
    for (std::size_t i = 0; i < gone.packets.size(); ++i) count_drop(DropReason::kLinkDown, &device);
  }
  schedule_neighbour_timer();
}

void Namespace::crash() {
  if (!running_) return;
  running_ = false;
  up_before_crash_.clear();
  for (auto& d : devices_) {
    if (!d->admin_up()) continue;
    up_before_crash_.push_back(d->ifindex());
    d->set_admin_up(false);  // not set_up(): the configured routes are kept for the restart
  }
  for (const NeighbourFailed& gone : neighbours_.flush(0)) {
    for (std::size_t i = 0; i < gone.packets.size(); ++i) {
      count_drop(DropReason::kNodeDown, device(gone.ifindex));
    }
  }
  neighbour_timer_.cancel();
  for (Packet& p : reassembly_.expire(Time::max())) {
    (void)p;
    count_drop(DropReason::kNodeDown, nullptr);
  }
  reassembly_timer_.cancel();
  ++boot_;  // queued proxy-ARP replies die with the node
  proxy_queue_len_ = 0;
  icmp_limits_.reset();
  pmtu_.clear();
  // Listeners may remove themselves (or others) while being told.
  const auto listeners = crash_listeners_;
  for (const auto& [id, fn] : listeners) fn();
}

void Namespace::restart() {
  if (running_) return;
  running_ = true;
  for (std::uint32_t ifindex : up_before_crash_) {
    if (Device* d = device(ifindex)) d->set_admin_up(true);
  }
  up_before_crash_.clear();
}

std::size_t Namespace::add_crash_listener(std::function<void()> listener) {
  const std::size_t id = next_crash_listener_id_++;
  crash_listeners_.emplace_back(id, std::move(listener));
  return id;
}

void Namespace::remove_crash_listener(std::size_t id) {
  std::erase_if(crash_listeners_, [id](const auto& l) { return l.first == id; });
}

Result<void> Namespace::add_address(std::string_view name, wire::Ipv4Prefix prefix) {
  Device* d = device(name);
  if (d == nullptr) {
    return make_error(Errc::kNotFound, fmt::format("{}: Cannot find device \"{}\"", name_, name));
  }
  bool secondary = false;
  for (const Address& a : addresses_) {
    if (a.ifindex != d->ifindex()) continue;
    if (a.prefix.address() == prefix.address()) {
      return make_error(Errc::kExists,
                        fmt::format("{}: {} already on {}", name_, prefix.to_string(), name));
    }
    if (a.prefix.length() == prefix.length() && a.prefix.contains(prefix.address())) {
      secondary = true;
    }
  }
  addresses_.push_back(Address{d->ifindex(), prefix, secondary});
  fib_.add_address_routes(d->ifindex(), prefix, route_options(addresses_.back()));
  return {};
}

Result<void> Namespace::remove_address(std::string_view name, wire::Ipv4Prefix prefix) {
  Device* d = device(name);
  if (d == nullptr) {
    return make_error(Errc::kNotFound, fmt::format("{}: Cannot find device \"{}\"", name_, name));
  }
  auto it = std::find_if(addresses_.begin(), addresses_.end(), [&](const Address& a) {
    return a.ifindex == d->ifindex() && a.prefix == prefix;
  });
  if (it == addresses_.end()) {
    return make_error(Errc::kNotFound,
                      fmt::format("{}: {} is not on {}", name_, prefix.to_string(), name));
  }
  const AddressRouteOptions options = route_options(*it);
  addresses_.erase(it);
  fib_.remove_address_routes(d->ifindex(), prefix, options);
  const bool last = std::none_of(addresses_.begin(), addresses_.end(),
                                 [&](const Address& a) { return a.ifindex == d->ifindex(); });
  if (last) fib_.clear_device(d->ifindex());
  return {};
}

AddressRouteOptions Namespace::route_options(const Address& a) const {
  AddressRouteOptions o;
  Device* d = device(a.ifindex);
  o.device_up = d != nullptr && d->admin_up();
  if (a.secondary) {
    for (const Address& p : addresses_) {
      if (p.ifindex == a.ifindex && !p.secondary && p.prefix.length() == a.prefix.length() &&
          p.prefix.contains(a.prefix.address())) {
        o.primary = p.prefix.address();
        break;
      }
    }
  }
  return o;
}

bool Namespace::is_local_address(Ipv4Address a) const {
  return std::any_of(addresses_.begin(), addresses_.end(),
                     [a](const Address& x) { return x.prefix.address() == a; });
}

std::optional<Ipv4Address> Namespace::select_source(std::uint32_t ifindex,
                                                    Ipv4Address toward) const {
  const Address* first = nullptr;
  for (const Address& a : addresses_) {
    if (a.ifindex != ifindex || a.secondary) continue;
    if (a.prefix.contains(toward)) return a.prefix.address();
    if (first == nullptr) first = &a;
  }
  if (first != nullptr) return first->prefix.address();
  // inet_select_addr falls back to any address of scope link or wider in the namespace (not
  // loopback's 127/8).
  for (const Address& a : addresses_) {
    if (!a.prefix.address().is_loopback()) return a.prefix.address();
  }
  return std::nullopt;
}

std::size_t Namespace::add_protocol_handler(std::uint8_t protocol, ProtocolHandler handler) {
  const std::size_t id = next_handler_id_++;
  handlers_.push_back(Handler{id, protocol, std::move(handler)});
  return id;
}

void Namespace::remove_protocol_handler(std::size_t id) {
  // Only cleared here (a handler may be running); dispatch skips and compacts cleared ones.
  for (Handler& h : handlers_) {
    if (h.id == id) h.fn = nullptr;
  }
}

bool Namespace::has_handler(std::uint8_t protocol) const {
  return std::any_of(handlers_.begin(), handlers_.end(),
                     [protocol](const Handler& h) { return h.protocol == protocol && h.fn; });
}

void Namespace::dispatch(std::uint8_t protocol, const Ipv4View& ip) {
  const Time now = sim_->now();
  // By index: handlers may be added or removed while this runs.
  for (std::size_t i = 0; i < handlers_.size(); ++i) {
    if (handlers_[i].protocol != protocol || !handlers_[i].fn) continue;
    auto fn = handlers_[i].fn;  // keep it alive even if removed meanwhile
    fn(ip, now);
  }
  std::erase_if(handlers_, [](const Handler& h) { return !h.fn; });
}

void Namespace::count_drop(DropReason reason, const Device* device) {
  ++drop_counts_[static_cast<std::size_t>(reason)];
  if (drop_listener_) drop_listener_(DropEvent{sim_->now(), reason, device});
}

void Namespace::tap(const Device& device, const Packet& p, PacketTap::Direction dir) {
  if (tap_ != nullptr) tap_->on_packet(device, sim_->now(), p.bytes(), dir);
}

// ---------------------------------------------------------------------------------------------
// Receive

void Namespace::receive(Device& device, Packet&& packet) {
  tap(device, packet, PacketTap::Direction::kInbound);
  packet.meta.ingress_ifindex = device.ifindex();
  if (!device.has_ethernet_header()) return ip_receive(device, std::move(packet));
  auto eth = wire::EthernetView::parse(packet.bytes());
  if (!eth) return count_drop(DropReason::kMalformed, &device);
  if (eth->ethertype() == EtherType::kArp) return arp_receive(device, std::move(packet));
  if (eth->ethertype() != EtherType::kIpv4) return;  // IPv6 and others: not modelled, ignored
  packet.pull_front(EthernetHeader::kLength);
  ip_receive(device, std::move(packet));
}


void Namespace::ip_receive(Device& device, Packet&& packet) {
  auto ip = Ipv4View::parse(packet.bytes());
  if (!ip) return count_drop(DropReason::kMalformed, &device);
  if (!ip->checksum_valid()) return count_drop(DropReason::kBadChecksum, &device);
  packet.trim(ip->datagram().size());  // link padding
  // ip_rcv: NF_HOOK(NF_INET_PRE_ROUTING) after ip_rcv_core's checks, before ip_rcv_finish
  // routes the packet. A hook may rewrite it (DNAT): the lookup below sees the result.
  if (!netfilter_.empty(NfHook::kPrerouting)) {
    if (!nf_hook_slow(NfHook::kPrerouting, packet, &device, nullptr)) return;
    ip = Ipv4View::parse(packet.bytes());
    if (!ip) return count_drop(DropReason::kMalformed, &device);
  }
  const bool from_lo = device.kind() == DeviceKind::kLoopback;
  if (!from_lo && source_is_martian(device, *ip)) return count_drop(DropReason::kMartian, &device);
  FlowKey key{};
  key.destination = ip->destination();
  key.source = ip->source();
  key.mark = packet.meta.mark;
  key.iif = device.name();
  key.tos = ip->tos();
  const FibLookup r = fib_.lookup(key);
  if (r.kind == FibLookup::Kind::kRoute &&
      (r.route->type == RouteType::kLocal || r.route->type == RouteType::kBroadcast)) {
    if (!from_lo) {
      if (auto bad = validate_source(device, *ip, 0)) return count_drop(*bad, &device);
    }
    return local_deliver(device, std::move(packet));
  }
  forward(device, std::move(packet), r);
}

void Namespace::forward(Device& in, Packet&& packet, const FibLookup& r) {
  // ip_route_input_slow: forwarding off on the input device => EHOSTUNREACH, dropped silently.
  if (!conf_[in.ifindex()].forwarding) return count_drop(DropReason::kForwardingDisabled, &in);
  const Ipv4View ip = *Ipv4View::parse(packet.bytes());
  switch (r.kind) {
    case FibLookup::Kind::kRoute: break;
    // ip_error (net/ipv4/route.c): ENETUNREACH, EHOSTUNREACH (an unreachable route) and EACCES
    // (prohibit) become ICMP 3/0, 3/1 and 3/13, behind its own per-source limiter.
    case FibLookup::Kind::kNoRoute:
      if (icmp_limits_.ip_error_allow(ip.source(), sim_->now())) icmp_error(packet, 3, 0);
      return count_drop(DropReason::kNoRoute, &in);
    case FibLookup::Kind::kUnreachable:
      if (icmp_limits_.ip_error_allow(ip.source(), sim_->now())) icmp_error(packet, 3, 1);
      return count_drop(DropReason::kUnreachable, &in);
    case FibLookup::Kind::kProhibit:
      if (icmp_limits_.ip_error_allow(ip.source(), sim_->now())) icmp_error(packet, 3, 13);
      return count_drop(DropReason::kProhibit, &in);
    case FibLookup::Kind::kBlackhole: return count_drop(DropReason::kBlackhole, &in);
  }
  const Route& route = *r.route;
  Device* out = device(route.ifindex);
  if (out == nullptr) return count_drop(DropReason::kNoRoute, &in);
  if (in.kind() != DeviceKind::kLoopback) {
    if (auto bad = validate_source(in, ip, out->ifindex())) return count_drop(*bad, &in);
  }
  // ip_forward(): TTL first (the quote keeps TTL 1), then the MTU, then the decrement.
  if (ip.ttl() <= 1) {
    icmp_error(packet, 11, 0);
    return count_drop(DropReason::kTtlExceeded, &in);
  }
  const std::uint32_t mtu = route.mtu != 0 ? route.mtu : out->mtu();
  if (packet.size() > mtu && ip.dont_fragment()) {
    icmp_error(packet, 3, 4, static_cast<std::uint16_t>(mtu));
    return count_drop(DropReason::kMtu, &in);
  }
  wire::ipv4_decrement_ttl(packet.bytes());
  // ip_forward (net/ipv4/ip_forward.c): NF_HOOK(NF_INET_FORWARD) comes after ip_decrease_ttl.
  if (!nf_hook(NfHook::kForward, packet, &in, out)) return;
  output(std::move(packet), route);
}

// ---------------------------------------------------------------------------------------------
// Output

FibLookup Namespace::route_output(Ipv4Address destination) const {
  FlowKey key{};
  key.destination = destination;
  return fib_.lookup(key);
}

Result<Ipv4Address> Namespace::source_for(Ipv4Address destination) const {
  const FibLookup r = route_output(destination);
  if (auto e = route_error(r, destination); !e) return std::unexpected(e.error());
  const Route& route = *r.route;
  if (route.preferred_source) return *route.preferred_source;
  if (route.type == RouteType::kLocal) return destination;
  const Ipv4Address toward = route.gateway ? *route.gateway : destination;
  if (auto s = select_source(route.ifindex, toward)) return *s;
  return make_error(Errc::kNotFound, fmt::format("{}: no source address for {}", name_,
                                                 destination.to_string()));
}

Result<void> Namespace::route_error(const FibLookup& r, Ipv4Address destination) const {
  // What connect()/sendto() report (linux.md §1.1, §1.7).
  switch (r.kind) {
    case FibLookup::Kind::kRoute: return {};
    case FibLookup::Kind::kNoRoute:
      return make_error(Errc::kNotFound, fmt::format("{}: {}: Network is unreachable", name_,
                                                     destination.to_string()));
    case FibLookup::Kind::kUnreachable:
      return make_error(Errc::kNotFound, fmt::format("{}: {}: No route to host", name_,
                                                     destination.to_string()));
    case FibLookup::Kind::kProhibit:
      return make_error(Errc::kNotFound, fmt::format("{}: {}: Permission denied", name_,
                                                     destination.to_string()));
    case FibLookup::Kind::kBlackhole:
      return make_error(Errc::kInvalidArgument, fmt::format("{}: {}: Invalid argument", name_,
                                                            destination.to_string()));
  }
  return {};
}

// What a local send that met no usable route counts.
static DropReason route_drop_reason(FibLookup::Kind kind) {
  switch (kind) {
    case FibLookup::Kind::kUnreachable: return DropReason::kUnreachable;
    case FibLookup::Kind::kProhibit: return DropReason::kProhibit;
    case FibLookup::Kind::kBlackhole: return DropReason::kBlackhole;
    case FibLookup::Kind::kRoute:
    case FibLookup::Kind::kNoRoute: break;
  }
  return DropReason::kNoRoute;
}

Result<void> Namespace::send(Packet&& datagram) {
  if (!running_) {
    count_drop(DropReason::kNodeDown, nullptr);
    return make_error(Errc::kUnavailable, fmt::format("{}: the node is down", name_));
  }
  auto ip = Ipv4View::parse(datagram.bytes());
  if (!ip) {
    count_drop(DropReason::kMalformed, nullptr);
    return make_error(ip.error().code, ip.error().message);
  }
  FlowKey key{};
  key.destination = ip->destination();
  key.source = ip->source();
  key.mark = datagram.meta.mark;
  key.tos = ip->tos();
  const FibLookup r = fib_.lookup(key);
  if (auto e = route_error(r, ip->destination()); !e) {
    count_drop(route_drop_reason(r.kind), nullptr);
    return e;
  }
  datagram.meta.ingress_ifindex = 0;
  // __ip_local_out: NF_HOOK(NF_INET_OUTPUT) after the socket's route lookup. A hook that
  // changes the destination or the mark gets the packet routed again (ip_route_me_harder).
  if (!netfilter_.empty(NfHook::kOutput)) return output_hooked(std::move(datagram), key, *r.route);
  output(std::move(datagram), *r.route);
  return {};
}

Result<void> Namespace::output_hooked(Packet&& datagram, FlowKey key, const Route& route) {
  const Route* chosen = &route;
  const Device* out = route.type == RouteType::kLocal ? loopback_ : device(route.ifindex);
  if (!nf_hook_slow(NfHook::kOutput, datagram, nullptr, out)) {
    // NF_DROP at OUTPUT: ip_local_out returns -EPERM to the socket (NF_DROP_GETERR).
    return make_error(Errc::kUnavailable, fmt::format("{}: {}: Operation not permitted", name_,
                                                      key.destination.to_string()));
  }
  auto ip = Ipv4View::parse(datagram.bytes());
  if (!ip) {
    count_drop(DropReason::kMalformed, nullptr);
    return {};
  }
  if (ip->destination() != key.destination || datagram.meta.mark != key.mark) {
    key.destination = ip->destination();
    key.mark = datagram.meta.mark;
    const FibLookup again = fib_.lookup(key);
    if (!again.ok()) {
      count_drop(route_drop_reason(again.kind), nullptr);
      return route_error(again, key.destination);
    }
    chosen = again.route;
  }
  output(std::move(datagram), *chosen);
  return {};
}

void Namespace::output(Packet&& datagram, const Route& route) {
  Device* out = route.type == RouteType::kLocal ? loopback_ : device(route.ifindex);
  if (out == nullptr) return count_drop(DropReason::kNoRoute, nullptr);
  if (!out->admin_up()) return count_drop(DropReason::kDeviceDown, out);
  const Ipv4View ip = *Ipv4View::parse(datagram.bytes());
  const Ipv4Address next_hop =
      route.type == RouteType::kLocal ? ip.destination()
                                      : (route.gateway ? *route.gateway : ip.destination());
  datagram.meta.next_hop = next_hop.value();
  // ip_output: NF_HOOK_COND(NF_INET_POST_ROUTING) before ip_finish_output fragments.
  if (!netfilter_.empty(NfHook::kPostrouting)) {
    const Device* in =
        datagram.meta.ingress_ifindex != 0 ? device(datagram.meta.ingress_ifindex) : nullptr;
    if (!nf_hook_slow(NfHook::kPostrouting, datagram, in, out)) return;
  }
  const bool local = datagram.meta.ingress_ifindex == 0;
  const std::uint32_t mtu = output_mtu(route, *out, ip.destination(), local);
  if (datagram.size() <= mtu) return neighbour_output(*out, next_hop, std::move(datagram));
  if (ip.dont_fragment()) {
    // ip_fragment: DF and too big. Forwarded traffic was checked in forward(); sockets check
    // before sending (ip_append_data: EMSGSIZE with IP_PMTUDISC_DO, else no DF), so what gets
    // here is a datagram the stack built itself, such as a tunnel's outer packet after the
    // PMTU dropped: the kernel sends the Frag-Needed to the source, here itself, and the error
    // handler of the protocol learns the PMTU (ipip_err; calico#7146 shows it for tunl0).
    icmp_error(datagram, 3, 4, static_cast<std::uint16_t>(mtu));
    return count_drop(DropReason::kMtu, out);
  }
  fragment(std::move(datagram), mtu, [&](Packet&& f) {
    neighbour_output(*out, next_hop, std::move(f));
  });
}

// ip_do_fragment: the data is cut in multiples of 8 bytes; every fragment carries the header
// (options copied as they are; calisim sends none), MF on all but the last.
void Namespace::fragment(Packet&& datagram, std::uint32_t mtu,
                         const std::function<void(Packet&&)>& emit) {
  const Ipv4View ip = *Ipv4View::parse(datagram.bytes());
  Ipv4Header header = Ipv4Header::from_view(ip);
  const std::size_t hlen = header.header_length();
  const std::size_t per = ((mtu - hlen) / 8) * 8;
  const wire::Bytes data = ip.payload();
  const std::uint32_t base_offset = header.fragment_offset_bytes;
  const bool last_had_mf = header.more_fragments;
  for (std::size_t off = 0; off < data.size(); off += per) {
    const std::size_t len = std::min(per, data.size() - off);
    Packet f = pool_->make(hlen + len);
    f.meta = datagram.meta;
    header.total_length = static_cast<std::uint16_t>(hlen + len);
    header.fragment_offset_bytes = base_offset + static_cast<std::uint32_t>(off);
    header.more_fragments = (off + len < data.size()) || last_had_mf;
    header.emit(f.bytes());
    std::copy_n(data.data() + off, len, f.data() + hlen);
    emit(std::move(f));
  }
}

void Namespace::neighbour_output(Device& out, Ipv4Address next_hop, Packet&& datagram) {
  if (!out.has_ethernet_header()) return transmit(out, std::move(datagram));
  if (!out.uses_arp()) {
    EthernetHeader{MacAddress(), MacAddress(), EtherType::kIpv4}.emit(
        datagram.push_front(EthernetHeader::kLength));
    return transmit(out, std::move(datagram));
  }
  const Time now = sim_->now();
  const Ipv4Address source = Ipv4View::parse(datagram.bytes())->source();
  const Resolution res = neighbours_.resolve(out.ifindex(), next_hop, now, source);
  switch (res.kind) {
    case Resolution::Kind::kResolved:
      EthernetHeader{res.mac, out.mac(), EtherType::kIpv4}.emit(
          datagram.push_front(EthernetHeader::kLength));
      // A send may have moved a STALE entry to DELAY and armed its 5 s timer: the namespace's
      // timer must follow, or the entry never goes on to PROBE and FAILED (a peer whose cable
      // was pulled would stay DELAY for ever).
      schedule_neighbour_timer();
      return transmit(out, std::move(datagram));
    case Resolution::Kind::kFailed: return count_drop(DropReason::kNeighbourFailed, &out);
    case Resolution::Kind::kQueue: break;
  }
  for (Packet& dropped :
       neighbours_.enqueue(out.ifindex(), next_hop, std::move(datagram), source)) {
    (void)dropped;
    count_drop(DropReason::kNeighbourQueueFull, &out);
  }
  if (res.request) send_arp_request(*res.request);
  schedule_neighbour_timer();
}

void Namespace::transmit(Device& out, Packet&& frame) {
  if (!out.admin_up()) return count_drop(DropReason::kDeviceDown, &out);
  // Without carrier the device's qdisc is noop_qdisc (dev_deactivate on linkwatch), which drops
  // in __dev_queue_xmit before dev_hard_start_xmit hands copies to the taps: tcpdump on a NIC
  // with its cable out shows nothing going out.
  if (!out.carrier()) return out.drop_tx(DropReason::kLinkDown);
  tap(out, frame, PacketTap::Direction::kOutbound);
  out.transmit(std::move(frame));
}


void Namespace::run_neighbour_timers() {
  for (NeighbourAction& action : neighbours_.poll(sim_->now())) {
    if (auto* request = std::get_if<SendArpRequest>(&action)) {
      send_arp_request(*request);
      continue;
    }
    auto& failed = std::get<NeighbourFailed>(action);
    Device* out = device(failed.ifindex);
    for (Packet& p : failed.packets) {
      // arp_error_report -> dst_link_failure: host unreachable to the packet's source.
      icmp_error(p, 3, 1);
      count_drop(DropReason::kNeighbourFailed, out);
    }
  }
  schedule_neighbour_timer();
}

void Namespace::schedule_neighbour_timer() {
  const Time next = neighbours_.next_deadline();
  if (next == Time::max()) {
    neighbour_timer_.cancel();
  } else if (!neighbour_timer_.armed() || neighbour_timer_.deadline() != next) {
    neighbour_timer_.arm_at(std::max(next, sim_->now()));
  }
}

void Namespace::run_reassembly_timer() {
  for (Packet& first : reassembly_.expire(sim_->now())) {
    // ip_expire: time exceeded, code 1, when the first fragment had arrived.
    icmp_error(first, 11, 1);
    count_drop(DropReason::kReassemblyTimeout, nullptr);
  }
  if (auto next = reassembly_.next_deadline()) reassembly_timer_.arm_at(*next);
}

}  // namespace calisim::dataplane
