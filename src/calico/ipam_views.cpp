#include <calisim/calico/ipam_views.hpp>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string_view>

#include <fmt/format.h>

namespace calisim::calico {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

// ---------------------------------------------------------------------------------------------
// tablewriter v0.0.5 (table.go, util.go, wrap.go): the parts calicoctl's tables exercise.

constexpr std::size_t kMaxCellWidth = 30;  // MAX_ROW_WIDTH

// Cells are ASCII here (addresses, node and pod names), so display width is byte length.
std::size_t display_width(std::string_view s) {
  return s.size();
}

std::string_view trim_space(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    if (at == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, at - start));
    start = at + 1;
  }
}

// util.go Title: '_' becomes a space, a '.' not between digits or spaces too, then upper case.
std::string title(std::string_view name) {
  std::string r(name);
  const auto num_or_space = [](char c) { return (c >= '0' && c <= '9') || c == ' '; };
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r[i] == '_') {
      r[i] = ' ';
    } else if (r[i] == '.') {
      if ((i != 0 && !num_or_space(r[i - 1])) || (i + 1 != r.size() && !num_or_space(r[i + 1]))) {
        r[i] = ' ';
      }
    }
  }
  std::string t(trim_space(r));
  if (t.empty() && !name.empty()) t = " ";
  for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return t;
}

// util.go Pad (centre; the odd space goes right), PadRight, PadLeft.
std::string pad_centre(std::string_view s, std::size_t width) {
  const std::size_t w = display_width(s);
  if (w >= width) return std::string(s);
  const std::size_t left = (width - w) / 2;
  return std::string(left, ' ') + std::string(s) + std::string(width - w - left, ' ');
}
std::string pad_right(std::string_view s, std::size_t width) {
  const std::size_t w = display_width(s);
  return w >= width ? std::string(s) : std::string(s) + std::string(width - w, ' ');
}
std::string pad_left(std::string_view s, std::size_t width) {
  const std::size_t w = display_width(s);
  return w >= width ? std::string(s) : std::string(width - w, ' ') + std::string(s);
}

// table.go `decimal`: ^-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?$ . (Its `percent` pattern,
// ^-?\d+\.?\d*$%$, can never match, so only this one decides right alignment.)
bool looks_decimal(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  const auto digits_at = [&](std::size_t from) {
    std::size_t j = from;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    return j - from;
  };
  const std::size_t run = digits_at(i);
  if (run == 0) return false;
  i += run;
  // Either plain digits, or 1-3 digits followed by ",ddd" groups.
  if (i < s.size() && s[i] == ',') {
    if (run > 3) return false;
    while (i < s.size() && s[i] == ',') {
      if (digits_at(i + 1) != 3) return false;
      i += 4;
    }
    if (i < s.size() && s[i] >= '0' && s[i] <= '9') return false;
  }
  if (i < s.size() && s[i] == '.') {
    const std::size_t frac = digits_at(i + 1);
    if (frac == 0) return false;
    i += 1 + frac;
  }
  return i == s.size();
}

// wrap.go WrapWords: minimal raggedness line breaking (dynamic programming over break points).
std::vector<std::vector<std::string>> wrap_words(const std::vector<std::string>& words,
                                                 std::int64_t spc, std::int64_t lim,
                                                 std::int64_t pen) {
  const std::size_t n = words.size();
  std::vector<std::vector<std::int64_t>> length(n, std::vector<std::int64_t>(n, 0));
  for (std::size_t i = 0; i < n; ++i) {
    length[i][i] = static_cast<std::int64_t>(display_width(words[i]));
    for (std::size_t j = i + 1; j < n; ++j) {
      length[i][j] = length[i][j - 1] + spc + static_cast<std::int64_t>(display_width(words[j]));
    }
  }
  std::vector<std::size_t> nbrk(n, 0);
  std::vector<std::int64_t> cost(n, INT32_MAX);
  for (std::size_t ii = n; ii-- > 0;) {
    if (length[ii][n - 1] <= lim) {
      cost[ii] = 0;
      nbrk[ii] = n;
      continue;
    }
    for (std::size_t j = ii + 1; j < n; ++j) {
      const std::int64_t d = lim - length[ii][j - 1];
      std::int64_t c = d * d + cost[j];
      if (length[ii][j - 1] > lim) c += pen;  // too-long lines cost more
      if (c < cost[ii]) {
        cost[ii] = c;
        nbrk[ii] = j;
      }
    }
  }
  std::vector<std::vector<std::string>> lines;
  for (std::size_t i = 0; i < n;) {
    const std::size_t end = nbrk[i];
    lines.emplace_back(words.begin() + static_cast<std::ptrdiff_t>(i),
                       words.begin() + static_cast<std::ptrdiff_t>(end));
    i = end;
  }
  return lines;
}

// wrap.go WrapString: the limit grows to the widest word.
std::vector<std::string> wrap_string(std::string_view s, std::size_t lim) {
  std::string flat(s);
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  const std::vector<std::string> words = split(flat, ' ');
  for (const std::string& w : words) lim = std::max(lim, display_width(w));
  std::vector<std::string> out;
  for (const auto& line : wrap_words(words, 1, static_cast<std::int64_t>(lim), 100000)) {
    std::string joined;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (i != 0) joined += ' ';
      joined += line[i];
    }
    out.push_back(std::move(joined));
  }
  return out;
}

class TableWriter {
 public:
  void set_header(std::span<const std::string> keys) {
    for (std::size_t i = 0; i < keys.size(); ++i)
      header_.push_back(parse_dimension(keys[i], i, -1));
  }
  void append(const std::vector<std::string>& row) {
    const int n = static_cast<int>(lines_.size());
    std::vector<std::vector<std::string>> line;
    for (std::size_t i = 0; i < row.size(); ++i) line.push_back(parse_dimension(row[i], i, n));
    lines_.push_back(std::move(line));
  }

  std::string render() {
    std::string out;
    print_line(out);
    print_heading(out);
    for (std::size_t i = 0; i < lines_.size(); ++i) print_row(out, lines_[i], static_cast<int>(i));
    print_line(out);
    return out;
  }

 private:
  // table.go parseDimension (autoWrap and reflowText on, as by default).
  std::vector<std::string> parse_dimension(std::string_view str, std::size_t col, int row) {
    std::vector<std::string> raw = split(str, '\n');
    std::size_t max_width = 0;
    for (const std::string& l : raw) max_width = std::max(max_width, display_width(l));
    max_width = std::min(max_width, kMaxCellWidth);
    std::size_t new_max = max_width;
    std::string joined;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (i != 0) joined += ' ';
      joined += raw[i];
    }
    std::vector<std::string> wrapped = wrap_string(joined, max_width);
    for (const std::string& l : wrapped) new_max = std::max(new_max, display_width(l));
    auto [cw, inserted] = col_width_.try_emplace(col, new_max);
    if (!inserted && (cw->second < new_max || cw->second == 0)) cw->second = new_max;
    auto [rh, fresh] = row_height_.try_emplace(row, wrapped.size());
    if (!fresh && (rh->second < wrapped.size() || rh->second == 0)) rh->second = wrapped.size();
    return wrapped;
  }

  void print_line(std::string& out) const {
    out += '+';
    for (std::size_t i = 0; i < col_width_.size(); ++i) {
      out += std::string(col_width_.at(i) + 2, '-');
      out += '+';
    }
    out += '\n';
  }

  void print_heading(std::string& out) const {
    if (header_.empty()) return;
    const std::size_t height = row_height_.at(-1);
    for (std::size_t x = 0; x < height; ++x) {
      out += '|';
      for (std::size_t y = 0; y < col_width_.size(); ++y) {
        std::string h;
        if (y < header_.size() && x < header_[y].size()) h = header_[y][x];
        out += ' ';
        out += pad_centre(title(h), col_width_.at(y));
        out += " |";
      }
      out += '\n';
    }
    print_line(out);
  }

  void print_row(std::string& out, std::vector<std::vector<std::string>> columns, int row) const {
    const std::size_t height = row_height_.at(row);
    for (auto& c : columns) {
      while (c.size() < height) c.emplace_back("  ");
    }
    for (std::size_t x = 0; x < height; ++x) {
      for (std::size_t y = 0; y < columns.size(); ++y) {
        out += "| ";
        const std::string& s = columns[y][x];
        out += looks_decimal(trim_space(s)) ? pad_left(s, col_width_.at(y))
                                            : pad_right(s, col_width_.at(y));
        out += ' ';
      }
      out += "|\n";
    }
  }

  std::vector<std::vector<std::string>> header_;
  std::vector<std::vector<std::vector<std::string>>> lines_;
  std::map<std::size_t, std::size_t> col_width_;  // cs
  std::map<int, std::size_t> row_height_;         // rs; the header is row -1
};

// ---------------------------------------------------------------------------------------------
// Go's fmt verbs used by show.go. Go's %g and %.f round the exact binary value half-to-even and
// print at least two exponent digits, as C's printf does, so printf gives the same text.

std::string go_g5(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.5g", v);
  return buf;
}
std::string go_f0(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

// showBlockUtilization's genRow.
std::vector<std::string> utilization_row(std::string kind, std::string cidr, double in_use,
                                         double capacity) {
  return {std::move(kind), std::move(cidr), go_g5(capacity),
          fmt::format("{} ({}%)", go_g5(in_use), go_f0(100 * in_use / capacity)),
          fmt::format("{} ({}%)", go_g5(capacity - in_use),
                      go_f0(100 * (capacity - in_use) / capacity))};
}

}  // namespace

std::string render_tablewriter(std::span<const std::string> header,
                               std::span<const std::vector<std::string>> rows) {
  TableWriter t;
  t.set_header(header);
  for (const auto& r : rows) t.append(r);
  return t.render();
}

std::string calicoctl_ipam_show(const Ipam& ipam, bool show_blocks) {
  // GetUtilization: one entry per pool (all pools, enabled or not, in list order), then the
  // "orphaned allocation blocks" catch-all 0.0.0.0/0; each block goes to the first entry whose
  // CIDR overlaps it.
  struct Usage {
    Ipv4Prefix cidr;
    bool real_pool;
    std::vector<const IpamBlock*> blocks;
  };
  std::vector<Usage> usage;
  for (const IpPool& p : ipam.pools()) usage.push_back({p.cidr, true, {}});
  usage.push_back({Ipv4Prefix(Ipv4Address(0), 0), false, {}});
  for (const IpamBlock& b : ipam.blocks()) {
    for (Usage& u : usage) {
      if (u.cidr.contains(b.cidr().network()) || b.cidr().contains(u.cidr.network())) {
        u.blocks.push_back(&b);
        break;
      }
    }
  }
  std::vector<std::vector<std::string>> rows;
  for (const Usage& u : usage) {
    std::vector<std::vector<std::string>> block_rows;
    double pool_in_use = 0;
    for (const IpamBlock* b : u.blocks) {
      const auto in_use = static_cast<double>(b->in_use());
      block_rows.push_back(utilization_row("Block", b->cidr().to_string(), in_use, b->size()));
      pool_in_use += in_use;
    }
    if (u.real_pool) {
      const double capacity = static_cast<double>(std::uint64_t{1} << (32 - u.cidr.length()));
      rows.push_back(utilization_row("IP Pool", u.cidr.to_string(), pool_in_use, capacity));
    }
    if (show_blocks) rows.insert(rows.end(), block_rows.begin(), block_rows.end());
  }
  static const std::vector<std::string> kHeader = {"GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE",
                                                   "IPS FREE"};
  return render_tablewriter(kHeader, rows);
}

std::string calicoctl_ipam_show_borrowed(const Ipam& ipam) {
  // getBorrowedIPs: blocks in list order, ordinals ascending.
  std::vector<std::vector<std::string>> rows;
  int unclassified = 0;
  for (const IpamBlock& b : ipam.blocks()) {
    const std::string owner = b.affinity().value_or("");
    for (std::uint32_t o = 0; o < b.size(); ++o) {
      const auto& a = b.allocation(o);
      if (!a) continue;
      const auto node = a->attributes.find(ipam_attribute::kNode);
      if (node == a->attributes.end()) {
        ++unclassified;
        continue;
      }
      if (node->second == owner) continue;
      std::string type;
      std::string allocated_to;
      if (const auto pod = a->attributes.find(ipam_attribute::kPod); pod != a->attributes.end()) {
        const auto ns = a->attributes.find(ipam_attribute::kNamespace);
        allocated_to =
            fmt::format("{}/{}", ns == a->attributes.end() ? "" : ns->second, pod->second);
        type = ipam_attribute::kPod;
      } else if (const auto t = a->attributes.find(ipam_attribute::kType);
                 t != a->attributes.end()) {
        type = t->second;
      }
      rows.push_back({b.address(o).to_string(), node->second, b.cidr().to_string(), owner, type,
                      allocated_to});
    }
  }
  static const std::vector<std::string> kHeader = {"IP",          "BORROWING-NODE", "BLOCK",
                                                   "BLOCK OWNER", "TYPE",           "ALLOCATED-TO"};
  std::string out = render_tablewriter(kHeader, rows);
  if (unclassified != 0) {
    out += fmt::format(
        "\nNote: found {} IP allocations without an explicit node association. Unable to "
        "determine if they are borrowed.\n",
        unclassified);
  }
  return out;
}

std::string calicoctl_ipam_show_ip(const Ipam& ipam, Ipv4Address address) {
  // GetAssignmentAttributes: the enabled pool holding the address names the block; a missing
  // pool, block or allocation all read "is not assigned".
  const IpamAllocation* found = nullptr;
  for (const IpPool& p : ipam.pools()) {
    if (p.disabled || !p.cidr.contains(address)) continue;
    if (const IpamBlock* b = ipam.find_block(p.block_for(address))) {
      const auto& a = b->allocation(*b->ordinal_of(address));
      if (a) found = &*a;
    }
    break;
  }
  if (found == nullptr) return fmt::format("{} is not assigned\n", address);
  std::string out = fmt::format("IP {} is in use\n", address);
  if (found->attributes.empty()) return out + "No attributes defined\n";
  out += "Attributes:\n";
  for (const auto& [k, v] : found->attributes) out += fmt::format("  {}: {}\n", k, v);
  return out;
}

std::string calicoctl_ipam_show_configuration(const Ipam& ipam) {
  const IpamConfig& c = ipam.config();
  const std::vector<std::vector<std::string>> rows = {
      {"StrictAffinity", c.strict_affinity ? "true" : "false"},
      {"AutoAllocateBlocks", c.auto_allocate_blocks ? "true" : "false"},
      {"MaxBlocksPerHost", fmt::format("{}", c.max_blocks_per_host)},
  };
  static const std::vector<std::string> kHeader = {"PROPERTY", "VALUE"};
  return render_tablewriter(kHeader, rows);
}

}  // namespace calisim::calico
