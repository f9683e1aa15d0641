// test/cli_support.hpp: running the built `portprobe` program from a test, as
// a user or a script would, and reading what it left behind. Shared by the
// command-line tests; included after support.hpp.
//
// run_cli() starts the CLI (its path is in PORTPROBE_CLI, set by
// test/meson.build) with an argv of its own -- no shell in between -- and
// collects its exit status, stdout and stderr, bounded in time.
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asio.hpp"
#include <doctest/doctest.h>

extern char** environ;

namespace test {

/// What one run of the CLI left behind.
struct cli_result {
  std::string command;     // the argv, for messages
  bool exited = false;     // ended by exit(), not by a signal
  int status = -1;         // exit status when `exited`
  int signal = 0;          // the signal that ended it otherwise
  bool timed_out = false;  // killed by run_cli() after its time limit
  std::string out;         // everything written to stdout
  std::string err;         // everything written to stderr
  std::chrono::milliseconds elapsed{0};

  /// For failure messages: the whole story of the run.
  std::string describe() const {
    std::string s = "`" + command + "`: ";
    if (timed_out) {
      s += "timed out and was killed; ";
    } else if (exited) {
      s += "exit status " + std::to_string(status) + "; ";
    } else {
      s += "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + "); ";
    }
    s += "after " + std::to_string(elapsed.count()) + " ms; stdout: [" + out + "]; stderr: [" +
         err + "]";
    return s;
  }
};

/// Path of the CLI under test.
inline std::string cli_path() {
  const char* path = std::getenv("PORTPROBE_CLI");
  REQUIRE_MESSAGE(path != nullptr, "PORTPROBE_CLI is not set: run this test through meson test");
  REQUIRE_MESSAGE(::access(path, X_OK) == 0, "PORTPROBE_CLI is not an executable: ", path);
  return path;
}

inline void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

/// pidfd_open(2) through syscall(): glibc 2.36 has a wrapper, older ones do not.
inline int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

/// Where the child's stderr goes.
enum class stderr_to {
  pipe,      // a pipe, as under a script or a test harness
  terminal,  // a pseudo-terminal (isatty() is true there), as in an interactive shell
};

/// Runs the program at `path` with `args` (argv, no shell) with stdin on /dev/null, and
/// collects its stdout, stderr and exit status. The child gets none of this
/// process's other descriptors, so a listener a test holds stays ours alone.
/// Bounded: past `limit` the child is killed and the test fails.
/// `env`: NAME=VALUE entries that replace (or add to) this process's environment.
inline cli_result run_program(const std::string& path, const std::vector<std::string>& args,
                              std::chrono::seconds limit = std::chrono::seconds(30),
                              stderr_to err_kind = stderr_to::pipe,
                              const std::vector<std::string>& env = {}) {
  using clock_type = std::chrono::steady_clock;
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back(path);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};  // for a terminal: [0] its master side, [1] unused
  int pty_slave = -1;          // our own hold on the terminal's child side
  std::string slave_name;
  REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
  if (err_kind == stderr_to::pipe) {
    REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
  } else {
    err_pipe[0] = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE_MESSAGE(err_pipe[0] >= 0, "posix_openpt: ", std::strerror(errno));
    REQUIRE(::grantpt(err_pipe[0]) == 0);
    REQUIRE(::unlockpt(err_pipe[0]) == 0);
    char name[128];
    REQUIRE(::ptsname_r(err_pipe[0], name, sizeof name) == 0);
    slave_name = name;
    // Held open here until the child is reaped: the master side reports a hang-up
    // (EIO) whenever no slave is open, before the child opened it too.
    pty_slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE_MESSAGE(pty_slave >= 0, "open(", name, "): ", std::strerror(errno));
  }

  std::vector<std::string> env_storage = env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('=') + 1);
    const bool replaced = std::any_of(env.begin(), env.end(),
                                      [&](const std::string& x) { return x.starts_with(name); });
    if (!replaced) env_storage.push_back(entry);
  }
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  REQUIRE(::posix_spawn_file_actions_init(&actions) == 0);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);  // dup2 clears O_CLOEXEC
  if (err_kind == stderr_to::pipe) {
    ::posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  } else {
    ::posix_spawn_file_actions_addopen(&actions, 2, slave_name.c_str(), O_RDWR | O_NOCTTY, 0);
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Asio's sockets are not close-on-exec: keep the test's listeners out of the child.
  ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif

  const auto start = clock_type::now();
  const auto deadline = start + limit;
  pid_t pid = -1;
  const int spawn_error =
      ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  if (spawn_error != 0) {
    close_fd(out_pipe[0]);
    close_fd(err_pipe[0]);
    close_fd(pty_slave);
    FAIL("posix_spawn(", path, ") failed: ", std::strerror(spawn_error));
  }

  // Read both streams until they close and the child has ended, never past the
  // deadline. A pidfd turns the child's end into one more descriptor to poll;
  // on a kernel without it, the pipes' end stands for the child's end and
  // waitpid(WNOHANG) is retried at a short interval, still under the deadline.
  // A terminal closes only once we let go of it, after the child is reaped.
  cli_result r;
  r.command = path.substr(path.find_last_of('/') + 1);
  for (const auto& a : args) r.command += " '" + a + "'";
  int pidfd = open_pidfd(pid);
  bool reaped = false;
  int wstatus = 0;
  const auto streams_ended = [&] { return out_pipe[0] < 0 && (err_pipe[0] < 0 || pty_slave >= 0); };
  for (;;) {
    if (!reaped && pidfd < 0 && streams_ended()) {
      const pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
      if (w == pid) reaped = true;
    }
    if (reaped) close_fd(pty_slave);  // what is left on the terminal can now be drained
    if (reaped && out_pipe[0] < 0 && err_pipe[0] < 0) break;
    const auto now = clock_type::now();
    if (now >= deadline) {
      r.timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (out_pipe[0] >= 0) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_pipe[0] >= 0) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (pidfd >= 0 && !reaped) fds[n++] = {pidfd, POLLIN, 0};
    auto wait_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    if (pidfd < 0 && streams_ended()) wait_ms = std::min<long long>(wait_ms, 5);
    const int ready = ::poll(fds, n, static_cast<int>(wait_ms));
    if (ready < 0) {
      REQUIRE_MESSAGE(errno == EINTR, "poll failed: ", std::strerror(errno));
      continue;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == pidfd) {
        const pid_t w = ::waitpid(pid, &wstatus, 0);  // it has ended: does not block
        REQUIRE(w == pid);
        reaped = true;
        continue;
      }
      char buf[4096];
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        (fds[i].fd == out_pipe[0] ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {  // a terminal's end reads as EIO
        close_fd(fds[i].fd == out_pipe[0] ? out_pipe[0] : err_pipe[0]);
      }
    }
  }
  if (!reaped) {
    // Past the deadline: end it, and collect it (SIGKILL cannot be ignored).
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
  }
  close_fd(pidfd);
  close_fd(out_pipe[0]);
  close_fd(err_pipe[0]);
  close_fd(pty_slave);
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
  if (WIFEXITED(wstatus)) {
    r.exited = true;
    r.status = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    r.signal = WTERMSIG(wstatus);
  }
  REQUIRE_MESSAGE(!r.timed_out, r.command, " did not finish within ", limit.count(),
                  " s: ", r.describe());
  return r;
}

/// run_program() of the CLI under test (PORTPROBE_CLI).
inline cli_result run_cli(const std::vector<std::string>& args,
                          std::chrono::seconds limit = std::chrono::seconds(30),
                          stderr_to err_kind = stderr_to::pipe) {
  return run_program(cli_path(), args, limit, err_kind);
}

/// Whether `text` names `value`: it appears there as a word of its own, not as
/// part of a longer number or word (so "0" is not found in "1-65535" or "10").
inline bool names(const std::string& text, const std::string& value) {
  const auto is_word = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  for (std::size_t at = text.find(value); at != std::string::npos; at = text.find(value, at + 1)) {
    const std::size_t end = at + value.size();
    const bool starts = at == 0 || !is_word(text[at - 1]) || !is_word(value.front());
    const bool ends = end == text.size() || !is_word(text[end]) || !is_word(value.back());
    if (starts && ends) return true;
  }
  return false;
}

inline std::string str(std::uint32_t port) { return std::to_string(port); }

inline std::uint16_t port_of(const asio::ip::tcp::acceptor& a) { return a.local_endpoint().port(); }

}  // namespace test
