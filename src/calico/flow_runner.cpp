#include "calico/flow_runner.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace calisim::calico::detail {
namespace {

constexpr Duration kSampleEvery = Duration::milliseconds(10);

// The response body: zeros, written a slice at a time.
const std::array<std::uint8_t, 16384>& zeros() {
  static const std::array<std::uint8_t, 16384> z{};
  return z;
}

wire::Bytes text_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

struct FlowRunner::Flow {
  std::size_t index = 0;
  dataplane::TcpStack* server_stack = nullptr;
  dataplane::TcpSocket* client = nullptr;
  dataplane::TcpSocket* server = nullptr;
  dataplane::TcpEndpoint client_local;
  std::string request;
  std::string response_header;  // empty when the response is smaller than a header
  std::size_t request_received = 0;
  std::uint64_t response_queued = 0;  // bytes handed to the server socket
  bool server_closed = false;
  bool client_closed = false;
  bool finished = false;  // completed or failed: no more samples
  Time last_progress;
};

FlowRunner::FlowRunner(Simulator& sim, Recorder record) : sim_(sim), record_(std::move(record)) {}
FlowRunner::~FlowRunner() = default;

std::size_t FlowRunner::fail(FlowRun run) {
  run.start = sim_.now();
  record_("flow-failed", {{"from", std::string_view(run.from)},
                          {"to", std::string_view(run.to)},
                          {"error", std::string_view(run.error)}});
  runs_.push_back(std::move(run));
  flows_.push_back(nullptr);
  return runs_.size() - 1;
}

std::size_t FlowRunner::start(FlowRun run, dataplane::TcpStack& client, dataplane::TcpStack& server,
                              wire::Ipv4Address server_address) {
  const std::size_t index = runs_.size();
  run.start = sim_.now();
  run.command = fmt::format("curl -o /dev/null http://{}:{}/", server_address, run.port);
  auto f = std::make_unique<Flow>();
  f->index = index;
  f->server_stack = &server;
  f->last_progress = sim_.now();
  f->request =
      fmt::format("GET / HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
                  server_address, run.port);
  // The header counts towards `bytes`; the body is the rest.
  // (A few rounds at most; if the digits never settle, the response goes without a header.)
  for (std::uint64_t body = run.bytes, round = 0; round < 4; ++round) {
    std::string h = fmt::format(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body);
    if (h.size() > run.bytes) break;
    if (h.size() + body == run.bytes) {
      f->response_header = std::move(h);
      break;
    }
    body = run.bytes - h.size();  // the length's digits may change the header's size once
  }
  record_("flow-start", {{"from", std::string_view(run.from)},
                         {"to", std::string_view(run.to)},
                         {"port", std::uint64_t{run.port}},
                         {"bytes", run.bytes}});
  runs_.push_back(std::move(run));
  flows_.push_back(std::move(f));
  Flow& flow = *flows_.back();

  const auto key = std::pair{&server, runs_[index].port};
  if (!listening_.contains(key)) {
    listening_[key] = true;
    dataplane::TcpStack* stack = &server;
    const std::uint16_t port = runs_[index].port;
    server.listen(port,
                  [this, stack, port](dataplane::TcpSocket& s) { on_accept(stack, port, s); });
  }
  auto socket = client.connect(server_address, runs_[index].port);
  if (!socket) {
    runs_[index].error = socket.error().message;
    flow.finished = true;
    record_("flow-failed", {{"from", std::string_view(runs_[index].from)},
                            {"to", std::string_view(runs_[index].to)},
                            {"error", std::string_view(runs_[index].error)}});
    return index;
  }
  flow.client = *socket;
  flow.client_local = flow.client->connection().local();
  flow.client->set_on_event([this, &flow](dataplane::TcpSocket&) { on_client(flow); });
  // The request waits in the send buffer for the handshake.
  (void)flow.client->write(text_bytes(flow.request));
  runs_[index].samples.push_back(FlowSample{sim_.now(), 0});
  sim_.schedule_at(sim_.now() + kSampleEvery, [this, index] { tick(index); });
  return index;
}

// One listener per (namespace, port) serves every flow to it: the accepted connection belongs
// to the flow whose client connected from its remote end (or, when a NAT changed that, to the
// oldest flow to this server still waiting).
void FlowRunner::on_accept(dataplane::TcpStack* stack, std::uint16_t port,
                           dataplane::TcpSocket& socket) {
  Flow* match = nullptr;
  for (auto& f : flows_) {
    if (!f || f->server != nullptr || f->server_stack != stack || runs_[f->index].port != port) {
      continue;
    }
    if (f->client_local == socket.connection().remote()) {
      match = f.get();
      break;
    }
    if (match == nullptr) match = f.get();
  }
  if (match == nullptr) {
    socket.abort();  // nobody asked for this connection: a RST
    return;
  }
  match->server = &socket;
  Flow& flow = *match;
  socket.set_on_event([this, &flow](dataplane::TcpSocket&) { on_server(flow); });
}

void FlowRunner::on_server(Flow& f) {
  dataplane::TcpSocket& s = *f.server;
  std::array<std::uint8_t, 4096> buf{};
  while (std::size_t n = s.read(buf)) f.request_received += n;
  if (f.request_received < f.request.size() || f.server_closed) return;
  const std::uint64_t total = runs_[f.index].bytes;
  while (f.response_queued < total) {
    std::size_t wrote = 0;
    if (f.response_queued < f.response_header.size()) {
      wrote = s.write(text_bytes(std::string_view(f.response_header).substr(f.response_queued)));
    } else {
      const auto n = static_cast<std::size_t>(
          std::min<std::uint64_t>(total - f.response_queued, zeros().size()));
      wrote = s.write(wire::Bytes(zeros().data(), n));
    }
    if (wrote == 0) break;  // the send buffer is full: more when the peer acknowledges
    f.response_queued += wrote;
  }
  if (f.response_queued == total && s.state() != dataplane::TcpState::kClosed) {
    f.server_closed = true;
    s.close();
  }
}

void FlowRunner::on_client(Flow& f) {
  FlowRun& run = runs_[f.index];
  dataplane::TcpSocket& c = *f.client;
  const Time now = sim_.now();
  if (!run.established && c.state() != dataplane::TcpState::kSynSent &&
      c.state() != dataplane::TcpState::kClosed) {
    run.established = now;
    record_("flow-established", {{"from", std::string_view(run.from)},
                                 {"to", std::string_view(run.to)},
                                 {"mss", std::uint64_t{c.connection().send_mss()}}});
  }
  std::array<std::uint8_t, 16384> buf{};
  std::uint64_t got = 0;
  while (std::size_t n = c.read(buf)) got += n;
  if (got > 0) {
    run.received += got;
    f.last_progress = now;
    if (run.stalled) {
      run.stalled.reset();
      record_("flow-resumed", {{"from", std::string_view(run.from)},
                               {"to", std::string_view(run.to)},
                               {"received", run.received}});
    }
  }
  if (c.connection().at_eof() && !f.client_closed) {
    f.client_closed = true;
    c.close();
    if (run.received == run.bytes) {
      run.completed = now;
      finish(f);
      record_("flow-done", {{"from", std::string_view(run.from)},
                            {"to", std::string_view(run.to)},
                            {"bytes", run.received},
                            {"seconds", (now - run.start).to_seconds()},
                            {"retransmissions", run.retransmissions}});
    } else {
      run.error = fmt::format("connection closed after {} of {} bytes", run.received, run.bytes);
      finish(f);
      record_("flow-failed", {{"from", std::string_view(run.from)},
                              {"to", std::string_view(run.to)},
                              {"error", std::string_view(run.error)},
                              {"received", run.received}});
    }
  }
  if (c.state() == dataplane::TcpState::kClosed && !f.finished && c.connection().error()) {
    run.error = std::string(dataplane::to_string(*c.connection().error()));
    finish(f);
    record_("flow-failed", {{"from", std::string_view(run.from)},
                            {"to", std::string_view(run.to)},
                            {"error", std::string_view(run.error)},
                            {"received", run.received}});
  }
}

void FlowRunner::finish(Flow& f) {
  f.finished = true;
  refresh(f);
  runs_[f.index].samples.push_back(FlowSample{sim_.now(), runs_[f.index].received});
}

void FlowRunner::tick(std::size_t index) {
  Flow& f = *flows_[index];
  if (f.finished) return;
  FlowRun& run = runs_[index];
  const Time now = sim_.now();
  run.samples.push_back(FlowSample{now, run.received});
  refresh(f);
  if (!run.stalled && now - f.last_progress >= Cluster::kFlowStallAfter) {
    run.stalled = now;
    record_("flow-stalled", {{"from", std::string_view(run.from)},
                             {"to", std::string_view(run.to)},
                             {"received", run.received},
                             {"retransmissions", run.retransmissions}});
  }
  sim_.schedule_at(now + kSampleEvery, [this, index] { tick(index); });
}

void FlowRunner::refresh(Flow& f) {
  FlowRun& run = runs_[f.index];
  run.retransmissions = 0;
  run.timeouts = 0;
  for (const dataplane::TcpSocket* s : {f.client, f.server}) {
    if (s == nullptr) continue;
    run.retransmissions += s->connection().counters().retransmitted_segments;
    run.timeouts += s->connection().counters().timeouts;
  }
  if (f.client != nullptr) run.client_mss = f.client->connection().send_mss();
  if (f.server != nullptr) run.server_mss = f.server->connection().send_mss();
}

const std::vector<FlowRun>& FlowRunner::runs() {
  for (auto& f : flows_) {
    if (f) refresh(*f);
  }
  return runs_;
}

}  // namespace calisim::calico::detail

namespace calisim::calico {

std::string FlowRun::state() const {
  if (completed) return "done";
  if (!error.empty()) return "failed";
  if (stalled) return "stalled";
  return "running";
}

}  // namespace calisim::calico
