#include <calisim/capture/pcap_writer.hpp>

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace calisim::capture {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

}  // namespace

struct PcapWriter::Impl {
  std::filesystem::path path;
  LinkType link = LinkType::kEthernet;
  std::uint32_t snaplen = 0;
  pcap_t* pcap = nullptr;           // a dead handle: only carries link type, snaplen, precision
  pcap_dumper_t* dumper = nullptr;  // owns the FILE*

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { release(); }

  void release() {
    if (dumper != nullptr) pcap_dump_close(dumper);
    if (pcap != nullptr) pcap_close(pcap);
    dumper = nullptr;
    pcap = nullptr;
  }

  Result<void> check_open() const {
    if (dumper == nullptr) {
      return make_error(Errc::kIo, fmt::format("pcap: {} is already closed", path.string()));
    }
    return {};
  }

  Result<void> check_stream() const {
    // pcap_dump returns nothing; a failed fwrite only shows in the stream's error flag.
    if (std::ferror(pcap_dump_file(dumper)) != 0) {
      return make_error(Errc::kIo,
                        fmt::format("pcap: cannot write {}: {}", path.string(), errno_text(errno)));
    }
    return {};
  }
};

Result<PcapWriter> PcapWriter::open(const std::filesystem::path& path, LinkType link,
                                    std::uint32_t snaplen) {
  if (snaplen == 0 || snaplen > static_cast<std::uint32_t>(std::numeric_limits<int>::max())) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("pcap: {}: snaplen {} must be between 1 and {}", path.string(),
                                  snaplen, std::numeric_limits<int>::max()));
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->link = link;
  impl->snaplen = snaplen;
  // DLT_* (not LINKTYPE_*) goes in; libpcap writes the LINKTYPE_* value into the file header.
  // NANO precision selects the 0xA1B23C4D magic.
  impl->pcap = pcap_open_dead_with_tstamp_precision(dlt_link_type(link), static_cast<int>(snaplen),
                                                    PCAP_TSTAMP_PRECISION_NANO);
  if (impl->pcap == nullptr) {
    return make_error(Errc::kIo, fmt::format("pcap: {}: libpcap could not make a handle for {}",
                                             path.string(), to_string(link)));
  }
  // We open the file ourselves: the error then names the file in our words, and a path of "-"
  // is a file, not libpcap's shorthand for standard output.
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return make_error(Errc::kIo,
                      fmt::format("pcap: cannot create {}: {}", path.string(), errno_text(errno)));
  }
  impl->dumper = pcap_dump_fopen(impl->pcap, file);  // closes `file` itself on failure
  if (impl->dumper == nullptr) {
    return make_error(Errc::kIo, fmt::format("pcap: cannot write the header of {}: {}",
                                             path.string(), pcap_geterr(impl->pcap)));
  }
  return PcapWriter(std::move(impl));
}

PcapWriter::PcapWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PcapWriter::PcapWriter(PcapWriter&&) noexcept = default;
PcapWriter& PcapWriter::operator=(PcapWriter&& other) noexcept {
  if (this != &other) {
    (void)close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
PcapWriter::~PcapWriter() {
  (void)close();
}

Result<void> PcapWriter::write_packet(Time timestamp, wire::Bytes frame) {
  if (!impl_) return make_error(Errc::kIo, "pcap: writer was moved from");
  if (auto r = impl_->check_open(); !r) return r;
  if (timestamp.ns() < 0) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("pcap: {}: timestamp {} ns is before the start of the run",
                                  impl_->path.string(), timestamp.ns()));
  }
  if (frame.size() > std::numeric_limits<std::uint32_t>::max()) {
    return make_error(Errc::kOutOfRange, fmt::format("pcap: {}: frame of {} bytes is too long",
                                                     impl_->path.string(), frame.size()));
  }
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<time_t>(timestamp.ns() / kNanosPerSecond);
  // With NANO precision pcap_dump copies tv_usec verbatim into the record's fraction field
  // (sf-pcap.c), so the field carries nanoseconds despite its name.
  header.ts.tv_usec = static_cast<suseconds_t>(timestamp.ns() % kNanosPerSecond);
  header.caplen = static_cast<bpf_u_int32>(std::min<std::size_t>(frame.size(), impl_->snaplen));
  header.len = static_cast<bpf_u_int32>(frame.size());
  pcap_dump(reinterpret_cast<u_char*>(impl_->dumper), &header, frame.data());
  return impl_->check_stream();
}

Result<void> PcapWriter::flush() {
  if (!impl_) return make_error(Errc::kIo, "pcap: writer was moved from");
  if (auto r = impl_->check_open(); !r) return r;
  if (auto r = impl_->check_stream(); !r) return r;
  if (pcap_dump_flush(impl_->dumper) != 0) {
    return make_error(Errc::kIo, fmt::format("pcap: cannot write {}: {}", impl_->path.string(),
                                             errno_text(errno)));
  }
  return {};
}

Result<void> PcapWriter::close() {
  if (!impl_ || impl_->dumper == nullptr) return {};
  Result<void> result = flush();
  impl_->release();
  return result;
}

const std::filesystem::path& PcapWriter::path() const {
  CALISIM_CHECK(impl_ != nullptr, "PcapWriter used after move");
  return impl_->path;
}
LinkType PcapWriter::link_type() const {
  CALISIM_CHECK(impl_ != nullptr, "PcapWriter used after move");
  return impl_->link;
}
bool PcapWriter::is_open() const {
  return impl_ && impl_->dumper != nullptr;
}

}  // namespace calisim::capture
