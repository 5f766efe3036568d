#pragma once
// Reading YAML strictly, the way calicoctl and kubectl decode resources: unknown and duplicate
// fields are errors, types are checked, and every problem is collected with its file, line,
// column and field path instead of stopping at the first. Private to the scenario parser: yaml-cpp
// stays out of the public headers.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include <calisim/calico/scenario.hpp>

namespace calisim::calico::detail {

using scenario::Labels;
using scenario::Location;

// Collects diagnostics for one file. Marks are translated to 1-based positions in the whole
// file: each document is parsed on its own, `line_offset` lines into the file.
class Ctx {
 public:
  explicit Ctx(std::string file) : file_(std::move(file)) {}

  void set_line_offset(int offset) { line_offset_ = offset; }
  Location locate(const YAML::Mark& mark) const;
  Location locate(const YAML::Node& node) const { return locate(node.Mark()); }

  void error(Location at, std::string path, std::string message);
  void warning(Location at, std::string path, std::string message);
  std::size_t error_count() const { return errors_; }
  // All diagnostics, ordered by position (stable: same place keeps the order found).
  std::vector<Diagnostic> take();

 private:
  std::string file_;
  int line_offset_ = 0;
  std::size_t errors_ = 0;
  std::vector<Diagnostic> diagnostics_;
};

// A value in a document: the node, its path and where it is.
struct Field {
  YAML::Node node;
  std::string path;
  Location where;
};

std::string join_path(std::string_view base, std::string_view key);
std::string index_path(std::string_view base, std::size_t index);

// " (did you mean \"blockSize\"?)" when one candidate is close to `word` (case differences
// or an edit distance of one or two), else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// "\"text\"" with quotes and backslashes escaped, for messages.
std::string in_quotes(std::string_view text);

// A YAML mapping read strictly.
class MapView {
 public:
  struct Entry {
    std::string key;
    Location key_where;
    Field value;
  };

  // Keys not in `known` are errors with a hint; `any_key` accepts every key (labels, env).
  // Duplicate keys are errors. A null node reads as an empty mapping; any other non-mapping is
  // an error and ok() is false.
  MapView(Ctx& ctx, Field field, std::initializer_list<std::string_view> known);
  MapView(Ctx& ctx, Field field, const std::vector<std::string_view>& known, bool any_key);

  bool ok() const { return ok_; }
  const Field& self() const { return self_; }
  const std::vector<Entry>& entries() const { return entries_; }
  // The value of `key`; nullopt when it is absent or null (Kubernetes reads null as unset).
  std::optional<Field> get(std::string_view key) const;
  // As get, reporting "required field is missing" when there is nothing.
  std::optional<Field> require(std::string_view key) const;
  // Where the key itself is written (for errors about a field as a whole).
  Location key_where(std::string_view key) const;

 private:
  void read(const std::vector<std::string_view>& known, bool any_key);

  Ctx& ctx_;
  Field self_;
  bool ok_ = true;
  std::vector<Entry> entries_;
};

// Typed readers. Each reports its own problem and returns nullopt on failure.
std::string describe(const YAML::Node& node);  // "a mapping", "a list", "null", "\"text\""
bool is_quoted(const YAML::Node& node);
std::optional<std::string> read_string(Ctx& ctx, const Field& field);
std::optional<bool> read_bool(Ctx& ctx, const Field& field);
std::optional<std::int64_t> read_int(Ctx& ctx, const Field& field, std::int64_t min,
                                     std::int64_t max);
std::optional<Duration> read_duration(Ctx& ctx, const Field& field, bool allow_negative = false);
std::optional<std::int64_t> read_rate(Ctx& ctx, const Field& field);
std::optional<double> read_percentage(Ctx& ctx, const Field& field);
std::optional<std::uint64_t> read_byte_size(Ctx& ctx, const Field& field);
std::optional<wire::Ipv4Address> read_address(Ctx& ctx, const Field& field);
// "a.b.c.d/len" (or a bare address, a /32, when `allow_bare`); host bits are kept.
std::optional<wire::Ipv4Prefix> read_prefix(Ctx& ctx, const Field& field, bool allow_bare = false);
// A CIDR whose host bits are zero.
std::optional<wire::Ipv4Prefix> read_network(Ctx& ctx, const Field& field);
std::optional<wire::MacAddress> read_mac(Ctx& ctx, const Field& field);
// numorstring.ASNumber: 1..4294967295, or "a.b" (asdot).
std::optional<std::uint32_t> read_as_number(Ctx& ctx, const Field& field);
std::optional<std::vector<Field>> read_list(Ctx& ctx, const Field& field);
std::optional<std::vector<std::string>> read_string_list(Ctx& ctx, const Field& field);
// A string-to-string map (labels, annotations, nodeSelector).
std::optional<Labels> read_labels(Ctx& ctx, const Field& field);
// One of `choices`, matched exactly; `what` names the kind of value in the error
// ("\"Alway\" is not an IPIP mode (want Always, CrossSubnet or Never)").
std::optional<std::size_t> read_choice(Ctx& ctx, const Field& field,
                                       const std::vector<std::string_view>& choices,
                                       std::string_view what);
// "Always, CrossSubnet or Never"
std::string list_choices(const std::vector<std::string_view>& choices);

// Parses an AS number text ("64512", "1.10").
std::optional<std::uint32_t> parse_as_number(std::string_view text);

// Kubernetes names (k8s.io/apimachinery/pkg/util/validation): a DNS-1123 subdomain (node and
// pod names, at most 253 characters) and label (namespaces, at most 63). Return the problem or "".
std::string check_dns_subdomain(std::string_view name);
std::string check_dns_label(std::string_view name);

}  // namespace calisim::calico::detail
