#include <calisim/capture/capture_set.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>

#include <fmt/format.h>

namespace calisim::capture {
namespace {

std::size_t link_index(LinkType link) {
  return static_cast<std::size_t>(link);
}

bool is_classic_pcap(const std::filesystem::path& path) {
  return path.extension() == ".pcap";
}

}  // namespace

Result<CaptureSet> CaptureSet::open(CaptureOptions options) {
  if (options.filtered) {
    // Fail early on a broken expression. Whether it compiles can depend on the link type
    // ("ether host ..." does not on raw IP), so only an expression that compiles for neither is
    // rejected here; add_interface checks each link type as it appears.
    const std::string& expression = options.filtered->expression;
    auto for_ethernet = BpfFilter::compile(expression, LinkType::kEthernet);
    if (!for_ethernet && !BpfFilter::compile(expression, LinkType::kRawIp)) {
      return std::unexpected(for_ethernet.error());
    }
  }
  auto pcapng = PcapngWriter::open(options.pcapng_path, options.user_application);
  if (!pcapng) return std::unexpected(pcapng.error());
  CaptureSet set(std::move(options), std::move(*pcapng));
  if (set.options_.filtered && !is_classic_pcap(set.options_.filtered->path)) {
    auto filtered = PcapngWriter::open(set.options_.filtered->path, set.options_.user_application);
    if (!filtered) return std::unexpected(filtered.error());
    set.filtered_pcapng_.emplace(std::move(*filtered));
  }
  return set;
}

CaptureSet::CaptureSet(CaptureOptions options, PcapngWriter pcapng)
    : options_(std::move(options)), pcapng_(std::move(pcapng)) {}

std::filesystem::path CaptureSet::per_interface_path(const std::filesystem::path& dir,
                                                     std::string_view interface_name) {
  std::string file;
  for (char c : interface_name) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_';
    file.push_back(safe ? c : '_');
  }
  if (file.empty() || file == "." || file == "..") file = "_" + file;
  return dir / (file + ".pcap");
}

Result<InterfaceId> CaptureSet::add_interface(std::string_view name, LinkType link,
                                              std::string_view description) {
  // Everything that can be refused is checked or opened before the first IDB is written, so a
  // refused interface leaves every output's interface numbering untouched.
  Interface entry{link, std::nullopt, std::nullopt, false};
  std::filesystem::path pcap_path;
  if (options_.per_interface_pcap_dir) {
    pcap_path = per_interface_path(*options_.per_interface_pcap_dir, name);
    if (per_interface_paths_.contains(pcap_path)) {
      return make_error(Errc::kExists,
                        fmt::format("capture: interface '{}' would share {} with another one", name,
                                    pcap_path.string()));
    }
    auto pcap = PcapWriter::open(pcap_path, link);
    if (!pcap) return std::unexpected(pcap.error());
    entry.pcap.emplace(std::move(*pcap));
  }
  if (options_.filtered) {
    const auto& wanted = options_.filtered->interfaces;
    entry.filtered_selected =
        wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end();
  }
  if (entry.filtered_selected) {
    if (auto r = prepare_filtered(name, link); !r) return std::unexpected(r.error());
  }

  auto id = pcapng_.add_interface(name, link, kDefaultSnaplen, description);
  if (!id) return std::unexpected(id.error());
  if (entry.filtered_selected && filtered_pcapng_) {
    auto filtered_id = filtered_pcapng_->add_interface(name, link, kDefaultSnaplen, description);
    if (!filtered_id) return std::unexpected(filtered_id.error());
    entry.filtered_id = *filtered_id;
  }
  if (entry.pcap) per_interface_paths_.insert(pcap_path);
  interfaces_.push_back(std::move(entry));
  return id;
}

Result<void> CaptureSet::prepare_filtered(std::string_view name, LinkType link) {
  auto& filter = filters_[link_index(link)];
  if (!filter) {
    auto compiled = BpfFilter::compile(options_.filtered->expression, link);
    if (!compiled) {
      return make_error(compiled.error().code,
                        fmt::format("capture: interface '{}': {}", name, compiled.error().message));
    }
    filter.emplace(std::move(*compiled));
  }
  if (!is_classic_pcap(options_.filtered->path)) return {};
  if (!filtered_pcap_) {
    auto pcap = PcapWriter::open(options_.filtered->path, link);
    if (!pcap) return std::unexpected(pcap.error());
    filtered_pcap_.emplace(std::move(*pcap));
  } else if (filtered_pcap_->link_type() != link) {
    return make_error(
        Errc::kUnsupported,
        fmt::format("capture: {} is a classic pcap of {} and cannot also hold '{}' ({}); "
                    "name it .pcapng or capture fewer interfaces",
                    options_.filtered->path.string(), to_string(filtered_pcap_->link_type()), name,
                    to_string(link)));
  }
  return {};
}

Result<void> CaptureSet::write_packet(InterfaceId interface, Time timestamp, wire::Bytes frame,
                                      Direction direction, std::string_view comment) {
  if (interface.value >= interfaces_.size()) {
    return make_error(Errc::kNotFound, fmt::format("capture: no interface {} (there are {})",
                                                   interface.value, interfaces_.size()));
  }
  if (auto r = pcapng_.write_packet(interface, timestamp, frame, direction, comment); !r) return r;
  Interface& entry = interfaces_[interface.value];
  if (entry.pcap) {
    if (auto r = entry.pcap->write_packet(timestamp, frame); !r) return r;
  }
  ++packets_;
  if (!entry.filtered_selected || !filters_[link_index(entry.link)]->matches(frame)) return {};
  ++filtered_packets_;
  if (filtered_pcapng_) {
    return filtered_pcapng_->write_packet(*entry.filtered_id, timestamp, frame, direction, comment);
  }
  return filtered_pcap_->write_packet(timestamp, frame);
}

Result<void> CaptureSet::write_decryption_secrets(std::uint32_t secrets_type, wire::Bytes secrets) {
  if (auto r = pcapng_.write_decryption_secrets(secrets_type, secrets); !r) return r;
  if (filtered_pcapng_) return filtered_pcapng_->write_decryption_secrets(secrets_type, secrets);
  return {};
}

Result<void> CaptureSet::flush() {
  if (auto r = pcapng_.flush(); !r) return r;
  for (Interface& entry : interfaces_) {
    if (entry.pcap) {
      if (auto r = entry.pcap->flush(); !r) return r;
    }
  }
  if (filtered_pcapng_) return filtered_pcapng_->flush();
  if (filtered_pcap_) return filtered_pcap_->flush();
  return {};
}

Result<void> CaptureSet::close() {
  Result<void> first = pcapng_.close();
  auto keep_first = [&first](Result<void> r) {
    if (first && !r) first = std::move(r);
  };
  for (Interface& entry : interfaces_) {
    if (entry.pcap) keep_first(entry.pcap->close());
  }
  if (filtered_pcapng_) keep_first(filtered_pcapng_->close());
  if (filtered_pcap_) keep_first(filtered_pcap_->close());
  return first;
}

}  // namespace calisim::capture
