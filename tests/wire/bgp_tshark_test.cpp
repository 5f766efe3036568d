// External validation of the BGP codec: a BGP conversation on TCP port 179, written by calisim's
// pcapng writer inside Ethernet/IPv4/TCP frames built with calisim's wire types, read back by
// tshark (a dissector we did not write). tshark must decode every message type, the
// capabilities, the AS path, next hop, communities and prefixes, and report nothing malformed.
// A missing tshark fails the test.

#include <calisim/wire/bgp.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <calisim/capture/pcapng_writer.hpp>
#include <calisim/wire/ethernet.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/tcp.hpp>

#include "test_util.hpp"

namespace calisim::wire::bgp {
namespace {

using ByteVector = std::vector<std::uint8_t>;

Ipv4Prefix prefix(std::string_view text) {
  return *Ipv4Prefix::parse(text);
}

// Two BGP speakers and the TCP connection between them, one frame per segment.
class Conversation {
 public:
  struct Side {
    MacAddress mac;
    Ipv4Address ip;
    std::uint16_t port;
    std::uint32_t next_seq;
    std::uint16_t ip_id = 1;
  };

  Conversation()
      : a_{MacAddress({0x52, 0x54, 0x00, 0x00, 0x00, 0x0a}), Ipv4Address(192, 168, 56, 10), 40179,
           1000000},
        b_{MacAddress({0x52, 0x54, 0x00, 0x00, 0x00, 0x0b}), Ipv4Address(192, 168, 56, 11),
           kTcpPort, 2000000} {}

  // SYN, SYN-ACK, ACK with MSS 1460 on the SYNs.
  void handshake() {
    TcpOptions mss;
    mss.mss = 1460;
    segment(a_, b_, TcpFlag::kSyn, {}, mss, false);
    segment(b_, a_, TcpFlag::kSyn | TcpFlag::kAck, {}, mss, true);
    segment(a_, b_, TcpFlag::kAck, {}, {}, true);
  }

  // `bytes` from A (or B) in segments of at most 1460 bytes, PSH on the last, each ACKed.
  void send(bool from_a, const ByteVector& bytes) {
    Side& from = from_a ? a_ : b_;
    Side& to = from_a ? b_ : a_;
    for (std::size_t at = 0; at < bytes.size(); at += 1460) {
      const std::size_t n = std::min<std::size_t>(1460, bytes.size() - at);
      const bool last = at + n == bytes.size();
      segment(from, to, last ? (TcpFlag::kPsh | TcpFlag::kAck) : TcpFlags(TcpFlag::kAck),
              Bytes(bytes).subspan(at, n), {}, true);
      segment(to, from, TcpFlag::kAck, {}, {}, true);
    }
  }

  const std::vector<ByteVector>& frames() const { return frames_; }

 private:
  void segment(Side& from, Side& to, TcpFlags flags, Bytes payload, const TcpOptions& options,
               bool ack) {
    TcpHeader tcp;
    tcp.source_port = from.port;
    tcp.destination_port = to.port;
    tcp.sequence_number = from.next_seq;
    tcp.acknowledgment_number = ack ? to.next_seq : 0;
    tcp.flags = flags;
    tcp.window = 64240;
    tcp.options = options;
    const std::size_t tcp_length = tcp.header_length() + payload.size();
    Ipv4Header ip;
    ip.total_length = static_cast<std::uint16_t>(Ipv4Header::kMinLength + tcp_length);
    ip.identification = from.ip_id++;
    ip.dont_fragment = true;
    ip.ttl = 64;
    ip.tos = 0xc0;  // CS6, as BIRD marks its BGP traffic
    ip.protocol = IpProtocol::kTcp;
    ip.source = from.ip;
    ip.destination = to.ip;
    ByteVector frame(EthernetHeader::kLength + ip.total_length);
    EthernetHeader{to.mac, from.mac, EtherType::kIpv4}.emit(frame);
    MutableBytes ip_bytes = MutableBytes(frame).subspan(EthernetHeader::kLength);
    ip.emit(ip_bytes);
    MutableBytes segment_bytes = ip_bytes.subspan(Ipv4Header::kMinLength);
    std::copy(payload.begin(), payload.end(),
              segment_bytes.begin() + static_cast<std::ptrdiff_t>(tcp.header_length()));
    tcp.emit(segment_bytes, from.ip, to.ip);
    frames_.push_back(std::move(frame));
    from.next_seq +=
        static_cast<std::uint32_t>(payload.size()) + (flags.has(TcpFlag::kSyn) ? 1 : 0);
  }

  Side a_;
  Side b_;
  std::vector<ByteVector> frames_;
};

Open open_with_every_capability(std::uint32_t as, Ipv4Address id) {
  Open open = Open::make(as, 240, id);
  GracefulRestartCapability gr;
  gr.restart_time_s = 120;
  gr.families.push_back({kIpv4Unicast, true});
  open.capabilities.push_back(gr);
  open.capabilities.push_back(UnknownCapability{70, {}});  // enhanced route refresh, kept raw
  return open;
}

Update update_with_every_attribute() {
  Update u;
  u.withdrawn = {prefix("10.9.0.0/16"), prefix("192.168.200.0/26")};
  PathAttributes& a = u.attributes;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{{{AsPathSegmentType::kAsSequence, {65001, 4200000001u}},
                      {AsPathSegmentType::kAsSet, {65010, 65011}}}};
  a.next_hop = Ipv4Address(192, 168, 56, 10);
  a.multi_exit_disc = 50;
  a.local_pref = 100;
  a.atomic_aggregate = true;
  a.aggregator = Aggregator{65001, Ipv4Address(192, 168, 56, 10)};
  a.communities = {community(64512, 100), community(64512, 200), kCommunityNoExport};
  a.originator_id = Ipv4Address(10, 0, 0, 9);
  a.cluster_list = {Ipv4Address(10, 0, 0, 254), Ipv4Address(10, 0, 0, 253)};
  a.unknown = {RawAttribute{0xe0, 99, {0xab, 0xcd}}};
  u.nlri = {prefix("192.168.0.0/26"), prefix("192.168.1.64/26"), prefix("10.244.0.0/16"),
            prefix("172.16.5.7/32")};
  return u;
}

std::string tshark(const std::string& file, const std::string& args) {
  const auto r = test::run_command("/usr/bin/tshark -r '" + file + "' " + args + " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << args;
  return r.out;
}

using Strings = std::vector<std::string>;

// One tshark run over the BGP frames of a file, with every field of interest: a row per frame,
// each field's occurrences split on ',' (tshark's aggregator).
class FieldTable {
 public:
  FieldTable(const std::string& file, Strings fields) : fields_(std::move(fields)) {
    std::string args = "-Y bgp -T fields -E separator='|' -E occurrence=a -E aggregator=,";
    for (const auto& f : fields_) args += " -e " + f;
    for (const auto& line : test::lines(tshark(file, args))) {
      std::vector<Strings> row;
      std::size_t start = 0;
      for (std::size_t i = 0; i < fields_.size(); ++i) {
        const auto bar = line.find('|', start);
        row.push_back(
            split(line.substr(start, bar == std::string::npos ? std::string::npos : bar - start)));
        start = bar == std::string::npos ? line.size() : bar + 1;
      }
      rows_.push_back(std::move(row));
    }
  }

  // The values of `field` over all rows where `where` has a value (equal to `equals`, if given).
  Strings values(const std::string& field, const std::string& where = "",
                 const std::string& equals = "") const {
    Strings out;
    const std::size_t f = index(field);
    for (const auto& row : rows_) {
      if (!where.empty()) {
        const Strings& w = row[index(where)];
        if (w.empty() || (!equals.empty() && std::find(w.begin(), w.end(), equals) == w.end()))
          continue;
      }
      out.insert(out.end(), row[f].begin(), row[f].end());
    }
    return out;
  }

 private:
  static Strings split(const std::string& text) {
    Strings out;
    std::size_t start = 0;
    while (!text.empty()) {
      const auto comma = text.find(',', start);
      out.push_back(
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }
  std::size_t index(const std::string& field) const {
    const auto it = std::find(fields_.begin(), fields_.end(), field);
    EXPECT_NE(it, fields_.end()) << field;
    return it == fields_.end() ? 0 : static_cast<std::size_t>(it - fields_.begin());
  }

  Strings fields_;
  std::vector<std::vector<Strings>> rows_;
};

TEST(BgpTshark, DecodesEveryMessageWeWrite) {
  ASSERT_EQ(test::run_command("test -x /usr/bin/tshark").exit_code, 0) << "tshark not installed";
  const auto dir = test::work_dir("bgp_tshark");
  const std::string file = (dir / "bgp.pcapng").string();

  Conversation c;
  c.handshake();
  ByteVector m;
  ASSERT_TRUE(encode_open(open_with_every_capability(64512, Ipv4Address(192, 168, 56, 10)), m));
  c.send(true, m);
  m.clear();
  ASSERT_TRUE(
      encode_open(open_with_every_capability(4200000001u, Ipv4Address(192, 168, 56, 11)), m));
  c.send(false, m);
  m.clear();
  encode_keepalive(m);
  c.send(true, m);
  c.send(false, m);
  m.clear();
  ASSERT_TRUE(encode_update(update_with_every_attribute(), {}, m));
  c.send(true, m);
  // A full-size UPDATE (810 /26s: 23 + 21 + 810 * 5 = 4094 bytes) over three TCP segments.
  std::vector<Ipv4Prefix> blocks;
  for (std::uint32_t i = 0; i < 810; ++i)
    blocks.emplace_back(Ipv4Address(0x0a000000u + (i << 6)), 26);
  PathAttributes calico;
  calico.origin = Origin::kIgp;
  calico.as_path = AsPath{};
  calico.next_hop = Ipv4Address(192, 168, 56, 10);
  calico.local_pref = 100;
  m.clear();
  ASSERT_EQ(encode_updates(blocks, calico, {}, m).value_or(0), 1u);
  ASSERT_EQ(m.size(), 4094u);
  c.send(true, m);
  m.clear();
  encode_end_of_rib(kIpv4Unicast, m);
  c.send(true, m);
  m.clear();
  encode_route_refresh(RouteRefresh{}, m);
  c.send(false, m);
  m.clear();
  ASSERT_TRUE(encode_notification(
      Notification::cease(CeaseSubcode::kAdministrativeShutdown, "maintenance"), m));
  c.send(false, m);

  {
    auto w = capture::PcapngWriter::open(file, "calisim bgp codec test");
    ASSERT_TRUE(w.has_value()) << w.error().message;
    auto eth = w->add_interface("node-a/eth0", capture::LinkType::kEthernet);
    ASSERT_TRUE(eth.has_value());
    std::int64_t t = 1'700'000'000'000'000'000;
    for (const auto& frame : c.frames()) {
      ASSERT_TRUE(w->write_packet(*eth, Time::from_ns(t), frame).has_value());
      t += 1'000'000;
    }
    ASSERT_TRUE(w->close().has_value());
  }

  // Nothing malformed, no expert errors, checksums right, TCP clean.
  EXPECT_EQ(tshark(file, "-Y '_ws.malformed || _ws.expert.severity >= error'"), "");
  EXPECT_EQ(tshark(file,
                   "-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
                   "-Y 'ip.checksum.status==0 || tcp.checksum.status==0'"),
            "");
  EXPECT_EQ(tshark(file, "-Y 'tcp.analysis.flags && !tcp.analysis.window_update'"), "");

  const std::string kCommunity = "bgp.update.path_attribute.community";  // marks the full UPDATE
  const FieldTable t(file, {"bgp.type",
                            "bgp.length",
                            "ip.src",
                            "bgp.open.myas",
                            "bgp.open.holdtime",
                            "bgp.open.identifier",
                            "bgp.cap.type",
                            "bgp.cap.4as",
                            "bgp.cap.mp.afi",
                            "bgp.cap.mp.safi",
                            "bgp.cap.gr.timers.restart_time",
                            "bgp.cap.gr.flag.pfs",
                            "bgp.update.path_attribute.as_path_segment.type",
                            "bgp.update.path_attribute.as_path_segment.as4",
                            "bgp.update.path_attribute.type_code",
                            "bgp.update.path_attribute.flags",
                            "bgp.update.path_attribute.origin",
                            "bgp.update.path_attribute.next_hop",
                            "bgp.update.path_attribute.multi_exit_disc",
                            "bgp.update.path_attribute.local_pref",
                            kCommunity,
                            "bgp.update.path_attribute.community_as",
                            "bgp.update.path_attribute.community_value",
                            "bgp.update.path_attribute.community_wellknown",
                            "bgp.update.path_attribute.aggregator_as",
                            "bgp.update.path_attribute.aggregator_origin",
                            "bgp.update.path_attribute.originator_id",
                            "bgp.path_attribute.cluster_id",
                            "bgp.withdrawn_prefix",
                            "bgp.nlri_prefix",
                            "bgp.prefix_length",
                            "bgp.update.withdrawn_routes.length",
                            "bgp.update.path_attributes.length",
                            "bgp.route_refresh.afi",
                            "bgp.route_refresh.safi",
                            "bgp.notify.major_error",
                            "bgp.notify.minor_error_cease",
                            "bgp.notify.communication"});

  // Every message type, in order.
  EXPECT_EQ(t.values("bgp.type"), (Strings{"1", "1", "4", "4", "2", "2", "2", "5", "3"}));

  // OPEN: My AS (AS_TRANS for the 4-octet speaker), hold time, identifier and capabilities.
  EXPECT_EQ(t.values("bgp.open.myas"), (Strings{"64512", "23456"}));
  EXPECT_EQ(t.values("bgp.open.holdtime"), (Strings{"240", "240"}));
  EXPECT_EQ(t.values("bgp.open.identifier"), (Strings{"192.168.56.10", "192.168.56.11"}));
  EXPECT_EQ(t.values("bgp.cap.type", "bgp.open.myas", "64512"),
            (Strings{"1", "2", "65", "64", "70"}));
  EXPECT_EQ(t.values("bgp.cap.4as"), (Strings{"64512", "4200000001"}));
  EXPECT_EQ(t.values("bgp.cap.mp.afi"), (Strings{"1", "1"}));
  EXPECT_EQ(t.values("bgp.cap.mp.safi"), (Strings{"1", "1"}));
  EXPECT_EQ(t.values("bgp.cap.gr.timers.restart_time"), (Strings{"120", "120"}));
  EXPECT_EQ(t.values("bgp.cap.gr.flag.pfs"), (Strings{"1", "1"}));

  // The UPDATE with every attribute, in type order, flags as RFC 4271 §5 gives them and the
  // unknown type 99 passed on with Partial (0xe0).
  EXPECT_EQ(t.values("bgp.update.path_attribute.type_code", kCommunity),
            (Strings{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "99"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.flags", kCommunity),
            (Strings{"0x40", "0x40", "0x40", "0x80", "0x40", "0x40", "0xc0", "0xc0", "0x80", "0x80",
                     "0xe0"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.as_path_segment.type"), (Strings{"2", "1"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.as_path_segment.as4"),
            (Strings{"65001", "4200000001", "65010", "65011"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.origin", kCommunity), (Strings{"0"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.next_hop", kCommunity), (Strings{"192.168.56.10"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.multi_exit_disc"), (Strings{"50"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.local_pref"), (Strings{"100", "100"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.community_as"), (Strings{"64512", "64512"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.community_value"), (Strings{"100", "200"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.community_wellknown"), (Strings{"0xffffff01"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.aggregator_as"), (Strings{"65001"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.aggregator_origin"), (Strings{"192.168.56.10"}));
  EXPECT_EQ(t.values("bgp.update.path_attribute.originator_id"), (Strings{"10.0.0.9"}));
  EXPECT_EQ(t.values("bgp.path_attribute.cluster_id"), (Strings{"10.0.0.254", "10.0.0.253"}));
  EXPECT_EQ(t.values("bgp.withdrawn_prefix"), (Strings{"10.9.0.0", "192.168.200.0"}));
  EXPECT_EQ(t.values("bgp.nlri_prefix", kCommunity),
            (Strings{"192.168.0.0", "192.168.1.64", "10.244.0.0", "172.16.5.7"}));
  EXPECT_EQ(t.values("bgp.prefix_length", kCommunity),
            (Strings{"16", "26", "26", "26", "16", "32"}));

  // The full-size UPDATE: tshark reassembles it from three segments and finds all 810 prefixes.
  const Strings packed = t.values("bgp.nlri_prefix", "bgp.length", "4094");
  ASSERT_EQ(packed.size(), 810u);
  EXPECT_EQ(packed.front(), "10.0.0.0");
  EXPECT_EQ(packed.back(), "10.0.202.64");

  // End-of-RIB: an UPDATE of 23 bytes with both lengths 0 (tshark 4.0 does not name it).
  EXPECT_EQ(t.values("bgp.update.withdrawn_routes.length", "bgp.length", "23"), (Strings{"0"}));
  EXPECT_EQ(t.values("bgp.update.path_attributes.length", "bgp.length", "23"), (Strings{"0"}));

  // ROUTE-REFRESH and NOTIFICATION.
  EXPECT_EQ(t.values("bgp.route_refresh.afi"), (Strings{"1"}));
  EXPECT_EQ(t.values("bgp.route_refresh.safi"), (Strings{"1"}));
  EXPECT_EQ(t.values("bgp.notify.major_error"), (Strings{"6"}));
  EXPECT_EQ(t.values("bgp.notify.minor_error_cease"), (Strings{"2"}));
  EXPECT_EQ(t.values("bgp.notify.communication"), (Strings{"maintenance"}));
}

}  // namespace
}  // namespace calisim::wire::bgp
