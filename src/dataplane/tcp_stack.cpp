#include <calisim/dataplane/tcp_stack.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <calisim/dataplane/namespace.hpp>
#include <calisim/wire/icmp.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/tcp.hpp>

namespace calisim::dataplane {
namespace {

constexpr std::uint8_t kTcp = 6;
constexpr std::uint16_t kPortMin = 32768;  // net.ipv4.ip_local_port_range
constexpr std::uint16_t kPortMax = 60999;

}  // namespace

TcpSocket::TcpSocket(TcpStack& stack, TcpConnection connection)
    : stack_(stack),
      connection_(std::move(connection)),
      timer_(stack.ns().sim(), [this] { pump(); }),
      // A connected socket's IP IDs start at a random value (tcp_v4_connect) and count up.
      ip_id_(static_cast<std::uint16_t>(stack.rng_.next_u32())) {}

std::size_t TcpSocket::write(wire::Bytes data) {
  const std::size_t n = connection_.write(data);
  flush();
  return n;
}

std::size_t TcpSocket::read(wire::MutableBytes out) {
  const std::size_t n = connection_.read(out);
  flush();
  return n;
}

void TcpSocket::close() {
  connection_.close(stack_.ns().sim().now());
  flush();
}

void TcpSocket::abort() {
  connection_.abort(stack_.ns().sim().now());
  flush();
}

void TcpSocket::flush() {
  const Time now = stack_.ns().sim().now();
  while (auto seg = connection_.poll_transmit(now)) stack_.send(*this, *seg);
  if (auto next = connection_.next_deadline()) {
    timer_.arm_at(std::max(*next, now));
  } else {
    timer_.cancel();
  }
}

void TcpSocket::pump() {
  flush();
  if (on_event_) on_event_(*this);
}

TcpStack::TcpStack(Namespace& ns, TcpConfig config)
    : ns_(ns), config_(config), rng_(ns.sim().random("tcp/" + ns.name())) {
  tcp_handler_ = ns_.add_protocol_handler(kTcp, [this](const wire::Ipv4View& ip, Time) { on_tcp(ip); });
  icmp_handler_ = ns_.add_protocol_handler(1, [this](const wire::Ipv4View& ip, Time) { on_icmp(ip); });
  crash_listener_ = ns_.add_crash_listener([this] { on_crash(); });
}

void TcpStack::on_crash() {
  const Time now = ns_.sim().now();
  listeners_.clear();
  // In four-tuple order, whatever the hash table's order.
  std::vector<Key> keys;
  keys.reserve(sockets_.size());
  for (const auto& [k, socket] : sockets_) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  for (const Key& k : keys) {
    auto it = sockets_.find(k);
    TcpSocket& s = *it->second;
    s.connection_.lose_power(now);
    s.timer_.cancel();
    retire(it);
  }
}

void TcpStack::retire(SocketMap::iterator it) {
  retired_.push_back(std::move(it->second));
  sockets_.erase(it);
}

TcpStack::~TcpStack() {
  ns_.remove_protocol_handler(tcp_handler_);
  ns_.remove_protocol_handler(icmp_handler_);
  ns_.remove_crash_listener(crash_listener_);
}

std::uint16_t TcpStack::mss_for(wire::Ipv4Address destination) const {
  // tcp_sync_mss from dst_mtu: a learned PMTU exception counts (pmtu.hpp).
  const auto pmtu = ns_.path_mtu(destination);
  const std::uint32_t mtu = pmtu ? pmtu->mtu : 1500;
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(mtu, 65535) - 40);
}

Result<TcpSocket*> TcpStack::connect(wire::Ipv4Address destination, std::uint16_t port) {
  auto source = ns_.source_for(destination);
  if (!source) return std::unexpected(source.error());
  std::uint16_t local_port = 0;
  for (int attempt = 0; attempt < 64 && local_port == 0; ++attempt) {
    const auto p = static_cast<std::uint16_t>(kPortMin + rng_.uniform(kPortMax - kPortMin + 1));
    if (sockets_.count(Key{source->value(), p, destination.value(), port}) == 0) local_port = p;
  }
  if (local_port == 0) {
    return make_error(Errc::kExists, fmt::format("{}: no free local port towards {}:{}",
                                                 ns_.name(), destination.to_string(), port));
  }
  TcpConfig cfg = config_;
  cfg.mss_bytes = mss_for(destination);
  const Key key{source->value(), local_port, destination.value(), port};
  auto socket = std::make_unique<TcpSocket>(
      *this, TcpConnection(cfg, TcpEndpoint{*source, local_port}, TcpEndpoint{destination, port},
                           rng_.next_u32()));
  TcpSocket* s = socket.get();
  sockets_.emplace(key, std::move(socket));
  s->connection_.connect(ns_.sim().now());
  s->pump();
  return s;
}

void TcpStack::listen(std::uint16_t port, std::function<void(TcpSocket&)> on_accept) {
  listeners_[port] = std::move(on_accept);
}

void TcpStack::on_tcp(const wire::Ipv4View& ip) {
  auto tcp = wire::TcpView::parse(ip.payload());
  if (!tcp || !tcp->checksum_valid(ip.source(), ip.destination())) {
    ns_.count_drop(DropReason::kBadChecksum, nullptr);
    return;
  }
  const Time now = ns_.sim().now();
  const Key key{ip.destination().value(), tcp->destination_port(), ip.source().value(),
                tcp->source_port()};
  if (auto it = sockets_.find(key); it != sockets_.end()) {
    if (it->second->state() != TcpState::kClosed) {
      TcpSocket& s = *it->second;
      s.connection_.on_segment(*tcp, now);
      s.pump();
      return;
    }
    retire(it);  // CLOSED: as if there were no socket (a listener, or a RST)
  }
  auto listener = listeners_.find(tcp->destination_port());
  if (listener == listeners_.end()) {
    ns_.count_drop(DropReason::kNoSocket, nullptr);
    return send_reset(ip, *tcp);
  }
  TcpConfig cfg = config_;
  cfg.mss_bytes = mss_for(ip.source());
  TcpListener l(cfg, TcpEndpoint{ip.destination(), tcp->destination_port()});
  auto outcome = l.on_segment(ip.source(), *tcp, rng_.next_u32(), now);
  if (outcome.reply) return send_reset(ip, *tcp);
  if (!outcome.connection) return;
  auto socket = std::make_unique<TcpSocket>(*this, std::move(*outcome.connection));
  TcpSocket* s = socket.get();
  sockets_.emplace(key, std::move(socket));
  listener->second(*s);
  s->pump();
}

// tcp_v4_err: a frag-needed quoting one of our segments lowers that connection's MSS; a host or
// network unreachable (a router's, or our own when ARP for the next hop failed: arp_error_report)
// fails a connect in SYN-SENT with EHOSTUNREACH / ENETUNREACH (icmp_err_convert).
void TcpStack::on_icmp(const wire::Ipv4View& ip) {
  auto icmp = wire::IcmpView::parse(ip.payload());
  if (!icmp || icmp->type() != wire::IcmpType::kDestinationUnreachable) return;
  const std::uint8_t code = icmp->code();
  if (code != 0 && code != 1 && code != 4) return;
  auto quoted = wire::Ipv4View::parse_quoted(icmp->payload());
  if (!quoted || quoted->protocol() != wire::IpProtocol::kTcp || quoted->payload().size() < 8) {
    return;
  }
  const auto* t = quoted->payload().data();
  const Key key{quoted->source().value(), wire::load_be16(t), quoted->destination().value(),
                wire::load_be16(t + 2)};
  auto it = sockets_.find(key);
  if (it == sockets_.end()) return;
  TcpSocket& s = *it->second;
  if (!s.connection_.icmp_sequence_acceptable(wire::load_be32(t + 4))) return;
  if (code == 4) {
    s.connection_.on_frag_needed(icmp->next_hop_mtu(), ns_.sim().now());
  } else {
    s.connection_.on_unreachable(
        code == 0 ? TcpError::kNetworkUnreachable : TcpError::kHostUnreachable, ns_.sim().now());
  }
  s.pump();
}

void TcpStack::send(TcpSocket& socket, const TcpSegment& segment) {
  const TcpEndpoint& local = socket.connection_.local();
  const TcpEndpoint& remote = socket.connection_.remote();
  wire::Ipv4Header h;
  h.total_length = static_cast<std::uint16_t>(wire::Ipv4Header::kMinLength + segment.size());
  h.identification = socket.ip_id_++;
  h.dont_fragment = true;  // IP_PMTUDISC_WANT: DF while the segment fits
  h.ttl = 64;
  h.protocol = wire::IpProtocol::kTcp;
  h.source = local.address;
  h.destination = remote.address;
  wire::Packet p = ns_.pool().make(h.total_length);
  h.emit(p.bytes());
  segment.emit(p.bytes().subspan(wire::Ipv4Header::kMinLength), local.address, remote.address);
  (void)ns_.send(std::move(p));
}

void TcpStack::send_reset(const wire::Ipv4View& ip, const wire::TcpView& tcp) {
  auto rst = tcp_reset_for(tcp);
  if (!rst) return;
  wire::Ipv4Header h;
  h.total_length = static_cast<std::uint16_t>(wire::Ipv4Header::kMinLength + rst->header_length());
  h.ttl = 64;
  h.dont_fragment = true;
  h.protocol = wire::IpProtocol::kTcp;
  h.source = ip.destination();
  h.destination = ip.source();
  wire::Packet p = ns_.pool().make(h.total_length);
  h.emit(p.bytes());
  rst->emit(p.bytes().subspan(wire::Ipv4Header::kMinLength), h.source, h.destination);
  ++resets_sent_;
  (void)ns_.send(std::move(p));
}

}  // namespace calisim::dataplane
