#include <calisim/capture/pcap_writer.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "capture/capture_packets.hpp"

namespace calisim::capture {
namespace {

using calisim::test::hex;
using calisim::test::read_file;
using calisim::test::run_command;
using calisim::test::work_dir;
using test::Frame;

std::vector<std::uint8_t> head(const std::vector<std::uint8_t>& bytes, std::size_t from,
                               std::size_t n) {
  if (bytes.size() < from + n) return {};
  return {bytes.begin() + static_cast<std::ptrdiff_t>(from),
          bytes.begin() + static_cast<std::ptrdiff_t>(from + n)};
}

// The first token of each record line of `tcpdump --nano -tt -nr FILE`.
std::vector<std::string> tcpdump_timestamps(const std::string& path) {
  const auto r = run_command("/usr/bin/tcpdump --nano -tt -nr '" + path + "' 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << path;
  return test::tcpdump_record_timestamps(r.out);
}

TEST(PcapWriter, EthernetFileHeaderIsLittleEndianNanosecondPcap) {
  static_assert(std::endian::native == std::endian::little, "golden bytes are little-endian");
  const auto path = work_dir("pcap_header") / "enp0s8.pcap";
  auto writer = PcapWriter::open(path, LinkType::kEthernet);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  ASSERT_TRUE(writer->write_packet(Time::from_ns(5'000'000'123), test::tcp_syn()).has_value());
  ASSERT_TRUE(writer->close().has_value());
  const auto bytes = read_file(path);
  // magic A1B23C4D (ns), version 2.4, two reserved zero words, snaplen 262144, LinkType 1.
  EXPECT_EQ(head(bytes, 0, 24), hex("4D 3C B2 A1 02 00 04 00 00 00 00 00 00 00 00 00"
                                    "00 00 04 00 01 00 00 00"));
  // Record: 5 s, 123 ns (the nanoseconds went in through tv_usec), caplen = origlen = 74.
  EXPECT_EQ(head(bytes, 24, 16), hex("05 00 00 00 7b 00 00 00 4a 00 00 00 4a 00 00 00"));
  EXPECT_EQ(head(bytes, 40, 74), test::tcp_syn());
  EXPECT_EQ(bytes.size(), 24u + 16u + 74u);
}

TEST(PcapWriter, RawIpFileSaysLinktypeRaw101NotDlt12) {
  const auto path = work_dir("pcap_raw") / "tunl0.pcap";
  auto writer = PcapWriter::open(path, LinkType::kRawIp, 65535);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  EXPECT_EQ(writer->link_type(), LinkType::kRawIp);
  ASSERT_TRUE(writer->write_packet(Time::from_ns(1), test::ipip_raw()).has_value());
  ASSERT_TRUE(writer->close().has_value());
  const auto bytes = read_file(path);
  EXPECT_EQ(head(bytes, 16, 8), hex("ff ff 00 00 65 00 00 00"));
  const auto r = run_command("/usr/bin/tcpdump -nr '" + path.string() + "' 2>&1");
  EXPECT_NE(r.out.find("link-type RAW"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find("IP 192.168.56.10 > 192.168.56.11: IP 10.96.0.1 > 10.96.0.2: ICMP echo request"),
      std::string::npos)
      << r.out;
}

TEST(PcapWriter, TcpdumpReadsEveryRecordWithItsNanoseconds) {
  const auto path = work_dir("pcap_tcpdump") / "enp0s8.pcap";
  const std::vector<Frame> frames = {
      test::arp_request(),  test::arp_reply(), test::echo_request(),  test::echo_reply(),
      test::udp_datagram(), test::tcp_syn(),   test::ipip_ethernet(), test::vxlan_ethernet()};
  std::vector<std::string> expected;
  {
    auto writer = PcapWriter::open(path, LinkType::kEthernet);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      // Crosses 2^32 ns and uses all nine digits.
      const std::int64_t ns =
          1'700'000'000'000'000'000 + static_cast<std::int64_t>(i) * 987'654'321;
      ASSERT_TRUE(writer->write_packet(Time::from_ns(ns), frames[i]).has_value());
      expected.push_back(test::epoch_text(ns));
    }
    ASSERT_TRUE(writer->flush().has_value());
  }  // the destructor closes
  EXPECT_EQ(expected[1], "1700000000.987654321");
  EXPECT_EQ(tcpdump_timestamps(path.string()), expected);
  // And it decodes what we expect, e.g. the VXLAN header and the IPIP inner packet.
  const auto r = run_command("/usr/bin/tcpdump --nano -nr '" + path.string() + "' 2>/dev/null");
  EXPECT_NE(r.out.find("VXLAN, flags [I] (0x08), vni 4096"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("10.96.0.1 > 10.96.0.2: ICMP echo request, id 4660, seq 1"),
            std::string::npos)
      << r.out;
}

TEST(PcapWriter, CutsFramesToSnaplen) {
  const auto path = work_dir("pcap_snaplen") / "snap.pcap";
  auto writer = PcapWriter::open(path, LinkType::kEthernet, 60);
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE(writer->write_packet(Time::from_ns(1), test::tcp_syn()).has_value());
  ASSERT_TRUE(writer->close().has_value());
  const auto bytes = read_file(path);
  EXPECT_EQ(head(bytes, 16, 4), hex("3c 00 00 00"));
  EXPECT_EQ(head(bytes, 24 + 8, 8), hex("3c 00 00 00 4a 00 00 00"));  // caplen 60, origlen 74
  EXPECT_EQ(bytes.size(), 24u + 16u + 60u);
}

TEST(PcapWriter, OpenInAMissingDirectoryIsAnIoErrorNamingThePath) {
  const auto path = work_dir("pcap_errors") / "no-such-dir" / "x.pcap";
  auto writer = PcapWriter::open(path, LinkType::kEthernet);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code, Errc::kIo);
  EXPECT_NE(writer.error().message.find(path.string()), std::string::npos)
      << writer.error().message;
}

TEST(PcapWriter, RejectsZeroSnaplenAndNegativeTime) {
  const auto dir = work_dir("pcap_args");
  auto zero = PcapWriter::open(dir / "zero.pcap", LinkType::kEthernet, 0);
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().code, Errc::kInvalidArgument);
  auto writer = PcapWriter::open(dir / "ok.pcap", LinkType::kEthernet);
  ASSERT_TRUE(writer.has_value());
  auto r = writer->write_packet(Time::from_ns(-5), test::tcp_syn());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kOutOfRange);
  ASSERT_TRUE(writer->close().has_value());
  r = writer->write_packet(Time::from_ns(5), test::tcp_syn());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_EQ(read_file(dir / "ok.pcap").size(), 24u);  // header only
}

TEST(PcapWriter, WriteFailureIsReportedWithThePath) {
  auto writer = PcapWriter::open("/dev/full", LinkType::kEthernet);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  (void)writer->write_packet(Time::from_ns(1), test::tcp_syn());  // may still sit in stdio
  auto r = writer->flush();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_NE(r.error().message.find("/dev/full"), std::string::npos) << r.error().message;
}

TEST(PcapWriter, MovedWriterKeepsWriting) {
  const auto path = work_dir("pcap_move") / "m.pcap";
  auto opened = PcapWriter::open(path, LinkType::kEthernet);
  ASSERT_TRUE(opened.has_value());
  PcapWriter writer = std::move(*opened);
  EXPECT_FALSE(opened->is_open());
  EXPECT_FALSE(opened->write_packet(Time::from_ns(1), test::tcp_syn()).has_value());
  ASSERT_TRUE(writer.write_packet(Time::from_ns(2), test::tcp_syn()).has_value());
  ASSERT_TRUE(writer.close().has_value());
  EXPECT_EQ(tcpdump_timestamps(path.string()), std::vector<std::string>{"0.000000002"});
}

}  // namespace
}  // namespace calisim::capture
