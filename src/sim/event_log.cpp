#include <calisim/sim/event_log.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace calisim {
namespace {

Error io_error(const std::filesystem::path& path, std::string_view what, int err) {
  return Error{Errc::kIo, fmt::format("events: cannot {} {}: {}", what, path.string(),
                                      std::error_code(err, std::generic_category()).message())};
}

// Simulated seconds with all nine decimals: exact, and sortable as text within a run.
void append_time(std::string& out, Time at) {
  const std::int64_t ns = at.ns();
  const std::int64_t s = ns / 1'000'000'000;
  const std::int64_t frac = ns % 1'000'000'000;
  fmt::format_to(std::back_inserter(out), "{}.{:09}", s, frac < 0 ? -frac : frac);
}

}  // namespace

Result<EventLog> EventLog::open(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return std::unexpected(io_error(path, "create", errno));
  EventLog log;
  log.path_ = path;
  log.file_ = f;
  return log;
}

EventLog::EventLog(EventLog&& other) noexcept
    : text_(std::move(other.text_)),
      path_(std::move(other.path_)),
      file_(std::exchange(other.file_, nullptr)),
      failure_(std::move(other.failure_)),
      count_(other.count_) {}

EventLog& EventLog::operator=(EventLog&& other) noexcept {
  if (this != &other) {
    (void)close();
    text_ = std::move(other.text_);
    path_ = std::move(other.path_);
    file_ = std::exchange(other.file_, nullptr);
    failure_ = std::move(other.failure_);
    count_ = other.count_;
  }
  return *this;
}

EventLog::~EventLog() { (void)close(); }

void EventLog::append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", u);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void EventLog::record(Time at, std::string_view type, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  line += "{\"t\":";
  append_time(line, at);
  line += ",\"type\":";
  append_json_string(line, type);
  for (const Field& f : fields) {
    line.push_back(',');
    append_json_string(line, f.key);
    line.push_back(':');
    std::visit(
        [&line](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string_view>) {
            append_json_string(line, v);
          } else if constexpr (std::is_same_v<V, bool>) {
            line += v ? "true" : "false";
          } else if constexpr (std::is_same_v<V, double>) {
            if (std::isfinite(v)) {
              fmt::format_to(std::back_inserter(line), "{}", v);
            } else {
              line += "null";  // JSON has no NaN or infinity
            }
          } else {
            fmt::format_to(std::back_inserter(line), "{}", v);
          }
        },
        f.value);
  }
  line += "}\n";
  ++count_;
  if (file_ == nullptr) {
    text_ += line;
    return;
  }
  if (failure_) return;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
    failure_ = io_error(path_, "write", errno);
  }
}

Result<void> EventLog::flush() {
  if (failure_) return std::unexpected(*failure_);
  if (file_ != nullptr && std::fflush(file_) != 0) failure_ = io_error(path_, "write", errno);
  if (failure_) return std::unexpected(*failure_);
  return {};
}

Result<void> EventLog::close() {
  if (file_ == nullptr) return failure_ ? Result<void>(std::unexpected(*failure_)) : Result<void>{};
  Result<void> r = flush();
  if (std::fclose(file_) != 0 && r) {
    failure_ = io_error(path_, "close", errno);
    r = std::unexpected(*failure_);
  }
  file_ = nullptr;
  return r;
}

}  // namespace calisim
