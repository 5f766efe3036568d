#include <calisim/capture/bpf_filter.hpp>

#include <pcap/pcap.h>

#include <utility>

#include <fmt/format.h>

namespace calisim::capture {

struct BpfFilter::Impl {
  std::string expression;
  LinkType link = LinkType::kEthernet;
  bpf_program program{};

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { pcap_freecode(&program); }
};

Result<BpfFilter> BpfFilter::compile(std::string_view expression, LinkType link) {
  auto impl = std::make_unique<Impl>();
  impl->expression = std::string(expression);
  impl->link = link;
  // A dead handle only supplies the link type (and snaplen, which becomes the program's "keep"
  // length). The program does not refer to the handle afterwards, so it is closed right away.
  // pcap_compile is thread-safe since libpcap 1.8.
  pcap_t* dead = pcap_open_dead(dlt_link_type(link), static_cast<int>(kDefaultSnaplen));
  if (dead == nullptr) {
    return make_error(Errc::kIo,
                      fmt::format("bpf: libpcap could not make a handle for {}", to_string(link)));
  }
  const int rc = pcap_compile(dead, &impl->program, impl->expression.c_str(), /*optimize=*/1,
                              PCAP_NETMASK_UNKNOWN);
  if (rc != 0) {
    Error error{Errc::kInvalidArgument,
                fmt::format("bpf: cannot compile filter '{}' for {}: {}", impl->expression,
                            to_string(link), pcap_geterr(dead))};
    pcap_close(dead);
    return std::unexpected(std::move(error));
  }
  pcap_close(dead);
  return BpfFilter(std::move(impl));
}

BpfFilter::BpfFilter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BpfFilter::BpfFilter(BpfFilter&&) noexcept = default;
BpfFilter& BpfFilter::operator=(BpfFilter&&) noexcept = default;
BpfFilter::~BpfFilter() = default;

bool BpfFilter::matches(wire::Bytes frame, std::uint32_t original_length) const {
  CALISIM_CHECK(impl_ != nullptr, "BpfFilter used after move");
  pcap_pkthdr header{};
  header.caplen = static_cast<bpf_u_int32>(frame.size());
  header.len = original_length < header.caplen ? header.caplen : original_length;
  // The interpreter bounds every load by caplen, so a short frame simply fails to match.
  return pcap_offline_filter(&impl_->program, &header, frame.data()) != 0;
}

const std::string& BpfFilter::expression() const {
  CALISIM_CHECK(impl_ != nullptr, "BpfFilter used after move");
  return impl_->expression;
}

LinkType BpfFilter::link_type() const {
  CALISIM_CHECK(impl_ != nullptr, "BpfFilter used after move");
  return impl_->link;
}

}  // namespace calisim::capture
