#pragma once
// A capture on every device of a scenario's namespaces (a CaptureTap into one pcapng), for the
// tshark checks of tests/tshark_check.hpp. Declare it after the namespaces it taps, so it
// detaches from them (finish) before they go.

#include <calisim/capture/capture_set.hpp>
#include <calisim/dataplane/capture_tap.hpp>
#include <calisim/dataplane/namespace.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "test_util.hpp"

namespace calisim::test {

class CaptureAll {
 public:
  // Opens <work dir>/<name>-<pid>/capture.pcapng (ctest may run tests in parallel processes).
  explicit CaptureAll(const std::string& name)
      : path_(work_dir(name + "-" + std::to_string(::getpid())) / "capture.pcapng") {
    capture::CaptureOptions options;
    options.pcapng_path = path_;
    auto set = capture::CaptureSet::open(options);
    EXPECT_TRUE(set.has_value()) << set.error().message;
    if (!set) return;
    set_ = std::make_unique<capture::CaptureSet>(std::move(*set));
    tap_ = std::make_unique<dataplane::CaptureTap>(*set_);
  }
  CaptureAll(const CaptureAll&) = delete;
  CaptureAll& operator=(const CaptureAll&) = delete;
  ~CaptureAll() { (void)finish(); }

  void attach(dataplane::Namespace& ns) {
    if (!tap_) return;
    tap_->attach(ns);
    tapped_.push_back(&ns);
  }
  template <class Namespaces>
  void attach_all(Namespaces& all) {
    for (auto& n : all) attach(*n);
  }

  // Detaches from every namespace, closes the file and returns its path.
  const std::filesystem::path& finish() {
    for (dataplane::Namespace* ns : tapped_) ns->set_tap(nullptr);
    tapped_.clear();
    if (set_) {
      EXPECT_FALSE(tap_->failure().has_value()) << tap_->failure()->message;
      EXPECT_TRUE(set_->close().has_value());
      tap_.reset();
      set_.reset();
    }
    return path_;
  }

 private:
  std::filesystem::path path_;
  std::unique_ptr<capture::CaptureSet> set_;
  std::unique_ptr<dataplane::CaptureTap> tap_;
  std::vector<dataplane::Namespace*> tapped_;
};

}  // namespace calisim::test
