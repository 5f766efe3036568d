#pragma once
// A bulk TCP transfer between two stacks for the host-stack tests: the client writes `data` as
// fast as its window allows and closes; a sink on port 5001 reads everything and closes when it
// sees the end of the stream.

#include <calisim/dataplane/tcp_stack.hpp>
#include <calisim/sim/random.hpp>
#include <calisim/wire/address.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace calisim::dataplane::testbed {

// `n` bytes of a named random stream, so a corrupted or reordered byte shows.
inline std::vector<std::uint8_t> payload(std::size_t n, std::uint64_t seed = 99,
                                         std::string_view name = "payload") {
  std::vector<std::uint8_t> v(n);
  RandomStream r(seed, name);
  for (auto& b : v) b = static_cast<std::uint8_t>(r.next_u32());
  return v;
}

struct Transfer {
  std::vector<std::uint8_t> received;  // what the sink read
  std::size_t sent = 0;
  bool closed = false;
  TcpSocket* client = nullptr;
};

inline void start_transfer(Transfer& t, TcpStack& client, TcpStack& server,
                           wire::Ipv4Address server_ip, const std::vector<std::uint8_t>& data) {
  server.listen(5001, [&t](TcpSocket& s) {
    s.set_on_event([&t](TcpSocket& sock) {
      std::uint8_t buf[65536];
      while (std::size_t n = sock.connection().readable() ? sock.read(buf) : 0) {
        t.received.insert(t.received.end(), buf, buf + n);
      }
      if (sock.connection().at_eof() && sock.state() == TcpState::kCloseWait) sock.close();
    });
  });
  auto c = client.connect(server_ip, 5001);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  t.client = *c;
  t.client->set_on_event([&t, &data](TcpSocket& sock) {
    if (sock.state() != TcpState::kEstablished) return;
    while (t.sent < data.size()) {
      const std::size_t n = sock.write(wire::Bytes(data).subspan(t.sent));
      if (n == 0) break;
      t.sent += n;
    }
    if (t.sent == data.size() && !t.closed) {
      t.closed = true;
      sock.close();
    }
  });
}

}  // namespace calisim::dataplane::testbed
