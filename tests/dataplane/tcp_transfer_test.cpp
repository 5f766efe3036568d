// TcpConnection moving data: bulk transfers with and without loss, loss recovery and its timers,
// flow control, path MTU, determinism, and tshark's view of a capture.

#include <calisim/dataplane/tcp_connection.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "dataplane/tcp_test_bed.hpp"
#include "test_util.hpp"
#include "tshark_check.hpp"

namespace calisim::dataplane {
namespace {

using test::at_ms;
using test::at_s;
using test::data_from;
using test::delay_ms;
using test::fast_link;
using test::LinkConfig;
using test::pattern;
using test::run_bulk;
using test::TcpTestBed;
using test::TraceEntry;
using wire::TcpFlag;

// ---------------------------------------------------------------------------------------------
// Data

TEST(TcpTransfer, SmallRequestResponse) {
  TcpTestBed bed(2, delay_ms(1), delay_ms(1));
  bed.a().send("OPEN-0123456789-0123456789-29");  // 29 bytes, like a BGP OPEN
  bed.b().on_data = [](TcpTestBed::Host& h, Time) {
    if (h.received.size() == 29 && h.to_send.empty()) h.send("KEEPALIVE-0123456789-29-bytes");
  };
  bed.connect_at(Time::zero());
  bed.run_until(at_s(1));
  EXPECT_EQ(bed.b().received_text(), "OPEN-0123456789-0123456789-29");
  EXPECT_EQ(bed.a().received_text(), "KEEPALIVE-0123456789-29-bytes");
  EXPECT_EQ(bed.relative_trace(), (std::vector<std::string>{
                                      "A S seq=0 len=0 mss=1460",
                                      "B S. seq=0 ack=1 len=0 mss=1460",
                                      "A P. seq=1 ack=1 len=29",
                                      "B P. seq=1 ack=30 len=29",
                                      "A . seq=30 ack=30 len=0",
                                  }));
  // A's last ACK was delayed by Linux's 40 ms minimum.
  EXPECT_EQ(bed.trace()[4].time, at_ms(4) + Duration::milliseconds(40));
  EXPECT_EQ(bed.a().c().counters().retransmitted_segments, 0u);
  EXPECT_EQ(bed.a().c().counters().bytes_acked, 29u);
  EXPECT_EQ(bed.b().c().counters().bytes_received, 29u);
}

TEST(TcpTransfer, TenMegabytesWithoutLoss) {
  TcpTestBed bed(3, fast_link(), fast_link());
  constexpr std::size_t kBytes = 10 * 1024 * 1024;
  const double wall_ms = run_bulk(bed, kBytes);
  std::printf("[ timing ] 10 MB, no loss: %.1f ms wall\n", wall_ms);
  const TcpCounters& a = bed.a().c().counters();
  const TcpCounters& b = bed.b().c().counters();
  EXPECT_EQ(a.retransmitted_segments, 0u);
  EXPECT_EQ(b.retransmitted_segments, 0u);
  EXPECT_EQ(a.timeouts, 0u);
  EXPECT_EQ(a.dup_acks_in, 0u);
  EXPECT_EQ(a.bytes_acked, kBytes);
  EXPECT_EQ(b.bytes_received, kBytes);
  // Full-sized segments except the last; PSH only where the send buffer ran empty.
  const auto data = data_from(bed, 'A');
  EXPECT_EQ(data.size(), (kBytes + 1459) / 1460);
  for (std::size_t i = 0; i + 1 < data.size(); ++i) ASSERT_EQ(data[i].payload_bytes, 1460u);
  EXPECT_TRUE(data.back().has(TcpFlag::kPsh));
  // Delayed ACKs: B acknowledged about every second segment.
  std::size_t b_acks = 0;
  for (const auto& e : bed.trace()) b_acks += e.from == 'B' && e.payload_bytes == 0;
  EXPECT_LT(b_acks, data.size() * 6 / 10);
  EXPECT_GT(b_acks, data.size() * 4 / 10);
  // An orderly end on both sides.
  EXPECT_EQ(bed.a().c().state(), TcpState::kClosed);
  EXPECT_EQ(bed.b().c().state(), TcpState::kClosed);
  EXPECT_FALSE(bed.a().c().error());
}

TEST(TcpTransfer, TenMegabytesWithOnePercentLoss) {
  TcpTestBed bed(4, fast_link(0.01), fast_link(0.01));
  constexpr std::size_t kBytes = 10 * 1024 * 1024;
  const double wall_ms = run_bulk(bed, kBytes);
  std::printf("[ timing ] 10 MB, 1%% loss: %.1f ms wall\n", wall_ms);
  const TcpCounters& a = bed.a().c().counters();
  const TcpCounters& b = bed.b().c().counters();
  EXPECT_GT(a.retransmitted_segments, 0u);
  EXPECT_GT(a.fast_retransmits, 0u);
  EXPECT_GT(b.out_of_order_segments, 0u);
  EXPECT_EQ(a.bytes_acked, kBytes);
  EXPECT_EQ(bed.a().c().state(), TcpState::kClosed);
  EXPECT_EQ(bed.b().c().state(), TcpState::kClosed);
  std::printf(
      "[ counts ] A: %llu segments, %llu retransmitted, %llu fast retransmits, %llu "
      "timeouts; B: %llu out of order\n",
      static_cast<unsigned long long>(a.segments_out),
      static_cast<unsigned long long>(a.retransmitted_segments),
      static_cast<unsigned long long>(a.fast_retransmits),
      static_cast<unsigned long long>(a.timeouts),
      static_cast<unsigned long long>(b.out_of_order_segments));
}

TEST(TcpTransfer, SingleLossIsRepairedByFastRetransmit) {
  LinkConfig a_to_b = fast_link();
  a_to_b.drop_nth = {40};  // a data segment well into the transfer
  TcpTestBed bed(5, a_to_b, fast_link());
  run_bulk(bed, 1024 * 1024);
  const TcpCounters& a = bed.a().c().counters();
  EXPECT_EQ(a.fast_retransmits, 1u);
  EXPECT_EQ(a.timeouts, 0u);
  EXPECT_EQ(a.retransmitted_segments, 1u);
  EXPECT_GE(a.dup_acks_in, 3u);
  // The dropped segment went out exactly twice, the second time within a few RTTs.
  std::size_t lost_index = 0;
  for (std::size_t i = 0, n = 0; i < bed.trace().size(); ++i) {
    if (bed.trace()[i].from == 'A' && ++n == 40) lost_index = i;
  }
  const TraceEntry& lost = bed.trace()[lost_index];
  ASSERT_TRUE(lost.dropped);
  int copies = 0;
  Time resent;
  for (const auto& e : data_from(bed, 'A')) {
    if (e.seq() == lost.seq()) {
      ++copies;
      resent = e.time;
    }
  }
  EXPECT_EQ(copies, 2);
  EXPECT_LT(resent - lost.time, Duration::milliseconds(20));
}

// Two holes in one window, without SACK (what Linux does with SACK off is NewReno): three
// duplicate ACKs start fast recovery and resend the first hole; the ACK for it stops at the
// second hole, a partial ACK, which resends the second at once (RFC 6582 §3.2 step 4) instead
// of waiting for the RTO; the full ACK after it ends recovery.
TEST(TcpTransfer, TwoLossesInOneWindowAreRepairedByPartialAckWithoutTimeout) {
  LinkConfig a_to_b = fast_link();
  a_to_b.drop_nth = {40, 43};
  TcpTestBed bed(5, a_to_b, fast_link());
  run_bulk(bed, 1024 * 1024);
  const TcpCounters& a = bed.a().c().counters();
  EXPECT_EQ(a.fast_retransmits, 1u);  // one recovery episode for both losses
  EXPECT_EQ(a.timeouts, 0u);
  EXPECT_EQ(a.retransmitted_segments, 2u);
  std::vector<TraceEntry> lost;
  for (std::size_t i = 0, n = 0; i < bed.trace().size(); ++i) {
    if (bed.trace()[i].from == 'A' && (++n == 40 || n == 43)) lost.push_back(bed.trace()[i]);
  }
  ASSERT_EQ(lost.size(), 2u);
  ASSERT_TRUE(lost[0].dropped && lost[1].dropped);
  ASSERT_GT(lost[0].payload_bytes, 0u);
  ASSERT_GT(lost[1].payload_bytes, 0u);
  // Each hole went out exactly twice.
  std::vector<Time> resent(2);
  for (std::size_t k = 0; k < 2; ++k) {
    int copies = 0;
    for (const auto& e : data_from(bed, 'A')) {
      if (e.seq() == lost[k].seq()) {
        ++copies;
        resent[k] = e.time;
      }
    }
    EXPECT_EQ(copies, 2) << k;
  }
  // B's first ACK that reaches the second hole is the partial ACK; A resends the second hole as
  // it arrives (1 ms one way plus the ACK's serialization), long before the 200 ms minimum RTO.
  const TraceEntry* partial = nullptr;
  for (const auto& e : bed.trace()) {
    if (e.from == 'B' && e.time > resent[0] && e.header.acknowledgment_number == lost[1].seq()) {
      partial = &e;
      break;
    }
  }
  ASSERT_NE(partial, nullptr);
  EXPECT_GT(resent[1], partial->time);
  EXPECT_LT(resent[1] - partial->time, Duration::microseconds(1100));
  EXPECT_LT(resent[1] - resent[0], Duration::milliseconds(5));
  // Between the two retransmissions B saw no full ACK yet: nothing acknowledged past the second
  // hole before it was resent.
  for (const auto& e : bed.trace()) {
    if (e.from == 'B' && e.time < resent[1]) {
      EXPECT_LE(static_cast<std::int32_t>(e.header.acknowledgment_number - lost[1].seq()), 0)
          << e.time.ns();
    }
  }
}

TEST(TcpTransfer, SequenceNumbersWrapAround) {
  TcpTestBed bed(24, fast_link(0.01), fast_link(0.01));
  bed.a().isn = 0xffff'f000u;  // wraps after 4 KiB
  bed.b().isn = 0xffff'fff0u;
  bed.b().send(std::string(100, 'r'));
  run_bulk(bed, 1024 * 1024);
  EXPECT_EQ(bed.a().received.size(), 100u);
  EXPECT_EQ(bed.a().c().counters().bytes_acked, 1024u * 1024);
  EXPECT_EQ(bed.a().c().state(), TcpState::kClosed);
  EXPECT_EQ(bed.b().c().state(), TcpState::kClosed);
}

TEST(TcpTransfer, HeavyLossStillDeliversEverything) {
  TcpTestBed bed(25, fast_link(0.05), fast_link(0.05));
  run_bulk(bed, 1024 * 1024);
  const TcpCounters& a = bed.a().c().counters();
  EXPECT_GT(a.timeouts, 0u);  // multiple losses per window defeat NewReno now and then
  EXPECT_GT(a.fast_retransmits, 0u);
  EXPECT_EQ(bed.a().c().state(), TcpState::kClosed);
  EXPECT_EQ(bed.b().c().state(), TcpState::kClosed);
}

// A request/response pattern with exact 100 ms round trips (no delayed ACKs on B), then the
// last segment of the last request is lost.
TEST(TcpTransfer, LostFinalSegmentIsResentAfterTheRto) {
  TcpConfig b;
  b.delayed_ack = false;
  LinkConfig a_to_b = delay_ms(50);
  a_to_b.drop_nth = {4};  // SYN, ACK, request 1, request 2
  TcpTestBed bed(6, a_to_b, delay_ms(50), TcpConfig{}, b);
  bed.connect_at(Time::zero());
  bed.at(at_s(1), 'A', [](TcpTestBed::Host& h, Time) { h.send("request-1"); });
  Duration rto_when_sent;
  bed.at(at_s(2), 'A', [&](TcpTestBed::Host& h, Time) {
    h.send("request-2");
    rto_when_sent = h.c().rto();
  });
  bed.run_until(at_s(10));
  const TcpConnection& a = bed.a().c();
  // Two samples of exactly 100 ms (the SYN and request 1): SRTT 100 ms, RTTVAR 50 then 37.5 ms,
  // so RTO = 100 + 4 * 37.5 = 250 ms (RFC 6298 §2.3).
  EXPECT_EQ(rto_when_sent, Duration::milliseconds(250));
  EXPECT_EQ(a.srtt(), Duration::milliseconds(100));
  const auto sent = data_from(bed, 'A');
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_TRUE(sent[1].dropped);
  EXPECT_EQ(sent[2].seq(), sent[1].seq());
  EXPECT_EQ(sent[2].time - sent[1].time, Duration::milliseconds(250));
  EXPECT_EQ(a.counters().timeouts, 1u);
  EXPECT_EQ(a.counters().fast_retransmits, 0u);
  EXPECT_EQ(bed.b().received_text(), "request-1request-2");
  // Karn: the retransmission gave no sample, so the backed-off RTO stays.
  EXPECT_EQ(a.rto(), Duration::milliseconds(500));
  EXPECT_EQ(a.counters().rtt_samples, 2u);
}

TEST(TcpTransfer, RtoNeverGoesBelow200Milliseconds) {
  TcpConfig b;
  b.delayed_ack = false;
  LinkConfig a_to_b = delay_ms(50);
  a_to_b.drop_nth = {8};  // SYN, ACK, requests 1..5, request 6
  TcpTestBed bed(7, a_to_b, delay_ms(50), TcpConfig{}, b);
  bed.connect_at(Time::zero());
  for (int i = 1; i <= 6; ++i) {
    bed.at(at_s(i), 'A', [](TcpTestBed::Host& h, Time) { h.send("request"); });
  }
  bed.run_until(at_s(10));
  // Six samples of 100 ms: RTTVAR = 50 ms * 0.75^5 = 11.87 ms, SRTT + 4 RTTVAR = 147 ms -> 200.
  const auto sent = data_from(bed, 'A');
  ASSERT_EQ(sent.size(), 7u);
  EXPECT_TRUE(sent[5].dropped);
  EXPECT_EQ(sent[6].time - sent[5].time, Duration::milliseconds(200));
  EXPECT_EQ(bed.b().received.size(), 6u * 7);
}

TEST(TcpTransfer, DataRetransmissionsGiveUpAfterRetries2) {
  LinkConfig a_to_b = delay_ms(1);
  TcpTestBed bed(11, a_to_b, delay_ms(1));
  bed.connect_at(Time::zero());
  bed.at(at_s(1), 'A', [&](TcpTestBed::Host& h, Time) {
    bed.link('A').loss = 1.0;
    h.send("lost forever");
  });
  std::optional<TcpState> before_limit;
  std::optional<TcpState> at_limit;
  bed.at(Time::zero() + Duration::milliseconds(925'599), 'A',
         [&](TcpTestBed::Host& h, Time) { before_limit = h.c().state(); });
  bed.at(Time::zero() + Duration::milliseconds(925'600) + Duration::nanoseconds(1), 'A',
         [&](TcpTestBed::Host& h, Time) { at_limit = h.c().state(); });
  bed.run_until(at_s(2000));
  // RTO 200 ms doubling to 120 s: 15 retransmissions, ETIMEDOUT 924.6 s after the first send.
  EXPECT_EQ(before_limit, TcpState::kEstablished);
  EXPECT_EQ(at_limit, TcpState::kClosed);
  EXPECT_EQ(bed.a().c().error(), TcpError::kTimedOut);
  EXPECT_EQ(bed.a().c().counters().retransmitted_segments, 15u);
  std::vector<Time> sends;
  for (const auto& e : data_from(bed, 'A')) sends.push_back(e.time);
  ASSERT_EQ(sends.size(), 16u);
  EXPECT_EQ(sends[10] - sends[9], Duration::milliseconds(102'400));
  EXPECT_EQ(sends[11] - sends[10], Duration::seconds(120));  // capped at TCP_RTO_MAX
  EXPECT_EQ(sends[15] - sends[14], Duration::seconds(120));
}

// ---------------------------------------------------------------------------------------------
// Windows

TEST(TcpTransfer, ZeroWindowIsProbedUntilTheReceiverReads) {
  TcpConfig b;
  b.receive_buffer_bytes = 8192;
  TcpTestBed bed(16, delay_ms(1), delay_ms(1), TcpConfig{}, b);
  bed.b().reading = false;
  const auto data = pattern(64 * 1024);
  bed.a().to_send = data;
  bed.connect_at(Time::zero());
  bed.at(at_s(3), 'B', [](TcpTestBed::Host& h, Time) { h.reading = true; });
  bed.run_until(at_s(2) + Duration::milliseconds(900));
  EXPECT_EQ(bed.a().c().send_window(), 0u);
  EXPECT_EQ(bed.b().c().receive_window(), 0u);
  EXPECT_EQ(bed.b().c().readable(), 8192u);
  // Probes: ACKs with SEQ = SND.UNA - 1, at 200, 400, 800 ms ... after the window closed.
  std::vector<Time> probes;
  for (const auto& e : bed.trace()) {
    if (e.from == 'A' && e.payload_bytes == 0 && e.header.sequence_number == bed.isn_a() + 8192) {
      probes.push_back(e.time);
    }
  }
  ASSERT_EQ(probes.size(), 3u);
  EXPECT_EQ(probes[1] - probes[0], Duration::milliseconds(400));
  EXPECT_EQ(probes[2] - probes[1], Duration::milliseconds(800));
  EXPECT_EQ(bed.a().c().counters().zero_window_probes, 3u);
  bed.run_until(at_s(10));
  EXPECT_TRUE(bed.b().received == data);
  EXPECT_EQ(bed.a().c().counters().retransmitted_segments, 0u);
}

TEST(TcpTransfer, PersistProbeRecoversALostWindowUpdate) {
  TcpConfig b;
  b.receive_buffer_bytes = 8192;
  LinkConfig b_to_a = delay_ms(1);
  // Drop B's first window update once it starts reading.
  bool drop_next_update = false;
  b_to_a.drop_if = [&drop_next_update](const wire::TcpHeader& h, std::size_t) {
    if (drop_next_update && h.window > 0) {
      drop_next_update = false;
      return true;
    }
    return false;
  };
  TcpTestBed bed(17, delay_ms(1), b_to_a, TcpConfig{}, b);
  bed.b().reading = false;
  const auto data = pattern(32 * 1024);
  bed.a().to_send = data;
  bed.connect_at(Time::zero());
  bed.run_until(at_s(1));
  ASSERT_EQ(bed.a().c().send_window(), 0u);
  const std::uint64_t probes_before = bed.a().c().counters().zero_window_probes;
  bed.at(at_s(1) + Duration::milliseconds(100), 'B', [&](TcpTestBed::Host& h, Time) {
    h.reading = true;
    drop_next_update = true;
  });
  bed.run_until(at_s(30));
  EXPECT_TRUE(bed.b().received == data);
  // The update was lost; the next probe fetched the window.
  EXPECT_EQ(bed.a().c().counters().zero_window_probes, probes_before + 1);
}

TEST(TcpTransfer, NagleCoalescesSmallWritesWhileDataIsInFlight) {
  for (const bool nagle : {false, true}) {
    TcpConfig a;
    a.nagle = nagle;
    TcpTestBed bed(18, delay_ms(10), delay_ms(10), a);
    bed.connect_at(Time::zero());
    bed.at(at_s(1), 'A', [](TcpTestBed::Host& h, Time) { h.send("a"); });
    bed.at(at_s(1) + Duration::milliseconds(1), 'A',
           [](TcpTestBed::Host& h, Time) { h.send("b"); });
    bed.at(at_s(1) + Duration::milliseconds(2), 'A',
           [](TcpTestBed::Host& h, Time) { h.send("c"); });
    bed.run_until(at_s(2));
    std::vector<std::size_t> sizes;
    for (const auto& e : data_from(bed, 'A')) sizes.push_back(e.payload_bytes);
    EXPECT_EQ(bed.b().received_text(), "abc");
    if (nagle) {
      EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 2}));
    } else {
      EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 1, 1}));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Path MTU

TEST(TcpTransfer, FragNeededLowersTheMssAndTheTransferCompletes) {
  LinkConfig a_to_b = fast_link();
  a_to_b.mtu = 1400;  // a tunnel somewhere on the path
  TcpTestBed bed(19, a_to_b, fast_link());
  run_bulk(bed, 1024 * 1024);
  const TcpConnection& a = bed.a().c();
  EXPECT_EQ(a.send_mss(), 1360);
  EXPECT_EQ(a.counters().pmtu_reductions, 1u);
  EXPECT_EQ(a.counters().timeouts, 0u);  // resent at once, not after an RTO
  EXPECT_GE(bed.frag_needed_sent, 1u);
  std::size_t delivered_big = 0;
  std::size_t delivered = 0;
  Time first_small;
  for (const auto& e : data_from(bed, 'A')) {
    if (e.dropped) continue;
    ++delivered;
    delivered_big += e.payload_bytes > 1360;
    if (first_small == Time::zero()) first_small = e.time;
  }
  EXPECT_EQ(delivered_big, 0u);
  EXPECT_GT(delivered, 700u);
  // The first full-sized flight left at 2 ms; the ICMP came back 1 ms (+ serialization) later.
  EXPECT_LT(first_small, at_ms(5));
}

// ---------------------------------------------------------------------------------------------
// Determinism and tools

TEST(TcpTransfer, SameSeedSameSegmentTrace) {
  const auto run = [](std::uint64_t seed) {
    TcpTestBed bed(seed, fast_link(0.02), fast_link(0.02));
    run_bulk(bed, 512 * 1024);
    return bed.full_trace();
  };
  const auto first = run(21);
  EXPECT_EQ(first, run(21));
  EXPECT_NE(first, run(22));
}

TEST(TcpTransfer, TsharkFindsNothingWrongInALosslessCapture) {
  const auto dir = calisim::test::work_dir("tcp_connection_tshark");
  TcpTestBed bed(23, fast_link(), fast_link());
  bed.capture_to(dir / "tcp.pcapng");
  bed.a().send("OPEN-0123456789-0123456789-29");
  bed.b().on_data = [](TcpTestBed::Host& h, Time now) {
    if (h.received.size() == 29 && h.to_send.empty()) {
      h.to_send = pattern(40 * 1024, 2);
    }
    if (h.conn->at_eof() && !h.close_called) {
      h.close_called = true;
      h.conn->close(now);
    }
  };
  bed.a().on_data = [](TcpTestBed::Host& h, Time now) {
    if (h.received.size() == 40 * 1024 && !h.close_called) {
      h.close_called = true;
      h.conn->close(now);
    }
  };
  bed.connect_at(Time::zero());
  bed.run_until(at_s(100));
  bed.finish_capture();
  ASSERT_EQ(bed.a().received.size(), 40u * 1024);
  const auto file = dir / "tcp.pcapng";
  calisim::test::expect_tshark_clean(file,
                                     {.min_packets = bed.trace().size(), .lossless_tcp = true});
  EXPECT_EQ(calisim::test::tshark_count(file, "frame"), bed.trace().size());
  EXPECT_EQ(calisim::test::tshark_fields(file, "tcp.flags.syn == 1", {"tcp.options.mss_val"}),
            (std::vector<std::string>{"1460", "1460"}));
}

}  // namespace
}  // namespace calisim::dataplane
