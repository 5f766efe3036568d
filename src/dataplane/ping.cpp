#include <calisim/dataplane/ping.hpp>

#include <fmt/format.h>

#include <calisim/dataplane/namespace.hpp>
#include <calisim/wire/icmp.hpp>

namespace calisim::dataplane {

Ping::Ping(Namespace& ns, wire::Ipv4Address target, PingOptions options)
    : ns_(ns),
      target_(target),
      options_(options),
      send_timer_(ns.sim(), [this] { send_next(); }),
      exit_timer_(ns.sim(), [this] { finish(); }) {
  RandomStream rng = ns.sim().random("ping/" + ns.name() + "/" + target.to_string());
  ident_ = static_cast<std::uint16_t>(rng.next_u32());
  // ip4_datagram_connect: a connected socket's IP IDs start at a random value.
  ip_id_ = static_cast<std::uint16_t>(rng.next_u32());
  start_ = ns.sim().now();
  // ping connect()s first: a route error ends it before anything is sent (linux.md §1.7).
  auto src = ns.source_for(target);
  if (!src) {
    const std::string& m = src.error().message;
    const std::string why = m.substr(m.rfind(": ") + 2);
    // iputils ping4_run: EACCES (a prohibit route) gets its own advice instead of the errno
    // text (checked with iputils 20221126: `ping 203.0.113.1` with a prohibit route).
    lines_.push_back(why == "Permission denied"
                         ? "ping: Do you want to ping broadcast? Then -b. If not, check your "
                           "local firewall rules"
                         : "ping: connect: " + why);
    finished_ = true;
    return;
  }
  source_ = *src;
  lines_.push_back(ping_banner(target.to_string(), target, options_.data_bytes));
  sent_at_.resize(static_cast<std::size_t>(options_.count) + 1);
  answered_.resize(sent_at_.size());
  handler_ = ns.add_protocol_handler(
      1, [this](const wire::Ipv4View& ip, Time) { on_icmp(ip); });
  send_next();
}

Ping::~Ping() {
  if (handler_ != 0) ns_.remove_protocol_handler(handler_);
}

void Ping::send_next() {
  if (finished_) return;
  const Time now = ns_.sim().now();
  last_send_ = now;
  const auto seq = static_cast<std::uint16_t>(++sent_);
  // iputils fills the data with a struct timeval of the send time, then 0x10, 0x11, ...
  std::vector<std::uint8_t> data(options_.data_bytes);
  const std::int64_t usec = now.ns() / 1000;
  if (data.size() >= 16) {
    wire::store_le64(data.data(), static_cast<std::uint64_t>(usec / 1'000'000));
    wire::store_le64(data.data() + 8, static_cast<std::uint64_t>(usec % 1'000'000));
  }
  for (std::size_t i = 16; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
  const auto icmp = wire::IcmpMessage::echo_request(ident_, seq, data);
  wire::Ipv4Header h;
  h.total_length = static_cast<std::uint16_t>(wire::Ipv4Header::kMinLength + icmp.size());
  // raw_sendmsg -> ip_append_data: the path MTU (dst_mtu, a learned PMTU included) decides.
  const auto pmtu = ns_.path_mtu(target_);
  const std::uint32_t mtu = pmtu ? pmtu->mtu : 0xffff;
  const bool fits = h.total_length <= mtu;
  switch (options_.pmtu_discovery) {
    case PmtuDiscovery::kDo:
      if (!fits) {
        // EMSGSIZE from sendmsg, and ip_local_error queues the same on the error queue, which
        // ping reads (receive_error_msg, SO_EE_ORIGIN_LOCAL): one line on stderr, counted in
        // nerrors, and the probe counts as transmitted (hard_local_error).
        sent_at_[seq] = now;
        answered_[seq] = true;
        ++stats_.transmitted;
        ++stats_.errors;
        lines_.push_back(fmt::format("ping: local error: message too long, mtu={}", mtu));
        return after_send();
      }
      h.dont_fragment = true;
      break;
    // __ip_make_skb / ip_dont_fragment: WANT sets DF when the whole datagram fits the path MTU
    // and that MTU is not locked.
    case PmtuDiscovery::kWant:
      h.dont_fragment = fits && !(pmtu && pmtu->locked);
      break;
    case PmtuDiscovery::kDont:
      h.dont_fragment = false;
      break;
  }
  // ip_select_ident_segs: a connected socket numbers its DF datagrams itself; others take the
  // shared generator (__ip_select_ident).
  h.identification = h.dont_fragment ? ip_id_++ : ns_.ip_ident().next(*source_, target_, 1, now);
  h.ttl = options_.ttl;
  h.protocol = wire::IpProtocol::kIcmp;
  h.source = *source_;
  h.destination = target_;
  wire::Packet p = ns_.pool().make(h.total_length);
  h.emit(p.bytes());
  icmp.emit(p.bytes().subspan(wire::Ipv4Header::kMinLength));
  sent_at_[seq] = now;
  ++stats_.transmitted;
  std::uint64_t outstanding = 0;
  for (int s = 1; s <= sent_; ++s) {
    if (!answered_[static_cast<std::size_t>(s)]) ++outstanding;
  }
  stats_.max_outstanding = std::max(stats_.max_outstanding, outstanding);
  (void)ns_.send(std::move(p));
  after_send();
}

void Ping::after_send() {
  if (sent_ < options_.count) {
    send_timer_.arm_after(options_.interval);
  } else if (stats_.received + stats_.errors >= static_cast<std::uint64_t>(options_.count)) {
    finish();  // main_loop: nreceived + nerrors >= npackets
  } else {
    arm_exit();
  }
}

// ping_common.c __schedule_exit: after the last request, wait twice the largest RTT seen (at
// least one interval), or the linger time if nothing came back.
void Ping::arm_exit() {
  Duration wait = options_.linger;
  if (stats_.received != 0) wait = std::max(max_rtt_ * 2, options_.interval);
  exit_timer_.arm_after(wait);
}

void Ping::on_icmp(const wire::Ipv4View& ip) {
  if (finished_) return;
  auto icmp = wire::IcmpView::parse(ip.payload());
  if (!icmp) return;
  const Time now = ns_.sim().now();
  std::uint16_t seq = 0;
  if (icmp->type() == wire::IcmpType::kEchoReply) {
    auto msg = wire::IcmpMessage::parse(ip.payload());
    if (!msg || msg->identifier != ident_ || ip.source() != target_) return;
    seq = msg->sequence;
    if (seq == 0 || seq > sent_ || !sent_at_[seq]) return;
    const Duration rtt = now - *sent_at_[seq];
    const bool dup = answered_[seq];
    answered_[seq] = true;
    if (!dup) {
      ++stats_.received;
      stats_.rtts.push_back(rtt);
      max_rtt_ = std::max(max_rtt_, rtt);
    }
    reply_ttls_.push_back(ip.ttl());
    lines_.push_back(ping_reply_line(ip.payload().size(), ip.source(), seq, ip.ttl(), rtt) +
                     (dup ? " (DUP!)" : ""));
  } else if (icmp->is_error()) {
    // The quote must be one of our requests: our source, the target, our identifier.
    auto quoted = wire::Ipv4View::parse_quoted(icmp->payload());
    if (!quoted || quoted->destination() != target_ || quoted->source() != *source_) return;
    if (quoted->payload().size() < 8 || wire::load_be16(quoted->payload().data() + 4) != ident_) {
      return;
    }
    seq = wire::load_be16(quoted->payload().data() + 6);
    if (seq == 0 || seq > sent_) return;
    answered_[seq] = true;
    ++stats_.errors;
    lines_.push_back(ping_error_line(ip.source(), seq,
                                     ping_error_text(static_cast<std::uint8_t>(icmp->type()), icmp->code(),
                                                     icmp->next_hop_mtu())));
  } else {
    return;
  }
  // ping leaves as soon as every request is accounted for.
  if (sent_ == options_.count &&
      stats_.received + stats_.errors >= static_cast<std::uint64_t>(options_.count)) {
    finish();
  }
}

void Ping::finish() {
  if (finished_) return;
  finished_ = true;
  send_timer_.cancel();
  exit_timer_.cancel();
  // ping_common.c finish(): "time" is cur_time - start_time, and pinger() updates cur_time only
  // while it still has probes to send, so the wait for the last replies is not counted: a
  // single unanswered ping says "time 0ms", `-c 2 -W 1` about 1000 ms (1010 ms on a 6.18 kernel).
  stats_.elapsed = last_send_ - start_;
  const std::string summary = ping_summary(target_.to_string(), stats_);
  std::size_t start = 0;
  // Split into lines; the summary starts with an empty line and ends with a newline.
  while (start < summary.size()) {
    const std::size_t end = summary.find('\n', start);
    lines_.push_back(summary.substr(start, end - start));
    start = end + 1;
  }
  if (handler_ != 0) {
    ns_.remove_protocol_handler(handler_);
    handler_ = 0;
  }
}

std::string Ping::output() const {
  std::string out;
  for (const auto& l : lines_) {
    out += l;
    out += '\n';
  }
  return out;
}

}  // namespace calisim::dataplane
