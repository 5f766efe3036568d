#pragma once
// events.jsonl: one JSON object per line for everything a run wants a person (or a notebook) to
// see afterwards — BGP state changes, route changes, drops with their reasons, faults
// (DESIGN.md, "What every run leaves behind"). Each line starts with the simulated time and the
// event type, then the fields in the order given, so the file is byte-identical for the same
// seed and scenario:
//   {"t":2.000000000,"type":"bgp-state","node":"user-worker","peer":"Mesh_203_248_23_214",...}

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>

namespace calisim {

class EventLog {
 public:
  using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
  struct Field {
    std::string_view key;
    Value value;
  };

  // An in-memory log (lines() gives the text); open() adds a file that receives every line.
  EventLog() = default;
  [[nodiscard]] static Result<EventLog> open(const std::filesystem::path& path);
  EventLog(EventLog&&) noexcept;
  EventLog& operator=(EventLog&&) noexcept;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog();

  void record(Time at, std::string_view type, std::initializer_list<Field> fields);

  // Everything recorded, when no file is attached (tests, the Python module); with a file the
  // text goes to disk as it comes and this stays empty.
  const std::string& text() const { return text_; }
  std::uint64_t count() const { return count_; }

  // Writes what is buffered; the first write error, sticky, naming the file.
  [[nodiscard]] Result<void> flush();
  [[nodiscard]] Result<void> close();

  // JSON string escaping (RFC 8259 §7): quotes, backslash, control characters as \uXXXX.
  static void append_json_string(std::string& out, std::string_view s);

 private:
  std::string text_;
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::optional<Error> failure_;
  std::uint64_t count_ = 0;
};

}  // namespace calisim
