#include <calisim/dataplane/ping_output.hpp>

#include <gtest/gtest.h>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;

Duration us(std::int64_t n) { return Duration::microseconds(n); }

TEST(PingOutput, BannerAndReplyLineAsIputilsPrintsThem) {
  // linux.md §1.7, observed with iputils 20221126.
  EXPECT_EQ(ping_banner("10.200.2.2", Ipv4Address(10, 200, 2, 2), 56),
            "PING 10.200.2.2 (10.200.2.2) 56(84) bytes of data.");
  EXPECT_EQ(ping_reply_line(64, Ipv4Address(10, 200, 2, 2), 1, 63, us(149)),
            "64 bytes from 10.200.2.2: icmp_seq=1 ttl=63 time=0.149 ms");
}

TEST(PingOutput, TimePrecisionFollowsTheSize) {
  EXPECT_EQ(ping_time(us(83)), "0.083 ms");
  EXPECT_EQ(ping_time(Duration::nanoseconds(149'999)), "0.149 ms");  // truncated, not rounded
  EXPECT_EQ(ping_time(us(1234)), "1.23 ms");
  EXPECT_EQ(ping_time(us(9994)), "9.99 ms");
  EXPECT_EQ(ping_time(us(9995)), "10.0 ms");
  EXPECT_EQ(ping_time(us(12345)), "12.3 ms");
  EXPECT_EQ(ping_time(us(99949)), "99.9 ms");
  EXPECT_EQ(ping_time(us(99950)), "100 ms");
  EXPECT_EQ(ping_time(us(620400)), "620 ms");
}

TEST(PingOutput, ErrorLines) {
  EXPECT_EQ(ping_error_line(Ipv4Address(10, 200, 1, 1), 1, ping_error_text(3, 1, 0)),
            "From 10.200.1.1 icmp_seq=1 Destination Host Unreachable");
  EXPECT_EQ(ping_error_text(3, 4, 1400), "Frag needed and DF set (mtu = 1400)");
  EXPECT_EQ(ping_error_text(3, 13, 0), "Packet filtered");
  EXPECT_EQ(ping_error_text(3, 0, 0), "Destination Net Unreachable");
  EXPECT_EQ(ping_error_text(11, 0, 0), "Time to live exceeded");
}

TEST(PingOutput, SummaryWithReplies) {
  PingStatistics s;
  s.transmitted = 3;
  s.received = 3;
  s.rtts = {us(149), us(83), us(95)};
  s.elapsed = us(410'600);
  EXPECT_EQ(ping_summary("10.200.2.2", s),
            "\n--- 10.200.2.2 ping statistics ---\n"
            "3 packets transmitted, 3 received, 0% packet loss, time 411ms\n"
            "rtt min/avg/max/mdev = 0.083/0.109/0.149/0.028 ms\n");
}

TEST(PingOutput, SummaryWithErrorsAndPipe) {
  PingStatistics s;
  s.transmitted = 3;
  s.errors = 3;
  s.max_outstanding = 3;
  s.elapsed = us(1'027'000);
  EXPECT_EQ(ping_summary("10.200.1.99", s),
            "\n--- 10.200.1.99 ping statistics ---\n"
            "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 1027ms\n"
            "pipe 3\n");
}

TEST(PingOutput, SummaryLossPercentUsesPercentG) {
  PingStatistics s;
  s.transmitted = 3;
  s.received = 2;
  s.rtts = {us(100), us(100)};
  s.elapsed = us(2000'000);
  const auto text = ping_summary("x", s);
  EXPECT_NE(text.find(", 33.3333% packet loss, time 2000ms\n"), std::string::npos) << text;
  PingStatistics one;
  one.transmitted = 1;
  one.received = 1;
  one.rtts = {us(50)};
  EXPECT_EQ(ping_summary("x", one),
            "\n--- x ping statistics ---\n"
            "1 packets transmitted, 1 received, 0% packet loss, time 0ms\n"
            "rtt min/avg/max/mdev = 0.050/0.050/0.050/0.000 ms\n");
}

}  // namespace
}  // namespace calisim::dataplane
