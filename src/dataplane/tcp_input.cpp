// TcpConnection: processing of arriving segments (RFC 9293 §3.10.7, with the RFC 5961 checks),
// ACK processing with RTT estimation (RFC 6298) and NewReno (RFC 5681, RFC 6582).

#include <calisim/dataplane/tcp_connection.hpp>

#include <algorithm>

#include <fmt/format.h>

#include "dataplane/tcp_sequence.hpp"

namespace calisim::dataplane {

using namespace tcp_internal;  // NOLINT(google-build-using-namespace)

using wire::TcpFlag;

// The fields of an arriving segment that the state machine uses; payload and FIN are trimmed to
// the receive window as processing goes on.
struct TcpConnection::Incoming {
  explicit Incoming(const wire::TcpView& view)
      : seq(view.sequence_number()),
        ack(view.acknowledgment_number()),
        window(view.window()),
        syn(view.has(TcpFlag::kSyn)),
        has_ack(view.has(TcpFlag::kAck)),
        rst(view.has(TcpFlag::kRst)),
        fin(view.has(TcpFlag::kFin)),
        payload(view.payload()) {
    if (syn) {
      // Malformed options are ignored as a whole, as Linux tcp_parse_options skips what it
      // cannot read; the MSS then defaults to 536.
      if (auto options = wire::TcpOptions::parse(view.options())) mss = options->mss;
    }
  }
  // SEG.LEN: SYN and FIN each count one.
  std::uint32_t length() const {
    return static_cast<std::uint32_t>(payload.size()) + (syn ? 1 : 0) + (fin ? 1 : 0);
  }

  std::uint32_t seq;
  std::uint32_t ack;
  std::uint16_t window;
  bool syn;
  bool has_ack;
  bool rst;
  bool fin;
  wire::Bytes payload;
  std::optional<std::uint16_t> mss;
};

Result<TcpConnection> TcpConnection::accept(const TcpConfig& config, TcpEndpoint local,
                                            TcpEndpoint remote, const wire::TcpView& syn,
                                            std::uint32_t isn, Time now) {
  if (!syn.has(TcpFlag::kSyn) || syn.has(TcpFlag::kAck) || syn.has(TcpFlag::kRst)) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("tcp: accept() needs a SYN without ACK or RST, got flags {}",
                                  syn.flags().to_string()));
  }
  const Incoming in(syn);
  TcpConnection c(config, local, remote, isn);
  c.passive_ = true;
  c.last_send_ = now;
  ++c.counters_.segments_in;
  c.irs_ = in.seq;
  c.rcv_nxt_ = in.seq + 1;
  c.rcv_adv_ = c.rcv_nxt_;
  c.rcv_adv_ = c.window_edge();
  c.apply_peer_mss(in.mss);
  c.snd_wnd_ = in.window;
  c.max_snd_wnd_ = in.window;
  c.snd_wl1_ = in.seq;
  c.snd_wl2_ = isn;
  c.set_state(TcpState::kSynReceived);
  c.syn_pending_ = true;
  return c;
}

void TcpConnection::apply_peer_mss(std::optional<std::uint16_t> mss) {
  // An MSS option of 0 is ignored, as in Linux tcp_parse_options.
  peer_mss_ = mss && *mss != 0 ? *mss : kDefaultMss;
  // RFC 9293 §3.7.1: what the peer can take, what our route takes, and the path MTU.
  send_mss_ = std::max(kMinSendMss, std::min({peer_mss_, config_.mss_bytes, pmtu_mss_}));
}

void TcpConnection::on_segment(const wire::TcpView& view, Time now) {
  advance(now);
  ++counters_.segments_in;
  Incoming in(view);
  if (state_ == TcpState::kClosed || state_ == TcpState::kListen) return;  // the stack's job
  if (state_ == TcpState::kSynSent) {
    on_segment_syn_sent(in, now);
    update_persist_timer(now);
    return;
  }
  // A retransmitted SYN while our SYN-ACK is outstanding: send the SYN-ACK again at once
  // (Linux tcp_check_req) instead of waiting for our own timer.
  if (state_ == TcpState::kSynReceived && in.syn && !in.has_ack && !in.rst && in.seq == irs_) {
    syn_pending_ = true;
    snd_nxt_ = iss_;
    return;
  }

  // First: the sequence number (RFC 9293 §3.10.7.4).
  if (!sequence_acceptable(in)) {
    if (in.rst) return;
    if (rcv_adv_ == rcv_nxt_ && in.seq == rcv_nxt_ && !in.syn) {
      // Zero receive window: the data cannot be taken, but the ACK and window still count.
      in.payload = {};
      in.fin = false;
      ack_now_ = true;
    } else {
      // Old duplicate or beyond the window: tell the peer where we are.
      if (state_ == TcpState::kTimeWait && in.fin) {
        time_wait_deadline_ = now + config_.time_wait;  // the peer resent its FIN: restart 2MSL
      }
      ack_now_ = true;
      return;
    }
  }
  // Second: RST (RFC 5961 §3.2): only an exact match resets; in the window, a challenge ACK.
  if (in.rst) {
    if (in.seq == rcv_nxt_) {
      ++counters_.resets_in;
      std::optional<TcpError> error;
      switch (state_) {
        case TcpState::kSynReceived:
          if (!passive_) error = TcpError::kRefused;
          break;
        case TcpState::kEstablished:
        case TcpState::kFinWait1:
        case TcpState::kFinWait2:
        case TcpState::kCloseWait:
          error = TcpError::kReset;
          break;
        default:
          break;
      }
      enter_closed(error);
    } else {
      challenge_ack();
    }
    return;
  }
  // Fourth: SYN in a synchronized state (RFC 5961 §4): challenge ACK whatever its sequence.
  if (in.syn) {
    challenge_ack();
    return;
  }
  // Fifth: ACK.
  if (!in.has_ack) return;
  if (!process_ack(in, now)) {
    update_persist_timer(now);
    return;
  }

  // Trim to the window: bytes before RCV.NXT were had already, bytes past the advertised right
  // edge cannot be kept (and a FIN past it is not taken either).
  if (seq_lt(in.seq, rcv_nxt_)) {
    const std::uint32_t skip = rcv_nxt_ - in.seq;
    if (skip > in.payload.size()) {
      in.payload = {};
      in.fin = false;
    } else {
      in.payload = in.payload.subspan(skip);
    }
    in.seq = rcv_nxt_;
  }
  const std::uint32_t room = rcv_adv_ - in.seq;
  if (in.payload.size() >= room) {
    if (in.payload.size() > room) in.payload = in.payload.first(room);
    in.fin = false;
  }

  // Seventh: segment text; eighth: FIN.
  const bool stored = process_data(in, now);
  if (in.fin && !fin_received_) {
    const std::uint32_t fin_seq = in.seq + static_cast<std::uint32_t>(in.payload.size());
    if (fin_seq == rcv_nxt_) {
      process_fin(now);
    } else if (stored && seq_gt(fin_seq, rcv_nxt_)) {
      pending_fin_seq_ = fin_seq;  // after a hole: taken when the hole fills
    }
  }
  update_persist_timer(now);
}

void TcpConnection::on_segment_syn_sent(const Incoming& in, Time now) {
  // RFC 9293 §3.10.7.3.
  if (in.has_ack && (seq_le(in.ack, iss_) || seq_gt(in.ack, snd_max_))) {
    if (!in.rst) reset_reply_seq_ = in.ack;
    return;
  }
  if (in.rst) {
    if (in.has_ack) {
      ++counters_.resets_in;
      enter_closed(TcpError::kRefused);
    }
    return;
  }
  if (!in.syn) return;
  irs_ = in.seq;
  rcv_nxt_ = in.seq + 1;
  rcv_adv_ = rcv_nxt_;
  rcv_adv_ = window_edge();  // what our SYN offered: the whole buffer
  apply_peer_mss(in.mss);
  snd_wnd_ = in.window;
  max_snd_wnd_ = in.window;
  snd_wl1_ = in.seq;
  snd_wl2_ = in.ack;
  if (in.has_ack) {
    ack_new_data(in.ack, now);  // our SYN: the handshake's RTT sample, unless it was resent
    set_state(TcpState::kEstablished);
    on_handshake_complete();
    ack_now_ = true;
  } else {
    // Simultaneous open (RFC 9293 §3.5, figure 8): SYN-RECEIVED, and a SYN-ACK with our ISN.
    set_state(TcpState::kSynReceived);
    syn_pending_ = true;
    snd_nxt_ = iss_;
  }
}

void TcpConnection::on_handshake_complete() {
  // Linux tcp_init_transfer: one segment if the handshake needed more than one retransmission
  // (RFC 5681 §3.1 says after any), otherwise the initial window.
  cwnd_ = counters_.retransmitted_segments > 1 ? send_mss_
                                               : config_.initial_cwnd_segments * send_mss_;
  // RFC 6298 §5.7 / Linux tcp_init_metrics: no RTT sample from the handshake, so 3 s.
  if (!srtt_) rto_ = config_.fallback_rto;
  rto_expiries_ = 0;
}

bool TcpConnection::sequence_acceptable(const Incoming& in) const {
  // RFC 9293 §3.10.7.4, the four cases of SEG.LEN and RCV.WND.
  const std::uint32_t len = in.length();
  const std::uint32_t wnd = rcv_adv_ - rcv_nxt_;
  const auto in_window = [&](std::uint32_t s) {
    return seq_le(rcv_nxt_, s) && seq_lt(s, rcv_nxt_ + wnd);
  };
  if (len == 0) return wnd == 0 ? in.seq == rcv_nxt_ : in_window(in.seq);
  if (wnd == 0) return false;
  return in_window(in.seq) || in_window(in.seq + len - 1);
}

bool TcpConnection::process_ack(const Incoming& in, Time now) {
  if (state_ == TcpState::kSynReceived) {
    if (!(seq_lt(snd_una_, in.ack) && seq_le(in.ack, snd_max_))) {
      reset_reply_seq_ = in.ack;  // <SEQ=SEG.ACK><CTL=RST>
      return false;
    }
    snd_wnd_ = in.window;
    max_snd_wnd_ = std::max<std::uint32_t>(max_snd_wnd_, in.window);
    snd_wl1_ = in.seq;
    snd_wl2_ = in.ack;
    ack_new_data(in.ack, now);
    set_state(fin_queued_ ? TcpState::kFinWait1 : TcpState::kEstablished);
    on_handshake_complete();
    return true;
  }
  if (seq_gt(in.ack, snd_max_)) {
    ack_now_ = true;  // acknowledges something not yet sent: ACK and drop
    return false;
  }
  if (seq_lt(in.ack, snd_una_ - max_snd_wnd_)) {
    challenge_ack();  // RFC 5961 §5.2: too old to be from this connection's peer
    return false;
  }
  // RFC 5681 §2: a duplicate ACK, judged before the window update below.
  const bool duplicate = in.ack == snd_una_ && in.payload.empty() && !in.fin &&
                         in.window == snd_wnd_ && snd_nxt_ != snd_una_ && snd_wnd_ != 0;
  if (seq_gt(in.ack, snd_una_)) {
    ack_new_data(in.ack, now);
  } else if (duplicate) {
    on_duplicate_ack();
  }
  if (seq_lt(snd_wl1_, in.seq) || (snd_wl1_ == in.seq && seq_le(snd_wl2_, in.ack))) {
    snd_wnd_ = in.window;
    max_snd_wnd_ = std::max<std::uint32_t>(max_snd_wnd_, in.window);
    snd_wl1_ = in.seq;
    snd_wl2_ = in.ack;
  }
  const bool fin_acked = fin_queued_ && seq_gt(snd_una_, fin_seq_);
  switch (state_) {
    case TcpState::kFinWait1:
      if (fin_acked) set_state(TcpState::kFinWait2);
      break;
    case TcpState::kClosing:
      if (fin_acked) enter_time_wait(now);
      break;
    case TcpState::kLastAck:
      if (fin_acked) {
        enter_closed(std::nullopt);
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

void TcpConnection::ack_new_data(std::uint32_t ack, Time now) {
  const std::uint32_t acked = ack - snd_una_;
  const std::uint32_t flight_before = flight_size();
  std::uint32_t data_acked = 0;
  if (seq_gt(ack, buffer_seq_)) {
    data_acked = static_cast<std::uint32_t>(
        std::min<std::size_t>(ack - buffer_seq_, send_buffer_.size()));
    send_buffer_.consume(data_acked);
    buffer_seq_ += data_acked;
    counters_.bytes_acked += data_acked;
  }
  if (rtt_timing_ && seq_gt(ack, rtt_seq_)) {
    take_rtt_sample(now - rtt_start_);
    rtt_timing_ = false;
  }
  rto_expiries_ = 0;
  snd_una_ = ack;
  if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;  // after go-back-N: those arrived

  bool restart_timer = true;
  if (in_recovery_) {
    if (seq_ge(ack, recover_)) {
      // RFC 6582 §3.2 step 3, full ACK: deflate to ssthresh (option 1 of the two).
      cwnd_ = std::min(ssthresh_, std::max(flight_size(), std::uint32_t{send_mss_}) + send_mss_);
      in_recovery_ = false;
      dup_acks_ = 0;
    } else {
      // Partial ACK: resend the next hole, deflate by what was acknowledged, add one MSS back
      // if that was at least one MSS; only the first partial ACK restarts the timer
      // ("impatient" variant).
      retransmit_head_ = true;
      cwnd_ = cwnd_ > acked ? cwnd_ - acked : 0;
      if (acked >= send_mss_) cwnd_ += send_mss_;
      cwnd_ = std::max(cwnd_, std::uint32_t{send_mss_});
      restart_timer = !partial_ack_seen_;
      partial_ack_seen_ = true;
    }
  } else {
    dup_acks_ = 0;
    // Grow only while the window was in use (RFC 7661's concern; Linux tcp_is_cwnd_limited
    // uses the same factor of two in slow start).
    if (data_acked != 0 && 2 * flight_before >= cwnd_) {
      if (cwnd_ < ssthresh_) {
        cwnd_ += std::min(data_acked, 2u * send_mss_);  // RFC 3465 with L = 2 SMSS
      } else {
        bytes_acked_in_ca_ += data_acked;  // RFC 5681 §3.1: about one SMSS per RTT
        if (bytes_acked_in_ca_ >= cwnd_) {
          bytes_acked_in_ca_ -= cwnd_;
          cwnd_ += send_mss_;
        }
      }
      cwnd_ = std::min(cwnd_, kMaxCwnd);
    }
  }
  // RFC 6298 §5.2 and §5.3.
  if (snd_una_ == snd_max_) {
    rto_deadline_.reset();
  } else if (restart_timer) {
    rto_deadline_ = now + rto_;
  }
}

void TcpConnection::on_duplicate_ack() {
  ++counters_.dup_acks_in;
  ++dup_acks_;
  if (in_recovery_) {
    cwnd_ = std::min(cwnd_ + send_mss_, kMaxCwnd);  // RFC 5681 §3.2 step 4: inflate
    return;
  }
  // RFC 6582 §3.2 step 2: not for duplicates of what was sent before the last recovery began.
  if (dup_acks_ != 3 || seq_lt(snd_una_, recover_)) return;
  ++counters_.fast_retransmits;
  ssthresh_ = std::max(flight_size() / 2, 2u * send_mss_);
  recover_ = snd_max_;
  in_recovery_ = true;
  partial_ack_seen_ = false;
  retransmit_head_ = true;
  cwnd_ = ssthresh_ + 3u * send_mss_;
  bytes_acked_in_ca_ = 0;
}

void TcpConnection::take_rtt_sample(Duration sample) {
  // RFC 6298 §2.2 and §2.3 with alpha = 1/8 and beta = 1/4, in nanoseconds.
  ++counters_.rtt_samples;
  if (!srtt_) {
    srtt_ = sample;
    rttvar_ = sample / 2;
  } else {
    const Duration delta = *srtt_ > sample ? *srtt_ - sample : sample - *srtt_;
    rttvar_ = (rttvar_ * 3 + delta) / 4;
    srtt_ = (*srtt_ * 7 + sample) / 8;
  }
  // The clock granularity G is a nanosecond here; Linux's floor comes from TCP_RTO_MIN.
  const Duration variance = std::max(rttvar_ * 4, Duration::nanoseconds(1));
  rto_ = std::clamp(*srtt_ + variance, config_.min_rto, config_.max_rto);
}

bool TcpConnection::process_data(const Incoming& in, Time now) {
  if (in.payload.empty()) return true;
  if (state_ != TcpState::kEstablished && state_ != TcpState::kFinWait1 &&
      state_ != TcpState::kFinWait2) {
    return false;  // after the peer's FIN: nothing more can come
  }
  const std::uint32_t offset = in.seq - rcv_nxt_;
  const bool had_hole = receive_buffer_.has_out_of_order();
  const auto result = receive_buffer_.insert(offset, in.payload);
  if (!result.stored) {
    ack_now_ = true;
    return false;
  }
  rcv_mss_ = std::max(rcv_mss_, static_cast<std::uint16_t>(std::min<std::size_t>(
                                    in.payload.size(), config_.mss_bytes)));
  if (offset != 0) {
    // RFC 5681 §4.2: an out-of-order segment is acknowledged at once (a duplicate ACK).
    ++counters_.out_of_order_segments;
    ack_now_ = true;
    return true;
  }
  rcv_nxt_ += static_cast<std::uint32_t>(result.advanced);
  counters_.bytes_received += result.advanced;
  if (had_hole || !config_.delayed_ack) {
    ack_now_ = true;  // RFC 5681 §4.2: a segment that fills a hole is acknowledged at once
  } else {
    // RFC 9293 §3.8.6.3 / RFC 5681 §4.2: at least every second full-sized segment, and within
    // the delayed-ACK timeout.
    unacked_bytes_ += result.advanced;
    if (unacked_bytes_ > rcv_mss_) {
      ack_now_ = true;
    } else if (!delack_deadline_) {
      delack_deadline_ = now + config_.delayed_ack_timeout;
    }
  }
  if (pending_fin_seq_ && *pending_fin_seq_ == rcv_nxt_) process_fin(now);
  return true;
}

void TcpConnection::process_fin(Time now) {
  if (fin_received_) return;
  fin_received_ = true;
  pending_fin_seq_.reset();
  rcv_nxt_ += 1;
  ack_now_ = true;
  switch (state_) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      set_state(TcpState::kCloseWait);
      break;
    case TcpState::kFinWait1:
      set_state(TcpState::kClosing);  // our FIN is not acknowledged yet (else FIN-WAIT-2)
      break;
    case TcpState::kFinWait2:
      enter_time_wait(now);
      break;
    default:
      break;
  }
}

void TcpConnection::challenge_ack() {
  ++counters_.challenge_acks;
  ack_now_ = true;
}

}  // namespace calisim::dataplane
