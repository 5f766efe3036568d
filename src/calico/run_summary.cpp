#include <calisim/calico/run_summary.hpp>

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace calisim::calico {

Result<RunSummary> load_run_summary(const std::filesystem::path& dir) {
  const auto path = dir / "summary.json";
  std::ifstream in(path);
  if (!in) {
    return make_error(Errc::kNotFound,
                      fmt::format("{}: no summary.json (not a calisim run directory?)",
                                  dir.string()));
  }
  std::stringstream text;
  text << in.rdbuf();
  // JSON is YAML's flow style: yaml-cpp reads it.
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return make_error(Errc::kMalformed, fmt::format("{}:{}:{}: {}", path.string(), e.mark.line + 1,
                                                    e.mark.column + 1, e.msg));
  }
  auto bad = [&](std::string_view what) {
    return make_error(Errc::kMalformed, fmt::format("{}: {}", path.string(), what));
  };
  if (!root.IsMap() || !root["nodes"] || !root["nodes"].IsSequence()) return bad("no \"nodes\" list");
  RunSummary s;
  try {
    if (root["scenario"]) s.scenario = root["scenario"].as<std::string>();
    for (const auto& n : root["nodes"]) {
      RunSummary::Node node;
      node.name = n["name"].as<std::string>();
      if (!n["routes"]) return bad(fmt::format("node {} has no \"routes\" (written by an older calisim?)", node.name));
      for (const auto& r : n["routes"]) node.routes.push_back(r.as<std::string>());
      if (n["peers"]) {
        for (const auto& p : n["peers"]) {
          node.peers.push_back({p["name"].as<std::string>(), p["state"].as<std::string>()});
        }
      }
      s.nodes.push_back(std::move(node));
    }
    if (root["pings"]) {
      for (const auto& p : root["pings"]) {
        s.pings.push_back({p["from"].as<std::string>(), p["to"].as<std::string>(),
                           p["transmitted"].as<std::uint64_t>(), p["received"].as<std::uint64_t>()});
      }
    }
  } catch (const YAML::Exception& e) {
    return bad(e.what());
  }
  return s;
}

}  // namespace calisim::calico
