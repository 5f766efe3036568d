#include <calisim/bgp/sim_io.hpp>

#include <algorithm>
#include <array>
#include <memory>

#include <calisim/dataplane/namespace.hpp>

namespace calisim::bgp {
namespace {

// What BIRD prints after "Socket: " for a connection's end (the strerror of the socket error).
std::string socket_error_text(const dataplane::TcpConnection& c, bool connecting) {
  if (const auto e = c.error()) {
    switch (*e) {
      case dataplane::TcpError::kRefused: return "Connection refused";
      case dataplane::TcpError::kReset: return "Connection reset by peer";
      case dataplane::TcpError::kTimedOut: return "Connection timed out";
      // Calico's BIRD prints the C library's words; real `calicoctl node status` output shows
      // "Active Socket: Host is unreachable" for EHOSTUNREACH (calico#2255; musl's strerror,
      // where glibc would say "No route to host").
      case dataplane::TcpError::kHostUnreachable: return "Host is unreachable";
      case dataplane::TcpError::kNetworkUnreachable: return "Network unreachable";
    }
  }
  return connecting ? "Connection refused" : "Connection closed";
}

}  // namespace

SimBgpIo::SimBgpIo(dataplane::TcpStack& tcp, std::uint16_t listen_port)
    : tcp_(&tcp),
      port_(listen_port),
      timer_(tcp.ns().sim(), [this] {
        if (speaker_ != nullptr) speaker_->on_timer(now());
      }),
      fail_timer_(tcp.ns().sim(), [this] {
        auto failed = std::move(failed_);
        failed_.clear();
        for (std::uint64_t id : failed) {
          auto it = conns_.find(id);
          if (it == conns_.end()) continue;
          std::string why = std::move(it->second.failure);
          conns_.erase(it);
          if (speaker_ != nullptr) speaker_->on_connect_failed(now(), ConnectionId{id}, why);
        }
      }) {}

SimBgpIo::~SimBgpIo() = default;

Time SimBgpIo::now() const { return tcp_->ns().sim().now(); }

void SimBgpIo::attach(Speaker& speaker) {
  speaker_ = &speaker;
  tcp_->listen(port_, [this](dataplane::TcpSocket& s) {
    if (speaker_ == nullptr) return s.abort();
    // The speaker answers within on_incoming (its OPEN): send() adopts the id it uses for
    // this socket, since the id is not known before the call returns.
    accepting_ = &s;
    auto id = speaker_->on_incoming(now(), s.connection().remote().address);
    accepting_ = nullptr;
    if (!id) {
      for (auto it = conns_.begin(); it != conns_.end();) {
        it = it->second.socket == &s ? conns_.erase(it) : std::next(it);
      }
      return s.abort();  // BIRD closes connections from unknown addresses
    }
    Conn& c = conns_[id->value];
    c.socket = &s;
    c.connected = true;
    const std::uint64_t key = id->value;
    s.set_on_event([this, key](dataplane::TcpSocket&) { on_socket_event(key); });
  });
}

void SimBgpIo::connect(ConnectionId id, wire::Ipv4Address, wire::Ipv4Address remote,
                       std::uint16_t port) {
  Conn c;
  c.outgoing = true;
  auto socket = tcp_->connect(remote, port);
  if (!socket) {
    // connect() failed at once (no route): reported on the next turn, as an error on the socket.
    const auto& m = socket.error().message;
    const auto colon = m.rfind(": ");
    c.failure = colon == std::string::npos ? m : m.substr(colon + 2);
    conns_[id.value] = std::move(c);
    failed_.push_back(id.value);
    fail_timer_.arm_at(now());
    return;
  }
  c.socket = *socket;
  conns_[id.value] = std::move(c);
  const std::uint64_t key = id.value;
  (*socket)->set_on_event([this, key](dataplane::TcpSocket&) { on_socket_event(key); });
}

void SimBgpIo::flush(Conn& c) {
  if (c.socket == nullptr || !c.connected) return;
  std::size_t done = 0;
  while (done < c.out.size()) {
    const std::size_t n = c.socket->write(wire::Bytes(c.out).subspan(done));
    if (n == 0) break;
    done += n;
  }
  c.out.erase(c.out.begin(), c.out.begin() + static_cast<std::ptrdiff_t>(done));
  if (c.closing && c.out.empty()) c.socket->close();
}

void SimBgpIo::send(ConnectionId id, wire::Bytes bytes) {
  auto it = conns_.find(id.value);
  if (it == conns_.end() && accepting_ != nullptr) {
    Conn c;
    c.socket = accepting_;
    c.connected = true;
    it = conns_.emplace(id.value, std::move(c)).first;
  }
  if (it == conns_.end()) return;
  Conn& c = it->second;
  c.out.insert(c.out.end(), bytes.begin(), bytes.end());
  flush(c);
}

void SimBgpIo::close(ConnectionId id) {
  auto it = conns_.find(id.value);
  if (it == conns_.end() || it->second.closing) return;
  Conn& c = it->second;
  if (c.socket == nullptr || !c.connected) {
    // A connect in progress (or one that failed at once): just drop it.
    if (c.socket != nullptr) c.socket->abort();
    std::erase(failed_, id.value);
    conns_.erase(it);
    return;
  }
  // FIN after whatever is still queued (a NOTIFICATION). The entry stays, marked closing, until
  // the queue is out; the socket's event handler is never replaced (it may be running now).
  c.closing = true;
  flush(c);
  if (c.out.empty()) conns_.erase(it);
}

void SimBgpIo::wake_at(Time at) { timer_.arm_at(std::max(at, now())); }

void SimBgpIo::on_socket_event(std::uint64_t key) {
  auto it = conns_.find(key);
  if (it == conns_.end() || speaker_ == nullptr) return;
  Conn& c = it->second;
  if (c.closing) {
    flush(c);
    if (c.out.empty() || c.socket->state() == dataplane::TcpState::kClosed) conns_.erase(it);
    return;
  }
  dataplane::TcpSocket& s = *c.socket;
  const auto state = s.state();
  if (c.outgoing && !c.connected) {
    if (state == dataplane::TcpState::kEstablished) {
      c.connected = true;
      speaker_->on_connected(now(), ConnectionId{key});
    } else if (state == dataplane::TcpState::kClosed) {
      const std::string why = socket_error_text(s.connection(), true);
      conns_.erase(it);
      speaker_->on_connect_failed(now(), ConnectionId{key}, why);
      return;
    } else {
      return;
    }
    it = conns_.find(key);
    if (it == conns_.end()) return;
  }
  // Data first, then the end of the stream.
  std::array<std::uint8_t, 4096> buf{};
  while (true) {
    it = conns_.find(key);
    if (it == conns_.end()) return;
    if (it->second.socket->connection().readable() == 0) break;
    const std::size_t n = it->second.socket->read(buf);
    if (n == 0) break;
    speaker_->on_bytes(now(), ConnectionId{key}, wire::Bytes(buf.data(), n));
  }
  it = conns_.find(key);
  if (it == conns_.end()) return;
  Conn& cc = it->second;
  flush(cc);
  const auto st = cc.socket->state();
  const bool peer_done = cc.socket->connection().at_eof() || st == dataplane::TcpState::kClosed;
  if (!peer_done) return;
  const std::string why = socket_error_text(cc.socket->connection(), false);
  dataplane::TcpSocket* socket = cc.socket;
  conns_.erase(it);
  if (socket->state() == dataplane::TcpState::kCloseWait) socket->close();
  speaker_->on_closed(now(), ConnectionId{key}, why);
}

}  // namespace calisim::bgp
