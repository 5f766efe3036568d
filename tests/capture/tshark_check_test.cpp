// The shared tshark check (tests/tshark_check.hpp) must be able to fail: a bad IP or UDP
// checksum, an empty capture, and in lossless mode a segment seen twice on one interface each
// make it fail, while the same segment seen once on each of two interfaces does not.

#include <calisim/capture/pcapng_writer.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/tcp.hpp>
#include <calisim/wire/udp.hpp>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "test_util.hpp"
#include "tshark_check.hpp"

namespace calisim::test {
namespace {

constexpr wire::Ipv4Address kSrc(10, 0, 0, 1);
constexpr wire::Ipv4Address kDst(10, 0, 0, 2);

std::vector<std::uint8_t> ip_packet(wire::IpProtocol protocol, std::size_t l4_bytes) {
  std::vector<std::uint8_t> p(20 + l4_bytes, 0x61);
  wire::Ipv4Header h;
  h.total_length = static_cast<std::uint16_t>(p.size());
  h.protocol = protocol;
  h.source = kSrc;
  h.destination = kDst;
  h.emit(p);
  return p;
}

std::vector<std::uint8_t> udp_packet() {
  auto p = ip_packet(wire::IpProtocol::kUdp, 8 + 12);
  wire::UdpHeader{40000, 5000}.emit(std::span(p).subspan(20), kSrc, kDst);
  return p;
}

std::vector<std::uint8_t> tcp_packet() {
  auto p = ip_packet(wire::IpProtocol::kTcp, 20 + 100);
  wire::TcpHeader h;
  h.source_port = 40000;
  h.destination_port = 5001;
  h.sequence_number = 1000;
  h.acknowledgment_number = 1;
  h.flags = wire::TcpFlag::kAck;
  h.window = 65535;
  h.emit(std::span(p).subspan(20), kSrc, kDst);
  return p;
}

// Writes `packets` as (interface index, bytes) into a fresh raw-IP capture with `interfaces`.
std::filesystem::path write(const std::string& name, int interfaces,
                            const std::vector<std::pair<int, std::vector<std::uint8_t>>>& packets) {
  const auto path =
      work_dir("tshark-check-" + name + "-" + std::to_string(::getpid())) / "c.pcapng";
  auto w = capture::PcapngWriter::open(path, "calisim test");
  EXPECT_TRUE(w.has_value());
  std::vector<capture::InterfaceId> ids;
  for (int i = 0; i < interfaces; ++i) {
    ids.push_back(*w->add_interface("host/eth" + std::to_string(i), capture::LinkType::kRawIp));
  }
  std::int64_t t = 0;
  for (const auto& [i, bytes] : packets) {
    EXPECT_TRUE(w->write_packet(ids[static_cast<std::size_t>(i)],
                                Time::zero() + Duration::microseconds(t += 10), bytes));
  }
  EXPECT_TRUE(w->close());
  return path;
}

// EXPECT_NONFATAL_FAILURE's statement cannot use locals.
std::filesystem::path g_file;  // NOLINT

TEST(TsharkCheck, GoodPacketsPass) {
  expect_tshark_clean(write("good", 1, {{0, udp_packet()}, {0, tcp_packet()}}),
                      {.min_packets = 2, .lossless_tcp = true});
}

TEST(TsharkCheck, BadIpChecksumFails) {
  auto p = udp_packet();
  p[10] ^= 0x01;
  g_file = write("bad-ip", 1, {{0, p}});
  EXPECT_NONFATAL_FAILURE(expect_tshark_clean(g_file), "checksums.out");
}

TEST(TsharkCheck, BadUdpChecksumFails) {
  auto p = udp_packet();
  p[20 + 6] ^= 0x01;
  g_file = write("bad-udp", 1, {{0, p}});
  EXPECT_NONFATAL_FAILURE(expect_tshark_clean(g_file), "checksums.out");
}

TEST(TsharkCheck, TooFewPacketsFail) {
  g_file = write("empty", 1, {});
  EXPECT_NONFATAL_FAILURE(expect_tshark_clean(g_file), "min_packets");
  g_file = write("one", 1, {{0, udp_packet()}});
  EXPECT_NONFATAL_FAILURE(expect_tshark_clean(g_file, {.min_packets = 2}), "min_packets");
}

TEST(TsharkCheck, LosslessFailsOnARetransmissionButNotOnACopyPerInterface) {
  g_file = write("retransmission", 1, {{0, tcp_packet()}, {0, tcp_packet()}});
  expect_tshark_clean(g_file);  // a retransmission is no error in a lossy run
  EXPECT_NONFATAL_FAILURE(expect_tshark_clean(g_file, {.lossless_tcp = true}), "flags.out");
  expect_tshark_clean(write("two-interfaces", 2, {{0, tcp_packet()}, {1, tcp_packet()}}),
                      {.lossless_tcp = true});
}

}  // namespace
}  // namespace calisim::test
