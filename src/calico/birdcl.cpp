#include "birdcl.hpp"

#include <array>
#include <span>

#include <fmt/format.h>

#include <calisim/bgp/bird_views.hpp>
#include <calisim/bgp/speaker.hpp>

namespace calisim::calico {
namespace {

Error invalid(std::string message) {
  return Error{Errc::kInvalidArgument, std::move(message)};
}

// cmd_expand: the keyword `word` is a prefix of, when exactly one of `keywords` has it; "" when
// none does; an error naming them all when several do.
Result<std::string_view> expand(std::string_view word, std::span<const std::string_view> keywords) {
  std::vector<std::string_view> found;
  for (std::string_view k : keywords) {
    if (k == word) return k;
    if (k.starts_with(word)) found.push_back(k);
  }
  if (found.empty()) return std::string_view();
  if (found.size() == 1) return found.front();
  std::string list;
  for (std::string_view k : found) list += fmt::format(" {}", k);
  return std::unexpected(invalid(
      fmt::format("birdcl: ambiguous command \"{}\", possible expansions are:{}", word, list)));
}

constexpr std::string_view kUsage =
    "birdcl [-s SOCKET] show protocols [NAME] | show route [all] [for ADDRESS | PREFIX] [protocol "
    "NAME] "
    "[export NAME] [primary]";

}  // namespace

Result<BirdclCommand> parse_birdcl(const std::vector<std::string>& words) {
  std::size_t i = 1;
  // -s /var/run/calico/bird.ctl: the socket, which calisim does not need.
  while (i < words.size() && words[i].starts_with("-")) {
    if (words[i] == "-s" && i + 1 < words.size()) {
      i += 2;
      continue;
    }
    return std::unexpected(invalid(
        fmt::format("birdcl: option \"{}\" is not supported by calisim ({})", words[i], kUsage)));
  }
  constexpr std::array<std::string_view, 1> kTop{"show"};
  if (i >= words.size())
    return std::unexpected(invalid(fmt::format("birdcl: which command? ({})", kUsage)));
  auto show = expand(words[i], kTop);
  if (!show) return std::unexpected(show.error());
  if (show->empty()) {
    return std::unexpected(
        invalid(fmt::format("birdcl: \"{}\": calisim answers {}", words[i], kUsage)));
  }
  ++i;
  constexpr std::array<std::string_view, 2> kObjects{"protocols", "route"};
  if (i >= words.size())
    return std::unexpected(invalid(fmt::format("birdcl show: what? ({})", kUsage)));
  auto object = expand(words[i], kObjects);
  if (!object) return std::unexpected(object.error());
  if (object->empty()) {
    return std::unexpected(
        invalid(fmt::format("birdcl show {}: calisim answers {}", words[i], kUsage)));
  }
  ++i;
  BirdclCommand cmd;
  if (*object == "protocols") {
    cmd.what = BirdclCommand::What::kProtocols;
    if (i < words.size() && words[i] == "all") {
      return std::unexpected(
          invalid("birdcl show protocols all: the details are not modelled by calisim (calicoctl "
                  "node status and show protocols are)"));
    }
    if (i < words.size()) cmd.protocol_name = words[i++];
    if (i < words.size()) {
      return std::unexpected(
          invalid(fmt::format("birdcl show protocols: unexpected \"{}\"", words[i])));
    }
    return cmd;
  }
  cmd.what = BirdclCommand::What::kRoute;
  constexpr std::array<std::string_view, 5> kRouteOptions{"all", "for", "protocol", "export",
                                                          "primary"};
  while (i < words.size()) {
    const std::string& w = words[i++];
    auto option = expand(w, kRouteOptions);
    if (!option) return std::unexpected(option.error());
    auto value = [&](std::string_view what) -> Result<std::string> {
      if (i >= words.size()) {
        return std::unexpected(
            invalid(fmt::format("birdcl show route: {} needs {}", *option, what)));
      }
      return words[i++];
    };
    if (*option == "all") {
      cmd.all = true;
    } else if (*option == "primary") {
      cmd.primary = true;
    } else if (*option == "for") {
      auto text = value("an address");
      if (!text) return std::unexpected(text.error());
      auto a = wire::Ipv4Address::parse(*text);
      if (!a) {
        return std::unexpected(
            invalid(fmt::format("birdcl show route for {}: not an IPv4 address", *text)));
      }
      cmd.for_address = *a;
    } else if (*option == "protocol" || *option == "export") {
      auto name = value("a protocol name");
      if (!name) return std::unexpected(name.error());
      (*option == "protocol" ? cmd.protocol_name : cmd.export_name) = *name;
    } else {
      auto p = wire::Ipv4Prefix::parse(w);
      if (!p) {
        return std::unexpected(invalid(fmt::format(
            "birdcl show route: \"{}\" is neither an option nor a prefix ({})", w, kUsage)));
      }
      cmd.prefix = *p;
    }
  }
  if (cmd.prefix && cmd.for_address) {
    return std::unexpected(
        invalid("birdcl show route: a prefix and `for` cannot be used together"));
  }
  return cmd;
}

std::string run_birdcl(const bgp::Speaker* speaker, Time now, const BirdclCommand& command) {
  // client/client.c: the socket is not there when BIRD is not running.
  if (speaker == nullptr)
    return "Unable to connect to server control socket (/var/run/calico/bird.ctl): No such file or "
           "directory\n";
  const bgp::BirdViewOptions options = bgp::BirdViewOptions::calico_node(now);
  const bgp::Rib& rib = speaker->rib();
  auto source_named = [&](std::string_view name) -> std::optional<bgp::SourceId> {
    for (std::size_t k = 0; k < rib.source_count(); ++k) {
      const auto id = static_cast<bgp::SourceId>(k);
      if (rib.source_name(id) == name) return id;
    }
    return std::nullopt;
  };

  if (command.what == BirdclCommand::What::kProtocols) {
    // bird.cfg's order: bird_aggr.cfg's static protocol (the node's blocks), then kernel, device
    // and direct, then the BGP peers (confd's template). The first four come up with BIRD.
    // (calisim keeps no routes for `direct1`; its row is here because calico-node has it.)
    const Time started = speaker->started_at().value_or(now);
    std::vector<bgp::BirdProtocolRow> rows{
        {"static1", "Static", "master", "up", started, ""},
        {"kernel1", "Kernel", "master", "up", started, ""},
        {"device1", "Device", "master", "up", started, ""},
        {"direct1", "Direct", "master", "up", started, ""},
    };
    for (std::size_t k = 0; k < speaker->neighbor_count(); ++k) {
      const auto st = speaker->status(k);
      rows.push_back({st.name, "BGP", "master",
                      std::string(bgp::to_string(st.session.protocol_state)), st.session.since,
                      st.session.info});
    }
    if (command.protocol_name) {
      std::erase_if(
          rows, [&](const bgp::BirdProtocolRow& r) { return r.name != *command.protocol_name; });
      // nest/proto.c proto_apply_cmd_patt.
      if (rows.empty()) return fmt::format("BIRD {} ready.\nNo protocols match\n", options.version);
    }
    return bgp::show_protocols(rows, options);
  }

  bgp::ShowRouteOptions show;
  show.all = command.all;
  show.prefix = command.prefix;
  show.for_address = command.for_address;
  show.primary_only = command.primary;
  show.kernel = speaker->kernel();
  show.table = "master";
  for (const auto* name : {&command.protocol_name, &command.export_name}) {
    if (!*name) continue;
    auto id = source_named(**name);
    // nest/config.Y: `show route protocol SYM` with a symbol that names no protocol.
    if (!id) return fmt::format("BIRD {} ready.\n{} is not a protocol\n", options.version, **name);
    (name == &command.protocol_name ? show.protocol : show.export_to) = *id;
  }
  return bgp::show_route(rib, options, show);
}

}  // namespace calisim::calico
