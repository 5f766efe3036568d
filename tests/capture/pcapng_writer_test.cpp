#include <calisim/capture/pcapng_writer.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "capture/capture_sample.hpp"

namespace calisim::capture {
namespace {

using calisim::test::hex;
using calisim::test::read_file;
using calisim::test::work_dir;
using test::non_empty_lines;
using test::tshark;

const char* direction_field(Direction d) {
  switch (d) {
    case Direction::kInbound:
      return "0x00000001";
    case Direction::kOutbound:
      return "0x00000002";
    case Direction::kUnknown:
      return "";
  }
  return "?";
}

class PcapngSample : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (work_dir(::testing::UnitTest::GetInstance()->current_test_info()->name()) /
             "sample.pcapng")
                .string();
    ASSERT_EQ(test::write_sample_pcapng(path_), "");
  }
  std::string path_;
};

TEST_F(PcapngSample, InterfaceNamesAndDirectionsPerPacket) {
  const auto r = tshark(path_, "-T fields -e frame.interface_name -e frame.packet_flags_direction");
  ASSERT_EQ(r.exit_code, 0);
  std::vector<std::string> expected;
  for (const auto& p : test::sample_packets()) {
    expected.push_back(p.interface_name + "\t" + direction_field(p.direction));
  }
  EXPECT_EQ(calisim::test::lines(r.out), expected);
}

TEST_F(PcapngSample, NothingMalformedOrInError) {
  const auto all = tshark(path_, "-T fields -e frame.number");
  ASSERT_EQ(all.exit_code, 0);
  ASSERT_EQ(non_empty_lines(all.out).size(), test::sample_packets().size());
  const auto r = tshark(path_, "-Y '_ws.malformed || _ws.expert.severity >= error'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
}

constexpr const char* kChecksumCheck =
    "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE "
    "-Y 'ip.checksum.status==0 || udp.checksum.status==0 || tcp.checksum.status==0' "
    "-T fields -e frame.number";

TEST_F(PcapngSample, EveryChecksumVerifies) {
  const auto r = tshark(path_, kChecksumCheck);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
}

// The check above must be able to fail: one flipped payload byte is reported.
TEST(PcapngWriter, ChecksumCheckCatchesACorruptedPacket) {
  const auto path = work_dir("pcapng_corrupt") / "corrupt.pcapng";
  auto writer = PcapngWriter::open(path, "calisim test");
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  auto id = writer->add_interface("user-controller/enp0s8", LinkType::kEthernet);
  ASSERT_TRUE(id.has_value());
  test::Frame bad = test::udp_datagram();
  bad.back() ^= 0x01;
  ASSERT_TRUE(writer->write_packet(*id, Time::from_ns(1), test::echo_request()).has_value());
  ASSERT_TRUE(writer->write_packet(*id, Time::from_ns(2), bad).has_value());
  ASSERT_TRUE(writer->close().has_value());
  const auto r = tshark(path.string(), kChecksumCheck);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "2\n");
}

TEST_F(PcapngSample, IpipHasTwoIpv4LayersAndVxlanItsVni) {
  // Packet 10 is the IPIP frame, 13 the VXLAN one (see capture_sample.hpp).
  auto r = tshark(path_, "-Y 'frame.number == 10' -T fields -e ip.proto -e ip.src -e ip.dst");
  EXPECT_EQ(r.out, "4,1\t192.168.56.10,10.96.0.1\t192.168.56.11,10.96.0.2\n");
  r = tshark(path_, "-Y 'vxlan.vni == 4096' -T fields -e frame.number -e udp.dstport -e icmp.type");
  EXPECT_EQ(r.out, "13\t4789\t8\n");
  r = tshark(path_, "-Y 'ip.proto == 4' -T fields -e frame.number");
  EXPECT_EQ(r.out, "10\n");
}

TEST_F(PcapngSample, CapinfosReportsNanosecondsAndEveryInterface) {
  const auto r = calisim::test::run_command("/usr/bin/capinfos '" + path_ + "' 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("File timestamp precision:  nanoseconds (9)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Number of interfaces in file: 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Capture application: calisim test"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Name = user-controller/tunl0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Encapsulation = Raw IP"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Description = node NIC of user-controller"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Capture length = 65535"), std::string::npos) << r.out;
  // Nothing host- or time-specific in the section header.
  EXPECT_EQ(r.out.find("Capture oper-sys"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Capture hardware"), std::string::npos) << r.out;
}

TEST_F(PcapngSample, TimestampsAndCommentsRoundTrip) {
  const auto r = tshark(path_, "-T fields -e frame.time_epoch -e frame.comment");
  ASSERT_EQ(r.exit_code, 0);
  std::vector<std::string> expected;
  for (const auto& p : test::sample_packets()) {
    expected.push_back(test::epoch_text(p.time_ns) + "\t" + p.comment);
  }
  EXPECT_EQ(calisim::test::lines(r.out), expected);
  // Spot-check the formatting helper itself, so both sides cannot be wrong the same way.
  EXPECT_EQ(expected[5].substr(0, 11), "5.123456824");
}

// A tiny file laid out by hand from draft-ietf-opsawg-pcapng (little-endian host).
TEST(PcapngWriter, BlockLayoutMatchesHandComputedBytes) {
  static_assert(std::endian::native == std::endian::little, "golden bytes are little-endian");
  const auto path = work_dir("pcapng_bytes") / "tiny.pcapng";
  auto writer = PcapngWriter::open(path, "calisim");
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  auto id = writer->add_interface("eth0", LinkType::kEthernet, 65535);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->value, 0u);
  const std::vector<std::uint8_t> frame = {1, 2, 3, 4, 5};
  ASSERT_TRUE(
      writer->write_packet(*id, Time::from_ns(0x1'0000'0002), frame, Direction::kOutbound, "hi")
          .has_value());
  const std::string keylog = "abcde";
  ASSERT_TRUE(writer
                  ->write_decryption_secrets(
                      kSecretsTypeWireGuardKeyLog,
                      wire::Bytes(reinterpret_cast<const std::uint8_t*>(keylog.data()), 5))
                  .has_value());
  ASSERT_TRUE(writer->write_packet(*id, Time::from_ns(7), frame).has_value());
  ASSERT_TRUE(writer->close().has_value());

  const auto expected = hex(
      // SHB: type, length 44, byte-order magic, version 1.0, section length -1,
      // shb_userappl "calisim" (7 bytes + 1 pad), opt_endofopt, length 44.
      "0a 0d 0d 0a 2c 00 00 00 4d 3c 2b 1a 01 00 00 00 ff ff ff ff ff ff ff ff"
      "04 00 07 00 63 61 6c 69 73 69 6d 00 00 00 00 00 2c 00 00 00"
      // IDB: type 1, length 40, LinkType 1, reserved, snaplen 65535, if_name "eth0",
      // if_tsresol 9 (+3 pad), opt_endofopt, length 40.
      "01 00 00 00 28 00 00 00 01 00 00 00 ff ff 00 00"
      "02 00 04 00 65 74 68 30 09 00 01 00 09 00 00 00 00 00 00 00 28 00 00 00"
      // EPB: type 6, length 60, interface 0, timestamp high 1 low 2, caplen 5, origlen 5,
      // data + 3 pad, epb_flags 0b10 (outbound), opt_comment "hi" (+2 pad), opt_endofopt, 60.
      "06 00 00 00 3c 00 00 00 00 00 00 00 01 00 00 00 02 00 00 00 05 00 00 00 05 00 00 00"
      "01 02 03 04 05 00 00 00 02 00 04 00 02 00 00 00 01 00 02 00 68 69 00 00"
      "00 00 00 00 3c 00 00 00"
      // DSB: type 0x0A, length 28, secrets type "WGKL", length 5, data + 3 pad, length 28.
      "0a 00 00 00 1c 00 00 00 4c 4b 47 57 05 00 00 00 61 62 63 64 65 00 00 00 1c 00 00 00"
      // EPB with no options at all: length 40, timestamp 7, no option list.
      "06 00 00 00 28 00 00 00 00 00 00 00 00 00 00 00 07 00 00 00 05 00 00 00 05 00 00 00"
      "01 02 03 04 05 00 00 00 28 00 00 00");
  EXPECT_EQ(read_file(path), expected);

  // And Wireshark agrees with our reading of the format.
  const auto r = tshark(path.string(),
                        "-T fields -e frame.interface_name -e frame.time_epoch -e frame.len "
                        "-e frame.packet_flags_direction -e frame.comment");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "eth0\t4.294967298\t5\t0x00000002\thi\n"
            "eth0\t0.000000007\t5\t\t\n");
}

TEST(PcapngWriter, CutsFramesToTheInterfaceSnaplen) {
  const auto path = work_dir("pcapng_snaplen") / "snap.pcapng";
  auto writer = PcapngWriter::open(path, "calisim test");
  ASSERT_TRUE(writer.has_value());
  auto id = writer->add_interface("user-controller/enp0s8", LinkType::kEthernet, 60);
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(writer->write_packet(*id, Time::from_ns(1), test::tcp_syn()).has_value());
  ASSERT_TRUE(writer->close().has_value());
  const auto r = tshark(path.string(), "-T fields -e frame.cap_len -e frame.len");
  EXPECT_EQ(r.out, "60\t74\n");
}

TEST(PcapngWriter, WireGuardKeyLogBlockIsAccepted) {
  // Wireshark reads a DSB of type WGKL and keeps the packets around it readable.
  const auto path = work_dir("pcapng_dsb") / "dsb.pcapng";
  auto writer = PcapngWriter::open(path, "calisim test");
  ASSERT_TRUE(writer.has_value());
  auto id = writer->add_interface("user-controller/enp0s8", LinkType::kEthernet);
  ASSERT_TRUE(id.has_value());
  const std::string keylog =
      "LOCAL_STATIC_PRIVATE_KEY = QChaGDXeH3eQsbFAhueUNWFdq9KfpF3yl+eITjZbXEk=\n";
  ASSERT_TRUE(
      writer
          ->write_decryption_secrets(
              kSecretsTypeWireGuardKeyLog,
              wire::Bytes(reinterpret_cast<const std::uint8_t*>(keylog.data()), keylog.size()))
          .has_value());
  ASSERT_TRUE(writer->write_packet(*id, Time::from_ns(5), test::echo_request()).has_value());
  ASSERT_TRUE(writer->close().has_value());
  const auto r = tshark(path.string(), "-T fields -e icmp.type");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "8\n");
}

TEST(PcapngWriter, ManyPacketsCrossTheBufferThreshold) {
  // More than the 512 KiB write-out threshold, so several write()s go into one file.
  const auto path = work_dir("pcapng_many") / "many.pcapng";
  auto writer = PcapngWriter::open(path, "calisim test");
  ASSERT_TRUE(writer.has_value());
  auto id = writer->add_interface("user-controller/enp0s8", LinkType::kEthernet);
  ASSERT_TRUE(id.has_value());
  const auto frame = test::tcp_syn();
  constexpr int kPackets = 20'000;  // 20000 * 112-byte EPBs = ~2.2 MB
  for (int i = 0; i < kPackets; ++i) {
    ASSERT_TRUE(writer->write_packet(*id, Time::from_ns(i * 1000), frame, Direction::kOutbound)
                    .has_value());
  }
  ASSERT_TRUE(writer->close().has_value());
  const auto r =
      calisim::test::run_command("/usr/bin/capinfos -c -M '" + path.string() + "' 2>/dev/null");
  EXPECT_NE(r.out.find("Number of packets:   20000"), std::string::npos) << r.out;
}

// Full buffers are written by a thread of the writer's own; flush() writes synchronously. Both
// must give the same bytes in the same order.
TEST(PcapngWriter, WriterThreadKeepsTheBytesAndTheirOrder) {
  const auto dir = work_dir("pcapng_thread");
  auto write = [&](const std::filesystem::path& path, int flush_every) {
    auto writer = PcapngWriter::open(path, "calisim test");
    EXPECT_TRUE(writer.has_value());
    auto id = writer->add_interface("user-controller/enp0s8", LinkType::kEthernet);
    EXPECT_TRUE(id.has_value());
    auto frame = test::tcp_syn();
    for (int i = 0; i < 30'000; ++i) {
      frame[frame.size() - 1] = static_cast<std::uint8_t>(i);  // each packet differs
      EXPECT_TRUE(writer->write_packet(*id, Time::from_ns(i * 7), frame).has_value());
      if (flush_every != 0 && i % flush_every == 0) {
        EXPECT_TRUE(writer->flush().has_value());
      }
    }
    EXPECT_TRUE(writer->close().has_value());
  };
  write(dir / "threaded.pcapng", 0);
  write(dir / "synchronous.pcapng", 1);
  const auto threaded = calisim::test::read_file(dir / "threaded.pcapng");
  EXPECT_GT(threaded.size(), std::size_t{3} << 20);  // several hand-overs to the thread
  EXPECT_TRUE(threaded == calisim::test::read_file(dir / "synchronous.pcapng"));
}

TEST(PcapngWriter, WriterThreadFailureSurfacesAndSticks) {
  auto writer = PcapngWriter::open("/dev/full", "calisim test");
  ASSERT_TRUE(writer.has_value());
  auto id = writer->add_interface("eth0", LinkType::kEthernet);
  ASSERT_TRUE(id.has_value());
  const auto frame = test::tcp_syn();
  int failed_at = -1;
  for (int i = 0; i < 40'000 && failed_at < 0; ++i) {
    if (!writer->write_packet(*id, Time::from_ns(i), frame)) failed_at = i;
  }
  // The thread's ENOSPC reaches a later write_packet (at the next hand-over), never lost.
  ASSERT_GE(failed_at, 0);
  auto r = writer->close();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("No space left"), std::string::npos) << r.error().message;
}

TEST(PcapngWriter, MovedWriterKeepsWriting) {
  const auto path = work_dir("pcapng_move") / "moved.pcapng";
  auto opened = PcapngWriter::open(path, "calisim test");
  ASSERT_TRUE(opened.has_value());
  PcapngWriter writer = std::move(*opened);
  EXPECT_FALSE(opened->is_open());
  auto id = writer.add_interface("a", LinkType::kRawIp);
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(writer.write_packet(*id, Time::from_ns(1), test::strip_ethernet(test::tcp_syn()))
                  .has_value());
  EXPECT_FALSE(opened->write_packet(*id, Time::from_ns(2), test::tcp_syn()).has_value());
  {
    PcapngWriter last = std::move(writer);  // the destructor flushes and closes
  }
  const auto r = tshark(path.string(), "-T fields -e tcp.dstport");
  EXPECT_EQ(r.out, "8080\n");
}

TEST(PcapngWriter, OpenInAMissingDirectoryIsAnIoErrorNamingThePath) {
  const auto path = work_dir("pcapng_errors") / "no-such-dir" / "x.pcapng";
  auto writer = PcapngWriter::open(path, "calisim test");
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code, Errc::kIo);
  EXPECT_NE(writer.error().message.find(path.string()), std::string::npos)
      << writer.error().message;
  EXPECT_NE(writer.error().message.find("No such file or directory"), std::string::npos)
      << writer.error().message;
}

TEST(PcapngWriter, UnknownInterfaceIsAnErrorAndTheFileStaysValid) {
  const auto path = work_dir("pcapng_unknown_if") / "x.pcapng";
  auto writer = PcapngWriter::open(path, "calisim test");
  ASSERT_TRUE(writer.has_value());
  auto r = writer->write_packet(InterfaceId{0}, Time::from_ns(1), test::tcp_syn());
  ASSERT_FALSE(r.has_value());  // no interfaces yet
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  auto id = writer->add_interface("user-controller/enp0s8", LinkType::kEthernet);
  ASSERT_TRUE(id.has_value());
  r = writer->write_packet(InterfaceId{7}, Time::from_ns(1), test::tcp_syn());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_NE(r.error().message.find("interface 7"), std::string::npos) << r.error().message;
  r = writer->write_packet(*id, Time::from_ns(-1), test::tcp_syn());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kOutOfRange);
  ASSERT_TRUE(writer->write_packet(*id, Time::from_ns(2), test::tcp_syn()).has_value());
  ASSERT_TRUE(writer->close().has_value());
  EXPECT_TRUE(writer->close().has_value());  // twice is harmless
  r = writer->write_packet(*id, Time::from_ns(3), test::tcp_syn());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_NE(r.error().message.find("closed"), std::string::npos) << r.error().message;

  const auto t = tshark(path.string(), "-T fields -e frame.number -e tcp.dstport");
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_EQ(t.out, "1\t8080\n");
}

TEST(PcapngWriter, WriteFailureIsReportedWithThePathAndSticks) {
  // /dev/full accepts the open and refuses every write with ENOSPC.
  auto writer = PcapngWriter::open("/dev/full", "calisim test");
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  auto id = writer->add_interface("eth0", LinkType::kEthernet);
  ASSERT_TRUE(id.has_value());  // still buffered
  auto r = writer->flush();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_NE(r.error().message.find("/dev/full"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("No space left"), std::string::npos) << r.error().message;
  r = writer->write_packet(*id, Time::from_ns(1), test::tcp_syn());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_FALSE(writer->close().has_value());
}

}  // namespace
}  // namespace calisim::capture
