#pragma once
// Two TcpConnections joined by a simulated path, driven by calisim::Simulator: host A connects to
// a listener on host B. Every segment is emitted to wire bytes with TcpSegment::emit (checksum
// included) and parsed back with TcpHeader::parse on arrival, so the wire format is exercised.
// Each direction has a one-way delay, an optional rate with a drop-tail queue, random loss from a
// seeded stream, deterministic drops (the Nth segment, or any segment a predicate picks) and an
// optional MTU that answers oversized segments with frag-needed. Every segment sent is traced.
//
// The "application" on each host writes a given byte string, optionally closes when all of it
// is written, reads everything that arrives, and may react through a hook.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <calisim/capture/pcapng_writer.hpp>
#include <calisim/dataplane/tcp_connection.hpp>
#include <calisim/sim/random.hpp>
#include <calisim/sim/simulator.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/tcp.hpp>

namespace calisim::dataplane::test {

struct LinkConfig {
  Duration delay = Duration::milliseconds(1);
  std::uint64_t rate_bps = 0;           // 0: no serialization delay
  std::size_t queue_limit_bytes = 0;    // with a rate: drop-tail beyond this backlog; 0: none
  double loss = 0.0;                    // probability of dropping each segment
  std::vector<std::uint64_t> drop_nth;  // 1-based indices among the segments sent this way
  std::function<bool(const wire::TcpHeader&, std::size_t payload_bytes)> drop_if;
  std::uint16_t mtu = 0;                // IP packets above it are dropped with frag-needed
};

struct TraceEntry {
  Time time;
  char from = 'A';
  wire::TcpHeader header;
  std::size_t payload_bytes = 0;
  bool dropped = false;

  bool has(wire::TcpFlag f) const { return header.has(f); }
  std::uint32_t seq() const { return header.sequence_number; }
  std::uint32_t seq_end() const {
    return header.sequence_number + static_cast<std::uint32_t>(payload_bytes) +
           (has(wire::TcpFlag::kSyn) ? 1 : 0) + (has(wire::TcpFlag::kFin) ? 1 : 0);
  }
};

class TcpTestBed {
 public:
  struct Host {
    char name = 'A';
    TcpEndpoint endpoint;
    TcpConfig config;
    std::optional<TcpConnection> conn;
    std::optional<TcpListener> listener;
    RandomStream isn_stream{0};
    std::optional<std::uint32_t> isn;  // instead of a draw from isn_stream
    // The application.
    std::vector<std::uint8_t> to_send;
    std::size_t written = 0;
    bool close_when_sent = false;
    bool close_called = false;
    bool reading = true;
    std::vector<std::uint8_t> received;
    std::function<void(Host&, Time)> on_data;  // after reads; may write or close
    // The stack.
    std::uint64_t stack_resets = 0;  // RSTs sent for segments that matched no connection
    EventId wakeup;
    std::optional<Time> wakeup_at;

    TcpConnection& c() { return *conn; }
    void send(std::string_view text) {
      to_send.insert(to_send.end(), text.begin(), text.end());
    }
    std::string received_text() const { return {received.begin(), received.end()}; }
  };

  TcpTestBed(std::uint64_t seed, LinkConfig a_to_b, LinkConfig b_to_a, TcpConfig a_config = {},
             TcpConfig b_config = {})
      : sim_(seed) {
    links_[0].config = std::move(a_to_b);
    links_[1].config = std::move(b_to_a);
    links_[0].loss = sim_.random("link.loss/A>B");
    links_[1].loss = sim_.random("link.loss/B>A");
    hosts_[0].name = 'A';
    hosts_[0].endpoint = TcpEndpoint{wire::Ipv4Address(10, 0, 0, 1), 40000};
    hosts_[0].config = a_config;
    hosts_[0].isn_stream = sim_.random("tcp.isn/A");
    hosts_[1].name = 'B';
    hosts_[1].endpoint = TcpEndpoint{wire::Ipv4Address(10, 0, 0, 2), 179};
    hosts_[1].config = b_config;
    hosts_[1].isn_stream = sim_.random("tcp.isn/B");
    hosts_[1].listener.emplace(b_config, hosts_[1].endpoint);
  }

  Simulator& sim() { return sim_; }
  Host& a() { return hosts_[0]; }
  Host& b() { return hosts_[1]; }
  const std::vector<TraceEntry>& trace() const { return trace_; }
  LinkConfig& link(char from) { return links_[from == 'A' ? 0 : 1].config; }

  // Writes every segment to a pcapng file (raw IPv4) for tshark.
  void capture_to(const std::filesystem::path& path) {
    auto w = capture::PcapngWriter::open(path, "calisim tcp test");
    ASSERT_TRUE(w.has_value()) << w.error().message;
    capture_.emplace(std::move(*w));
    auto id = capture_->add_interface("path", capture::LinkType::kRawIp);
    ASSERT_TRUE(id.has_value());
    capture_if_ = *id;
  }
  void finish_capture() {
    if (capture_) {
      ASSERT_TRUE(capture_->close().has_value());
    }
  }

  // A opens a connection to B at `at`.
  void connect_at(Time at) {
    sim_.schedule_at(at, [this] {
      Host& h = hosts_[0];
      h.conn.emplace(h.config, h.endpoint, hosts_[1].endpoint,
                     h.isn ? *h.isn : h.isn_stream.next_u32());
      h.conn->connect(sim_.now());
      service(0);
    });
  }
  // Runs `f(host, now)` at `at`, then services the host.
  void at(Time when, char host, std::function<void(Host&, Time)> f) {
    pending_actions_.push_back(std::move(f));
    const std::size_t index = pending_actions_.size() - 1;
    const int side = host == 'A' ? 0 : 1;
    sim_.schedule_at(when, [this, index, side] {
      pending_actions_[index](hosts_[side], sim_.now());
      service(side);
    });
  }

  void run_until(Time t) { sim_.run_until(t); }
  void run() { sim_.run(); }

  // The host's application and connection get a turn: write, close, read, drain, re-arm.
  void service(int side) {
    Host& h = hosts_[side];
    if (!h.conn) return;
    const Time now = sim_.now();
    app_write(h, now);
    if (h.reading) {
      std::size_t n;
      while ((n = h.conn->read(read_buffer_)) > 0) {
        h.received.insert(h.received.end(), read_buffer_.begin(),
                          read_buffer_.begin() + static_cast<std::ptrdiff_t>(n));
      }
      if (h.on_data) h.on_data(h, now);
      app_write(h, now);
    }
    while (auto seg = h.conn->poll_transmit(now)) transmit(side, *seg);
    rearm(side);
  }

  static std::string describe(const TraceEntry& e, std::uint32_t own_isn, std::uint32_t peer_isn) {
    const bool syn = e.has(wire::TcpFlag::kSyn);
    std::string s = fmt::format("{} {} seq={}", e.from, e.header.flags.to_string(),
                                e.header.sequence_number - own_isn);
    if (e.has(wire::TcpFlag::kAck)) {
      s += fmt::format(" ack={}", e.header.acknowledgment_number - peer_isn);
    }
    s += fmt::format(" len={}", e.payload_bytes);
    if (syn && e.header.options.mss) s += fmt::format(" mss={}", *e.header.options.mss);
    if (e.dropped) s += " DROPPED";
    return s;
  }
  // The trace with sequence numbers relative to each side's ISN, one line per segment.
  std::vector<std::string> relative_trace() const {
    std::vector<std::string> out;
    for (const auto& e : trace_) {
      const std::uint32_t own = e.from == 'A' ? isn_a() : isn_b();
      const std::uint32_t peer = e.from == 'A' ? isn_b() : isn_a();
      out.push_back(describe(e, own, peer));
    }
    return out;
  }
  // Every segment with its time, absolute numbers: for determinism checks.
  std::vector<std::string> full_trace() const {
    std::vector<std::string> out;
    for (const auto& e : trace_) {
      out.push_back(fmt::format("{} {} {} {} {} w={} len={}{}", e.time.ns(), e.from,
                                e.header.flags.to_string(), e.header.sequence_number,
                                e.header.acknowledgment_number, e.header.window, e.payload_bytes,
                                e.dropped ? " X" : ""));
    }
    return out;
  }
  std::uint32_t isn_a() const { return hosts_[0].conn ? hosts_[0].conn->iss() : 0; }
  std::uint32_t isn_b() const { return hosts_[1].conn ? hosts_[1].conn->iss() : 0; }

  std::uint64_t frag_needed_sent = 0;
  std::uint64_t queue_drops = 0;

 private:
  struct Link {
    LinkConfig config;
    RandomStream loss{0};
    std::uint64_t sent = 0;
    Time busy_until;
    std::deque<std::vector<std::uint8_t>> in_flight;
  };

  void app_write(Host& h, Time now) {
    if (h.written < h.to_send.size()) {
      h.written += h.conn->write(wire::Bytes(h.to_send).subspan(h.written));
    }
    // Like a socket application, close only once connect() has completed: close() in SYN-SENT
    // discards the connection (RFC 9293 §3.10.4).
    if (h.close_when_sent && !h.close_called && h.written == h.to_send.size() &&
        h.conn->state() != TcpState::kSynSent) {
      h.close_called = true;
      h.conn->close(now);
    }
  }

  void rearm(int side) {
    Host& h = hosts_[side];
    const std::optional<Time> next = h.conn ? h.conn->next_deadline() : std::nullopt;
    if (next == h.wakeup_at && (!next || sim_.is_pending(h.wakeup))) return;
    if (h.wakeup.valid()) sim_.cancel(h.wakeup);
    h.wakeup = EventId();
    h.wakeup_at = next;
    if (next) {
      h.wakeup = sim_.schedule_at(std::max(*next, sim_.now()), [this, side] {
        hosts_[side].wakeup_at.reset();
        service(side);
      });
    }
  }

  void transmit(int side, const TcpSegment& seg) {
    const Host& from = hosts_[side];
    const Host& to = hosts_[1 - side];
    std::vector<std::uint8_t> bytes(seg.size());
    seg.emit(bytes, from.endpoint.address, to.endpoint.address);
    transmit_bytes(side, std::move(bytes), seg.header, seg.payload.size());
  }

  void transmit_bytes(int side, std::vector<std::uint8_t> bytes, const wire::TcpHeader& header,
                      std::size_t payload_bytes) {
    Link& link = links_[side];
    const Time now = sim_.now();
    const std::uint64_t index = ++link.sent;
    const std::size_t ip_bytes = bytes.size() + 20;
    bool dropped = false;
    if (link.config.loss > 0 && link.loss.bernoulli(link.config.loss)) dropped = true;
    if (std::find(link.config.drop_nth.begin(), link.config.drop_nth.end(), index) !=
        link.config.drop_nth.end()) {
      dropped = true;
    }
    if (link.config.drop_if && link.config.drop_if(header, payload_bytes)) dropped = true;
    if (!dropped && link.config.mtu != 0 && ip_bytes > link.config.mtu) {
      dropped = true;
      ++frag_needed_sent;
      // The router at the far end of the link answers with ICMP 3/4 after one delay.
      const std::uint16_t mtu = link.config.mtu;
      const std::uint32_t seq = header.sequence_number;
      sim_.schedule_after(link.config.delay, [this, side, mtu, seq] {
        Host& h = hosts_[side];
        if (h.conn && h.conn->icmp_sequence_acceptable(seq)) {
          h.conn->on_frag_needed(mtu, sim_.now());
          service(side);
        }
      });
    }
    Time depart = now;
    if (!dropped && link.config.rate_bps != 0) {
      const Time start = std::max(now, link.busy_until);
      if (link.config.queue_limit_bytes != 0) {
        const auto backlog = static_cast<std::uint64_t>(
            (start - now).ns() * static_cast<std::int64_t>(link.config.rate_bps / 8) /
            1'000'000'000);
        if (backlog + ip_bytes > link.config.queue_limit_bytes) {
          dropped = true;
          ++queue_drops;
        }
      }
      if (!dropped) {
        const auto tx_ns = static_cast<std::int64_t>(ip_bytes * 8 * 1'000'000'000ULL /
                                                     link.config.rate_bps);
        link.busy_until = start + Duration::nanoseconds(tx_ns);
        depart = link.busy_until;
      }
    }
    trace_.push_back(TraceEntry{.time = now,
                                .from = hosts_[side].name,
                                .header = header,
                                .payload_bytes = payload_bytes,
                                .dropped = dropped});
    if (capture_) write_capture(side, bytes, now);
    if (dropped) return;
    link.in_flight.push_back(std::move(bytes));
    sim_.schedule_at(depart + link.config.delay, [this, side] { deliver(side); });
  }

  void write_capture(int side, const std::vector<std::uint8_t>& tcp, Time now) {
    wire::Ipv4Header ip;
    ip.total_length = static_cast<std::uint16_t>(20 + tcp.size());
    ip.identification = 0;
    ip.dont_fragment = true;
    ip.protocol = wire::IpProtocol::kTcp;
    ip.source = hosts_[side].endpoint.address;
    ip.destination = hosts_[1 - side].endpoint.address;
    std::vector<std::uint8_t> frame(20 + tcp.size());
    ip.emit(frame);
    std::copy(tcp.begin(), tcp.end(), frame.begin() + 20);
    ASSERT_TRUE(capture_->write_packet(capture_if_, now, frame).has_value());
  }

  void deliver(int from_side) {
    Link& link = links_[from_side];
    const std::vector<std::uint8_t> bytes = std::move(link.in_flight.front());
    link.in_flight.pop_front();
    const int side = 1 - from_side;
    Host& h = hosts_[side];
    const Host& from = hosts_[from_side];
    // The stack: checksum and addresses, as TcpHeader::parse checks them.
    auto header = wire::TcpHeader::parse(bytes, from.endpoint.address, h.endpoint.address);
    ASSERT_TRUE(header.has_value()) << header.error().message;
    auto view = wire::TcpView::parse(bytes);
    ASSERT_TRUE(view.has_value());
    const Time now = sim_.now();
    if (h.conn && h.conn->state() != TcpState::kClosed) {
      h.conn->on_segment(*view, now);
      service(side);
      return;
    }
    if (h.listener) {
      auto outcome = h.listener->on_segment(from.endpoint.address, *view,
                                            h.isn ? *h.isn : h.isn_stream.next_u32(), now);
      if (outcome.connection) {
        h.conn.emplace(std::move(*outcome.connection));
        service(side);
      }
      if (outcome.reply) transmit(side, *outcome.reply);
      return;
    }
    if (auto rst = wire_reset(*view)) {
      ++h.stack_resets;
      transmit(side, TcpSegment{.header = *rst, .payload = {}});
    }
  }

  static std::optional<wire::TcpHeader> wire_reset(const wire::TcpView& v) {
    return tcp_reset_for(v);
  }

  Simulator sim_;
  Host hosts_[2];
  Link links_[2];
  std::vector<TraceEntry> trace_;
  std::vector<std::function<void(Host&, Time)>> pending_actions_;
  std::vector<std::uint8_t> read_buffer_ = std::vector<std::uint8_t>(65536);
  std::optional<capture::PcapngWriter> capture_;
  capture::InterfaceId capture_if_;
};

// Deterministic test data: byte i of a stream of `n`.
inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint64_t seed = 1) {
  std::vector<std::uint8_t> v(n);
  RandomStream r(seed);
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t w = r.next_u64();
    for (std::size_t k = 0; k < 8 && i + k < n; ++k) v[i + k] = static_cast<std::uint8_t>(w >> (8 * k));
  }
  return v;
}

// Times and links for scenarios.
constexpr Time at_ms(std::int64_t ms) { return Time::zero() + Duration::milliseconds(ms); }
constexpr Time at_s(std::int64_t s) { return Time::zero() + Duration::seconds(s); }

inline LinkConfig delay_ms(std::int64_t ms) {
  LinkConfig l;
  l.delay = Duration::milliseconds(ms);
  return l;
}

// 100 Mbit/s, 1 ms one way, no queue limit.
inline LinkConfig fast_link(double loss = 0.0) {
  LinkConfig l;
  l.delay = Duration::milliseconds(1);
  l.rate_bps = 100'000'000;
  l.loss = loss;
  return l;
}

// Segments with payload that `from` sent, in order (dropped ones included).
inline std::vector<TraceEntry> data_from(const TcpTestBed& bed, char from) {
  std::vector<TraceEntry> out;
  for (const auto& e : bed.trace()) {
    if (e.from == from && e.payload_bytes > 0) out.push_back(e);
  }
  return out;
}

// A hand-made segment 10.0.0.1 -> 10.0.0.2 as wire bytes in `storage`, and a view of them.
inline wire::TcpView view_of(std::vector<std::uint8_t>& storage, const wire::TcpHeader& h,
                             std::string_view payload = {}) {
  storage.assign(h.header_length() + payload.size(), 0);
  std::copy(payload.begin(), payload.end(),
            storage.begin() + static_cast<std::ptrdiff_t>(h.header_length()));
  h.emit(storage, wire::Ipv4Address(10, 0, 0, 1), wire::Ipv4Address(10, 0, 0, 2));
  return *wire::TcpView::parse(storage);
}

// A sends `bytes` of pattern() to B and closes; B closes when it has read the end. Checks that B
// got every byte; returns the wall time the simulation took.
inline double run_bulk(TcpTestBed& bed, std::size_t bytes) {
  const auto data = pattern(bytes);
  bed.a().to_send = data;
  bed.a().close_when_sent = true;
  bed.b().on_data = [](TcpTestBed::Host& h, Time now) {
    if (h.conn->at_eof() && !h.close_called) {
      h.close_called = true;
      h.conn->close(now);
    }
  };
  bed.connect_at(Time::zero());
  const auto start = std::chrono::steady_clock::now();
  bed.run_until(at_s(600));
  const auto stop = std::chrono::steady_clock::now();
  EXPECT_EQ(bed.b().received.size(), data.size());
  EXPECT_TRUE(bed.b().received == data) << "received bytes differ from those sent";
  return std::chrono::duration<double, std::milli>(stop - start).count();
}

}  // namespace calisim::dataplane::test
