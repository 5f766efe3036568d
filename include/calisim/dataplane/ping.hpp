#pragma once
// `ping` as iputils runs it from a namespace: a connected raw ICMP socket that sends echo
// requests every interval and prints what iputils prints (ping_output.hpp). The namespace does
// the routing, ARP and ICMP; this is only the program.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <calisim/dataplane/ping_output.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/sim/timer.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/ipv4.hpp>

namespace calisim::dataplane {

class Namespace;

// `-M do|want|dont` (IP_MTU_DISCOVER). iputils sets the option only when -M is given, so ping
// runs with the socket default, IP_PMTUDISC_WANT (ip_no_pmtu_disc 0).
enum class PmtuDiscovery : std::uint8_t {
  kDont,  // never DF; too big for the path MTU => fragmented here
  kWant,  // DF while the datagram fits the path MTU (and it is not locked), else fragmented
  kDo,    // always DF; too big for the path MTU => "ping: local error: message too long, mtu=N"
};

struct PingOptions {
  int count = 5;                                   // -c
  Duration interval = Duration::seconds(1);        // -i
  std::size_t data_bytes = 56;                     // -s
  std::uint8_t ttl = 64;                           // -t
  PmtuDiscovery pmtu_discovery = PmtuDiscovery::kWant;  // -M
  Duration linger = Duration::seconds(10);         // -W: the wait when nothing came back
};

class Ping {
 public:
  // Starts at once: the first request leaves now (after connect()'s route lookup).
  Ping(Namespace& ns, wire::Ipv4Address target, PingOptions options = {});
  ~Ping();
  Ping(const Ping&) = delete;
  Ping& operator=(const Ping&) = delete;

  bool finished() const { return finished_; }
  // Everything ping printed so far, one entry per line (the banner first; the summary's lines
  // at the end once finished). A connect() failure leaves only "ping: connect: ..." .
  const std::vector<std::string>& lines() const { return lines_; }
  std::string output() const;
  const PingStatistics& statistics() const { return stats_; }
  // TTL of each reply, in order of arrival (for tests and reachability checks).
  const std::vector<std::uint8_t>& reply_ttls() const { return reply_ttls_; }

 private:
  void send_next();
  void after_send();
  void on_icmp(const wire::Ipv4View& ip);
  void finish();
  void arm_exit();

  Namespace& ns_;
  wire::Ipv4Address target_;
  PingOptions options_;
  std::optional<wire::Ipv4Address> source_;
  std::uint16_t ident_;        // ICMP identifier
  std::uint16_t ip_id_;        // the connected socket's IP ID counter
  int sent_ = 0;
  Time start_;
  Time last_send_;  // iputils' cur_time: the last pinger() call that sent
  std::vector<std::optional<Time>> sent_at_;
  std::vector<bool> answered_;
  Duration max_rtt_;
  bool finished_ = false;
  std::size_t handler_ = 0;
  Timer send_timer_;
  Timer exit_timer_;
  std::vector<std::string> lines_;
  std::vector<std::uint8_t> reply_ttls_;
  PingStatistics stats_;
};

}  // namespace calisim::dataplane
