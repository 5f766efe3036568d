#include "calico/scenario_yaml.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include <calisim/calico/quantity.hpp>

namespace calisim::calico::detail {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

// Levenshtein distance, case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = up;
    }
  }
  return row[b.size()];
}

bool is_plain_integer(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The text of a scalar, or an error naming what was there instead.
std::optional<std::string> scalar(Ctx& ctx, const Field& field, std::string_view want) {
  if (!field.node.IsScalar()) {
    ctx.error(field.where, field.path, fmt::format("want {}, got {}", want, describe(field.node)));
    return std::nullopt;
  }
  return field.node.Scalar();
}

}  // namespace

Location Ctx::locate(const YAML::Mark& mark) const {
  if (mark.is_null()) return {};
  return {mark.line + 1 + line_offset_, mark.column + 1};
}

void Ctx::error(Location at, std::string path, std::string message) {
  ++errors_;
  diagnostics_.push_back(Diagnostic{file_, at.line, at.column, std::move(path), std::move(message),
                                    Severity::kError});
}

void Ctx::warning(Location at, std::string path, std::string message) {
  diagnostics_.push_back(Diagnostic{file_, at.line, at.column, std::move(path), std::move(message),
                                    Severity::kWarning});
}

std::vector<Diagnostic> Ctx::take() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  errors_ = 0;
  return std::move(diagnostics_);
}

std::string join_path(std::string_view base, std::string_view key) {
  if (base.empty()) return std::string(key);
  return fmt::format("{}.{}", base, key);
}

std::string index_path(std::string_view base, std::size_t index) {
  return fmt::format("{}[{}]", base, index);
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  const std::string_view* best = nullptr;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = &c;
    }
  }
  if (best == nullptr) return "";
  // Case alone, or one or two edits in a word long enough that two edits leave it recognisable.
  const std::size_t allowed = word.size() >= 6 ? 2 : (word.size() >= 3 ? 1 : 0);
  if (best_distance > allowed && lowered(word) != lowered(*best)) return "";
  if (*best == word) return "";
  return fmt::format(" (did you mean {}?)", in_quotes(*best));
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return did_you_mean(word, views);
}

std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

MapView::MapView(Ctx& ctx, Field field, std::initializer_list<std::string_view> known)
    : ctx_(ctx), self_(std::move(field)) {
  read(std::vector<std::string_view>(known), false);
}

MapView::MapView(Ctx& ctx, Field field, const std::vector<std::string_view>& known, bool any_key)
    : ctx_(ctx), self_(std::move(field)) {
  read(known, any_key);
}

void MapView::read(const std::vector<std::string_view>& known, bool any_key) {
  if (!self_.node.IsDefined() || self_.node.IsNull()) return;
  if (!self_.node.IsMap()) {
    ctx_.error(self_.where, self_.path,
               fmt::format("want a mapping, got {}", describe(self_.node)));
    ok_ = false;
    return;
  }
  for (const auto& pair : self_.node) {
    const YAML::Node key = pair.first;
    const Location key_at = ctx_.locate(key);
    if (!key.IsScalar()) {
      ctx_.error(key_at, self_.path, fmt::format("keys must be strings, got {}", describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string path = join_path(self_.path, name);
    if (!any_key && std::find(known.begin(), known.end(), name) == known.end()) {
      ctx_.error(key_at, path,
                 fmt::format("unknown field {}{}", in_quotes(name), did_you_mean(name, known)));
      continue;
    }
    const bool duplicate = std::any_of(entries_.begin(), entries_.end(),
                                       [&](const Entry& e) { return e.key == name; });
    if (duplicate) {
      const auto first = std::find_if(entries_.begin(), entries_.end(),
                                      [&](const Entry& e) { return e.key == name; });
      ctx_.error(key_at, path,
                 fmt::format("duplicate field {} (first given on line {})", in_quotes(name),
                             first->key_where.line));
      continue;
    }
    // A null value has no useful mark of its own (yaml-cpp puts it on the next line): use the key's.
    const YAML::Node value = pair.second;
    Location value_at = value.IsNull() ? key_at : ctx_.locate(value);
    if (value_at.line == 0) value_at = key_at;
    entries_.push_back(Entry{name, key_at, Field{value, path, value_at}});
  }
}

std::optional<Field> MapView::get(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) {
      if (e.value.node.IsNull()) return std::nullopt;
      return e.value;
    }
  }
  return std::nullopt;
}

std::optional<Field> MapView::require(std::string_view key) const {
  auto value = get(key);
  if (!value && ok_) {
    const bool written = std::any_of(entries_.begin(), entries_.end(),
                                     [&](const Entry& e) { return e.key == key; });
    const Location at = written ? key_where(key) : self_.where;
    ctx_.error(at, join_path(self_.path, key),
               written ? "required field is empty" : "required field is missing");
  }
  return value;
}

Location MapView::key_where(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return e.key_where;
  }
  return self_.where;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return in_quotes(node.Scalar());
}

bool is_quoted(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "!"; }

std::optional<std::string> read_string(Ctx& ctx, const Field& field) {
  return scalar(ctx, field, "a string");
}

std::optional<bool> read_bool(Ctx& ctx, const Field& field) {
  auto text = scalar(ctx, field, "true or false");
  if (!text) return std::nullopt;
  if (!is_quoted(field.node)) {
    // YAML 1.2's core schema; YAML 1.1's yes/no/on/off are refused rather than guessed at.
    if (*text == "true" || *text == "True" || *text == "TRUE") return true;
    if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  }
  ctx.error(field.where, field.path,
            fmt::format("want true or false, got {}{}", is_quoted(field.node) ? "the string " : "",
                        in_quotes(*text)));
  return std::nullopt;
}

std::optional<std::int64_t> read_int(Ctx& ctx, const Field& field, std::int64_t min,
                                     std::int64_t max) {
  auto text = scalar(ctx, field, "an integer");
  if (!text) return std::nullopt;
  if (is_quoted(field.node)) {
    ctx.error(field.where, field.path,
              fmt::format("want an integer, got the string {} (drop the quotes)", in_quotes(*text)));
    return std::nullopt;
  }
  std::int64_t value = 0;
  std::string_view digits = *text;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (!is_plain_integer(*text) || end != digits.data() + digits.size() ||
      ec == std::errc::result_out_of_range) {
    if (is_plain_integer(*text)) {
      ctx.error(field.where, field.path,
                fmt::format("{} is out of range ({}..{})", *text, min, max));
    } else {
      ctx.error(field.where, field.path, fmt::format("want an integer, got {}", in_quotes(*text)));
    }
    return std::nullopt;
  }
  if (value < min || value > max) {
    ctx.error(field.where, field.path, fmt::format("{} is out of range ({}..{})", value, min, max));
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> read_duration(Ctx& ctx, const Field& field, bool allow_negative) {
  auto text = scalar(ctx, field, "a duration");
  if (!text) return std::nullopt;
  auto d = parse_duration(*text);
  if (!d) {
    ctx.error(field.where, field.path, d.error().message);
    return std::nullopt;
  }
  if (!allow_negative && *d < Duration::zero()) {
    ctx.error(field.where, field.path, fmt::format("duration {} is negative", in_quotes(*text)));
    return std::nullopt;
  }
  return *d;
}

std::optional<std::int64_t> read_rate(Ctx& ctx, const Field& field) {
  auto text = scalar(ctx, field, "a rate");
  if (!text) return std::nullopt;
  auto r = parse_rate_bps(*text);
  if (!r) {
    ctx.error(field.where, field.path, r.error().message);
    return std::nullopt;
  }
  return *r;
}

std::optional<double> read_percentage(Ctx& ctx, const Field& field) {
  auto text = scalar(ctx, field, "a percentage");
  if (!text) return std::nullopt;
  auto p = parse_percentage(*text);
  if (!p) {
    ctx.error(field.where, field.path, p.error().message);
    return std::nullopt;
  }
  return *p;
}

std::optional<std::uint64_t> read_byte_size(Ctx& ctx, const Field& field) {
  auto text = scalar(ctx, field, "a size in bytes");
  if (!text) return std::nullopt;
  auto b = parse_byte_size(*text);
  if (!b) {
    ctx.error(field.where, field.path, b.error().message);
    return std::nullopt;
  }
  return *b;
}

std::optional<wire::Ipv4Address> read_address(Ctx& ctx, const Field& field) {
  auto text = scalar(ctx, field, "an IPv4 address");
  if (!text) return std::nullopt;
  auto a = wire::Ipv4Address::parse(*text);
  if (!a) {
    ctx.error(field.where, field.path, fmt::format("{} is not an IPv4 address", in_quotes(*text)));
    return std::nullopt;
  }
  return *a;
}

std::optional<wire::Ipv4Prefix> read_prefix(Ctx& ctx, const Field& field, bool allow_bare) {
  auto text = scalar(ctx, field, "an IPv4 prefix");
  if (!text) return std::nullopt;
  const bool has_length = text->find('/') != std::string::npos;
  auto p = wire::Ipv4Prefix::parse(*text);
  if (!p || (!has_length && !allow_bare)) {
    ctx.error(field.where, field.path,
              fmt::format("{} is not an IPv4 prefix (want a.b.c.d/len)", in_quotes(*text)));
    return std::nullopt;
  }
  return *p;
}

std::optional<wire::Ipv4Prefix> read_network(Ctx& ctx, const Field& field) {
  auto p = read_prefix(ctx, field);
  if (!p) return std::nullopt;
  if (p->network() != p->address()) {
    ctx.error(field.where, field.path,
              fmt::format("{} has host bits set (did you mean {}?)", in_quotes(p->to_string()),
                          in_quotes(wire::Ipv4Prefix(p->network(), p->length()).to_string())));
    return std::nullopt;
  }
  return *p;
}

std::optional<wire::MacAddress> read_mac(Ctx& ctx, const Field& field) {
  auto text = scalar(ctx, field, "a MAC address");
  if (!text) return std::nullopt;
  auto m = wire::MacAddress::parse(*text);
  if (!m) {
    ctx.error(field.where, field.path,
              fmt::format("{} is not a MAC address (want aa:bb:cc:dd:ee:ff)", in_quotes(*text)));
    return std::nullopt;
  }
  return *m;
}

std::optional<std::uint32_t> parse_as_number(std::string_view text) {
  auto number = [](std::string_view s, std::uint64_t max) -> std::optional<std::uint64_t> {
    if (s.empty() || !is_plain_integer(s) || s[0] == '-' || s[0] == '+') return std::nullopt;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
    return v;
  };
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) {
    const auto v = number(text, 0xffffffffULL);
    if (!v || *v == 0) return std::nullopt;
    return static_cast<std::uint32_t>(*v);
  }
  // asdot: "<high>.<low>" with 16-bit halves (RFC 5396).
  const auto high = number(text.substr(0, dot), 0xffff);
  const auto low = number(text.substr(dot + 1), 0xffff);
  if (!high || !low || (*high == 0 && *low == 0)) return std::nullopt;
  return static_cast<std::uint32_t>((*high << 16) | *low);
}

std::optional<std::uint32_t> read_as_number(Ctx& ctx, const Field& field) {
  auto text = scalar(ctx, field, "an AS number");
  if (!text) return std::nullopt;
  auto asn = parse_as_number(*text);
  if (!asn) {
    ctx.error(field.where, field.path,
              fmt::format("{} is not an AS number (want 1..4294967295 or asdot a.b)",
                          in_quotes(*text)));
    return std::nullopt;
  }
  return asn;
}

std::optional<std::vector<Field>> read_list(Ctx& ctx, const Field& field) {
  if (field.node.IsNull()) return std::vector<Field>{};
  if (!field.node.IsSequence()) {
    ctx.error(field.where, field.path, fmt::format("want a list, got {}", describe(field.node)));
    return std::nullopt;
  }
  std::vector<Field> items;
  std::size_t i = 0;
  for (const auto& item : field.node) {
    Location at = ctx.locate(item);
    if (at.line == 0) at = field.where;
    items.push_back(Field{item, index_path(field.path, i), at});
    ++i;
  }
  return items;
}

std::optional<std::vector<std::string>> read_string_list(Ctx& ctx, const Field& field) {
  auto items = read_list(ctx, field);
  if (!items) return std::nullopt;
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& item : *items) {
    if (auto s = read_string(ctx, item)) {
      out.push_back(*s);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Labels> read_labels(Ctx& ctx, const Field& field) {
  MapView map(ctx, field, {}, true);
  if (!map.ok()) return std::nullopt;
  Labels out;
  for (const auto& e : map.entries()) {
    if (e.value.node.IsNull()) {
      out[e.key] = "";
      continue;
    }
    if (auto v = read_string(ctx, e.value)) out[e.key] = *v;
  }
  return out;
}

std::string list_choices(const std::vector<std::string_view>& choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += (i + 1 == choices.size()) ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

std::optional<std::size_t> read_choice(Ctx& ctx, const Field& field,
                                       const std::vector<std::string_view>& choices,
                                       std::string_view what) {
  auto text = scalar(ctx, field, what);
  if (!text) return std::nullopt;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == *text) return i;
  }
  ctx.error(field.where, field.path,
            fmt::format("{} is not {} (want {}){}", in_quotes(*text), what, list_choices(choices),
                        did_you_mean(*text, choices)));
  return std::nullopt;
}

namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// DNS-1123 label characters, without the length limit.
std::string check_label_part(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (!is_lower_alnum(name.front()) || !is_lower_alnum(name.back())) {
    return "must start and end with a lower-case letter or digit";
  }
  for (char c : name) {
    if (!is_lower_alnum(c) && c != '-') {
      return "may contain only lower-case letters, digits and '-'";
    }
  }
  return "";
}

}  // namespace

std::string check_dns_label(std::string_view name) {
  if (name.size() > 63) return "must be no more than 63 characters";
  return check_label_part(name);
}

std::string check_dns_subdomain(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > 253) return "must be no more than 253 characters";
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const std::string_view part = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!check_label_part(part).empty()) {
      return "must consist of lower-case letters, digits, '-' and '.', and start and end with "
             "a letter or digit";
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return "";
}

}  // namespace calisim::calico::detail
