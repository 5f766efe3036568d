#pragma once
// A Speaker on real TCP sockets, for peering with a real BIRD or GoBGP: non-blocking sockets
// and a poll() loop in steady-clock time. The speaker stays sans-IO; this is only its world.
//
//   auto io = PosixBgpIo::open(*Ipv4Address::parse("127.0.0.2"), 1790);   // listen there
//   Speaker speaker(config, **io);
//   speaker.add_neighbor(...);
//   (*io)->attach(speaker);
//   speaker.start((*io)->now());
//   (*io)->run_until([&] { return speaker.status(0).session.state == State::kEstablished; },
//                    Duration::seconds(10));
//
// The time handed to the speaker is the steady clock since open(). Socket errors reach the
// speaker as BIRD words them (strerror after "Socket: "): "Connection refused" for a failed
// connect, "Connection closed" for an orderly end of stream, "Connection reset by peer", ...
// Reports never re-enter the speaker from inside one of its calls: a connect that fails at once
// or a write that fails is reported on the next turn of the loop.
//
// Closing: what was queued is written, then FIN (shutdown(SHUT_WR)), and what the peer still
// sends is read and dropped until its FIN or a short linger; closing with unread data would
// turn the FIN into a RST and could cost the peer our NOTIFICATION.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <calisim/bgp/speaker.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::bgp {

class PosixBgpIo final : public SpeakerIo {
 public:
  // Listens on listen_address:listen_port (port 0: no listener, outgoing connections only).
  // kIo naming the address and port when the socket cannot be bound ("Address already in use").
  [[nodiscard]] static Result<std::unique_ptr<PosixBgpIo>> open(wire::Ipv4Address listen_address,
                                                                std::uint16_t listen_port);
  ~PosixBgpIo() override;  // closes every socket; the speaker is not told
  PosixBgpIo(const PosixBgpIo&) = delete;
  PosixBgpIo& operator=(const PosixBgpIo&) = delete;

  // The speaker to drive (its on_* calls happen only inside run_for / run_until).
  void attach(Speaker& speaker);
  // Steady-clock time since open().
  Time now() const;

  // Runs the loop for `duration` of real time. kIo when poll() fails.
  [[nodiscard]] Result<void> run_for(Duration duration);
  // Runs the loop until `done()` holds, checking it after every turn and at least every
  // `check_every`. kUnavailable when `timeout` passes first, kIo when poll() fails.
  [[nodiscard]] Result<void> run_until(const std::function<bool()>& done, Duration timeout,
                                       Duration check_every = Duration::milliseconds(100));

  // ---- SpeakerIo ----
  void connect(ConnectionId id, wire::Ipv4Address local, wire::Ipv4Address remote,
               std::uint16_t port) override;
  void send(ConnectionId id, wire::Bytes bytes) override;
  void close(ConnectionId id) override;
  void wake_at(Time at) override;

  // Connections that are up and not closing, ascending by id (tests use them to write raw
  // bytes with send(), e.g. a malformed UPDATE).
  std::vector<ConnectionId> connections() const;
  wire::Ipv4Address listen_address() const { return listen_address_; }
  std::uint16_t listen_port() const { return listen_port_; }

 private:
  enum class ConnState : std::uint8_t {
    kConnecting,  // non-blocking connect() in progress
    kUp,
    kClosing,     // the speaker closed it: flush, FIN, drain, then close the fd
  };
  struct Conn {
    int fd = -1;
    ConnState state = ConnState::kConnecting;
    std::vector<std::uint8_t> out = {};  // not yet taken by the kernel
    bool fin_sent = false;
    Time linger_until = {};  // kClosing: give up waiting for the peer's FIN then
  };
  // Something to tell the speaker on the next turn (never from inside one of its calls).
  struct Report {
    enum class Kind : std::uint8_t { kConnected, kConnectFailed, kClosed } kind;
    std::uint64_t id;
    std::string text;
  };

  PosixBgpIo(int listen_fd, wire::Ipv4Address address, std::uint16_t port);

  // One turn: poll until an event, the wake time, the deadline or `max_wait`; then handle it.
  Result<void> turn(Time deadline, Duration max_wait);
  void deliver_reports();
  void accept_all();
  void on_connect_ready(std::uint64_t id);
  void on_readable(std::uint64_t id);
  void on_closing_event(std::uint64_t id);
  // Writes what the kernel takes. False on a socket error (then `error` holds strerror).
  bool flush(Conn& c, std::string& error);
  void finish_close(std::uint64_t id);
  void fail(std::uint64_t id, std::string text);
  Conn* adopt_accepting(ConnectionId id);

  int listen_fd_ = -1;
  wire::Ipv4Address listen_address_;
  std::uint16_t listen_port_ = 0;
  std::int64_t start_ns_ = 0;  // steady clock at open()
  Speaker* speaker_ = nullptr;
  std::map<std::uint64_t, Conn> conns_;
  std::vector<Report> reports_;
  std::optional<Time> wake_;
  // Inside Speaker::on_incoming: the accepted socket, adopted by the first send()/close() that
  // names an id not known yet (the speaker answers with its OPEN before the call returns).
  int accepting_fd_ = -1;
  std::optional<std::uint64_t> accepting_id_;
};

}  // namespace calisim::bgp
