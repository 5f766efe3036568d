#include <calisim/sim/event_log.hpp>

#include <gtest/gtest.h>

#include <string>

#include "test_util.hpp"

namespace calisim {
namespace {

TEST(EventLog, LinesAreJsonWithTimeTypeAndFieldsInOrder) {
  EventLog log;
  log.record(Time::zero() + Duration::milliseconds(2500), "bgp-state",
             {{"node", std::string_view("user-worker")},
              {"peer", std::string_view("Mesh_203_248_23_214")},
              {"from", std::string_view("OpenConfirm")},
              {"to", std::string_view("Established")}});
  log.record(Time::from_ns(7), "drop",
             {{"reason", std::string_view("no-route")},
              {"count", std::uint64_t{3}},
              {"delta", std::int64_t{-2}},
              {"loss", 0.25},
              {"silent", true}});
  EXPECT_EQ(log.text(),
            "{\"t\":2.500000000,\"type\":\"bgp-state\",\"node\":\"user-worker\","
            "\"peer\":\"Mesh_203_248_23_214\",\"from\":\"OpenConfirm\",\"to\":\"Established\"}\n"
            "{\"t\":0.000000007,\"type\":\"drop\",\"reason\":\"no-route\",\"count\":3,"
            "\"delta\":-2,\"loss\":0.25,\"silent\":true}\n");
  EXPECT_EQ(log.count(), 2u);
}

TEST(EventLog, StringsAreEscaped) {
  std::string out;
  EventLog::append_json_string(out, std::string_view("a\"b\\c\nd\x01", 8));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001\"");
}

TEST(EventLog, FileGetsEveryLineAndPythonParsesIt) {
  const auto path = test::work_dir("event_log") / "events.jsonl";
  {
    auto log = EventLog::open(path);
    ASSERT_TRUE(log.has_value()) << log.error().message;
    for (int i = 0; i < 1000; ++i) {
      log->record(Time::from_ns(i), "fault", {{"what", std::string_view("link-down \"x\"")}});
    }
    ASSERT_TRUE(log->close().has_value());
    EXPECT_EQ(log->text(), "");
  }
  const auto r = test::run_command(
      "/usr/bin/python3 -c 'import json,sys; n=0\nfor l in open(sys.argv[1]): "
      "d=json.loads(l); n+=1\nprint(n, d[\"what\"], d[\"t\"])' '" +
      path.string() + "'");
  EXPECT_EQ(r.out, "1000 link-down \"x\" 9.99e-07\n");
}

TEST(EventLog, OpenInAMissingDirectoryNamesThePath) {
  auto log = EventLog::open("/nonexistent-dir/events.jsonl");
  ASSERT_FALSE(log.has_value());
  EXPECT_NE(log.error().message.find("/nonexistent-dir/events.jsonl"), std::string::npos);
}

TEST(EventLog, WriteFailureIsReported) {
  auto log = EventLog::open("/dev/full");
  ASSERT_TRUE(log.has_value());
  for (int i = 0; i < 10000; ++i) log->record(Time::from_ns(i), "x", {});
  auto r = log->close();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("No space left"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace calisim
