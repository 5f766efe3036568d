#include <calisim/bgp/speaker.hpp>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace calisim::bgp {
namespace {

// Prefixes per UPDATE: 400 NLRI are at most 2,000 octets, which leaves room for any attribute
// set the mesh uses within the 4,096-octet limit (RFC 4271 §4).
constexpr std::size_t kAnnouncePerUpdate = 400;
constexpr std::size_t kWithdrawPerUpdate = 700;

template <class Fn>
void in_chunks(const std::vector<wire::Ipv4Prefix>& all, std::size_t chunk, Fn fn) {
  for (std::size_t i = 0; i < all.size(); i += chunk) {
    const std::size_t n = std::min(chunk, all.size() - i);
    fn(std::vector<wire::Ipv4Prefix>(all.begin() + static_cast<std::ptrdiff_t>(i),
                                     all.begin() + static_cast<std::ptrdiff_t>(i + n)));
  }
}

}  // namespace

Speaker::Speaker(SpeakerConfig config, SpeakerIo& io)
    : config_(std::move(config)),
      io_(&io),
      rib_(RibConfig{.local_as = config_.local_as, .router_id = config_.router_id}) {}

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
  n->session = std::make_unique<Session>(
      config.session, RandomStream(config_.seed, fmt::format("bgp/{}/{}", config_.name,
                                                             config.peer.name)));
  neighbors_.push_back(std::move(n));
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
  for (auto& n : neighbors_) n->session->start(now);
  pump(now);
}

void Speaker::stop(Time now) {
  rib_.set_now(now);
  for (auto& n : neighbors_) n->session->stop(now);
  pump(now);
}

ConnectionId Speaker::global_id(std::size_t neighbor, ConnectionId local) {
  for (const auto& [g, link] : links_) {
    if (link.neighbor == neighbor && link.local == local) return ConnectionId{g};
  }
  const std::uint64_t g = next_global_++;
  links_.emplace(g, Link{neighbor, local});
  return ConnectionId{g};
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
    for (const auto& [g, link] : links_) {
      if (link.neighbor == neighbor && link.local == *local) return ConnectionId{g};
    }
  }
  return std::nullopt;
}

void Speaker::forget(std::size_t neighbor, ConnectionId local) {
  std::erase_if(links_, [&](const auto& kv) {
    return kv.second.neighbor == neighbor && kv.second.local == local;
  });
}

void Speaker::on_connected(Time now, ConnectionId id) {
  ConnectionId local;
  auto n = link_of(id, &local);
  if (!n) return;
  rib_.set_now(now);
  neighbors_[*n]->session->on_connected(now, local, true);
  pump(now);
}

void Speaker::on_connect_failed(Time now, ConnectionId id, std::string_view error) {
  ConnectionId local;
  auto n = link_of(id, &local);
  if (!n) return;
  rib_.set_now(now);
  forget(*n, local);
  neighbors_[*n]->session->on_connect_failed(now, local, error);
  pump(now);
}

std::optional<ConnectionId> Speaker::on_incoming(Time now, wire::Ipv4Address remote) {
  for (std::size_t i = 0; i < neighbors_.size(); ++i) {
    if (neighbors_[i]->config.peer.address != remote) continue;
    const ConnectionId global{next_global_++};
    const ConnectionId local{global.value};  // caller-allocated ids have the top bit clear
    links_.emplace(global.value, Link{i, local});
    rib_.set_now(now);
    neighbors_[i]->session->on_connected(now, local, false);
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
  pump(now);
}

void Speaker::on_closed(Time now, ConnectionId id, std::string_view error) {
  ConnectionId local;
  auto n = link_of(id, &local);
  if (!n) return;
  rib_.set_now(now);
  forget(*n, local);
  neighbors_[*n]->session->on_closed(now, local, error);
  pump(now);
}

void Speaker::on_timer(Time now) {
  requested_wake_.reset();
  rib_.set_now(now);
  for (auto& n : neighbors_) {
    if (auto d = n->session->next_deadline(); d && *d <= now) n->session->on_timer(now);
  }
  pump(now);
}

std::optional<Time> Speaker::next_deadline() const {
  std::optional<Time> next;
  for (const auto& n : neighbors_) {
    if (auto d = n->session->next_deadline(); d && (!next || *d < *next)) next = d;
  }
  return next;
}

void Speaker::emit(Time now, const Neighbor& n, std::string what, std::string detail) {
  if (listener_) listener_(NeighborEvent{now, n.config.peer.name, std::move(what), std::move(detail)});
}

void Speaker::run_actions(Time now, std::size_t index) {
  Neighbor& n = *neighbors_[index];
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
            // bgp_rx_route_refresh: feed the peer everything again.
            if (rib_.is_up(n.source)) rib_.peer_up(n.source, n.session->status().neighbor_id);
          } else if constexpr (std::is_same_v<A, EndOfRibReceivedEvent>) {
            rib_.flush_stale(n.source);  // routes not refreshed after a graceful restart go
          }
        },
        *action);
  }
}

void Speaker::export_to(Time now, Neighbor& n) {
  if (n.session->state() != State::kEstablished || !rib_.is_up(n.source)) return;
  PeerUpdate out = rib_.drain(n.source);
  in_chunks(out.withdrawn, kWithdrawPerUpdate, [&](std::vector<wire::Ipv4Prefix> chunk) {
    (void)n.session->send_update(now, wire::bgp::Update{.withdrawn = std::move(chunk)});
  });
  for (auto& group : out.announced) {
    in_chunks(group.prefixes, kAnnouncePerUpdate, [&](std::vector<wire::Ipv4Prefix> chunk) {
      (void)n.session->send_update(
          now, wire::bgp::Update{.attributes = group.attributes, .nlri = std::move(chunk)});
    });
  }
  if (!n.end_of_rib_sent) {
    // bgp_feed_end: the initial feed is complete.
    (void)n.session->send_end_of_rib(now);
    n.end_of_rib_sent = true;
  }
}

void Speaker::pump(Time now) {
  if (pumping_) return;  // an IO call came back into us: the outer pump picks it up
  pumping_ = true;
  for (int round = 0; round < 4; ++round) {
    for (std::size_t i = 0; i < neighbors_.size(); ++i) run_actions(now, i);
    for (auto& n : neighbors_) export_to(now, *n);
    bool more = false;
    for (std::size_t i = 0; i < neighbors_.size(); ++i) {
      run_actions(now, i);
      more = more || rib_.pending(neighbors_[i]->source) != 0;
    }
    if (!more) break;
  }
  if (kernel_) (void)kernel_->sync();
  pumping_ = false;
  if (auto next = next_deadline(); next && (!requested_wake_ || *next != *requested_wake_)) {
    requested_wake_ = next;
    io_->wake_at(*next);
  }
}

NeighborStatus Speaker::status(std::size_t neighbor) const {
  const Neighbor& n = *neighbors_[neighbor];
  return NeighborStatus{n.config.peer.name, n.config.peer.address, n.session->status(),
                        rib_.adj_rib_in_size(n.source), rib_.adj_rib_out_size(n.source)};
}

}  // namespace calisim::bgp
