#include <calisim/bgp/speaker.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>

#include <fmt/format.h>

namespace calisim::bgp {

Speaker::Speaker(SpeakerConfig config, SpeakerIo& io)
    : config_(std::move(config)),
      io_(&io),
      rib_(RibConfig{.local_as = config_.local_as,
                     .router_id = config_.router_id,
                     .resolver = config_.resolver}) {}

Speaker::~Speaker() = default;

std::size_t Speaker::add_neighbor(NeighborConfig config) {
  auto n = std::make_unique<Neighbor>();
  config.session.local_as = config_.local_as;
  config.session.peer_as = config.peer.as_number;
  config.session.router_id = config_.router_id;
  config.session.local_address = config.peer.source_address;
  config.session.peer_address = config.peer.address;
  n->config = config;
  n->source = rib_.add_peer(config.peer);
  const auto source_index = static_cast<std::size_t>(n->source);
  if (neighbor_of_source_.size() <= source_index) {
    neighbor_of_source_.resize(source_index + 1, SIZE_MAX);
  }
  neighbor_of_source_[source_index] = neighbors_.size();
  neighbor_by_address_.try_emplace(config.peer.address.value(), neighbors_.size());
  n->session = std::make_unique<Session>(
      config.session,
      RandomStream(config_.seed, fmt::format("bgp/{}/{}", config_.name, config.peer.name)));
  neighbors_.push_back(std::move(n));
  touch(neighbors_.size() - 1);
  return neighbors_.size() - 1;
}

void Speaker::attach_kernel(dataplane::Namespace& ns, KernelConfig config) {
  kernel_ = std::make_unique<KernelProtocol>(rib_, ns, std::move(config));
}

std::optional<std::size_t> Speaker::find_neighbor(std::string_view name) const {
  for (std::size_t i = 0; i < neighbors_.size(); ++i) {
    if (neighbors_[i]->config.peer.name == name) return i;
  }
  return std::nullopt;
}

void Speaker::start(Time now) {
  rib_.set_now(now);
  started_at_ = now;
  for (std::size_t i = 0; i < neighbors_.size(); ++i) {
    neighbors_[i]->session->start(now);
    touch(i);
  }
  pump(now);
}

void Speaker::stop(Time now) {
  rib_.set_now(now);
  for (std::size_t i = 0; i < neighbors_.size(); ++i) {
    neighbors_[i]->session->stop(now);
    touch(i);
  }
  pump(now);
}

ConnectionId Speaker::global_id(std::size_t neighbor, ConnectionId local) {
  auto& conns = neighbors_[neighbor]->connections;
  for (const auto& [l, g] : conns) {
    if (l == local) return ConnectionId{g};
  }
  const std::uint64_t g = next_global_++;
  links_.emplace(g, Link{neighbor, local});
  conns.emplace_back(local, g);
  return ConnectionId{g};
}

void Speaker::export_due(std::size_t neighbor) {
  Neighbor& n = *neighbors_[neighbor];
  if (n.export_due) return;
  n.export_due = true;
  export_due_.push_back(neighbor);
}

void Speaker::touch(std::size_t neighbor) {
  Neighbor& n = *neighbors_[neighbor];
  if (n.touched) return;
  n.touched = true;
  touched_.push_back(neighbor);
}

std::optional<std::size_t> Speaker::link_of(ConnectionId global, ConnectionId* local) const {
  auto it = links_.find(global.value);
  if (it == links_.end()) return std::nullopt;
  *local = it->second.local;
  return it->second.neighbor;
}

std::optional<ConnectionId> Speaker::established_connection(std::size_t neighbor) const {
  const Session& session = *neighbors_[neighbor]->session;
  for (const ConnectionRole role : {ConnectionRole::kOutgoing, ConnectionRole::kIncoming}) {
    if (session.connection_state(role) != State::kEstablished) continue;
    const auto local = session.connection_id(role);
    if (!local) continue;
    for (const auto& [l, g] : neighbors_[neighbor]->connections) {
      if (l == *local) return ConnectionId{g};
    }
  }
  return std::nullopt;
}

void Speaker::forget(std::size_t neighbor, ConnectionId local) {
  auto& conns = neighbors_[neighbor]->connections;
  for (auto it = conns.begin(); it != conns.end(); ++it) {
    if (it->first != local) continue;
    links_.erase(it->second);
    conns.erase(it);
    return;
  }
}

void Speaker::on_connected(Time now, ConnectionId id) {
  ConnectionId local;
  auto n = link_of(id, &local);
  if (!n) return;
  rib_.set_now(now);
  neighbors_[*n]->session->on_connected(now, local, true);
  touch(*n);
  pump(now);
}

void Speaker::on_connect_failed(Time now, ConnectionId id, std::string_view error) {
  ConnectionId local;
  auto n = link_of(id, &local);
  if (!n) return;
  rib_.set_now(now);
  forget(*n, local);
  neighbors_[*n]->session->on_connect_failed(now, local, error);
  touch(*n);
  pump(now);
}

std::optional<ConnectionId> Speaker::on_incoming(Time now, wire::Ipv4Address remote) {
  if (auto found = neighbor_by_address_.find(remote.value()); found != neighbor_by_address_.end()) {
    const std::size_t i = found->second;
    const ConnectionId global{next_global_++};
    const ConnectionId local{global.value};  // caller-allocated ids have the top bit clear
    links_.emplace(global.value, Link{i, local});
    neighbors_[i]->connections.emplace_back(local, global.value);
    rib_.set_now(now);
    neighbors_[i]->session->on_connected(now, local, false);
    touch(i);
    pump(now);
    // The session may have refused it at once (a collision decided already): then it is gone.
    if (!links_.contains(global.value)) return std::nullopt;
    return global;
  }
  return std::nullopt;
}

void Speaker::on_bytes(Time now, ConnectionId id, wire::Bytes bytes) {
  ConnectionId local;
  auto n = link_of(id, &local);
  if (!n) return;
  rib_.set_now(now);
  neighbors_[*n]->session->on_bytes(now, local, bytes);
  touch(*n);
  pump(now);
}

void Speaker::on_closed(Time now, ConnectionId id, std::string_view error) {
  ConnectionId local;
  auto n = link_of(id, &local);
  if (!n) return;
  rib_.set_now(now);
  forget(*n, local);
  neighbors_[*n]->session->on_closed(now, local, error);
  touch(*n);
  pump(now);
}

void Speaker::on_timer(Time now) {
  requested_wake_.reset();
  rib_.set_now(now);
  // The sessions whose deadline has come (their entries are refreshed by the pump).
  std::vector<std::size_t> due;
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now; ++it) {
    due.push_back(it->second);
  }
  for (std::size_t i : due) {
    neighbors_[i]->session->on_timer(now);
    touch(i);
  }
  pump(now);
}

std::optional<Time> Speaker::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

void Speaker::emit(Time now, const Neighbor& n, std::string what, std::string detail) {
  if (listener_)
    listener_(NeighborEvent{now, n.config.peer.name, std::move(what), std::move(detail)});
}

// The session's new state changes go to the state log and the state listener.
void Speaker::log_states(std::size_t index) {
  Neighbor& n = *neighbors_[index];
  const Session& session = *n.session;
  const auto& entries = session.state_log();
  for (; n.state_seen < entries.size(); ++n.state_seen) {
    const StateLogEntry entry = entries[n.state_seen];
    state_log_.emplace_back(static_cast<std::uint32_t>(index),
                            static_cast<std::uint32_t>(n.state_seen));
    if (!state_listener_) continue;
    line_scratch_.clear();
    state_log_lines(session, entry, line_scratch_);
    const bool protocol = entry.kind == StateLogEntry::Kind::kProtocol;
    const Time at = protocol ? session.protocol_transitions()[entry.index].time
                             : session.transitions()[entry.index].time;
    const std::string what =
        protocol ? "protocol" : std::string(to_string(session.transitions()[entry.index].role));
    for (auto& line : line_scratch_) {
      state_listener_(NeighborEvent{at, n.config.peer.name, what, std::move(line)});
    }
  }
}

std::vector<LogEntry> Speaker::state_log() const {
  std::vector<LogEntry> out;
  std::vector<std::string> lines;
  for (const auto& [index, k] : state_log_) {
    const Neighbor& n = *neighbors_[index];
    const StateLogEntry entry = n.session->state_log()[k];
    const Time at = entry.kind == StateLogEntry::Kind::kProtocol
                        ? n.session->protocol_transitions()[entry.index].time
                        : n.session->transitions()[entry.index].time;
    lines.clear();
    state_log_lines(*n.session, entry, lines);
    for (const auto& line : lines) {
      out.push_back(LogEntry{at, fmt::format("{}: {}", n.config.peer.name, line)});
    }
  }
  return out;
}

Result<void> Speaker::reload_in(Time now, std::size_t neighbor) {
  rib_.set_now(now);
  Neighbor& n = *neighbors_.at(neighbor);
  auto r = n.session->send_route_refresh(now);
  touch(neighbor);
  pump(now);
  return r;
}

// channel_request_feeding on a ROUTE-REFRESH request: every route exported to the peer goes
// out again. bgp_feed_begin sends a BoRR first when both sides do enhanced route refresh,
// except while the initial feed is still going (its End-of-RIB not sent: "BoRR must not be
// sent before End-of-RIB"); bgp_feed_end then sends the EoRR after the last UPDATE.
void Speaker::refeed(Time now, std::size_t index) {
  Neighbor& n = *neighbors_[index];
  if (!rib_.is_up(n.source)) return;
  if (n.end_of_rib_sent && n.session->enhanced_route_refresh() && !n.end_of_refresh_due) {
    if (auto r = n.session->send_route_refresh(now, wire::bgp::kIpv4Unicast, 1); r) {
      n.end_of_refresh_due = true;
    } else {
      send_error(n, r.error());
    }
  }
  rib_.peer_up(n.source, n.session->status().neighbor_id);
  export_due(index);
}

void Speaker::send_error(Neighbor& n, const Error& error) {
  ++n.send_errors;
  n.last_send_error = error.message;
}

void Speaker::run_actions(Time now, std::size_t index) {
  Neighbor& n = *neighbors_[index];
  log_states(index);
  while (auto action = n.session->poll_action()) {
    std::visit(
        [&](auto& a) {
          using A = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<A, ConnectAction>) {
            const ConnectionId g = global_id(index, a.id);
            io_->connect(g, n.config.peer.source_address, n.config.peer.address, n.config.port);
          } else if constexpr (std::is_same_v<A, SendAction>) {
            const ConnectionId g = global_id(index, a.id);
            io_->send(g, a.bytes);
          } else if constexpr (std::is_same_v<A, CloseAction>) {
            const ConnectionId g = global_id(index, a.id);
            forget(index, a.id);
            io_->close(g);
          } else if constexpr (std::is_same_v<A, EstablishedEvent>) {
            rib_.peer_up(n.source, a.neighbor_id);
            n.end_of_rib_sent = false;
            n.end_of_refresh_due = false;
            export_due(index);
            emit(now, n, "established", "");
          } else if constexpr (std::is_same_v<A, DownEvent>) {
            if (rib_.is_up(n.source)) rib_.peer_down(n.source);
            emit(now, n, "down", a.reason);
          } else if constexpr (std::is_same_v<A, GracefulRestartEvent>) {
            rib_.mark_stale(n.source);
          } else if constexpr (std::is_same_v<A, GracefulRestartDoneEvent>) {
            rib_.flush_stale(n.source);
          } else if constexpr (std::is_same_v<A, UpdateReceivedEvent>) {
            if (rib_.is_up(n.source)) rib_.apply(n.source, a.update);
          } else if constexpr (std::is_same_v<A, RouteRefreshReceivedEvent>) {
            // bgp_rx_route_refresh: a request re-feeds the peer; the peer's BoRR starts a
            // refresh cycle of its routes (bgp_refresh_begin: rt_refresh_begin marks them
            // stale), its EoRR ends it (bgp_refresh_end: rt_refresh_end drops those not
            // re-announced).
            if (!rib_.is_up(n.source)) return;
            if (a.refresh.subtype == 0) refeed(now, index);
            if (a.refresh.subtype == 1) rib_.mark_stale(n.source);
            if (a.refresh.subtype == 2) rib_.flush_stale(n.source);
          } else if constexpr (std::is_same_v<A, EndOfRibReceivedEvent>) {
            rib_.flush_stale(n.source);  // routes not refreshed after a graceful restart go
          }
        },
        *action);
  }
}

// bgp_fire_tx / bgp_create_update: the withdraw bucket first, then the attribute buckets in
// queue order, one UPDATE at a time, a bucket with prefixes left going to the back of the
// queue (bgp_defer_bucket), so large groups take turns. Then the End-of-RIB after the initial
// feed (when graceful restart is configured: bgp_feed_begin) or the EoRR after a re-feed.
void Speaker::export_to(Time now, Neighbor& n) {
  if (n.session->state() != State::kEstablished || !rib_.is_up(n.source)) return;
  PeerUpdate out = rib_.drain(n.source);
  std::span<const wire::Ipv4Prefix> withdrawn = out.withdrawn;
  while (!withdrawn.empty()) {
    auto sent = n.session->send_withdrawal(now, withdrawn);
    if (!sent || *sent == 0) {
      send_error(n, sent ? Error{Errc::kOutOfRange, "bgp: no withdrawal fits"} : sent.error());
      break;
    }
    withdrawn = withdrawn.subspan(*sent);
  }
  // (group, prefixes of it already sent)
  std::vector<std::pair<std::size_t, std::size_t>>& queue = bucket_queue_;
  queue.clear();
  for (std::size_t g = 0; g < out.announced.size(); ++g) queue.emplace_back(g, 0);
  for (std::size_t k = 0; k < queue.size(); ++k) {
    const auto [g, done] = queue[k];
    const auto& group = out.announced[g];
    const auto rest = std::span<const wire::Ipv4Prefix>(group.prefixes).subspan(done);
    auto sent = n.session->send_announcement(now, group.attributes, rest);
    if (!sent || *sent == 0) {
      send_error(n, sent ? Error{Errc::kOutOfRange, "bgp: no prefix fits"} : sent.error());
      continue;
    }
    if (done + *sent < group.prefixes.size()) queue.emplace_back(g, done + *sent);
  }
  if (!n.end_of_rib_sent) {
    if (n.config.session.graceful_restart != GracefulRestartMode::kOff) {
      if (auto r = n.session->send_end_of_rib(now); !r) send_error(n, r.error());
    }
    n.end_of_rib_sent = true;
  }
  if (n.end_of_refresh_due) {
    n.end_of_refresh_due = false;
    if (auto r = n.session->send_route_refresh(now, wire::bgp::kIpv4Unicast, 2); !r) {
      send_error(n, r.error());
    }
  }
}

void Speaker::pump(Time now) {
  if (pumping_) return;  // an IO call came back into us: the outer pump picks it up
  pumping_ = true;
  for (int round = 0;; ++round) {
    // touched_ may grow while we walk it (an action of one session feeds another).
    for (std::size_t k = 0; k < touched_.size(); ++k) run_actions(now, touched_[k]);
    if (round == 4) break;  // what is still pending goes out on the next input
    // Export to every established peer the RIB holds changes for (an UPDATE just applied may
    // have made some for all of them), and the End-of-RIB after the initial feed.
    rib_.take_pending_peers(pending_scratch_);
    for (SourceId source : pending_scratch_) {
      const auto index = static_cast<std::size_t>(source);
      if (index < neighbor_of_source_.size() && neighbor_of_source_[index] != SIZE_MAX) {
        export_due(neighbor_of_source_[index]);
      }
    }
    bool exported = false;
    std::size_t kept = 0;
    for (std::size_t k = 0; k < export_due_.size(); ++k) {
      const std::size_t i = export_due_[k];
      Neighbor& n = *neighbors_[i];
      bool keep = false;
      if (rib_.is_up(n.source) &&
          (rib_.pending(n.source) != 0 || !n.end_of_rib_sent || n.end_of_refresh_due)) {
        if (n.session->state() == State::kEstablished) {
          export_to(now, n);
          touch(i);
          exported = true;
        } else {
          keep = true;  // up in the RIB a moment before the session says so
        }
      }
      if (keep) {
        export_due_[kept++] = i;
      } else {
        n.export_due = false;
      }
    }
    export_due_.resize(kept);
    if (!exported) break;
  }
  // The touched sessions' deadlines may have moved.
  for (std::size_t i : touched_) {
    Neighbor& n = *neighbors_[i];
    n.touched = false;
    const std::optional<Time> d = n.session->next_deadline();
    if (d == n.deadline) continue;
    if (n.deadline) deadlines_.erase({*n.deadline, i});
    if (d) deadlines_.emplace(*d, i);
    n.deadline = d;
  }
  touched_.clear();
  if (kernel_) (void)kernel_->sync();
  pumping_ = false;
  if (auto next = next_deadline(); next && (!requested_wake_ || *next != *requested_wake_)) {
    requested_wake_ = next;
    io_->wake_at(*next);
  }
}

NeighborStatus Speaker::status(std::size_t neighbor) const {
  const Neighbor& n = *neighbors_[neighbor];
  return NeighborStatus{n.config.peer.name,
                        n.config.peer.address,
                        n.session->status(),
                        rib_.adj_rib_in_size(n.source),
                        rib_.adj_rib_out_size(n.source),
                        n.send_errors,
                        n.last_send_error};
}

}  // namespace calisim::bgp
