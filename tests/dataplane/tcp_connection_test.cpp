// TcpConnection: handshake, listener, resets, close, and the RFC 5961 checks.

#include <calisim/dataplane/tcp_connection.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/tcp_test_bed.hpp"

namespace calisim::dataplane {
namespace {

using test::at_ms;
using test::at_s;
using test::delay_ms;
using test::LinkConfig;
using test::TcpTestBed;
using test::view_of;
using wire::TcpFlag;

// ---------------------------------------------------------------------------------------------
// Handshake

TEST(TcpConnection, HandshakeNegotiatesMss) {
  TcpConfig a;
  a.mss_bytes = 1460;
  TcpConfig b;
  b.mss_bytes = 1360;  // B's route MTU is 1400
  TcpTestBed bed(1, delay_ms(1), delay_ms(1), a, b);
  bed.connect_at(Time::zero());
  bed.run_until(at_s(1));
  ASSERT_TRUE(bed.b().conn);
  EXPECT_EQ(bed.a().c().state(), TcpState::kEstablished);
  EXPECT_EQ(bed.b().c().state_name(), "ESTAB");
  EXPECT_EQ(bed.a().c().peer_mss(), 1360);
  EXPECT_EQ(bed.b().c().peer_mss(), 1460);
  EXPECT_EQ(bed.a().c().send_mss(), 1360);
  EXPECT_EQ(bed.b().c().send_mss(), 1360);
  EXPECT_EQ(bed.relative_trace(), (std::vector<std::string>{
                                      "A S seq=0 len=0 mss=1460",
                                      "B S. seq=0 ack=1 len=0 mss=1360",
                                      "A . seq=1 ack=1 len=0",
                                  }));
  const auto& t = bed.trace();
  EXPECT_EQ(t[1].time, at_ms(1));
  EXPECT_EQ(t[2].time, at_ms(2));
  EXPECT_EQ(t[0].header.window, 65535);
  EXPECT_FALSE(t[2].header.options.mss.has_value());  // MSS only on SYNs
  EXPECT_FALSE(t[0].header.options.window_scale || t[0].header.options.sack_permitted ||
               t[0].header.options.timestamps);
  // Each side timed its SYN: 2 ms round trip, RTO at the 200 ms floor.
  EXPECT_EQ(bed.a().c().srtt(), Duration::milliseconds(2));
  EXPECT_EQ(bed.b().c().srtt(), Duration::milliseconds(2));
  EXPECT_EQ(bed.a().c().rto(), Duration::milliseconds(200));
  EXPECT_EQ(bed.a().c().cwnd(), 10u * 1360);
}


TEST(TcpConnection, SynWithoutMssMeans536) {
  TcpListener listener(TcpConfig{}, TcpEndpoint{wire::Ipv4Address(10, 0, 0, 2), 179});
  wire::TcpHeader syn;
  syn.source_port = 50000;
  syn.destination_port = 179;
  syn.sequence_number = 1000;
  syn.flags = TcpFlag::kSyn;
  syn.window = 29200;
  std::vector<std::uint8_t> bytes;
  auto out = listener.on_segment(wire::Ipv4Address(10, 0, 0, 1), view_of(bytes, syn), 5000,
                                 Time::zero());
  ASSERT_TRUE(out.connection);
  EXPECT_FALSE(out.reply);
  TcpConnection& c = *out.connection;
  EXPECT_EQ(c.state_name(), "SYN-RECV");
  EXPECT_EQ(c.peer_mss(), 536);
  EXPECT_EQ(c.send_mss(), 536);
  EXPECT_EQ(c.remote(), (TcpEndpoint{wire::Ipv4Address(10, 0, 0, 1), 50000}));
  auto synack = c.poll_transmit(Time::zero());
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->header.flags, TcpFlag::kSyn | TcpFlag::kAck);
  EXPECT_EQ(synack->header.sequence_number, 5000u);
  EXPECT_EQ(synack->header.acknowledgment_number, 1001u);
  EXPECT_EQ(synack->header.options.mss, 1460);
  EXPECT_FALSE(c.poll_transmit(Time::zero()));
  EXPECT_EQ(c.next_deadline(), at_s(1));  // SYN-ACK retransmission timer
}

TEST(TcpConnection, ListenerResetsStrayAcksAndIgnoresResets) {
  TcpListener listener(TcpConfig{}, TcpEndpoint{wire::Ipv4Address(10, 0, 0, 2), 179});
  wire::TcpHeader ack;
  ack.source_port = 50000;
  ack.destination_port = 179;
  ack.sequence_number = 77;
  ack.acknowledgment_number = 123456;
  ack.flags = TcpFlag::kAck;
  std::vector<std::uint8_t> bytes;
  auto out = listener.on_segment(wire::Ipv4Address(10, 0, 0, 1), view_of(bytes, ack), 1,
                                 Time::zero());
  EXPECT_FALSE(out.connection);
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(out.reply->header.flags, wire::TcpFlags(TcpFlag::kRst));
  EXPECT_EQ(out.reply->header.sequence_number, 123456u);
  EXPECT_EQ(out.reply->header.destination_port, 50000);
  ack.flags = TcpFlag::kRst | TcpFlag::kAck;
  out = listener.on_segment(wire::Ipv4Address(10, 0, 0, 1), view_of(bytes, ack), 1, Time::zero());
  EXPECT_FALSE(out.connection || out.reply);
}

TEST(TcpConnection, ResetForUnknownSegmentFollowsRfc9293) {
  wire::TcpHeader h;
  h.source_port = 1234;
  h.destination_port = 80;
  h.sequence_number = 1000;
  h.acknowledgment_number = 5000;
  h.flags = TcpFlag::kAck | TcpFlag::kPsh;
  std::vector<std::uint8_t> bytes;
  auto rst = tcp_reset_for(view_of(bytes, h, "0123456789"));
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags, wire::TcpFlags(TcpFlag::kRst));
  EXPECT_EQ(rst->sequence_number, 5000u);
  EXPECT_EQ(rst->source_port, 80);
  EXPECT_EQ(rst->destination_port, 1234);

  h.flags = TcpFlag::kFin;  // no ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  rst = tcp_reset_for(view_of(bytes, h, "0123456789"));
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags, TcpFlag::kRst | TcpFlag::kAck);
  EXPECT_EQ(rst->sequence_number, 0u);
  EXPECT_EQ(rst->acknowledgment_number, 1011u);

  h.flags = TcpFlag::kSyn;
  rst = tcp_reset_for(view_of(bytes, h));
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->acknowledgment_number, 1001u);

  h.flags = TcpFlag::kRst;
  EXPECT_FALSE(tcp_reset_for(view_of(bytes, h)));
}

TEST(TcpConnection, StateNamesAsSsPrintsThem) {
  EXPECT_EQ(ss_state_name(TcpState::kEstablished), "ESTAB");
  EXPECT_EQ(ss_state_name(TcpState::kSynReceived), "SYN-RECV");
  EXPECT_EQ(ss_state_name(TcpState::kClosed), "UNCONN");
  EXPECT_EQ(ss_state_name(TcpState::kTimeWait), "TIME-WAIT");
  EXPECT_EQ(to_string(TcpState::kSynReceived), "SYN-RECEIVED");
}

TEST(TcpConnection, LostSynIsResentAfterOneSecond) {
  LinkConfig a_to_b = delay_ms(1);
  a_to_b.drop_nth = {1};
  TcpTestBed bed(8, a_to_b, delay_ms(1));
  bed.connect_at(Time::zero());
  bed.run_until(at_s(2));
  EXPECT_EQ(bed.relative_trace(), (std::vector<std::string>{
                                      "A S seq=0 len=0 mss=1460 DROPPED",
                                      "A S seq=0 len=0 mss=1460",
                                      "B S. seq=0 ack=1 len=0 mss=1460",
                                      "A . seq=1 ack=1 len=0",
                                  }));
  EXPECT_EQ(bed.trace()[1].time, at_s(1));
  const TcpConnection& a = bed.a().c();
  EXPECT_EQ(a.state(), TcpState::kEstablished);
  EXPECT_EQ(a.counters().retransmitted_segments, 1u);
  // Karn: no sample from a resent SYN, so RFC 6298 §5.7's 3 s; one retransmission keeps the
  // initial window in Linux (tcp_init_transfer cuts it only after more than one).
  EXPECT_FALSE(a.srtt());
  EXPECT_EQ(a.rto(), Duration::seconds(3));
  EXPECT_EQ(a.cwnd(), 10u * 1460);
}

TEST(TcpConnection, LostSynAckIsAnsweredAtOnceWhenTheSynComesAgain) {
  LinkConfig b_to_a = delay_ms(1);
  b_to_a.drop_nth = {1};
  TcpConfig b;
  b.initial_rto = Duration::seconds(2);  // B's own timer would coincide with A's SYN otherwise
  TcpTestBed bed(9, delay_ms(1), b_to_a, TcpConfig{}, b);
  bed.connect_at(Time::zero());
  bed.run_until(at_s(2));
  EXPECT_EQ(bed.relative_trace(), (std::vector<std::string>{
                                      "A S seq=0 len=0 mss=1460",
                                      "B S. seq=0 ack=1 len=0 mss=1460 DROPPED",
                                      "A S seq=0 len=0 mss=1460",
                                      "B S. seq=0 ack=1 len=0 mss=1460",
                                      "A . seq=1 ack=1 len=0",
                                  }));
  EXPECT_EQ(bed.trace()[3].time, at_s(1) + Duration::milliseconds(1));
  EXPECT_EQ(bed.b().c().state(), TcpState::kEstablished);
  EXPECT_EQ(bed.b().c().rto(), Duration::seconds(3));  // its SYN-ACK was resent: no sample
}

std::vector<Time> syn_times(const TcpTestBed& bed) {
  std::vector<Time> out;
  for (const auto& e : bed.trace()) {
    if (e.from == 'A' && e.has(TcpFlag::kSyn)) out.push_back(e.time);
  }
  return out;
}

TEST(TcpConnection, SynRetransmissionsFollowLinux) {
  LinkConfig black_hole = delay_ms(1);
  black_hole.loss = 1.0;
  {
    TcpTestBed bed(10, black_hole, delay_ms(1));  // Linux 6.5+: 4 linear timeouts, 6 doublings
    bed.connect_at(Time::zero());
    bed.run_until(at_s(200));
    const std::vector<Time> expected{at_s(0), at_s(1),  at_s(2),  at_s(3),  at_s(4), at_s(5),
                                     at_s(7), at_s(11), at_s(19), at_s(35), at_s(67)};
    EXPECT_EQ(syn_times(bed), expected);
    EXPECT_EQ(bed.a().c().state(), TcpState::kClosed);
    EXPECT_EQ(bed.a().c().error(), TcpError::kTimedOut);
    EXPECT_EQ(bed.a().c().counters().timeouts, 11u);  // the last at 131 s
  }
  {
    TcpConfig classic;
    classic.syn_linear_timeouts = 0;
    TcpTestBed bed(10, black_hole, delay_ms(1), classic);
    bed.connect_at(Time::zero());
    bool closed_at_126 = true;
    bed.at(at_s(126), 'A', [&](TcpTestBed::Host& h, Time) {
      closed_at_126 = h.c().state() == TcpState::kClosed;
    });
    bed.run_until(at_s(200));
    const std::vector<Time> expected{at_s(0),  at_s(1),  at_s(3), at_s(7),
                                     at_s(15), at_s(31), at_s(63)};
    EXPECT_EQ(syn_times(bed), expected);
    EXPECT_FALSE(closed_at_126);
    EXPECT_EQ(bed.a().c().error(), TcpError::kTimedOut);
  }
}

// ---------------------------------------------------------------------------------------------
// Close and reset

TEST(TcpConnection, OrderlyCloseEndsInTimeWaitOnTheActiveCloser) {
  TcpTestBed bed(12, delay_ms(1), delay_ms(1));
  bed.a().send("last words");
  bed.a().close_when_sent = true;
  bed.connect_at(Time::zero());
  // B closes one second after it saw the end of the stream.
  bed.b().on_data = [&bed](TcpTestBed::Host& h, Time now) {
    if (h.conn->at_eof() && !h.close_called) {
      h.close_called = true;
      bed.at(now + Duration::seconds(1), 'B', [](TcpTestBed::Host& host, Time t) {
        host.c().close(t);
      });
    }
  };
  bed.run_until(at_ms(500));
  EXPECT_EQ(bed.a().c().state_name(), "FIN-WAIT-2");
  EXPECT_EQ(bed.b().c().state_name(), "CLOSE-WAIT");
  EXPECT_EQ(bed.b().received_text(), "last words");
  EXPECT_TRUE(bed.b().c().at_eof());
  bed.run_until(at_s(2));
  EXPECT_EQ(bed.a().c().state_name(), "TIME-WAIT");
  EXPECT_EQ(bed.b().c().state(), TcpState::kClosed);
  EXPECT_FALSE(bed.b().c().error());
  // B's FIN reached A at 1.004 s (its data-and-FIN segment at 2 ms, B's close at 1.003 s).
  const Time fin_arrival = at_s(1) + Duration::milliseconds(4);
  bed.run_until(fin_arrival + Duration::seconds(60) - Duration::nanoseconds(1));
  EXPECT_EQ(bed.a().c().state_name(), "TIME-WAIT");
  bed.run_until(fin_arrival + Duration::seconds(60));
  EXPECT_EQ(bed.a().c().state(), TcpState::kClosed);
  EXPECT_FALSE(bed.a().c().error());
  EXPECT_EQ(bed.relative_trace(), (std::vector<std::string>{
                                      "A S seq=0 len=0 mss=1460",
                                      "B S. seq=0 ack=1 len=0 mss=1460",
                                      "A FP. seq=1 ack=1 len=10",
                                      "B . seq=1 ack=12 len=0",
                                      "B F. seq=1 ack=12 len=0",
                                      "A . seq=12 ack=2 len=0",
                                  }));
}

TEST(TcpConnection, TimeWaitAnswersARetransmittedFinAndRestarts) {
  LinkConfig a_to_b = delay_ms(1);
  // A's last ACK is lost: B resends its FIN after the RTO.
  a_to_b.drop_if = [seen_fin = false](const wire::TcpHeader& h, std::size_t) mutable {
    if (h.has(TcpFlag::kFin)) {
      seen_fin = true;
      return false;
    }
    if (seen_fin && h.flags == wire::TcpFlags(TcpFlag::kAck) && h.acknowledgment_number != 0) {
      seen_fin = false;  // drop exactly one: the first ACK after A's FIN that acks B's FIN
      return true;
    }
    return false;
  };
  TcpTestBed bed(13, a_to_b, delay_ms(1));
  bed.a().close_when_sent = true;
  bed.b().on_data = [](TcpTestBed::Host& h, Time now) {
    if (h.conn->at_eof() && !h.close_called) {
      h.close_called = true;
      h.conn->close(now);
    }
  };
  bed.connect_at(Time::zero());
  bed.run_until(at_s(5));
  EXPECT_EQ(bed.b().c().state(), TcpState::kClosed);
  EXPECT_EQ(bed.b().c().counters().retransmitted_segments, 1u);
  std::vector<Time> b_fins;
  for (const auto& e : bed.trace()) {
    if (e.from == 'B' && e.has(TcpFlag::kFin)) b_fins.push_back(e.time);
  }
  ASSERT_EQ(b_fins.size(), 2u);
  EXPECT_EQ(b_fins[1] - b_fins[0], Duration::milliseconds(200));
  const Time second_fin_arrival = b_fins[1] + Duration::milliseconds(1);
  bed.run_until(second_fin_arrival + Duration::seconds(60) - Duration::nanoseconds(1));
  EXPECT_EQ(bed.a().c().state(), TcpState::kTimeWait);
  bed.run_until(second_fin_arrival + Duration::seconds(60));
  EXPECT_EQ(bed.a().c().state(), TcpState::kClosed);
}

TEST(TcpConnection, SimultaneousCloseGoesThroughClosing) {
  TcpTestBed bed(14, delay_ms(1), delay_ms(1));
  bed.connect_at(Time::zero());
  bed.at(at_s(1), 'A', [](TcpTestBed::Host& h, Time now) { h.c().close(now); });
  bed.at(at_s(1), 'B', [](TcpTestBed::Host& h, Time now) { h.c().close(now); });
  bed.run_until(at_s(1) + Duration::microseconds(1500));
  EXPECT_EQ(bed.a().c().state_name(), "CLOSING");
  EXPECT_EQ(bed.b().c().state_name(), "CLOSING");
  bed.run_until(at_s(1) + Duration::milliseconds(3));
  EXPECT_EQ(bed.a().c().state_name(), "TIME-WAIT");
  EXPECT_EQ(bed.b().c().state_name(), "TIME-WAIT");
  bed.run_until(at_s(61) + Duration::milliseconds(2));
  EXPECT_EQ(bed.a().c().state(), TcpState::kClosed);
  EXPECT_EQ(bed.b().c().state(), TcpState::kClosed);
  EXPECT_EQ(bed.relative_trace(), (std::vector<std::string>{
                                      "A S seq=0 len=0 mss=1460",
                                      "B S. seq=0 ack=1 len=0 mss=1460",
                                      "A . seq=1 ack=1 len=0",
                                      "A F. seq=1 ack=1 len=0",
                                      "B F. seq=1 ack=1 len=0",
                                      "B . seq=2 ack=2 len=0",
                                      "A . seq=2 ack=2 len=0",
                                  }));
}

TEST(TcpConnection, AbortSendsResetAndThePeerSeesEconnreset) {
  TcpTestBed bed(15, delay_ms(1), delay_ms(1));
  bed.connect_at(Time::zero());
  bed.at(at_s(1), 'A', [](TcpTestBed::Host& h, Time) {
    h.send("abc");
    h.c().write(wire::Bytes(h.to_send));
    h.written = h.to_send.size();
  });
  bed.at(at_s(2), 'A', [](TcpTestBed::Host& h, Time now) { h.c().abort(now); });
  bed.run_until(at_s(3));
  EXPECT_EQ(bed.a().c().state(), TcpState::kClosed);
  EXPECT_FALSE(bed.a().c().error());
  EXPECT_EQ(bed.b().c().state(), TcpState::kClosed);
  EXPECT_EQ(bed.b().c().error(), TcpError::kReset);
  const auto trace = bed.relative_trace();
  EXPECT_EQ(trace.back(), "A R. seq=4 ack=1 len=0");
  EXPECT_EQ(bed.a().c().counters().resets_out, 1u);
  EXPECT_EQ(bed.b().c().counters().resets_in, 1u);
}

// Feeds hand-made segments to an established connection (RFC 5961 checks).
struct Manual {
  TcpConnection a{TcpConfig{}, TcpEndpoint{wire::Ipv4Address(10, 0, 0, 1), 40000},
                  TcpEndpoint{wire::Ipv4Address(10, 0, 0, 2), 179}, 1000};
  std::uint32_t peer_isn = 9000;
  std::vector<std::uint8_t> bytes;

  Manual() {
    a.connect(Time::zero());
    EXPECT_TRUE(a.poll_transmit(Time::zero()));
    wire::TcpHeader synack = header(peer_isn, TcpFlag::kSyn | TcpFlag::kAck);
    synack.options.mss = 1460;
    a.on_segment(view_of(bytes, synack), at_ms(1));
    EXPECT_EQ(a.state(), TcpState::kEstablished);
    EXPECT_TRUE(a.poll_transmit(at_ms(1)));
  }
  wire::TcpHeader header(std::uint32_t seq, wire::TcpFlags flags) const {
    wire::TcpHeader h;
    h.source_port = 179;
    h.destination_port = 40000;
    h.sequence_number = seq;
    h.acknowledgment_number = 1001;
    h.flags = flags;
    h.window = 65535;
    return h;
  }
  void feed(const wire::TcpHeader& h, std::string_view payload = {}) {
    a.on_segment(view_of(bytes, h, payload), at_ms(2));
  }
};

TEST(TcpConnection, ResetMustMatchRcvNxtExactly) {
  Manual m;
  m.feed(m.header(m.peer_isn + 11, TcpFlag::kRst));  // in the window, not exact
  EXPECT_EQ(m.a.state(), TcpState::kEstablished);
  EXPECT_EQ(m.a.counters().challenge_acks, 1u);
  auto ack = m.a.poll_transmit(at_ms(2));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->header.flags, wire::TcpFlags(TcpFlag::kAck));
  EXPECT_EQ(ack->header.acknowledgment_number, m.peer_isn + 1);
  m.feed(m.header(m.peer_isn + 100000, TcpFlag::kRst));  // outside: silently dropped
  EXPECT_FALSE(m.a.poll_transmit(at_ms(2)));
  m.feed(m.header(m.peer_isn + 1, TcpFlag::kRst));
  EXPECT_EQ(m.a.state(), TcpState::kClosed);
  EXPECT_EQ(m.a.error(), TcpError::kReset);
}

TEST(TcpConnection, SynOnAnEstablishedConnectionGetsAChallengeAck) {
  Manual m;
  m.feed(m.header(m.peer_isn + 500, TcpFlag::kSyn));
  EXPECT_EQ(m.a.state(), TcpState::kEstablished);
  EXPECT_EQ(m.a.counters().challenge_acks, 1u);
  EXPECT_TRUE(m.a.poll_transmit(at_ms(2)));
}

TEST(TcpConnection, OutOfOrderDataIsHeldAndDuplicateAcked) {
  Manual m;
  m.feed(m.header(m.peer_isn + 6, TcpFlag::kAck), "world");
  auto dup = m.a.poll_transmit(at_ms(2));  // at once, not delayed
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->header.acknowledgment_number, m.peer_isn + 1);
  EXPECT_EQ(m.a.readable(), 0u);
  m.feed(m.header(m.peer_isn + 1, TcpFlag::kAck), "hello");
  auto ack = m.a.poll_transmit(at_ms(2));  // a hole filled: at once
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->header.acknowledgment_number, m.peer_isn + 11);
  std::vector<std::uint8_t> out(32);
  ASSERT_EQ(m.a.read(out), 10u);
  EXPECT_EQ(std::string(out.begin(), out.begin() + 10), "helloworld");
  EXPECT_EQ(m.a.counters().out_of_order_segments, 1u);
}

TEST(TcpConnection, AckForUnsentDataIsAnsweredAndDropped) {
  Manual m;
  wire::TcpHeader h = m.header(m.peer_isn + 1, TcpFlag::kAck);
  h.acknowledgment_number = 5000;  // we sent up to 1001
  m.feed(h, "data");
  EXPECT_EQ(m.a.readable(), 0u);
  auto ack = m.a.poll_transmit(at_ms(2));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->header.acknowledgment_number, m.peer_isn + 1);
}

// Two active openers whose SYNs cross (RFC 9293 §3.5, figure 8), exchanging segments directly.
TEST(TcpConnection, SimultaneousOpen) {
  const TcpEndpoint ea{wire::Ipv4Address(10, 0, 0, 1), 179};
  const TcpEndpoint eb{wire::Ipv4Address(10, 0, 0, 2), 179};
  TcpConnection a(TcpConfig{}, ea, eb, 100);
  TcpConnection b(TcpConfig{}, eb, ea, 900);
  a.connect(Time::zero());
  b.connect(Time::zero());
  std::vector<std::string> log;
  std::vector<std::uint8_t> buf;
  const auto drain = [&](TcpConnection& from, const TcpEndpoint& src, const TcpEndpoint& dst) {
    std::vector<std::vector<std::uint8_t>> out;
    while (auto seg = from.poll_transmit(at_ms(1))) {
      log.push_back(fmt::format("{} {}", src.address == ea.address ? 'A' : 'B',
                                seg->header.flags.to_string()));
      out.emplace_back(seg->size());
      seg->emit(out.back(), src.address, dst.address);
    }
    return out;
  };
  for (int round = 0; round < 4; ++round) {
    auto from_a = drain(a, ea, eb);
    auto from_b = drain(b, eb, ea);
    for (auto& bytes : from_a) b.on_segment(*wire::TcpView::parse(bytes), at_ms(1));
    for (auto& bytes : from_b) a.on_segment(*wire::TcpView::parse(bytes), at_ms(1));
  }
  EXPECT_EQ(a.state(), TcpState::kEstablished);
  EXPECT_EQ(b.state(), TcpState::kEstablished);
  EXPECT_EQ(log, (std::vector<std::string>{"A S", "B S", "A S.", "B S.", "A .", "B ."}));
  EXPECT_EQ(a.write(wire::Bytes(reinterpret_cast<const std::uint8_t*>("hi"), 2)), 2u);
  auto data = a.poll_transmit(at_ms(2));
  ASSERT_TRUE(data);
  EXPECT_EQ(data->header.sequence_number, 101u);
  EXPECT_EQ(data->header.acknowledgment_number, 901u);
}

}  // namespace
}  // namespace calisim::dataplane
