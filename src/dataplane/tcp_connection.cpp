// TcpConnection: construction, the application-facing calls, timers and output. Input
// processing (RFC 9293 §3.10.7) is in tcp_input.cpp.

#include <calisim/dataplane/tcp_connection.hpp>

#include <algorithm>
#include <cstring>

#include "dataplane/tcp_sequence.hpp"

namespace calisim::dataplane {

using namespace tcp_internal;  // NOLINT(google-build-using-namespace)

using wire::TcpFlag;
using wire::TcpFlags;

std::string_view ss_state_name(TcpState state) {
  switch (state) {
    case TcpState::kClosed: return "UNCONN";
    case TcpState::kListen: return "LISTEN";
    case TcpState::kSynSent: return "SYN-SENT";
    case TcpState::kSynReceived: return "SYN-RECV";
    case TcpState::kEstablished: return "ESTAB";
    case TcpState::kFinWait1: return "FIN-WAIT-1";
    case TcpState::kFinWait2: return "FIN-WAIT-2";
    case TcpState::kCloseWait: return "CLOSE-WAIT";
    case TcpState::kClosing: return "CLOSING";
    case TcpState::kLastAck: return "LAST-ACK";
    case TcpState::kTimeWait: return "TIME-WAIT";
  }
  return "UNKNOWN";
}

std::string_view to_string(TcpState state) {
  switch (state) {
    case TcpState::kClosed: return "CLOSED";
    case TcpState::kListen: return "LISTEN";
    case TcpState::kSynSent: return "SYN-SENT";
    case TcpState::kSynReceived: return "SYN-RECEIVED";
    case TcpState::kEstablished: return "ESTABLISHED";
    case TcpState::kFinWait1: return "FIN-WAIT-1";
    case TcpState::kFinWait2: return "FIN-WAIT-2";
    case TcpState::kCloseWait: return "CLOSE-WAIT";
    case TcpState::kClosing: return "CLOSING";
    case TcpState::kLastAck: return "LAST-ACK";
    case TcpState::kTimeWait: return "TIME-WAIT";
  }
  return "UNKNOWN";
}

std::string_view to_string(TcpError error) {
  switch (error) {
    case TcpError::kReset: return "connection reset by peer";
    case TcpError::kRefused: return "connection refused";
    case TcpError::kTimedOut: return "connection timed out";
    case TcpError::kHostUnreachable: return "no route to host";
    case TcpError::kNetworkUnreachable: return "network is unreachable";
  }
  return "unknown error";
}

void TcpSegment::emit(wire::MutableBytes out, wire::Ipv4Address source,
                      wire::Ipv4Address destination) const {
  CALISIM_CHECK(out.size() == size(), "tcp: segment buffer of the wrong size");
  if (!payload.empty()) {
    std::memcpy(out.data() + header.header_length(), payload.data(), payload.size());
  }
  header.emit(out, source, destination);
}

TcpConnection::TcpConnection(const TcpConfig& config, TcpEndpoint local, TcpEndpoint remote,
                             std::uint32_t isn)
    : config_(config),
      local_(local),
      remote_(remote),
      send_buffer_(config.send_buffer_bytes),
      receive_buffer_(config.receive_buffer_bytes),
      scratch_(config.mss_bytes),
      iss_(isn),
      snd_una_(isn),
      snd_nxt_(isn),
      snd_max_(isn),
      buffer_seq_(isn + 1),
      recover_(isn),
      rto_(config.initial_rto) {
  CALISIM_CHECK(config.mss_bytes >= kMinSendMss, "tcp: MSS below 48 bytes");
  CALISIM_CHECK(config.min_pmtu_bytes > kIpTcpHeaderBytes + kMinSendMss - 1,
                "tcp: min_pmtu_bytes leaves no room for an MSS of 48");
  CALISIM_CHECK(config.initial_cwnd_segments >= 1, "tcp: initial window of zero segments");
  pmtu_mss_ = config.mss_bytes;
  send_mss_ = std::min(config.mss_bytes, kDefaultMss);
  cwnd_ = config.initial_cwnd_segments * send_mss_;
  ssthresh_ = kMaxCwnd;
}

// ---------------------------------------------------------------------------------------------
// Application calls

void TcpConnection::connect(Time now) {
  CALISIM_CHECK(state_ == TcpState::kClosed && snd_max_ == iss_ && !error_ && !passive_,
                "tcp: connect() on a connection that was already used");
  advance(now);
  set_state(TcpState::kSynSent);
  syn_pending_ = true;
}

bool TcpConnection::accepts_writes() const {
  if (fin_queued_) return false;
  switch (state_) {
    case TcpState::kSynSent:
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
      return true;
    default:
      return false;
  }
}

std::size_t TcpConnection::send_buffer_free() const {
  return accepts_writes() ? send_buffer_.free() : 0;
}

std::size_t TcpConnection::write(wire::Bytes data) {
  if (!accepts_writes()) return 0;
  return send_buffer_.write(data);
}

std::size_t TcpConnection::read(wire::MutableBytes out) {
  const std::size_t n = receive_buffer_.read(out);
  if (n == 0 || fin_received_) return n;
  // Linux tcp_cleanup_rbuf: announce the space at once if the advertised window had fallen to
  // half its maximum or less and this read at least doubles it; otherwise the next segment
  // carries it.
  const std::uint32_t current = rcv_adv_ - rcv_nxt_;
  const std::uint32_t max_window = static_cast<std::uint32_t>(
      std::min<std::size_t>(receive_buffer_.capacity(), kMaxUnscaledWindow));
  if (2 * current <= max_window) {
    const std::uint32_t offered = window_edge() - rcv_nxt_;
    if (offered != 0 && offered >= 2 * current) ack_now_ = true;
  }
  return n;
}

void TcpConnection::close(Time now) {
  advance(now);
  switch (state_) {
    case TcpState::kSynSent:
      enter_closed(std::nullopt);  // RFC 9293 §3.10.4: delete the TCB
      break;
    case TcpState::kSynReceived:
      // The FIN follows the handshake: process_ack moves to FIN-WAIT-1 instead of ESTABLISHED.
      fin_queued_ = true;
      fin_seq_ = data_end();
      break;
    case TcpState::kEstablished:
      fin_queued_ = true;
      fin_seq_ = data_end();
      set_state(TcpState::kFinWait1);
      break;
    case TcpState::kCloseWait:
      fin_queued_ = true;
      fin_seq_ = data_end();
      set_state(TcpState::kLastAck);
      break;
    default:
      break;  // closed, or closing already
  }
  update_persist_timer(now);
}

void TcpConnection::lose_power(Time now) {
  advance(now);
  rst_pending_ = false;
  enter_closed(std::nullopt);
}

void TcpConnection::abort(Time now) {
  advance(now);
  switch (state_) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
    case TcpState::kFinWait1:
    case TcpState::kFinWait2:
    case TcpState::kCloseWait:
      rst_pending_ = true;  // Linux tcp_need_reset: these states tell the peer
      break;
    default:
      break;
  }
  enter_closed(std::nullopt);
}

void TcpConnection::on_frag_needed(std::uint16_t next_hop_mtu, Time now) {
  advance(now);
  if (next_hop_mtu == 0 || state_ == TcpState::kClosed || state_ == TcpState::kTimeWait) return;
  // Linux __ip_rt_update_pmtu: a PMTU below min_pmtu is taken as min_pmtu.
  const std::uint16_t pmtu = std::max(next_hop_mtu, config_.min_pmtu_bytes);
  const auto mss = static_cast<std::uint16_t>(pmtu - kIpTcpHeaderBytes);
  if (mss >= pmtu_mss_) return;
  pmtu_mss_ = mss;
  const std::uint16_t before = send_mss_;
  send_mss_ = std::min(send_mss_, mss);
  if (send_mss_ == before) return;
  ++counters_.pmtu_reductions;
  // tcp_simple_retransmit: what is in flight was sent too large and is lost; send it again at
  // the new size now. cwnd and ssthresh stay: the path did not get more congested.
  if (sends_data() && snd_una_ != snd_max_) {
    snd_nxt_ = snd_una_;
    retransmit_head_ = false;
    rtt_timing_ = false;
    in_recovery_ = false;
    dup_acks_ = 0;
    recover_ = snd_max_;  // duplicate ACKs for the old segments must not start fast recovery
  }
}

void TcpConnection::on_unreachable(TcpError error, Time now) {
  advance(now);
  if (state_ != TcpState::kSynSent) return;
  enter_closed(error);
}

bool TcpConnection::icmp_sequence_acceptable(std::uint32_t seq) const {
  return seq_le(snd_una_, seq) && seq_le(seq, snd_max_);
}

// ---------------------------------------------------------------------------------------------
// State and timers

void TcpConnection::set_state(TcpState next) { state_ = next; }

void TcpConnection::enter_closed(std::optional<TcpError> error) {
  set_state(TcpState::kClosed);
  if (error && !error_) error_ = error;
  syn_pending_ = false;
  retransmit_head_ = false;
  probe_pending_ = false;
  ack_now_ = false;
  rto_deadline_.reset();
  persist_deadline_.reset();
  delack_deadline_.reset();
  time_wait_deadline_.reset();
}

void TcpConnection::enter_time_wait(Time now) {
  set_state(TcpState::kTimeWait);
  rto_deadline_.reset();
  persist_deadline_.reset();
  time_wait_deadline_ = now + config_.time_wait;
}

std::optional<Time> TcpConnection::next_deadline() const {
  std::optional<Time> next;
  for (const auto& d : {rto_deadline_, persist_deadline_, delack_deadline_, time_wait_deadline_}) {
    if (d && (!next || *d < *next)) next = d;
  }
  return next;
}

void TcpConnection::advance(Time now) {
  if (time_wait_deadline_ && now >= *time_wait_deadline_) {
    enter_closed(std::nullopt);
    return;
  }
  if (delack_deadline_ && now >= *delack_deadline_) {
    delack_deadline_.reset();
    ack_now_ = true;
  }
  if (rto_deadline_ && now >= *rto_deadline_) {
    rto_deadline_.reset();
    on_rto(now);
  }
  if (persist_deadline_ && now >= *persist_deadline_) {
    probe_pending_ = true;
    ++counters_.zero_window_probes;
    ++persist_backoff_;
    persist_deadline_ = now + persist_interval();
  }
}

Duration TcpConnection::persist_interval() const {
  // Linux tcp_probe0_when: max(RTO, TCP_RTO_MIN) doubled per unanswered probe, up to RTO max.
  Duration interval = std::max(rto_, config_.min_rto);
  for (int i = 0; i < persist_backoff_ && interval < config_.max_rto; ++i) interval = interval * 2;
  return std::min(interval, config_.max_rto);
}

void TcpConnection::update_persist_timer(Time now) {
  const bool unsent = seq_lt(snd_nxt_, data_end() + (fin_queued_ ? 1 : 0));
  const bool want = sends_data() && snd_wnd_ == 0 && snd_nxt_ == snd_una_ && unsent &&
                    !rto_deadline_;
  if (!want) {
    persist_deadline_.reset();
    persist_backoff_ = 0;
  } else if (!persist_deadline_) {
    persist_deadline_ = now + persist_interval();
  }
}

void TcpConnection::on_rto(Time now) {
  (void)now;
  if (snd_una_ == snd_max_) return;  // nothing outstanding
  ++counters_.timeouts;
  ++rto_expiries_;
  rtt_timing_ = false;  // Karn: nothing sent before now can be timed
  const auto backoff = [this] { rto_ = std::min(rto_ * 2, config_.max_rto); };
  switch (state_) {
    case TcpState::kSynSent:
      if (rto_expiries_ > config_.syn_retries + config_.syn_linear_timeouts) {
        enter_closed(TcpError::kTimedOut);
        return;
      }
      if (rto_expiries_ > config_.syn_linear_timeouts) backoff();
      syn_pending_ = true;
      snd_nxt_ = iss_;
      return;
    case TcpState::kSynReceived:
      if (rto_expiries_ > config_.synack_retries) {
        enter_closed(TcpError::kTimedOut);
        return;
      }
      backoff();
      syn_pending_ = true;
      snd_nxt_ = iss_;
      return;
    default:
      break;
  }
  if (rto_expiries_ > config_.retries2) {
    enter_closed(TcpError::kTimedOut);
    return;
  }
  // RFC 5681 §3.1 eq. (4) on the first timeout of a segment; the loss window is one segment.
  if (rto_expiries_ == 1) ssthresh_ = std::max(flight_size() / 2, 2u * send_mss_);
  cwnd_ = send_mss_;
  bytes_acked_in_ca_ = 0;
  // RFC 6582 §3.2 step 4: no fast retransmit for duplicate ACKs of what was sent before.
  in_recovery_ = false;
  dup_acks_ = 0;
  recover_ = snd_max_;
  retransmit_head_ = false;
  snd_nxt_ = snd_una_;  // go back: resend from the first unacknowledged byte
  backoff();
}

// ---------------------------------------------------------------------------------------------
// Output

std::uint32_t TcpConnection::data_end() const {
  return buffer_seq_ + static_cast<std::uint32_t>(send_buffer_.size());
}

bool TcpConnection::sends_data() const {
  switch (state_) {
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
    case TcpState::kFinWait1:
    case TcpState::kClosing:
    case TcpState::kLastAck:
      return true;
    default:
      return false;
  }
}

std::uint32_t TcpConnection::window_edge() const {
  // Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): move the right edge only by at least
  // min(buffer / 2, MSS); never move it left.
  const auto free = static_cast<std::uint32_t>(
      std::min<std::size_t>(receive_buffer_.free(), kMaxUnscaledWindow));
  const std::uint32_t candidate = rcv_nxt_ + free;
  if (!seq_gt(candidate, rcv_adv_)) return rcv_adv_;
  const auto threshold = static_cast<std::uint32_t>(
      std::min<std::size_t>(receive_buffer_.capacity() / 2, config_.mss_bytes));
  return candidate - rcv_adv_ >= std::max<std::uint32_t>(threshold, 1) ? candidate : rcv_adv_;
}

std::uint16_t TcpConnection::advertise_window() {
  rcv_adv_ = window_edge();
  return static_cast<std::uint16_t>(rcv_adv_ - rcv_nxt_);
}

TcpSegment TcpConnection::make_segment(std::uint32_t seq, TcpFlags flags,
                                       std::size_t payload_bytes) {
  TcpSegment seg;
  seg.header.source_port = local_.port;
  seg.header.destination_port = remote_.port;
  seg.header.sequence_number = seq;
  if (flags.has(TcpFlag::kAck)) seg.header.acknowledgment_number = rcv_nxt_;
  seg.header.flags = flags;
  if (!flags.has(TcpFlag::kRst)) seg.header.window = advertise_window();
  if (payload_bytes != 0) {
    seg.payload = send_buffer_.peek(seq - buffer_seq_, payload_bytes, scratch_);
  }
  return seg;
}

TcpSegment TcpConnection::data_segment(std::uint32_t seq, std::size_t payload_bytes, bool fin) {
  TcpFlags flags = TcpFlag::kAck;
  // PSH on the segment that empties the send buffer (RFC 9293 §3.9.1 leaves it to us; Linux
  // sets it on the last segment of a write).
  if (payload_bytes != 0 && seq + payload_bytes == data_end()) flags = flags | TcpFlag::kPsh;
  if (fin) flags = flags | TcpFlag::kFin;
  return make_segment(seq, flags, payload_bytes);
}

std::optional<TcpSegment> TcpConnection::next_data_segment(Time now) {
  const std::uint32_t end = data_end();
  const std::uint32_t send_end = end + (fin_queued_ ? 1 : 0);
  if (!seq_lt(snd_nxt_, send_end)) return std::nullopt;  // nothing unsent
  const bool idle = snd_una_ == snd_max_;
  if (idle && now - last_send_ > rto_) {
    // RFC 5681 §4.1 (Linux tcp_slow_start_after_idle): restart from the initial window.
    cwnd_ = std::min(cwnd_, config_.initial_cwnd_segments * send_mss_);
  }
  const std::uint32_t window_end = snd_una_ + std::min(snd_wnd_, cwnd_);
  if (!seq_lt(snd_nxt_, window_end)) return std::nullopt;  // window full (zero: persist)
  const std::uint32_t usable = window_end - snd_nxt_;
  const std::uint32_t available = seq_lt(snd_nxt_, end) ? end - snd_nxt_ : 0;
  const std::uint32_t len = std::min({available, std::uint32_t{send_mss_}, usable});
  const bool fin = fin_queued_ && snd_nxt_ + len == fin_seq_ && usable > len;
  if (len == 0 && !fin) return std::nullopt;
  if (len < send_mss_ && snd_nxt_ != snd_una_) {
    // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): while data is in flight (so an ACK or the RTO
    // will come), a short segment waits unless it carries everything queued; Nagle (RFC 896)
    // makes even that wait.
    const bool empties_buffer = snd_nxt_ + len == end;
    if (!empties_buffer || (config_.nagle && len != 0)) return std::nullopt;
  }
  return data_segment(snd_nxt_, len, fin);
}

std::optional<TcpSegment> TcpConnection::poll_transmit(Time now) {
  advance(now);
  std::optional<TcpSegment> seg = build_segment(now);
  if (seg) on_sent(*seg, now);
  update_persist_timer(now);
  return seg;
}

std::optional<TcpSegment> TcpConnection::build_segment(Time now) {
  if (rst_pending_) {
    rst_pending_ = false;
    return make_segment(snd_max_, TcpFlag::kRst | TcpFlag::kAck, 0);
  }
  if (reset_reply_seq_) {
    const std::uint32_t seq = *reset_reply_seq_;
    reset_reply_seq_.reset();
    return make_segment(seq, TcpFlag::kRst, 0);
  }
  if (state_ == TcpState::kClosed) return std::nullopt;
  if (syn_pending_ && (state_ == TcpState::kSynSent || state_ == TcpState::kSynReceived)) {
    const TcpFlags flags =
        state_ == TcpState::kSynSent ? TcpFlags(TcpFlag::kSyn) : TcpFlag::kSyn | TcpFlag::kAck;
    TcpSegment seg = make_segment(iss_, flags, 0);
    seg.header.options.mss = config_.mss_bytes;  // RFC 9293 §3.7.1: always in the SYN
    return seg;
  }
  if (state_ == TcpState::kSynSent) return std::nullopt;
  if (sends_data()) {
    if (retransmit_head_) {
      retransmit_head_ = false;
      if (snd_una_ != snd_max_) {
        // Fast retransmit or partial ACK (RFC 6582): the first unacknowledged segment, as much
        // as was sent of it, whatever the windows say now.
        const std::uint32_t end = data_end();
        const std::uint32_t sent = snd_max_ - snd_una_;
        const std::uint32_t available = seq_lt(snd_una_, end) ? end - snd_una_ : 0;
        const std::uint32_t len = std::min({available, sent, std::uint32_t{send_mss_}});
        const bool fin = fin_queued_ && snd_una_ + len == fin_seq_ && sent > len;
        if (len != 0 || fin) return data_segment(snd_una_, len, fin);
      }
    }
    if (auto seg = next_data_segment(now)) return seg;
  }
  if (probe_pending_) {
    probe_pending_ = false;
    if (sends_data()) {
      // Linux tcp_xmit_probe_skb: an ACK with an old sequence number, which the peer answers with
      // an ACK carrying its current window (RFC 9293 §3.10.7.4, "first").
      return make_segment(snd_una_ - 1, TcpFlag::kAck, 0);
    }
  }
  if (ack_now_) return make_segment(snd_max_, TcpFlag::kAck, 0);
  return std::nullopt;
}

void TcpConnection::on_sent(const TcpSegment& seg, Time now) {
  const wire::TcpHeader& h = seg.header;
  ++counters_.segments_out;
  counters_.bytes_sent += seg.payload.size();
  if (h.has(TcpFlag::kRst)) {
    ++counters_.resets_out;
    return;
  }
  if (h.has(TcpFlag::kAck)) {
    // Every segment carries the latest ACK: nothing is owed any more.
    ack_now_ = false;
    unacked_bytes_ = 0;
    delack_deadline_.reset();
  }
  const bool syn = h.has(TcpFlag::kSyn);
  const auto seq_len = static_cast<std::uint32_t>(seg.payload.size() + (syn ? 1 : 0) +
                                                  (h.has(TcpFlag::kFin) ? 1 : 0));
  if (syn) syn_pending_ = false;
  if (seq_len == 0) return;
  const std::uint32_t seq = h.sequence_number;
  const std::uint32_t end = seq + seq_len;
  if (seq_lt(seq, snd_max_)) {
    ++counters_.retransmitted_segments;
    rtt_timing_ = false;  // Karn: an ACK could be for either copy
  } else if (!rtt_timing_) {
    rtt_timing_ = true;
    rtt_seq_ = seq;
    rtt_start_ = now;
  }
  if (seq == snd_nxt_) snd_nxt_ = end;
  if (seq_gt(end, snd_max_)) snd_max_ = end;
  if (!rto_deadline_) rto_deadline_ = now + rto_;  // RFC 6298 §5.1
  last_send_ = now;
}

// ---------------------------------------------------------------------------------------------
// Listener and resets for unknown connections

TcpListener::Outcome TcpListener::on_segment(wire::Ipv4Address remote_address,
                                             const wire::TcpView& segment, std::uint32_t isn,
                                             Time now) const {
  Outcome out;
  if (segment.has(TcpFlag::kRst)) return out;
  if (segment.has(TcpFlag::kAck)) {
    if (auto rst = tcp_reset_for(segment)) out.reply = TcpSegment{.header = *rst, .payload = {}};
    return out;
  }
  if (!segment.has(TcpFlag::kSyn)) return out;
  auto conn = TcpConnection::accept(config_, local_,
                                    TcpEndpoint{remote_address, segment.source_port()}, segment,
                                    isn, now);
  if (conn) out.connection.emplace(std::move(*conn));
  return out;
}

std::optional<wire::TcpHeader> tcp_reset_for(const wire::TcpView& segment) {
  if (segment.has(TcpFlag::kRst)) return std::nullopt;
  wire::TcpHeader h;
  h.source_port = segment.destination_port();
  h.destination_port = segment.source_port();
  if (segment.has(TcpFlag::kAck)) {
    h.sequence_number = segment.acknowledgment_number();
    h.flags = TcpFlag::kRst;
  } else {
    const auto length = static_cast<std::uint32_t>(segment.payload().size() +
                                                   (segment.has(TcpFlag::kSyn) ? 1 : 0) +
                                                   (segment.has(TcpFlag::kFin) ? 1 : 0));
    h.sequence_number = 0;
    h.acknowledgment_number = segment.sequence_number() + length;
    h.flags = TcpFlag::kRst | TcpFlag::kAck;
  }
  return h;
}

}  // namespace calisim::dataplane
