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
      reassembly_timer_(sim, [this] { run_reassembly_timer(); }) {
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
  pending_proxy_replies_.clear();
  icmp_peers_.clear();
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


// Linux drops these before routing (ip_rcv_core, ip_route_input_slow: martians).
static bool martian_source(Ipv4Address src) {
  return src.is_multicast() || src.is_broadcast() || (src.value() >> 24) == 0;
}

bool Namespace::reverse_path_ok(Device& in, const Ipv4View& ip) {
  const auto& c = conf_[in.ifindex()];
  const std::uint8_t mode = std::max(conf_all_.rp_filter, c.rp_filter);
  if (mode == 0) return true;
  // fib_validate_source: the route back to the source, as if it arrived on `in`.
  FlowKey back{};
  back.destination = ip.source();
  back.source = ip.destination();
  back.iif = in.name();
  const FibLookup r = fib_.lookup(back);
  if (r.kind != FibLookup::Kind::kRoute) return false;
  const bool unicast = r.route->type == RouteType::kUnicast ||
                       (r.route->type == RouteType::kLocal &&
                        std::max(conf_all_.accept_local, c.accept_local));
  if (!unicast) return false;
  return mode == 2 || r.route->ifindex == in.ifindex();
}

void Namespace::ip_receive(Device& device, Packet&& packet) {
  auto ip = Ipv4View::parse(packet.bytes());
  if (!ip) return count_drop(DropReason::kMalformed, &device);
  if (!ip->checksum_valid()) return count_drop(DropReason::kBadChecksum, &device);
  packet.trim(ip->datagram().size());  // link padding
  if (martian_source(ip->source())) return count_drop(DropReason::kMartian, &device);
  if (ip->destination().is_loopback() && device.kind() != DeviceKind::kLoopback &&
      !std::max(conf_all_.route_localnet, conf_[device.ifindex()].route_localnet)) {
    return count_drop(DropReason::kMartian, &device);
  }
  // PREROUTING (raw, conntrack, mangle, nat) comes with the rule engine.
  FlowKey key{};
  key.destination = ip->destination();
  key.source = ip->source();
  key.mark = packet.meta.mark;
  key.iif = device.name();
  key.tos = ip->tos();
  const FibLookup r = fib_.lookup(key);
  if (r.kind == FibLookup::Kind::kRoute &&
      (r.route->type == RouteType::kLocal || r.route->type == RouteType::kBroadcast)) {
    if (!reverse_path_ok(device, *ip)) return count_drop(DropReason::kRpFilter, &device);
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
    case FibLookup::Kind::kNoRoute:  // ip_error: net unreachable
      icmp_error(packet, 3, 0);
      return count_drop(DropReason::kNoRoute, &in);
    case FibLookup::Kind::kUnreachable:
      icmp_error(packet, 3, 1);
      return count_drop(DropReason::kUnreachable, &in);
    case FibLookup::Kind::kProhibit:
      icmp_error(packet, 3, 13);
      return count_drop(DropReason::kProhibit, &in);
    case FibLookup::Kind::kBlackhole: return count_drop(DropReason::kBlackhole, &in);
  }
  if (!reverse_path_ok(in, ip)) return count_drop(DropReason::kRpFilter, &in);
  const Route& route = *r.route;
  Device* out = device(route.ifindex);
  if (out == nullptr) return count_drop(DropReason::kNoRoute, &in);
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
  // FORWARD (filter) comes with the rule engine.
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
    count_drop(r.kind == FibLookup::Kind::kBlackhole ? DropReason::kBlackhole
                                                     : DropReason::kNoRoute,
               nullptr);
    return e;
  }
  // OUTPUT (raw, mangle, nat, filter) comes with the rule engine.
  datagram.meta.ingress_ifindex = 0;
  output(std::move(datagram), *r.route);
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
  // POSTROUTING (mangle, nat) comes with the rule engine.
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
  tap(out, frame, PacketTap::Direction::kOutbound);
  out.transmit(std::move(frame));
}


// ---------------------------------------------------------------------------------------------
// ARP (net/ipv4/arp.c arp_process)

void Namespace::arp_receive(Device& device, Packet&& frame) {
  auto eth = wire::EthernetView::parse(frame.bytes());
  auto arp = wire::ArpPacket::parse(eth->payload());
  if (!arp) return count_drop(DropReason::kMalformed, &device);
  const Time now = sim_->now();
  ArpReceived received;
  received.ifindex = device.ifindex();
  received.sender_ip = arp->sender_ip;
  received.sender_mac = arp->sender_mac;
  received.gratuitous = arp->sender_ip == arp->target_ip;
  if (arp->operation == wire::ArpOperation::kReply) {
    received.receipt = eth->destination() == device.mac() ? ArpReceipt::kReplyToUs
                                                          : ArpReceipt::kReplyOther;
    return release(device, neighbours_.on_arp(received, now));
  }
  if (arp->operation != wire::ArpOperation::kRequest) return;
  const Ipv4Address sip = arp->sender_ip;
  const Ipv4Address tip = arp->target_ip;
  if (sip.is_multicast() || tip.is_multicast() || tip.is_loopback()) return;
  // The kernel routes the request's target as if an IP packet from sip to tip had arrived on
  // this device (ip_route_input_noref), then decides.
  FlowKey key{};
  key.destination = tip;
  key.source = sip;
  key.iif = device.name();
  const FibLookup r = fib_.lookup(key);
  bool answer = false;
  if (r.kind != FibLookup::Kind::kRoute) {
    answer = false;
  } else if (r.route->type == RouteType::kLocal) {
    answer = true;  // arp_ignore 0: any local address, on any device
  } else if (r.route->type == RouteType::kUnicast && conf_[device.ifindex()].forwarding) {
    // arp_fwd_proxy: proxy_arp on (max of all and the device), and the route to the target
    // leaves through another device. A host with no route to 169.254.1.1 answers nothing.
    const bool proxy = std::max(conf_all_.proxy_arp, conf_[device.ifindex()].proxy_arp);
    answer = proxy && r.route->ifindex != device.ifindex();
  }
  received.receipt = answer ? ArpReceipt::kRequestAnswered : ArpReceipt::kRequestOther;
  release(device, neighbours_.on_arp(received, now));
  if (!answer) return;
  const wire::ArpPacket reply = wire::ArpPacket::reply_to(*arp, device.mac());
  // proxy_delay: Calico sets 0 on cali devices; otherwise a proxied broadcast request waits a
  // random time below proxy_delay (pneigh_enqueue). Local answers are immediate.
  const auto delay_centis = conf_[device.ifindex()].proxy_delay_centis;
  if (r.route->type == RouteType::kLocal || delay_centis == 0 ||
      eth->destination() == device.mac()) {
    return send_arp(device, reply, arp->sender_mac);
  }
  const auto delay = Duration::milliseconds(
      static_cast<std::int64_t>(proxy_rng_.uniform(std::uint64_t{delay_centis} * 10)));
  Device* dev = &device;
  const MacAddress to = arp->sender_mac;
  pending_proxy_replies_.push_back(reply);
  sim_->schedule_after(delay, [this, dev, to] {
    const wire::ArpPacket a = pending_proxy_replies_.front();
    pending_proxy_replies_.pop_front();
    send_arp(*dev, a, to);
  });
}

void Namespace::send_arp(Device& out, const wire::ArpPacket& arp, MacAddress destination) {
  Packet frame = pool_->make(EthernetHeader::kLength + wire::ArpPacket::kLength);
  EthernetHeader{destination, out.mac(), EtherType::kArp}.emit(frame.bytes());
  arp.emit(frame.bytes().subspan(EthernetHeader::kLength));
  transmit(out, std::move(frame));
}

void Namespace::release(Device& out, ReleasedPackets released) {
  for (Packet& p : released.packets) {
    EthernetHeader{released.mac, out.mac(), EtherType::kIpv4}.emit(
        p.push_front(EthernetHeader::kLength));
    transmit(out, std::move(p));
  }
  schedule_neighbour_timer();
}

void Namespace::send_arp_request(const SendArpRequest& request) {
  Device* out = device(request.ifindex);
  if (out == nullptr) return;
  // arp_solicit: the queued packet's source when it is ours (arp_announce 0), else the
  // device's address for the target.
  const Ipv4Address sip =
      is_local_address(request.packet_source)
          ? request.packet_source
          : select_source(out->ifindex(), request.target).value_or(Ipv4Address());
  const wire::ArpPacket arp = wire::ArpPacket::request(out->mac(), sip, request.target);
  send_arp(*out, arp, request.unicast_to.value_or(MacAddress::broadcast()));
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

// ---------------------------------------------------------------------------------------------
// Local delivery and ICMP

void Namespace::local_deliver(Device& device, Packet&& packet) {
  const Ipv4View ip = *Ipv4View::parse(packet.bytes());
  if (ip.is_fragment()) {
    auto whole = reassembly_.add(std::move(packet), sim_->now());
    if (!whole) {
      if (!reassembly_timer_.armed()) {
        if (auto next = reassembly_.next_deadline()) reassembly_timer_.arm_at(*next);
      }
      return;
    }
    return local_deliver(device, std::move(*whole));
  }
  const auto protocol = static_cast<std::uint8_t>(ip.protocol());
  switch (ip.protocol()) {
    case wire::IpProtocol::kIcmp: {
      auto icmp = wire::IcmpView::parse(ip.payload());
      if (!icmp || !icmp->checksum_valid()) return count_drop(DropReason::kBadChecksum, &device);
      learn_pmtu(ip);
      if (icmp->type() == wire::IcmpType::kEchoRequest) {
        icmp_echo_reply(ip);
      }
      break;
    }
    case wire::IpProtocol::kIpip:
      if (!has_handler(protocol)) {
        // ipip_rcv: with tunl0 up any IPIP packet to a local address is taken; otherwise the
        // module is not there and the kernel answers protocol unreachable.
        for (const auto& d : devices_) {
          if (d->kind() == DeviceKind::kIpip && d->admin_up()) {
            return static_cast<TunnelDevice&>(*d).receive_encapsulated(std::move(packet));
          }
        }
        icmp_error(packet, 3, 2);
        return count_drop(DropReason::kTunnelMismatch, &device);
      }
      break;
    case wire::IpProtocol::kUdp: {
      auto udp = wire::UdpView::parse(ip.payload());
      if (!udp) return count_drop(DropReason::kMalformed, &device);
      for (const auto& d : devices_) {
        if (d->kind() == DeviceKind::kVxlan && d->admin_up() &&
            static_cast<TunnelDevice&>(*d).udp_port() == udp->destination_port()) {
          return static_cast<TunnelDevice&>(*d).receive_encapsulated(std::move(packet));
        }
      }
      if (!has_handler(protocol)) {
        icmp_error(packet, 3, 3);
        return count_drop(DropReason::kNoSocket, &device);
      }
      break;
    }
    default:
      if (!has_handler(protocol)) {
        if (ip.protocol() != wire::IpProtocol::kTcp) icmp_error(packet, 3, 2);
        return count_drop(DropReason::kNoSocket, &device);
      }
  }
  dispatch(protocol, ip);
}

void Namespace::icmp_echo_reply(const Ipv4View& request) {
  auto icmp = wire::IcmpMessage::parse(request.payload());
  if (!icmp) return;
  const auto reply = wire::IcmpMessage::echo_reply(icmp->identifier, icmp->sequence, icmp->data);
  Ipv4Header h;
  h.tos = request.tos();  // icmp_reply copies the request's TOS (linux.md §2.4)
  h.total_length = static_cast<std::uint16_t>(Ipv4Header::kMinLength + reply.size());
  h.ttl = 64;
  h.protocol = wire::IpProtocol::kIcmp;
  h.source = request.destination();
  h.destination = request.source();
  h.identification = ip_ident_.next(h.source, h.destination, 1, sim_->now());
  Packet p = pool_->make(h.total_length);
  h.emit(p.bytes());
  reply.emit(p.bytes().subspan(Ipv4Header::kMinLength));
  (void)send(std::move(p));
}

bool Namespace::icmp_rate_allows(Ipv4Address destination, std::uint8_t type, std::uint8_t code) {
  // icmpv4_mask_allow: only types in icmp_ratemask (3, 4, 11, 12) are limited, and never
  // frag-needed (3/4).
  if (!(type == 3 || type == 4 || type == 11 || type == 12) || (type == 3 && code == 4)) {
    return true;
  }
  // inet_peer token bucket per destination (icmpv4_xrlim_allow, inet_peer_xrlim_allow): one
  // token per jiffy, capped at XRLIM_BURST_FACTOR (6) x icmp_ratelimit (1 s); each message
  // costs icmp_ratelimit. A new peer starts full.
  constexpr std::int64_t kRatelimit = 250;  // 1000 ms in jiffies at HZ=250
  constexpr std::int64_t kBurst = 6 * kRatelimit;
  const std::int64_t now = sim_->now().ns() / IpIdentGenerator::kJiffyNs;
  auto [it, fresh] = icmp_peers_.try_emplace(destination.value(), IcmpPeer{kBurst, now});
  IcmpPeer& peer = it->second;
  if (!fresh) {
    peer.tokens = std::min(kBurst, peer.tokens + (now - peer.last));
    peer.last = now;
  }
  if (peer.tokens < kRatelimit) return false;
  peer.tokens -= kRatelimit;
  return true;
}

void Namespace::icmp_error(const Packet& offending, std::uint8_t type, std::uint8_t code,
                           std::uint16_t next_hop_mtu) {
  send_icmp_error(offending.bytes(), type, code, next_hop_mtu);
}

void Namespace::send_icmp_error(wire::Bytes offending, std::uint8_t type, std::uint8_t code,
                                std::uint16_t next_hop_mtu) {
  auto ip = Ipv4View::parse(offending);
  if (!ip) return;
  // icmp_send: never about ICMP errors, non-first fragments, or to broadcast/multicast/zero.
  if (ip->fragment_offset_bytes() != 0) return;
  if (ip->source().is_multicast() || ip->source().is_broadcast() ||
      ip->source().is_unspecified() || ip->destination().is_multicast() ||
      ip->destination().is_broadcast()) {
    return;
  }
  if (ip->protocol() == wire::IpProtocol::kIcmp) {
    auto inner = wire::IcmpView::parse(ip->payload());
    if (!inner || inner->is_error()) return;
  }
  if (!icmp_rate_allows(ip->source(), type, code)) return;
  const wire::Bytes quote = wire::icmp_error_quote(offending, wire::kIcmpQuoteLinuxMaxBytes);
  wire::IcmpMessage msg;
  msg.type = static_cast<wire::IcmpType>(type);
  msg.code = code;
  msg.next_hop_mtu = next_hop_mtu;
  msg.data = quote;
  Ipv4Header h;
  h.tos = static_cast<std::uint8_t>((ip->tos() & 0x1e) | 0xc0);  // linux.md §2.4
  h.total_length = static_cast<std::uint16_t>(Ipv4Header::kMinLength + msg.size());
  h.ttl = 64;
  h.protocol = wire::IpProtocol::kIcmp;
  h.destination = ip->source();
  // The source is the address of the interface the error leaves by (route lookup with saddr
  // 0); icmp_errors_use_inbound_ifaddr is 0.
  auto src = source_for(h.destination);
  if (!src) return;
  h.source = *src;
  h.identification = ip_ident_.next(h.source, h.destination, 1, sim_->now());
  Packet p = pool_->make(h.total_length);
  h.emit(p.bytes());
  msg.emit(p.bytes().subspan(Ipv4Header::kMinLength));
  (void)send(std::move(p));
}

}  // namespace calisim::dataplane
