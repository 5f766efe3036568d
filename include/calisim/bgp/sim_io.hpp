#pragma once
// A Speaker on simulated TCP: the node namespace's TcpStack listens on port 179 and connects
// out, and a simulator timer wakes the speaker. BGP's bytes therefore cross the simulated
// network as real TCP segments (handshake, retransmissions, ICMP) and land in the captures.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <calisim/bgp/speaker.hpp>
#include <calisim/dataplane/tcp_stack.hpp>
#include <calisim/sim/timer.hpp>

namespace calisim::bgp {

class SimBgpIo final : public SpeakerIo {
 public:
  explicit SimBgpIo(dataplane::TcpStack& tcp, std::uint16_t listen_port = 179);
  ~SimBgpIo() override;
  SimBgpIo(const SimBgpIo&) = delete;
  SimBgpIo& operator=(const SimBgpIo&) = delete;

  // The speaker to drive; starts listening.
  void attach(Speaker& speaker);

  void connect(ConnectionId id, wire::Ipv4Address local, wire::Ipv4Address remote,
               std::uint16_t port) override;
  void send(ConnectionId id, wire::Bytes bytes) override;
  void close(ConnectionId id) override;
  void wake_at(Time at) override;

  std::size_t open_connections() const { return conns_.size(); }

 private:
  struct Conn {
    dataplane::TcpSocket* socket = nullptr;
    bool outgoing = false;
    bool connected = false;
    bool closing = false;  // close() came: FIN once the queue is written
    std::vector<std::uint8_t> out;  // not yet taken by the socket's send buffer
    std::string failure;            // for an asynchronous connect failure
  };
  void on_socket_event(std::uint64_t id);
  void flush(Conn& c);
  Time now() const;

  dataplane::TcpStack* tcp_;
  std::uint16_t port_;
  Speaker* speaker_ = nullptr;
  dataplane::TcpSocket* accepting_ = nullptr;  // inside Speaker::on_incoming
  std::map<std::uint64_t, Conn> conns_;
  Timer timer_;
  std::vector<std::uint64_t> failed_;  // connects that failed at once, reported next turn
  Timer fail_timer_;
};

}  // namespace calisim::bgp
