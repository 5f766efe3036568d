#include <calisim/capture/bpf_filter.hpp>
#include <calisim/capture/pcap_writer.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "capture/capture_packets.hpp"

namespace calisim::capture {
namespace {

using calisim::test::run_command;
using calisim::test::work_dir;
using test::Frame;

struct Mix {
  std::vector<Frame> frames;
  std::map<std::string, std::size_t> index_by_timestamp;  // tcpdump's text -> frame index
  std::string path;
  std::string error;  // empty when the file was written
};

// Writes `frames` to a classic pcap, each at its own timestamp, so tcpdump's output can be
// mapped back to frame indexes.
Mix write_mix(const std::string& name, LinkType link, std::vector<Frame> frames) {
  Mix mix;
  mix.frames = std::move(frames);
  mix.path = (work_dir(name) / "mix.pcap").string();
  auto writer = PcapWriter::open(mix.path, link);
  if (!writer) {
    mix.error = writer.error().message;
    return mix;
  }
  for (std::size_t i = 0; i < mix.frames.size(); ++i) {
    const std::int64_t ns =
        static_cast<std::int64_t>(i + 1) * 1'000'000'000 + static_cast<std::int64_t>(i) * 1000 + 7;
    if (auto r = writer->write_packet(Time::from_ns(ns), mix.frames[i]); !r) {
      mix.error = r.error().message;
      return mix;
    }
    mix.index_by_timestamp[test::epoch_text(ns)] = i;
  }
  if (auto r = writer->close(); !r) mix.error = r.error().message;
  return mix;
}

// The packets tcpdump keeps for `expression` (an empty expression keeps everything).
std::set<std::size_t> tcpdump_keeps(const Mix& mix, const std::string& expression) {
  const auto r = run_command("/usr/bin/tcpdump --nano -tt -nr '" + mix.path + "' '" + expression +
                             "' 2>/dev/null");
  std::set<std::size_t> kept;
  for (const auto& timestamp : test::tcpdump_record_timestamps(r.out)) {
    const auto it = mix.index_by_timestamp.find(timestamp);
    EXPECT_TRUE(it != mix.index_by_timestamp.end()) << "tcpdump printed a record at " << timestamp;
    if (it != mix.index_by_timestamp.end()) kept.insert(it->second);
  }
  EXPECT_EQ(r.exit_code, 0) << expression;
  return kept;
}

std::set<std::size_t> we_keep(const Mix& mix, const BpfFilter& filter) {
  std::set<std::size_t> kept;
  for (std::size_t i = 0; i < mix.frames.size(); ++i) {
    if (filter.matches(mix.frames[i])) kept.insert(i);
  }
  return kept;
}

// 0 echo request, 1 echo reply, 2 IPIP, 3 VXLAN, 4 SYN, 5 SYN-ACK, 6 ACK, 7 UDP, 8 ARP request,
// 9 ARP reply.
std::vector<Frame> ethernet_mix() {
  return {test::echo_request(), test::echo_reply(),  test::ipip_ethernet(), test::vxlan_ethernet(),
          test::tcp_syn(),      test::tcp_syn_ack(), test::tcp_ack(),       test::udp_datagram(),
          test::arp_request(),  test::arp_reply()};
}

TEST(BpfFilter, KeepsExactlyWhatTcpdumpKeepsOnEthernet) {
  const Mix mix = write_mix("bpf_ethernet", LinkType::kEthernet, ethernet_mix());
  ASSERT_EQ(mix.error, "");
  // Expected sets written out by hand as well, so that a shared mistake cannot pass.
  const std::vector<std::pair<std::string, std::set<std::size_t>>> cases = {
      {"proto 4", {2}},
      {"ip proto 4", {2}},
      {"udp port 4789", {3}},
      {"icmp", {0, 1}},
      {"arp", {8, 9}},
      {"tcp[tcpflags] & tcp-syn != 0", {4, 5}},
      {"tcp port 8080 and tcp[tcpflags] & tcp-ack != 0", {5, 6}},
      {"udp", {3, 7}},
      {"host 192.168.56.11", {2, 3}},
      {"ether broadcast", {8}},
      {"greater 100", {3}},
      {"", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
  };
  for (const auto& [expression, expected] : cases) {
    SCOPED_TRACE("filter '" + expression + "'");
    auto filter = BpfFilter::compile(expression, LinkType::kEthernet);
    ASSERT_TRUE(filter.has_value()) << filter.error().message;
    EXPECT_EQ(filter->expression(), expression);
    const auto ours = we_keep(mix, *filter);
    EXPECT_EQ(ours, tcpdump_keeps(mix, expression));
    EXPECT_EQ(ours, expected);
  }
}

TEST(BpfFilter, KeepsExactlyWhatTcpdumpKeepsOnRawIp) {
  const Mix mix = write_mix(
      "bpf_raw", LinkType::kRawIp,
      {test::strip_ethernet(test::echo_request()), test::ipip_raw(),
       test::strip_ethernet(test::udp_datagram()), test::strip_ethernet(test::tcp_syn())});
  ASSERT_EQ(mix.error, "");
  const std::vector<std::pair<std::string, std::set<std::size_t>>> cases = {
      {"proto 4", {1}},
      {"icmp", {0}},
      {"udp port 5000", {2}},
      {"tcp[tcpflags] & tcp-syn != 0", {3}},
      {"src host 192.168.56.10", {1}},
  };
  for (const auto& [expression, expected] : cases) {
    SCOPED_TRACE("filter '" + expression + "'");
    auto filter = BpfFilter::compile(expression, LinkType::kRawIp);
    ASSERT_TRUE(filter.has_value()) << filter.error().message;
    EXPECT_EQ(filter->link_type(), LinkType::kRawIp);
    const auto ours = we_keep(mix, *filter);
    EXPECT_EQ(ours, tcpdump_keeps(mix, expression));
    EXPECT_EQ(ours, expected);
  }
}

TEST(BpfFilter, LinkTypeDecidesWhereHeadersAre) {
  // The same expression compiled for the other link type reads the wrong offsets.
  auto raw = BpfFilter::compile("proto 4", LinkType::kRawIp);
  auto eth = BpfFilter::compile("proto 4", LinkType::kEthernet);
  ASSERT_TRUE(raw.has_value() && eth.has_value());
  EXPECT_TRUE(raw->matches(test::ipip_raw()));
  EXPECT_FALSE(eth->matches(test::ipip_raw()));
  EXPECT_TRUE(eth->matches(test::ipip_ethernet()));
  EXPECT_FALSE(raw->matches(test::ipip_ethernet()));
}

TEST(BpfFilter, BadExpressionIsAnErrorQuotingIt) {
  for (const std::string expression : {"proto 4 and", "tcp port nosuchservice-calisim"}) {
    auto filter = BpfFilter::compile(expression, LinkType::kEthernet);
    ASSERT_FALSE(filter.has_value()) << expression;
    EXPECT_EQ(filter.error().code, Errc::kInvalidArgument);
    EXPECT_NE(filter.error().message.find("'" + expression + "'"), std::string::npos)
        << filter.error().message;
  }
  // A reason from libpcap follows the expression.
  auto filter = BpfFilter::compile("tcp port nosuchservice-calisim", LinkType::kEthernet);
  ASSERT_FALSE(filter.has_value());
  EXPECT_NE(filter.error().message.find("unknown port"), std::string::npos)
      << filter.error().message;
}

TEST(BpfFilter, OriginalLengthIsWhatLenTests) {
  auto filter = BpfFilter::compile("greater 1000", LinkType::kEthernet);
  ASSERT_TRUE(filter.has_value());
  const Frame syn = test::tcp_syn();
  EXPECT_FALSE(filter->matches(syn));
  EXPECT_FALSE(filter->matches(syn, 74));
  EXPECT_TRUE(filter->matches(syn, 1500));  // cut by a snaplen: the wire length counts
}

TEST(BpfFilter, ShortFramesDoNotMatchAndDoNotOverrun) {
  auto filter = BpfFilter::compile("tcp[tcpflags] & tcp-syn != 0", LinkType::kEthernet);
  ASSERT_TRUE(filter.has_value());
  const Frame syn = test::tcp_syn();
  EXPECT_TRUE(filter->matches(syn));
  // Cut inside the TCP header, before the flags byte (offset 14 + 20 + 13).
  const Frame cut(syn.begin(), syn.begin() + 40);
  EXPECT_FALSE(filter->matches(cut, 74));
  EXPECT_FALSE(filter->matches(wire::Bytes{}));
}

TEST(BpfFilter, MovedFilterStillMatches) {
  auto compiled = BpfFilter::compile("arp", LinkType::kEthernet);
  ASSERT_TRUE(compiled.has_value());
  BpfFilter filter = std::move(*compiled);
  EXPECT_TRUE(filter.matches(test::arp_reply()));
  EXPECT_FALSE(filter.matches(test::echo_reply()));
  auto other = BpfFilter::compile("icmp", LinkType::kEthernet);
  ASSERT_TRUE(other.has_value());
  filter = std::move(*other);  // frees the "arp" program
  EXPECT_FALSE(filter.matches(test::arp_reply()));
  EXPECT_TRUE(filter.matches(test::echo_reply()));
}

}  // namespace
}  // namespace calisim::capture
