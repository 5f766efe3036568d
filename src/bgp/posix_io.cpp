#include <calisim/bgp/posix_io.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

namespace calisim::bgp {
namespace {

// How long a closed connection is drained for the peer's FIN before the socket is dropped.
constexpr Duration kLinger = Duration::seconds(2);

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

sockaddr_in to_sockaddr(wire::Ipv4Address address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(address.value());
  return sa;
}

// strerror, as BIRD prints it after "Socket: ".
std::string error_text(int err) { return std::strerror(err); }

}  // namespace

Result<std::unique_ptr<PosixBgpIo>> PosixBgpIo::open(wire::Ipv4Address listen_address,
                                                     std::uint16_t listen_port) {
  int fd = -1;
  if (listen_port != 0) {
    const auto fail = [&](const char* what) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      return make_error(Errc::kIo, fmt::format("bgp: cannot listen on {}:{}: {}: {}",
                                               listen_address.to_string(), listen_port, what,
                                               error_text(err)));
    };
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("socket");
    const int one = 1;
    // A restarted test or daemon may find the port's old connections in TIME-WAIT.
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      return fail("SO_REUSEADDR");
    }
    const sockaddr_in sa = to_sockaddr(listen_address, listen_port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) return fail("bind");
    if (::listen(fd, 16) != 0) return fail("listen");
  }
  return std::unique_ptr<PosixBgpIo>(new PosixBgpIo(fd, listen_address, listen_port));
}

PosixBgpIo::PosixBgpIo(int listen_fd, wire::Ipv4Address address, std::uint16_t port)
    : listen_fd_(listen_fd), listen_address_(address), listen_port_(port),
      start_ns_(steady_ns()) {}

PosixBgpIo::~PosixBgpIo() {
  for (auto& [id, c] : conns_) {
    if (c.fd >= 0) ::close(c.fd);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void PosixBgpIo::attach(Speaker& speaker) { speaker_ = &speaker; }

Time PosixBgpIo::now() const { return Time::from_ns(steady_ns() - start_ns_); }

Result<void> PosixBgpIo::run_for(Duration duration) {
  const Time deadline = now() + duration;
  while (now() < deadline) {
    if (auto r = turn(deadline, duration); !r) return r;
  }
  return {};
}

Result<void> PosixBgpIo::run_until(const std::function<bool()>& done, Duration timeout,
                                   Duration check_every) {
  const Time deadline = now() + timeout;
  while (!done()) {
    if (now() >= deadline) {
      return make_error(Errc::kUnavailable,
                        fmt::format("bgp: condition not met within {:.1f} s", timeout.to_seconds()));
    }
    if (auto r = turn(deadline, check_every); !r) return r;
  }
  return {};
}

Result<void> PosixBgpIo::turn(Time deadline, Duration max_wait) {
  deliver_reports();

  std::vector<pollfd> fds;
  std::vector<std::uint64_t> ids;  // parallel to fds; 0 for the listener
  if (listen_fd_ >= 0) {
    fds.push_back(pollfd{listen_fd_, POLLIN, 0});
    ids.push_back(0);
  }
  Time until = std::min(deadline, now() + max_wait);
  if (wake_) until = std::min(until, *wake_);
  for (const auto& [id, c] : conns_) {
    short events = 0;
    switch (c.state) {
      case ConnState::kConnecting: events = POLLOUT; break;
      case ConnState::kUp: events = static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)); break;
      case ConnState::kClosing:
        events = static_cast<short>(POLLIN | (c.fin_sent ? 0 : POLLOUT));
        until = std::min(until, c.linger_until);
        break;
    }
    fds.push_back(pollfd{c.fd, events, 0});
    ids.push_back(id);
  }
  const Duration wait = until - now();
  int timeout_ms = 0;
  if (reports_.empty() && wait > Duration::zero()) {
    timeout_ms = static_cast<int>((wait.ns() + 999'999) / 1'000'000);
  }
  const int n = ::poll(fds.data(), fds.size(), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return {};
    return make_error(Errc::kIo, fmt::format("bgp: poll: {}", error_text(errno)));
  }

  for (std::size_t i = 0; i < fds.size() && n > 0; ++i) {
    if (fds[i].revents == 0) continue;
    if (ids[i] == 0) {
      accept_all();
      continue;
    }
    auto it = conns_.find(ids[i]);
    if (it == conns_.end() || it->second.fd != fds[i].fd) continue;  // gone in this turn
    switch (it->second.state) {
      case ConnState::kConnecting: on_connect_ready(ids[i]); break;
      case ConnState::kUp: {
        if (fds[i].revents & POLLOUT) {
          std::string error;
          if (!flush(it->second, error)) {
            ::close(it->second.fd);
            conns_.erase(it);
            if (speaker_ != nullptr) speaker_->on_closed(now(), ConnectionId{ids[i]}, error);
            continue;
          }
        }
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) on_readable(ids[i]);
        break;
      }
      case ConnState::kClosing: on_closing_event(ids[i]); break;
    }
  }

  const Time t = now();
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second.state == ConnState::kClosing && it->second.linger_until <= t) {
      ::close(it->second.fd);
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
  if (wake_ && *wake_ <= t) {
    wake_.reset();
    if (speaker_ != nullptr) speaker_->on_timer(t);
  }
  deliver_reports();
  return {};
}

void PosixBgpIo::deliver_reports() {
  while (!reports_.empty() && speaker_ != nullptr) {
    Report r = std::move(reports_.front());
    reports_.erase(reports_.begin());
    const ConnectionId id{r.id};
    switch (r.kind) {
      case Report::Kind::kConnected: speaker_->on_connected(now(), id); break;
      case Report::Kind::kConnectFailed: speaker_->on_connect_failed(now(), id, r.text); break;
      case Report::Kind::kClosed: speaker_->on_closed(now(), id, r.text); break;
    }
  }
}

void PosixBgpIo::accept_all() {
  while (true) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: all taken; anything else: the next turn tries again
    if (speaker_ == nullptr || sa.sin_family != AF_INET) {
      ::close(fd);
      continue;
    }
    const wire::Ipv4Address remote(ntohl(sa.sin_addr.s_addr));
    accepting_fd_ = fd;
    accepting_id_.reset();
    const auto id = speaker_->on_incoming(now(), remote);
    const std::optional<std::uint64_t> adopted = accepting_id_;
    const bool fd_gone = accepting_fd_ < 0;  // adopted, then failed and closed
    accepting_fd_ = -1;
    accepting_id_.reset();
    if (id) {
      if (!adopted && !fd_gone) conns_[id->value] = Conn{.fd = fd, .state = ConnState::kUp};
    } else if (!adopted && !fd_gone) {
      ::close(fd);  // no such neighbour, or refused at once (BIRD closes it too)
    } else if (adopted) {
      auto it = conns_.find(*adopted);
      if (it != conns_.end() && it->second.state == ConnState::kUp) close(ConnectionId{*adopted});
    }
  }
}

PosixBgpIo::Conn* PosixBgpIo::adopt_accepting(ConnectionId id) {
  if (accepting_fd_ < 0 || accepting_id_) return nullptr;
  accepting_id_ = id.value;
  return &(conns_[id.value] = Conn{.fd = accepting_fd_, .state = ConnState::kUp});
}

void PosixBgpIo::connect(ConnectionId id, wire::Ipv4Address local, wire::Ipv4Address remote,
                         std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    reports_.push_back(Report{Report::Kind::kConnectFailed, id.value, error_text(errno)});
    return;
  }
  const auto failed = [&] {
    const int err = errno;
    ::close(fd);
    reports_.push_back(Report{Report::Kind::kConnectFailed, id.value, error_text(err)});
  };
  if (!local.is_unspecified()) {
    // BIRD's `local` address: the session's source address is bound before connecting.
    const sockaddr_in sa = to_sockaddr(local, 0);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) return failed();
  }
  const sockaddr_in sa = to_sockaddr(remote, port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 &&
      errno != EINPROGRESS) {
    return failed();
  }
  // Also when connect() succeeded at once: the socket polls writable and is reported then.
  conns_[id.value] = Conn{.fd = fd, .state = ConnState::kConnecting};
}

void PosixBgpIo::on_connect_ready(std::uint64_t id) {
  Conn& c = conns_.at(id);
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    ::close(c.fd);
    conns_.erase(id);
    if (speaker_ != nullptr) speaker_->on_connect_failed(now(), ConnectionId{id}, error_text(err));
    return;
  }
  c.state = ConnState::kUp;
  if (speaker_ != nullptr) speaker_->on_connected(now(), ConnectionId{id});
}

void PosixBgpIo::on_readable(std::uint64_t id) {
  std::array<std::uint8_t, 16384> buf{};
  while (true) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second.state != ConnState::kUp) return;  // closed meanwhile
    const ssize_t n = ::read(it->second.fd, buf.data(), buf.size());
    if (n > 0) {
      if (speaker_ != nullptr) {
        speaker_->on_bytes(now(), ConnectionId{id}, wire::Bytes(buf.data(), static_cast<std::size_t>(n)));
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // End of stream, or an error (RST: "Connection reset by peer").
    const std::string why = n == 0 ? "Connection closed" : error_text(errno);
    ::close(it->second.fd);
    conns_.erase(it);
    if (speaker_ != nullptr) speaker_->on_closed(now(), ConnectionId{id}, why);
    return;
  }
}

void PosixBgpIo::on_closing_event(std::uint64_t id) {
  Conn& c = conns_.at(id);
  std::string error;
  if (!c.fin_sent) {
    if (!flush(c, error)) return finish_close(id);
    if (!c.out.empty()) return;
    ::shutdown(c.fd, SHUT_WR);
    c.fin_sent = true;
  }
  std::array<std::uint8_t, 4096> buf{};
  while (true) {
    const ssize_t n = ::read(c.fd, buf.data(), buf.size());
    if (n > 0) continue;  // the speaker is done with this connection: dropped
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    return finish_close(id);  // the peer's FIN (or an error): done
  }
}

void PosixBgpIo::finish_close(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  ::close(it->second.fd);
  conns_.erase(it);
}

bool PosixBgpIo::flush(Conn& c, std::string& error) {
  std::size_t done = 0;
  while (done < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + done, c.out.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    error = error_text(n < 0 ? errno : EPIPE);
    return false;
  }
  c.out.erase(c.out.begin(), c.out.begin() + static_cast<std::ptrdiff_t>(done));
  return true;
}

void PosixBgpIo::fail(std::uint64_t id, std::string text) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  if (it->second.fd == accepting_fd_) accepting_fd_ = -1;
  ::close(it->second.fd);
  conns_.erase(it);
  reports_.push_back(Report{Report::Kind::kClosed, id, std::move(text)});
}

void PosixBgpIo::send(ConnectionId id, wire::Bytes bytes) {
  auto it = conns_.find(id.value);
  Conn* c = it != conns_.end() ? &it->second : adopt_accepting(id);
  if (c == nullptr || c->state == ConnState::kClosing) return;
  c->out.insert(c->out.end(), bytes.begin(), bytes.end());
  if (c->state != ConnState::kUp) return;
  // Written at once where the kernel takes it; a failure reaches the speaker on the next turn.
  std::string error;
  if (!flush(*c, error)) fail(id.value, std::move(error));
}

void PosixBgpIo::close(ConnectionId id) {
  std::erase_if(reports_, [&](const Report& r) { return r.id == id.value; });
  auto it = conns_.find(id.value);
  Conn* c = it != conns_.end() ? &it->second : adopt_accepting(id);
  if (c == nullptr || c->state == ConnState::kClosing) return;
  if (c->state == ConnState::kConnecting) {
    finish_close(id.value);  // abandon the attempt
    return;
  }
  c->state = ConnState::kClosing;
  c->linger_until = now() + kLinger;
  std::string error;
  if (!flush(*c, error)) return finish_close(id.value);
  if (c->out.empty()) {
    ::shutdown(c->fd, SHUT_WR);
    c->fin_sent = true;
  }
}

void PosixBgpIo::wake_at(Time at) { wake_ = at; }

std::vector<ConnectionId> PosixBgpIo::connections() const {
  std::vector<ConnectionId> out;
  for (const auto& [id, c] : conns_) {
    if (c.state == ConnState::kUp) out.push_back(ConnectionId{id});
  }
  return out;
}

}  // namespace calisim::bgp
