#pragma once
// Helpers for the interop tests: a free loopback port, a routing daemon run as a child process
// that is always killed, reaped and cleaned up (even when an assertion ends the test early), and
// a shell command run with a deadline-friendly retry.

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <calisim/wire/address.hpp>

#include "test_util.hpp"

namespace calisim::test {

// A TCP port on `address` that nothing is bound to now, chosen by the kernel: tests run in
// parallel processes (and other build trees run them too), so fixed ports would collide.
inline std::uint16_t free_port(wire::Ipv4Address address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(address.value());
  socklen_t len = sizeof sa;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    port = ntohs(sa.sin_port);
  }
  ::close(fd);
  return port;
}

// The first of `candidates` that is an executable file, or "" (the test then fails: CI installs
// bird2 and gobgpd with scripts/install-deps.sh).
inline std::string find_tool(std::initializer_list<const char*> candidates) {
  for (const char* c : candidates) {
    if (::access(c, X_OK) == 0) return c;
  }
  return {};
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A daemon in the foreground as a child process, its stdout and stderr in `dir`/<name>.log. The
// destructor sends SIGTERM, then SIGKILL if it has not exited within two seconds, reaps it,
// prints its log when the test failed, and removes `dir`.
class ChildDaemon {
 public:
  ChildDaemon(std::filesystem::path dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {}
  ~ChildDaemon() {
    stop();
    if (::testing::Test::HasFailure()) {
      std::cerr << "---- " << name_ << " log (" << log_path().string() << ") ----\n"
                << read_text(log_path()) << "---- end of " << name_ << " log ----\n";
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ChildDaemon(const ChildDaemon&) = delete;
  ChildDaemon& operator=(const ChildDaemon&) = delete;

  std::filesystem::path log_path() const { return dir_ / (name_ + ".log"); }
  const std::filesystem::path& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

  // Starts argv[0] with the arguments; false (with the reason in `error`) if it cannot. The
  // child gets SIGKILL if the test process dies first (PR_SET_PDEATHSIG), so a test killed by a
  // timeout or a signal, whose destructors never run, leaves no daemon behind.
  bool start(const std::vector<std::string>& argv, std::string& error) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const std::string log = log_path().string();
    int report[2];  // the child writes errno here if exec fails; exec closes it (CLOEXEC)
    if (::pipe2(report, O_CLOEXEC) != 0) {
      error = std::string("pipe2: ") + std::strerror(errno);
      return false;
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      error = std::string("fork: ") + std::strerror(errno);
      ::close(report[0]);
      ::close(report[1]);
      return false;
    }
    if (pid_ == 0) {
      // The child: only async-signal-safe calls until exec.
      ::close(report[0]);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int in = ::open("/dev/null", O_RDONLY);
      if (out < 0 || in < 0 || ::dup2(out, STDOUT_FILENO) < 0 || ::dup2(out, STDERR_FILENO) < 0 ||
          ::dup2(in, STDIN_FILENO) < 0) {
        const int e = errno;
        (void)!::write(report[1], &e, sizeof e);
        ::_exit(127);
      }
      ::execv(args[0], args.data());
      const int e = errno;
      (void)!::write(report[1], &e, sizeof e);
      ::_exit(127);
    }
    ::close(report[1]);
    int child_errno = 0;
    ssize_t n;
    do {
      n = ::read(report[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      error = argv[0] + ": " + std::strerror(child_errno);
      return false;
    }
    return true;
  }

  // True while the child has not exited.
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {  // 2 s
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      ::usleep(10'000);
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::filesystem::path dir_;
  std::string name_;
  pid_t pid_ = -1;
};

// Single-quoted for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace calisim::test
