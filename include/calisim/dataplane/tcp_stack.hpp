#pragma once
// TCP sockets of one namespace: the demultiplexer and timers around the sans-IO TcpConnection.
// It takes the namespace's TCP segments (checksum verified), finds the connection or listener,
// answers strays with RST (tcp_v4_send_reset), turns ICMP fragmentation-needed about our
// segments into a lower MSS (tcp_v4_err), and sends what the connections emit as IPv4 datagrams
// with DF set (path MTU discovery, as every Linux TCP socket does).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <calisim/dataplane/tcp_connection.hpp>
#include <calisim/sim/random.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/timer.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/ipv4.hpp>

namespace calisim::dataplane {

class Namespace;
class TcpStack;

// One connected socket. Owned by its TcpStack; the reference stays valid until the stack goes.
class TcpSocket {
 public:
  TcpConnection& connection() { return connection_; }
  const TcpConnection& connection() const { return connection_; }
  TcpState state() const { return connection_.state(); }

  // Queue data to send; returns how much fitted in the send buffer.
  std::size_t write(wire::Bytes data);
  // Take received data; returns the number of bytes copied.
  std::size_t read(wire::MutableBytes out);
  void close();
  void abort();

  // Called after the network or a timer moved the connection (data arrived, space freed, the
  // peer closed, the connection ended); not from inside write/read/close/abort.
  void set_on_event(std::function<void(TcpSocket&)> on_event) { on_event_ = std::move(on_event); }

  TcpSocket(TcpStack& stack, TcpConnection connection);

 private:
  friend class TcpStack;
  void flush();  // drain segments, re-arm the timer
  void pump();   // flush, then tell the application

  TcpStack& stack_;
  TcpConnection connection_;
  Timer timer_;
  std::uint16_t ip_id_;
  std::function<void(TcpSocket&)> on_event_;
};

class TcpStack {
 public:
  explicit TcpStack(Namespace& ns, TcpConfig config = {});
  ~TcpStack();
  TcpStack(const TcpStack&) = delete;
  TcpStack& operator=(const TcpStack&) = delete;

  // Active open to destination:port from an ephemeral port (ip_local_port_range 32768-60999).
  // The MSS offered is the route's MTU - 40. Fails as connect() would when there is no route.
  Result<TcpSocket*> connect(wire::Ipv4Address destination, std::uint16_t port);
  // Passive open on every local address; `on_accept` gets each new connection (in SYN-RECEIVED).
  void listen(std::uint16_t port, std::function<void(TcpSocket&)> on_accept);

  Namespace& ns() { return ns_; }
  const TcpConfig& config() const { return config_; }
  std::uint64_t resets_sent() const { return resets_sent_; }

 private:
  friend class TcpSocket;
  using Key = std::tuple<std::uint32_t, std::uint16_t, std::uint32_t, std::uint16_t>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      const std::uint64_t a = (std::uint64_t{std::get<0>(k)} << 16) | std::get<1>(k);
      const std::uint64_t b = (std::uint64_t{std::get<2>(k)} << 16) | std::get<3>(k);
      return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL));
    }
  };
  // A node of a 500-node mesh holds ~1000 connections: hashed, not a tree of ten levels.
  using SocketMap = std::unordered_map<Key, std::unique_ptr<TcpSocket>, KeyHash>;

  void on_tcp(const wire::Ipv4View& ip);
  void on_icmp(const wire::Ipv4View& ip);
  void send(TcpSocket& socket, const TcpSegment& segment);
  void send_reset(const wire::Ipv4View& ip, const wire::TcpView& tcp);
  // The namespace crashed: every socket closes without a segment and the listeners go.
  void on_crash();
  // Moves a CLOSED socket out of the lookup map (its object lives on for the application).
  void retire(SocketMap::iterator it);
  std::uint16_t mss_for(wire::Ipv4Address destination) const;

  Namespace& ns_;
  TcpConfig config_;
  RandomStream rng_;
  SocketMap sockets_;
  // Closed sockets no longer in sockets_: a new connection may reuse their four-tuple, while
  // the application may still hold a reference.
  std::vector<std::unique_ptr<TcpSocket>> retired_;
  std::map<std::uint16_t, std::function<void(TcpSocket&)>> listeners_;
  std::size_t tcp_handler_ = 0;
  std::size_t icmp_handler_ = 0;
  std::size_t crash_listener_ = 0;
  std::uint64_t resets_sent_ = 0;
};

}  // namespace calisim::dataplane
