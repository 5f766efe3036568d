#pragma once
// The applications at both ends of the cluster's TCP flows (FlowRun in cluster.hpp): a server
// that answers one small request with a large response and closes, and a client that sends the
// request and reads to end of file. It keeps FlowRun up to date: the handshake, bytes over time,
// retransmissions, completion, stalls.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <calisim/calico/cluster.hpp>
#include <calisim/dataplane/tcp_stack.hpp>
#include <calisim/sim/event_log.hpp>
#include <calisim/sim/simulator.hpp>

namespace calisim::calico::detail {

class FlowRunner {
 public:
  using Recorder =
      std::function<void(std::string_view type, std::initializer_list<EventLog::Field> fields)>;

  FlowRunner(Simulator& sim, Recorder record);
  ~FlowRunner();
  FlowRunner(const FlowRunner&) = delete;
  FlowRunner& operator=(const FlowRunner&) = delete;

  // A flow that could not start: recorded with its error, nothing is sent.
  std::size_t fail(FlowRun run);
  // Starts `run` now: `server` listens on run.port, `client` connects to `server_address`.
  std::size_t start(FlowRun run, dataplane::TcpStack& client, dataplane::TcpStack& server,
                    wire::Ipv4Address server_address);

  // The flows, with the TCP counters brought up to date.
  const std::vector<FlowRun>& runs();

 private:
  struct Flow;
  void on_accept(dataplane::TcpStack* stack, std::uint16_t port, dataplane::TcpSocket& socket);
  void on_client(Flow& f);
  void on_server(Flow& f);
  void tick(std::size_t index);
  void refresh(Flow& f);
  void finish(Flow& f);

  Simulator& sim_;
  Recorder record_;
  std::vector<FlowRun> runs_;
  std::vector<std::unique_ptr<Flow>> flows_;  // by index into runs_; null for failed starts
  std::map<std::pair<dataplane::TcpStack*, std::uint16_t>, bool> listening_;
};

}  // namespace calisim::calico::detail
