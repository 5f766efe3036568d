#include <calisim/dataplane/udp_socket.hpp>

#include <fmt/format.h>

#include <calisim/dataplane/namespace.hpp>
#include <calisim/wire/udp.hpp>

namespace calisim::dataplane {

UdpStack::UdpStack(Namespace& ns) : ns_(ns) {
  handler_ = ns_.add_protocol_handler(17, [this](const wire::Ipv4View& ip, Time) { on_udp(ip); });
}

UdpStack::~UdpStack() { ns_.remove_protocol_handler(handler_); }

Result<void> UdpStack::bind(std::uint16_t port, Receive on_receive) {
  if (!bound_.emplace(port, std::move(on_receive)).second) {
    return make_error(Errc::kExists,
                      fmt::format("{}: bind: port {}: Address already in use", ns_.name(), port));
  }
  return {};
}

void UdpStack::unbind(std::uint16_t port) { bound_.erase(port); }

Result<void> UdpStack::send_to(std::uint16_t local_port, wire::Ipv4Address destination,
                               std::uint16_t port, wire::Bytes data, std::uint8_t ttl) {
  auto source = ns_.source_for(destination);
  if (!source) return std::unexpected(source.error());
  const std::size_t total = wire::Ipv4Header::kMinLength + wire::UdpHeader::kLength + data.size();
  if (total > 0xffff) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("{}: sendto: {} bytes: Message too long", ns_.name(), data.size()));
  }
  wire::Ipv4Header h;
  h.total_length = static_cast<std::uint16_t>(total);
  h.ttl = ttl;
  h.protocol = wire::IpProtocol::kUdp;
  h.source = *source;
  h.destination = destination;
  // IP_PMTUDISC_WANT: DF while the datagram fits the path MTU (a learned PMTU included) and
  // that is not locked; otherwise the stack fragments it (no DF).
  const auto pmtu = ns_.path_mtu(destination);
  h.dont_fragment = pmtu ? (total <= pmtu->mtu && !pmtu->locked) : total <= 1500;
  if (!h.dont_fragment) h.identification = ns_.ip_ident().next(*source, destination, 17, ns_.sim().now());
  wire::Packet p = ns_.pool().make(total);
  h.emit(p.bytes());
  std::copy(data.begin(), data.end(), p.data() + wire::Ipv4Header::kMinLength + wire::UdpHeader::kLength);
  wire::UdpHeader{local_port, port}.emit(p.bytes().subspan(wire::Ipv4Header::kMinLength), *source,
                                         destination);
  return ns_.send(std::move(p));
}

void UdpStack::on_udp(const wire::Ipv4View& ip) {
  auto udp = wire::UdpView::parse(ip.payload());
  if (!udp || !udp->checksum_valid(ip.source(), ip.destination())) {
    ns_.count_drop(udp ? DropReason::kBadChecksum : DropReason::kMalformed, nullptr);
    return;
  }
  auto it = bound_.find(udp->destination_port());
  if (it == bound_.end()) {
    ++unreachable_sent_;
    ns_.count_drop(DropReason::kNoSocket, nullptr);
    ns_.send_icmp_error(ip.datagram(), 3, 3);
    return;
  }
  ++received_;
  it->second(ip.source(), udp->source_port(), udp->payload(), ns_.sim().now());
}

}  // namespace calisim::dataplane
