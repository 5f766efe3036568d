#pragma once
// UDP sockets of one namespace: bound ports, datagrams out with the route's source address, and
// ICMP port unreachable for datagrams to a port nobody bound (__udp4_lib_rcv).

#include <cstdint>
#include <functional>
#include <map>

#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>
#include <calisim/wire/ipv4.hpp>

namespace calisim::dataplane {

class Namespace;

class UdpStack {
 public:
  using Receive = std::function<void(wire::Ipv4Address from, std::uint16_t from_port,
                                     wire::Bytes data, Time now)>;

  explicit UdpStack(Namespace& ns);
  ~UdpStack();
  UdpStack(const UdpStack&) = delete;
  UdpStack& operator=(const UdpStack&) = delete;

  // bind() on every local address. kExists when the port is taken (EADDRINUSE).
  Result<void> bind(std::uint16_t port, Receive on_receive);
  void unbind(std::uint16_t port);

  // sendto() from `local_port`: the source address comes from the route, DF is set while the
  // datagram fits (IP_PMTUDISC_WANT), and an unconnected socket's DF datagrams carry IP ID 0
  // (ip_select_ident_segs). Errors are connect()'s.
  Result<void> send_to(std::uint16_t local_port, wire::Ipv4Address destination,
                       std::uint16_t port, wire::Bytes data, std::uint8_t ttl = 64);

  std::uint64_t received() const { return received_; }
  std::uint64_t unreachable_sent() const { return unreachable_sent_; }

 private:
  void on_udp(const wire::Ipv4View& ip);

  Namespace& ns_;
  std::map<std::uint16_t, Receive> bound_;
  std::size_t handler_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t unreachable_sent_ = 0;
};

}  // namespace calisim::dataplane
