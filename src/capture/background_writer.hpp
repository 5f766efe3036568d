#pragma once
// Writes full capture buffers to a file descriptor on a thread of its own, so the simulation
// never waits on the kernel's page cache (on a busy run that copy was ~40 % of the simulating
// core). Double-buffered: the simulation fills one buffer while the thread writes the other.
// The bytes and their order are exactly those a synchronous writer would produce.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace calisim::capture::detail {

class BackgroundWriter {
 public:
  explicit BackgroundWriter(int fd);
  ~BackgroundWriter();  // waits for the write in flight and stops the thread
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  // Hands `buffer`'s bytes to the thread and gives back in `buffer` an empty one with capacity
  // (waiting only if the previous hand-over is still being written). Returns the errno of a
  // write that failed earlier, or 0.
  int submit(std::vector<std::uint8_t>& buffer);
  // Waits until everything handed over is written; the errno of the first failure, or 0.
  int drain();

 private:
  void run();

  int fd_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  std::vector<std::uint8_t> pending_;  // owned by the thread while busy_
  bool busy_ = false;
  bool stopping_ = false;
  int error_ = 0;
  std::thread thread_;
};

}  // namespace calisim::capture::detail
