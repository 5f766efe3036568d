#include <calisim/dataplane/ping_output.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace calisim::dataplane {
namespace {

// ping keeps times in microseconds (long); every printed figure derives from that.
std::int64_t micros(Duration d) { return d.ns() / 1000; }

// "%ld.%03ld" of a microsecond count: milliseconds with three decimals, truncated.
std::string ms3(std::int64_t us) { return fmt::format("{}.{:03}", us / 1000, us % 1000); }

}  // namespace

std::string ping_banner(std::string_view target, wire::Ipv4Address address,
                        std::size_t data_bytes) {
  return fmt::format("PING {} ({}) {}({}) bytes of data.", target, address, data_bytes,
                     data_bytes + 8 + 20);
}

std::string ping_time(Duration rtt) {
  const std::int64_t t = micros(rtt);
  // ping_common.c gather_statistics(): the precision shrinks as the time grows.
  if (t >= 99950) return fmt::format("{} ms", (t + 500) / 1000);
  if (t >= 9995) return fmt::format("{}.{:01} ms", (t + 50) / 1000, ((t + 50) % 1000) / 100);
  if (t >= 1000) return fmt::format("{}.{:02} ms", (t + 5) / 1000, ((t + 5) % 1000) / 10);
  return fmt::format("{}.{:03} ms", t / 1000, t % 1000);
}

std::string ping_reply_line(std::size_t icmp_bytes, wire::Ipv4Address from, std::uint16_t seq,
                            std::uint8_t ttl, Duration rtt) {
  return fmt::format("{} bytes from {}: icmp_seq={} ttl={} time={}", icmp_bytes, from, seq, ttl,
                     ping_time(rtt));
}

std::string ping_error_line(wire::Ipv4Address from, std::uint16_t seq, std::string_view text) {
  return fmt::format("From {} icmp_seq={} {}", from, seq, text);
}

// ping.c pr_icmph(): the words for each type and code.
std::string ping_error_text(std::uint8_t type, std::uint8_t code, std::uint16_t mtu) {
  if (type == 3) {
    switch (code) {
      case 0: return "Destination Net Unreachable";
      case 1: return "Destination Host Unreachable";
      case 2: return "Destination Protocol Unreachable";
      case 3: return "Destination Port Unreachable";
      case 4: return fmt::format("Frag needed and DF set (mtu = {})", mtu);
      case 5: return "Source Route Failed";
      case 6: return "Destination Net Unknown";
      case 7: return "Destination Host Unknown";
      case 8: return "Source Host Isolated";
      case 9: return "Destination Net Prohibited";
      case 10: return "Destination Host Prohibited";
      case 11: return "Destination Net Unreachable for Type of Service";
      case 12: return "Destination Host Unreachable for Type of Service";
      case 13: return "Packet filtered";
      case 14: return "Precedence Violation";
      case 15: return "Precedence Cutoff";
      default: return fmt::format("Dest Unreachable, Bad Code: {}", code);
    }
  }
  if (type == 11) {
    if (code == 0) return "Time to live exceeded";
    if (code == 1) return "Frag reassembly time exceeded";
    return fmt::format("Time exceeded, Bad Code: {}", code);
  }
  return fmt::format("Bad ICMP type: {}", type);
}

// Integer square root, as ping's llsqrt (Newton's method on long long).
std::int64_t isqrt(std::int64_t a) {
  if (a <= 0) return 0;
  std::int64_t x = a;
  std::int64_t y = (x + 1) / 2;
  while (y < x) {
    x = y;
    y = (x + a / x) / 2;
  }
  return x;
}

std::string ping_summary(std::string_view target, const PingStatistics& s) {
  // ping_common.c finish(), with its integer arithmetic.
  std::string out = fmt::format("\n--- {} ping statistics ---\n", target);
  out += fmt::format("{} packets transmitted, {} received", s.transmitted, s.received);
  if (s.errors != 0) out += fmt::format(", +{} errors", s.errors);
  if (s.transmitted != 0) {
    const auto loss = static_cast<float>(static_cast<double>(s.transmitted - s.received) * 100.0 /
                                         static_cast<double>(s.transmitted));
    const std::int64_t us = micros(s.elapsed);
    out += fmt::format(", {}% packet loss, time {}ms", fmt::format("{:g}", loss),
                       (us / 1'000'000) * 1000 + (us % 1'000'000 + 500) / 1000);
  }
  out += "\n";
  std::string_view comma;
  if (s.received != 0 && !s.rtts.empty()) {
    std::int64_t min = micros(s.rtts.front());
    std::int64_t max = min;
    std::int64_t sum = 0;
    std::int64_t sum2 = 0;
    for (Duration d : s.rtts) {
      const std::int64_t t = micros(d);
      min = std::min(min, t);
      max = std::max(max, t);
      sum += t;
      sum2 += t * t;
    }
    const auto total = static_cast<std::int64_t>(s.rtts.size());
    const std::int64_t avg = sum / total;
    const std::int64_t var = (sum2 - (sum * sum) / total) / total;
    out += fmt::format("rtt min/avg/max/mdev = {}/{}/{}/{} ms", ms3(min), ms3(avg), ms3(max),
                       ms3(isqrt(var)));
    comma = ", ";
  }
  if (s.max_outstanding > 1) out += fmt::format("{}pipe {}", comma, s.max_outstanding);
  out += "\n";
  return out;
}

}  // namespace calisim::dataplane
