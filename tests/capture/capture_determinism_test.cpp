// Same packets in, same bytes out: a run's captures can be compared with cmp (DESIGN.md).

#include <calisim/capture/pcap_writer.hpp>
#include <calisim/capture/pcapng_writer.hpp>

#include <gtest/gtest.h>

#include "capture/capture_sample.hpp"

namespace calisim::capture {
namespace {

using calisim::test::read_file;
using calisim::test::work_dir;

TEST(CaptureDeterminism, SamePacketsGiveByteIdenticalPcapng) {
  const auto dir = work_dir("capture_determinism_pcapng");
  ASSERT_EQ(test::write_sample_pcapng(dir / "a.pcapng"), "");
  ASSERT_EQ(test::write_sample_pcapng(dir / "b.pcapng"), "");
  const auto a = read_file(dir / "a.pcapng");
  ASSERT_GT(a.size(), 1000u);
  EXPECT_EQ(a, read_file(dir / "b.pcapng"));
}

TEST(CaptureDeterminism, SamePacketsGiveByteIdenticalPcap) {
  const auto dir = work_dir("capture_determinism_pcap");
  for (const char* name : {"a.pcap", "b.pcap"}) {
    auto writer = PcapWriter::open(dir / name, LinkType::kEthernet);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    for (const auto& p : test::sample_packets()) {
      if (p.interface_name != test::kEnp0s8) continue;
      ASSERT_TRUE(writer->write_packet(Time::from_ns(p.time_ns), p.frame).has_value());
    }
    ASSERT_TRUE(writer->close().has_value());
  }
  const auto a = read_file(dir / "a.pcap");
  ASSERT_GT(a.size(), 500u);
  EXPECT_EQ(a, read_file(dir / "b.pcap"));
}

}  // namespace
}  // namespace calisim::capture
