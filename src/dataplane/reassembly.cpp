#include <calisim/dataplane/reassembly.hpp>

#include <algorithm>

#include <calisim/wire/ipv4.hpp>

namespace calisim::dataplane {

std::optional<wire::Packet> Reassembly::add(wire::Packet&& fragment, Time now) {
  auto ip = wire::Ipv4View::parse(fragment.bytes());
  if (!ip) return std::nullopt;
  const Key key{ip->source().value(), ip->destination().value(), ip->identification(),
                static_cast<std::uint8_t>(ip->protocol())};
  auto [it, fresh] = queues_.try_emplace(key);
  Queue& q = it->second;
  if (fresh) q.started = now;
  const std::uint32_t offset = ip->fragment_offset_bytes();
  const wire::Bytes data = ip->payload();
  if (!ip->more_fragments()) q.total = offset + static_cast<std::uint32_t>(data.size());
  q.pieces.push_back(Piece{offset, std::vector<std::uint8_t>(data.begin(), data.end())});
  if (offset == 0) q.first = std::move(fragment);
  if (!q.total || !q.first) return std::nullopt;
  // Complete when the pieces cover [0, total) without a hole (overlaps: later data wins, as
  // Linux now drops overlapping fragments altogether; calisim's own senders never overlap).
  std::sort(q.pieces.begin(), q.pieces.end(),
            [](const Piece& a, const Piece& b) { return a.offset < b.offset; });
  std::uint32_t covered = 0;
  for (const Piece& p : q.pieces) {
    if (p.offset > covered) return std::nullopt;
    covered = std::max<std::uint32_t>(covered, p.offset + static_cast<std::uint32_t>(p.data.size()));
  }
  if (covered < *q.total) return std::nullopt;
  const auto first = wire::Ipv4View::parse(q.first->bytes());
  wire::Ipv4Header header = wire::Ipv4Header::from_view(*first);
  const std::size_t hlen = header.header_length();
  if (hlen + *q.total > 0xffff) {
    queues_.erase(it);
    return std::nullopt;
  }
  wire::Packet whole = pool_->make(hlen + *q.total);
  whole.meta = q.first->meta;
  header.total_length = static_cast<std::uint16_t>(hlen + *q.total);
  header.more_fragments = false;
  header.fragment_offset_bytes = 0;
  header.emit(whole.bytes());
  for (const Piece& p : q.pieces) {
    std::copy(p.data.begin(), p.data.end(), whole.data() + hlen + p.offset);
  }
  queues_.erase(it);
  return whole;
}

std::vector<wire::Packet> Reassembly::expire(Time now) {
  std::vector<wire::Packet> firsts;
  for (auto it = queues_.begin(); it != queues_.end();) {
    if (now - it->second.started >= kTimeout) {
      if (it->second.first) firsts.push_back(std::move(*it->second.first));
      it = queues_.erase(it);
    } else {
      ++it;
    }
  }
  return firsts;
}

std::optional<Time> Reassembly::next_deadline() const {
  std::optional<Time> next;
  for (const auto& [key, q] : queues_) {
    const Time t = q.started + kTimeout;
    if (!next || t < *next) next = t;
  }
  return next;
}

}  // namespace calisim::dataplane
