#include <calisim/calico/calicoctl_views.hpp>

#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>

#include <calisim/bgp/bird_views.hpp>
#include <calisim/calico/ipam_views.hpp>

namespace calisim::calico::views {
namespace {

// ---------------------------------------------------------------------------------------------
// node status

// status.go bgpPeerRegex `^(Global|Node|Mesh)_(.+)$` and bgpTypeMap.
struct PeerType {
  std::string_view prefix;
  std::string_view display;
};
constexpr std::array<PeerType, 3> kPeerTypes = {{
    {"Global_", "global"},
    {"Mesh_", "node-to-node mesh"},
    {"Node_", "node specific"},
}};

// strings.Fields: the words of `s` split on runs of white space.
std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (i < s.size()) {
    while (i < s.size() && space(s[i])) ++i;
    const std::size_t start = i;
    while (i < s.size() && !space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// bgpPeer.unmarshalBIRD for one `show protocols` line built from `row`, then printPeers' row:
// PEER ADDRESS from the name (underscores to `separator`), PEER TYPE from its prefix, STATE,
// SINCE, and INFO = the BGP state word plus the rest of the line joined by single spaces.
std::optional<std::vector<std::string>> peer_table_row(const BgpPeerRow& row, char separator,
                                                       Time now) {
  const PeerType* type = nullptr;
  for (const PeerType& t : kPeerTypes) {
    if (row.protocol_name.size() > t.prefix.size() && row.protocol_name.starts_with(t.prefix)) {
      type = &t;
      break;
    }
  }
  if (type == nullptr) return std::nullopt;
  // BIRD prints "name proto table state since info"; with no info the line has five columns
  // and calicoctl drops it ("fewer than 6 columns").
  const std::vector<std::string_view> info = fields(row.info);
  if (info.empty()) return std::nullopt;

  std::string address = row.protocol_name.substr(type->prefix.size());
  std::replace(address.begin(), address.end(), '_', separator);
  std::string joined;
  for (const std::string_view word : info) {
    if (!joined.empty()) joined += ' ';
    joined += word;
  }
  return std::vector<std::string>{std::move(address), std::string(type->display), row.state,
                                  bird_protocol_since(row.since, now), std::move(joined)};
}

// printBIRDPeers: the heading, then the table or "No IPv<n> peers found.".
std::string bird_peers(std::string_view ipv, std::span<const BgpPeerRow> rows, Time now) {
  std::string out = fmt::format("\nIPv{} BGP status\n", ipv);
  const char separator = ipv == "6" ? ':' : '.';
  std::vector<std::vector<std::string>> table;
  for (const BgpPeerRow& row : rows) {
    if (auto r = peer_table_row(row, separator, now)) table.push_back(std::move(*r));
  }
  if (table.empty()) return out + fmt::format("No IPv{} peers found.\n", ipv);
  // printPeers: tablewriter upper-cases the headings.
  static const std::vector<std::string> kHeader = {"Peer address", "Peer type", "State", "Since",
                                                   "Info"};
  return out + render_tablewriter(kHeader, table);
}

// ---------------------------------------------------------------------------------------------
// get

// One ResourcePrinterTable table: the headings line, a line per resource, then the blank line
// printer.go leaves after each table.
std::string get_table(std::vector<std::string> headings,
                      std::vector<std::vector<std::string>> body) {
  std::vector<std::vector<std::string>> lines;
  lines.reserve(body.size() + 1);
  lines.push_back(std::move(headings));
  for (auto& b : body) lines.push_back(std::move(b));
  return render_tabwriter(lines) + "\n";
}

// Go's text/template prints a bool as "true"/"false".
std::string go_bool(bool b) {
  return b ? "true" : "false";
}

// printer.go join: the items' %v joined with the separator.
std::string join(std::span<const std::string> items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

template <typename Row>
std::vector<const Row*> sorted_by_name(std::span<const Row> rows) {
  std::vector<const Row*> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(&r);
  std::stable_sort(out.begin(), out.end(),
                   [](const Row* a, const Row* b) { return a->name < b->name; });
  return out;
}

// tabwriter.go, the parts flags 0 and padchar ' ' exercise: Writer.format (one column block
// at a time, recursing to the right) and Writer.writeLines. A line's cells are all
// tab-terminated; the empty text after the last tab is the line's final cell, which belongs to
// no column.
class TabWriter {
 public:
  static constexpr std::size_t kMinWidth = 5;
  static constexpr std::size_t kPadding = 3;

  explicit TabWriter(std::span<const std::vector<std::string>> lines) : lines_(lines) {}

  std::string render() {
    format(0, lines_.size());
    return std::move(out_);
  }

 private:
  // utf8.RuneCount: bytes that do not continue a sequence.
  static std::size_t rune_count(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  }

  // Whether line `i` has a tab-terminated cell in `column` (Go: column < len(line)-1).
  bool has_cell(std::size_t i, std::size_t column) const { return column < lines_[i].size(); }

  void format(std::size_t line0, std::size_t line1) {
    const std::size_t column = widths_.size();
    for (std::size_t current = line0; current < line1; ++current) {
      if (!has_cell(current, column)) continue;
      // A column block starts here: print the lines above it, then size the block.
      write_lines(line0, current);
      line0 = current;
      std::size_t width = kMinWidth;
      for (; current < line1 && has_cell(current, column); ++current) {
        width = std::max(width, rune_count(lines_[current][column]) + kPadding);
      }
      widths_.push_back(width);
      format(line0, current);  // the columns to the right, within this block
      widths_.pop_back();
      line0 = current;
      // As in Go, the loop increment then steps past `current`, which has no cell here.
    }
    write_lines(line0, line1);
  }

  void write_lines(std::size_t line0, std::size_t line1) {
    for (std::size_t i = line0; i < line1; ++i) {
      const std::vector<std::string>& line = lines_[i];
      for (std::size_t j = 0; j < line.size(); ++j) {
        out_ += line[j];
        if (j < widths_.size()) out_.append(widths_[j] - rune_count(line[j]), ' ');
      }
      out_ += '\n';
    }
  }

  std::span<const std::vector<std::string>> lines_;
  std::vector<std::size_t> widths_;
  std::string out_;
};

}  // namespace

std::string bird_protocol_since(Time since, Time now) {
  // BIRD 1.6 keeps protocol times as whole seconds (bird_clock_t) and compares the age in
  // seconds (sysdep/unix/io.c tm_format_datetime): truncate both, then format as BIRD 2 does.
  constexpr std::int64_t kSecond = 1'000'000'000;
  const auto whole = [](Time t) {
    const std::int64_t ns = t.ns();
    const std::int64_t s = ns >= 0 ? ns / kSecond : (ns - kSecond + 1) / kSecond;
    return Time::from_ns(s * kSecond);
  };
  return bgp::format_bird_time(whole(since), whole(now), bgp::BirdTimeFormat::iso_short());
}

std::string calicoctl_node_status(bool calico_running, bool bird_running,
                                  std::span<const BgpPeerRow> ipv4_rows, Time now,
                                  std::span<const BgpPeerRow> ipv6_rows) {
  // status.go Status.
  if (!calico_running) return "Calico process is not running.\n";
  std::string out = "Calico process is running.\n";
  if (bird_running) {
    out += bird_peers("4", ipv4_rows, now);
    out += bird_peers("6", ipv6_rows, now);
  } else {
    out += "\nThe BGP backend process (BIRD) is not running.\n";
  }
  // "Have to manually enter an empty line because the table print library prints the last
  // line".
  return out + "\n";
}

std::string render_tabwriter(std::span<const std::vector<std::string>> rows) {
  return TabWriter(rows).render();
}

std::string calicoctl_get_ippools(std::span<const IpPoolRow> rows, bool wide) {
  const auto mode = [](const std::string& m) { return m.empty() ? std::string("Never") : m; };
  std::vector<std::vector<std::string>> body;
  for (const IpPoolRow* p : sorted_by_name(rows)) {
    if (wide) {
      body.push_back({p->name, p->cidr, go_bool(p->nat_outgoing), mode(p->ipip_mode),
                      mode(p->vxlan_mode), go_bool(p->disabled), go_bool(p->disable_bgp_export),
                      p->node_selector});
    } else {
      body.push_back({p->name, p->cidr, p->node_selector});
    }
  }
  if (wide) {
    return get_table({"NAME", "CIDR", "NAT", "IPIPMODE", "VXLANMODE", "DISABLED",
                      "DISABLEBGPEXPORT", "SELECTOR"},
                     std::move(body));
  }
  return get_table({"NAME", "CIDR", "SELECTOR"}, std::move(body));
}

std::string calicoctl_get_nodes(std::span<const NodeRow> rows, bool wide,
                                std::optional<std::uint32_t> global_as_number) {
  std::vector<std::vector<std::string>> body;
  for (const NodeRow* n : sorted_by_name(rows)) {
    if (!wide) {
      body.push_back({n->name});
      continue;
    }
    if (!n->has_bgp) {
      body.push_back({n->name, "", "", ""});
      continue;
    }
    const std::string asn = n->as_number ? fmt::format("{}", *n->as_number)
                                         : fmt::format("({})", global_as_number.value_or(64512));
    body.push_back({n->name, asn, n->ipv4_address, n->ipv6_address});
  }
  if (wide) return get_table({"NAME", "ASN", "IPV4", "IPV6"}, std::move(body));
  return get_table({"NAME"}, std::move(body));
}

std::string calicoctl_get_bgppeers(std::span<const BgpPeerResourceRow> rows) {
  std::vector<std::vector<std::string>> body;
  for (const BgpPeerResourceRow* p : sorted_by_name(rows)) {
    std::string node = !p->node.empty()            ? p->node
                       : !p->node_selector.empty() ? p->node_selector
                                                   : std::string("(global)");
    body.push_back({p->name, p->peer_ip, std::move(node), fmt::format("{}", p->as_number)});
  }
  return get_table({"NAME", "PEERIP", "NODE", "ASN"}, std::move(body));
}

std::string calicoctl_get_bgpconfigs(std::span<const BgpConfigRow> rows) {
  std::vector<std::vector<std::string>> body;
  for (const BgpConfigRow* c : sorted_by_name(rows)) {
    body.push_back({c->name, c->log_severity,
                    c->node_to_node_mesh_enabled ? go_bool(*c->node_to_node_mesh_enabled) : "-",
                    c->as_number ? fmt::format("{}", *c->as_number) : "-"});
  }
  return get_table({"NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"}, std::move(body));
}

std::string calicoctl_get_workloadendpoints(std::span<const WorkloadEndpointRow> rows,
                                            bool all_namespaces, bool wide,
                                            std::string_view namespace_flag) {
  const bool print_namespace = all_namespaces || !namespace_flag.empty();
  const std::string_view listed = namespace_flag.empty() ? "default" : namespace_flag;

  std::vector<const WorkloadEndpointRow*> selected;
  for (const WorkloadEndpointRow& w : rows) {
    if (all_namespaces || w.k8s_namespace == listed) selected.push_back(&w);
  }
  const auto key = [](const WorkloadEndpointRow* w) { return w->k8s_namespace + "/" + w->pod; };
  std::stable_sort(
      selected.begin(), selected.end(),
      [&](const WorkloadEndpointRow* a, const WorkloadEndpointRow* b) { return key(a) < key(b); });

  std::vector<std::string> headings;
  if (print_namespace) headings.emplace_back("NAMESPACE");
  if (wide) headings.emplace_back("NAME");
  for (const char* h : {"WORKLOAD", "NODE", "NETWORKS", "INTERFACE"}) headings.emplace_back(h);
  if (wide) {
    headings.emplace_back("PROFILES");
    headings.emplace_back("NATS");
  }

  std::vector<std::vector<std::string>> body;
  for (const WorkloadEndpointRow* w : selected) {
    std::vector<std::string> cells;
    if (print_namespace) cells.push_back(w->k8s_namespace);
    if (wide) cells.push_back(w->name);
    cells.push_back(w->pod);
    cells.push_back(w->node);
    cells.push_back(join(w->networks, ","));
    cells.push_back(w->interface_name);
    if (wide) {
      cells.push_back(join(w->profiles, ","));
      // An IPNAT has no String method, so %v prints the struct: "{internal external}".
      std::vector<std::string> nats;
      for (const IpNat& n : w->nats)
        nats.push_back(fmt::format("{{{} {}}}", n.internal_ip, n.external_ip));
      cells.push_back(join(nats, ","));
    }
    body.push_back(std::move(cells));
  }
  return get_table(std::move(headings), std::move(body));
}

}  // namespace calisim::calico::views
