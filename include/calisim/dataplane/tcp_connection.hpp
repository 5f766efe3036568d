#pragma once
// One TCP connection as a sans-IO state machine (RFC 9293): it never reads a clock and never
// touches a socket or device. The caller hands it the current time with every call, feeds it the
// segments addressed to it, drains the segments it wants to send, and polls it again at
// next_deadline(). The same object runs under the simulator and in real time.
//
//   conn.on_segment(view, now);                         // checksum and addresses already checked
//   while (auto seg = conn.poll_transmit(now)) send(*seg);
//   wake me at conn.next_deadline()
//
// After every call that may change what is to be sent (connect, write, read, close, abort,
// on_segment, on_frag_needed) and whenever next_deadline() has passed, drain poll_transmit(now).
//
// What is modelled, and where it follows Linux rather than the letter of an RFC:
//   - handshake with the MSS option only (no window scaling, SACK or timestamps, so the window
//     is at most 65535); the peer's MSS is honoured, 536 when absent (RFC 9293 §3.7.1);
//   - the full state machine of RFC 9293 §3.3.2, RFC 5961 checks for RST, SYN and ACK with
//     challenge ACKs (not rate limited), TIME-WAIT of 60 s (Linux TCP_TIMEWAIT_LEN);
//   - RTO per RFC 6298 (1 s initial, 200 ms minimum and 120 s maximum like Linux, Karn, backoff;
//     3 s after a handshake that gave no RTT sample, §5.7 and Linux tcp_init_metrics); SYN
//     retransmission as Linux 6.5+ (first tcp_syn_linear_timeouts backoffs linear), SYN-ACK with
//     tcp_synack_retries, data with tcp_retries2 expiries before giving up;
//   - NewReno (RFC 5681 slow start / congestion avoidance, RFC 6582 fast recovery with partial
//     ACKs, "impatient" timer), cwnd in bytes, initial window 10 segments (RFC 6928, Linux), one
//     segment after a lost SYN (RFC 5681 §3.1), slow start after idle (RFC 5681 §4.1);
//   - after an RTO the sender goes back to SND.UNA and resends in slow start (as Linux marks
//     everything outstanding lost);
//   - delayed ACKs (Linux's 40 ms minimum; an ACK at least every second full segment, at once
//     for out-of-order data, hole fills and FIN), receiver SWS avoidance, window updates when a
//     read doubles the window (Linux tcp_cleanup_rbuf);
//   - zero-window probes as Linux sends them (tcp_xmit_probe_skb: a bare ACK with SEQ=SND.UNA-1,
//     which the receiver must answer), on the persist timer with backoff;
//   - PSH on the segment that empties the send buffer; Nagle off by default (BIRD and GoBGP set
//     TCP_NODELAY), available through TcpConfig::nagle;
//   - PMTU: on_frag_needed lowers the MSS and resends what is in flight at the new size without
//     touching cwnd (Linux tcp_v4_mtu_reduced -> tcp_simple_retransmit).
// Not modelled: urgent data (URG is ignored), data carried on a SYN (dropped; Linux does the same
// without TCP Fast Open), keepalives, FIN-WAIT-2 timeout for orphans, ECN, SACK, timestamps,
// window scaling.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <calisim/dataplane/tcp_buffers.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>
#include <calisim/wire/tcp.hpp>

namespace calisim::dataplane {

struct TcpEndpoint {
  wire::Ipv4Address address;
  std::uint16_t port = 0;
  bool operator==(const TcpEndpoint&) const = default;
};

// RFC 9293 §3.3.2. LISTEN belongs to TcpListener; a TcpConnection is never in it.
enum class TcpState : std::uint8_t {
  kClosed,
  kListen,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};

// As `ss` prints it (iproute2 misc/ss.c sstate_name): "ESTAB", "SYN-RECV", "UNCONN" for CLOSED.
std::string_view ss_state_name(TcpState state);
// As RFC 9293 spells it: "ESTABLISHED", "SYN-RECEIVED", "CLOSED".
std::string_view to_string(TcpState state);

// Why a connection ended without an orderly close; the errno a socket would report.
enum class TcpError : std::uint8_t {
  kReset,     // ECONNRESET: an acceptable RST in a synchronized state
  kRefused,   // ECONNREFUSED: RST in answer to our SYN
  kTimedOut,  // ETIMEDOUT: retransmissions exhausted
  // EHOSTUNREACH / ENETUNREACH: an ICMP host / network unreachable about our SYN (tcp_v4_err:
  // in SYN-SENT every ICMP error is fatal; in synchronized states it is only a soft error).
  kHostUnreachable,
  kNetworkUnreachable,
};
std::string_view to_string(TcpError error);

struct TcpConfig {
  // The MSS we advertise and the largest segment we send: route MTU - 40 (Linux advmss).
  std::uint16_t mss_bytes = 1460;
  std::size_t send_buffer_bytes = 256 * 1024;
  // The advertised window is the free space here, capped at 65535 (no window scaling).
  std::size_t receive_buffer_bytes = 65535;
  std::uint32_t initial_cwnd_segments = 10;  // Linux TCP_INIT_CWND, RFC 6928
  Duration initial_rto = Duration::seconds(1);     // RFC 6298 §2.1, Linux TCP_TIMEOUT_INIT
  Duration fallback_rto = Duration::seconds(3);    // RFC 6298 §5.7, Linux TCP_TIMEOUT_FALLBACK
  Duration min_rto = Duration::milliseconds(200);  // Linux TCP_RTO_MIN
  Duration max_rto = Duration::seconds(120);       // Linux TCP_RTO_MAX
  int syn_retries = 6;           // Linux tcp_syn_retries
  int syn_linear_timeouts = 4;   // Linux tcp_syn_linear_timeouts (6.5+); 0 = pure doubling
  int synack_retries = 5;        // Linux tcp_synack_retries
  int retries2 = 15;             // Linux tcp_retries2: RTO expiries before ETIMEDOUT
  Duration time_wait = Duration::seconds(60);  // Linux TCP_TIMEWAIT_LEN (2*MSL)
  bool delayed_ack = true;
  Duration delayed_ack_timeout = Duration::milliseconds(40);  // Linux TCP_DELACK_MIN
  bool nagle = false;  // off: BGP daemons set TCP_NODELAY
  // Frag-needed below this is taken as this (Linux net.ipv4.route.min_pmtu); MSS = PMTU - 40.
  std::uint16_t min_pmtu_bytes = 552;
};

struct TcpCounters {
  std::uint64_t segments_in = 0;
  std::uint64_t segments_out = 0;
  std::uint64_t bytes_sent = 0;              // payload bytes, retransmissions included
  std::uint64_t bytes_acked = 0;             // payload bytes the peer acknowledged
  std::uint64_t bytes_received = 0;          // payload bytes delivered in order
  std::uint64_t retransmitted_segments = 0;  // SYN, SYN-ACK, data and FIN sent again
  std::uint64_t fast_retransmits = 0;        // entries into fast recovery (RFC 5681 §3.2)
  std::uint64_t timeouts = 0;                // RTO expiries
  std::uint64_t dup_acks_in = 0;             // duplicate ACKs per RFC 5681 §2
  std::uint64_t zero_window_probes = 0;
  std::uint64_t out_of_order_segments = 0;   // held for reassembly
  std::uint64_t challenge_acks = 0;          // RFC 5961
  std::uint64_t resets_in = 0;               // acceptable RSTs
  std::uint64_t resets_out = 0;
  std::uint64_t rtt_samples = 0;
  std::uint64_t pmtu_reductions = 0;
};

// One segment to send. `payload` points into the connection (its send buffer or a scratch
// buffer) and stays valid until the next non-const call on that connection.
struct TcpSegment {
  wire::TcpHeader header;
  wire::Bytes payload;

  std::size_t size() const { return header.header_length() + payload.size(); }
  // Writes the whole segment into `out` (out.size() == size()): the payload after the header,
  // then the header with its checksum over the IPv4 pseudo-header of source and destination.
  void emit(wire::MutableBytes out, wire::Ipv4Address source,
            wire::Ipv4Address destination) const;
};

class TcpConnection {
 public:
  // An active opener, CLOSED until connect(). `isn` comes from the caller (a seeded
  // RandomStream under the simulator).
  TcpConnection(const TcpConfig& config, TcpEndpoint local, TcpEndpoint remote, std::uint32_t isn);

  // A passive opener for a received SYN (TcpListener calls this): in SYN-RECEIVED with the
  // SYN-ACK pending. kInvalidArgument if `syn` is not a SYN without ACK and RST.
  [[nodiscard]] static Result<TcpConnection> accept(const TcpConfig& config, TcpEndpoint local,
                                                    TcpEndpoint remote, const wire::TcpView& syn,
                                                    std::uint32_t isn, Time now);

  TcpConnection(TcpConnection&&) noexcept = default;
  TcpConnection& operator=(TcpConnection&&) noexcept = default;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // CLOSED -> SYN-SENT; the SYN is the next poll_transmit. Aborts if not a fresh connection.
  void connect(Time now);
  // Queues application bytes; returns how many fit. 0 once close() was called or the
  // connection is gone. Data written before the handshake completes waits for it.
  std::size_t write(wire::Bytes data);
  // Copies in-order received bytes out; returns how many (0: none yet, or at_eof()).
  std::size_t read(wire::MutableBytes out);
  // Orderly close: FIN after the queued data (RFC 9293 §3.10.4). In SYN-SENT simply CLOSED.
  void close(Time now);
  // Abort (RFC 9293 §3.10.5): CLOSED at once, queued data discarded; from SYN-RECEIVED,
  // ESTABLISHED, FIN-WAIT-1/2 or CLOSE-WAIT the next poll_transmit is a RST|ACK <SEQ=SND.NXT>
  // (Linux tcp_need_reset and tcp_send_active_reset).
  void abort(Time now);
  // The host lost power: CLOSED at once, nothing more is sent (no RST, no FIN).
  void lose_power(Time now);

  // A segment for this connection (ports and addresses match, checksum verified).
  void on_segment(const wire::TcpView& segment, Time now);
  // ICMP destination unreachable / fragmentation needed quoting one of our segments: lowers the
  // MSS to next_hop_mtu - 40 (never below min_pmtu_bytes - 40; larger values are ignored) and
  // resends what is in flight at the new size at once. next_hop_mtu 0 (pre-RFC 1191 router) is
  // ignored.
  void on_frag_needed(std::uint16_t next_hop_mtu, Time now);
  // Another ICMP destination unreachable quoting one of our segments (tcp_v4_err): in SYN-SENT
  // the connect fails with `error` (CLOSED); in any other state it is a soft error, ignored.
  void on_unreachable(TcpError error, Time now);
  // Whether an ICMP error quoting sequence number `seq` may refer to this connection: SND.UNA
  // <= seq <= SND.NXT (RFC 5927 §4.1, Linux tcp_v4_err). The stack checks this before calling
  // on_frag_needed.
  bool icmp_sequence_acceptable(std::uint32_t seq) const;

  // The next segment to send, if any; call until it returns nullopt. Also runs expired timers.
  std::optional<TcpSegment> poll_transmit(Time now);
  // When a timer (retransmission, persist, delayed ACK, TIME-WAIT) next wants poll_transmit.
  std::optional<Time> next_deadline() const;

  TcpState state() const { return state_; }
  std::string_view state_name() const { return ss_state_name(state_); }
  std::optional<TcpError> error() const { return error_; }
  const TcpEndpoint& local() const { return local_; }
  const TcpEndpoint& remote() const { return remote_; }
  const TcpConfig& config() const { return config_; }
  const TcpCounters& counters() const { return counters_; }

  std::uint32_t iss() const { return iss_; }
  // The largest payload we send: min(peer's MSS, our MSS, PMTU - 40).
  std::uint16_t send_mss() const { return send_mss_; }
  // The MSS the peer announced (536 if it sent none); 0 before its SYN.
  std::uint16_t peer_mss() const { return peer_mss_; }
  std::size_t readable() const { return receive_buffer_.readable(); }
  // The peer's FIN has arrived and every byte before it was read.
  bool at_eof() const { return fin_received_ && receive_buffer_.readable() == 0; }
  std::size_t send_buffer_free() const;
  // Bytes written and not yet acknowledged by the peer.
  std::size_t send_buffer_used() const { return send_buffer_.size(); }
  std::uint32_t cwnd() const { return cwnd_; }
  std::uint32_t ssthresh() const { return ssthresh_; }
  // The peer's window (SND.WND) and ours as last advertised.
  std::uint32_t send_window() const { return snd_wnd_; }
  std::uint32_t receive_window() const { return rcv_adv_ - rcv_nxt_; }
  Duration rto() const { return rto_; }
  std::optional<Duration> srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  bool in_fast_recovery() const { return in_recovery_; }

 private:
  struct Incoming;

  // State and timers (tcp_connection.cpp).
  void advance(Time now);
  void set_state(TcpState next);
  void enter_closed(std::optional<TcpError> error);
  void enter_time_wait(Time now);
  void on_rto(Time now);
  Duration persist_interval() const;
  void update_persist_timer(Time now);
  bool accepts_writes() const;
  bool sends_data() const;

  // Output (tcp_connection.cpp).
  std::optional<TcpSegment> build_segment(Time now);
  std::optional<TcpSegment> next_data_segment(Time now);
  TcpSegment make_segment(std::uint32_t seq, wire::TcpFlags flags, std::size_t payload_bytes);
  TcpSegment data_segment(std::uint32_t seq, std::size_t payload_bytes, bool fin);
  void on_sent(const TcpSegment& seg, Time now);
  std::uint32_t window_edge() const;
  std::uint16_t advertise_window();
  std::uint32_t data_end() const;
  std::uint32_t flight_size() const { return snd_max_ - snd_una_; }

  // Input (tcp_input.cpp).
  void on_segment_syn_sent(const Incoming& in, Time now);
  bool sequence_acceptable(const Incoming& in) const;
  bool process_ack(const Incoming& in, Time now);
  bool process_data(const Incoming& in, Time now);
  void process_fin(Time now);
  void ack_new_data(std::uint32_t ack, Time now);
  void on_duplicate_ack();
  void take_rtt_sample(Duration sample);
  void on_handshake_complete();
  void apply_peer_mss(std::optional<std::uint16_t> mss);
  void challenge_ack();

  TcpConfig config_;
  TcpEndpoint local_;
  TcpEndpoint remote_;
  TcpState state_ = TcpState::kClosed;
  std::optional<TcpError> error_;
  bool passive_ = false;
  TcpCounters counters_;

  TcpSendBuffer send_buffer_;
  TcpReceiveBuffer receive_buffer_;
  std::vector<std::uint8_t> scratch_;  // a wrapped payload is copied here

  // Send sequence space (RFC 9293 §3.3.1). snd_max_ is the highest sequence sent; snd_nxt_
  // drops back to snd_una_ after an RTO (go-back-N) and climbs again.
  std::uint32_t iss_ = 0;
  std::uint32_t snd_una_ = 0;
  std::uint32_t snd_nxt_ = 0;
  std::uint32_t snd_max_ = 0;
  std::uint32_t snd_wnd_ = 0;
  std::uint32_t max_snd_wnd_ = 0;
  std::uint32_t snd_wl1_ = 0;
  std::uint32_t snd_wl2_ = 0;
  std::uint32_t buffer_seq_ = 0;  // sequence number of the send buffer's front byte
  bool fin_queued_ = false;       // close() called: FIN follows the buffered data
  std::uint32_t fin_seq_ = 0;     // its sequence number, once fin_queued_
  bool syn_pending_ = false;      // SYN or SYN-ACK to (re)send
  bool rst_pending_ = false;      // abort(): RST|ACK <SEQ=SND.NXT>
  std::optional<std::uint32_t> reset_reply_seq_;  // RST <SEQ=SEG.ACK> for an unacceptable ACK
  bool probe_pending_ = false;    // zero-window probe due
  bool retransmit_head_ = false;  // fast retransmit / partial ACK: resend SND.UNA's segment

  // Receive sequence space.
  std::uint32_t irs_ = 0;
  std::uint32_t rcv_nxt_ = 0;
  std::uint32_t rcv_adv_ = 0;  // right edge of the window last advertised; never moves left
  bool fin_received_ = false;
  std::optional<std::uint32_t> pending_fin_seq_;  // a FIN that arrived out of order
  bool ack_now_ = false;
  std::size_t unacked_bytes_ = 0;  // received since our last ACK (delayed-ACK accounting)
  std::uint16_t rcv_mss_ = 536;    // largest segment seen: "full-sized" for delayed ACKs

  // Congestion control (RFC 5681, RFC 6582), in bytes.
  std::uint16_t send_mss_ = 536;
  std::uint16_t peer_mss_ = 0;
  std::uint16_t pmtu_mss_ = 0;  // path MTU - 40, lowered by on_frag_needed
  std::uint32_t cwnd_ = 0;
  std::uint32_t ssthresh_ = 0;
  std::uint32_t bytes_acked_in_ca_ = 0;  // congestion avoidance: +1 MSS per cwnd acked
  std::uint32_t dup_acks_ = 0;
  bool in_recovery_ = false;
  bool partial_ack_seen_ = false;
  std::uint32_t recover_ = 0;
  Time last_send_;

  // RTT estimation (RFC 6298). One segment is timed at a time; none that was retransmitted.
  Duration rto_;
  std::optional<Duration> srtt_;
  Duration rttvar_;
  bool rtt_timing_ = false;
  std::uint32_t rtt_seq_ = 0;
  Time rtt_start_;
  int rto_expiries_ = 0;  // consecutive, for the retry limits

  // Timers: absent when not armed.
  std::optional<Time> rto_deadline_;
  std::optional<Time> persist_deadline_;
  int persist_backoff_ = 0;
  std::optional<Time> delack_deadline_;
  std::optional<Time> time_wait_deadline_;
};

// A listening socket's behaviour for segments that match no connection (RFC 9293 §3.10.7.2).
class TcpListener {
 public:
  TcpListener(const TcpConfig& config, TcpEndpoint local) : config_(config), local_(local) {}

  struct Outcome {
    std::optional<TcpConnection> connection;  // a SYN: the new connection, SYN-ACK pending
    std::optional<TcpSegment> reply;          // an ACK: the RST to send (no payload)
  };
  // RST: ignored. ACK: a RST <SEQ=SEG.ACK>. SYN: a connection with ISN `isn`. Anything else is
  // dropped.
  Outcome on_segment(wire::Ipv4Address remote_address, const wire::TcpView& segment,
                     std::uint32_t isn, Time now) const;

  const TcpEndpoint& local() const { return local_; }
  const TcpConfig& config() const { return config_; }

 private:
  TcpConfig config_;
  TcpEndpoint local_;
};

// The reply to a segment that reached no connection (CLOSED, RFC 9293 §3.10.7.1): none to a
// RST; <SEQ=SEG.ACK><CTL=RST> to a segment with ACK; otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
// <CTL=RST,ACK>. Ports are swapped; the caller swaps the addresses.
std::optional<wire::TcpHeader> tcp_reset_for(const wire::TcpView& segment);

}  // namespace calisim::dataplane
