#include <portprobe/portprobe.hpp>

// test/kill_test.cpp: `portprobe kill`, in the netns suite's own network
// namespace: the command signals whatever listens on a port, so the only
// listeners it can find are the ones these tests start. Every process it may
// signal is a child of this test, forked here and reaped here, by pid.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns/namespace.hpp"
#include "support.hpp"
#include "cli_support.hpp"

namespace {

using namespace std::chrono_literals;

/// A child process listening on 127.0.0.1 (`count` ports the OS chose), that
/// ignores SIGTERM when asked to. Killed with SIGKILL and reaped when the
/// test is over, whatever happened.
struct listening_child {
  pid_t pid = -1;
  std::uint16_t port = 0;            // the first
  std::vector<std::uint16_t> ports;  // all of them
  bool reaped = false;
  int status = 0;

  explicit listening_child(bool ignore_term, int count = 1) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // the child: async-signal-safe calls only
      // The default actions: not the test runner's handlers, which would
      // report the signal as a crash of the test case.
      for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
      }
      if (ignore_term) ::signal(SIGTERM, SIG_IGN);
      for (int i = 0; i < count; ++i) {
      const int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof a;
      if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 8) != 0 ||
          ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::_exit(99);
      }
      const std::uint16_t p = ntohs(a.sin_port);
      if (::write(fds[1], &p, sizeof p) != static_cast<ssize_t>(sizeof p)) ::_exit(98);
      }
      for (;;) ::pause();
    }
    ::close(fds[1]);
    for (int i = 0; i < count; ++i) {
      pollfd pfd{fds[0], POLLIN, 0};
      REQUIRE_MESSAGE(::poll(&pfd, 1, 20000) == 1, "the child did not start listening");
      std::uint16_t p = 0;
      REQUIRE(::read(fds[0], &p, sizeof p) == static_cast<ssize_t>(sizeof p));
      ports.push_back(p);
    }
    port = ports.front();
    ::close(fds[0]);
  }
  listening_child(const listening_child&) = delete;
  listening_child& operator=(const listening_child&) = delete;
  ~listening_child() {
    if (!reaped) {
      ::kill(pid, SIGKILL);
      wait_end(20s);
    }
  }

  /// Whether it is still running (not reaped).
  bool alive() {
    if (reaped) return false;
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) reaped = true;
    return !reaped;
  }

  /// Reaps it once it has ended; false if it has not ended within `limit`.
  bool wait_end(std::chrono::milliseconds limit) {
    if (reaped) return true;
    int pidfd = test::open_pidfd(pid);
    if (pidfd >= 0) {
      pollfd pfd{pidfd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(limit.count()));
      ::close(pidfd);
      if (ready != 1) return false;
    }
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    reaped = true;
    return true;
  }
};

void require_kill_namespace() {
  REQUIRE_MESSAGE(test::isolated_network(),
                  "kill signals whatever listens: only in a network namespace of its own");
}

}  // namespace

TEST_SUITE("kill") {

TEST_CASE("cli kill: SIGTERM ends a listener, and the port is free when kill returns") {
  require_kill_namespace();
  listening_child child(false);
  const std::string port = std::to_string(child.port);
  const test::cli_result r = test::run_cli({"kill", port});
  INFO(r.describe());
  CHECK(r.exited);
  CHECK(r.status == 0);
  CHECK(r.out == "sent SIGTERM to " + std::to_string(child.pid) + " (" + "test_netns" +
                     "), holding port " + port + "\n");
  REQUIRE(child.wait_end(20s));
  CHECK(WIFSIGNALED(child.status));
  CHECK(WTERMSIG(child.status) == SIGTERM);

  listening_child other(false);
  const std::string other_port = std::to_string(other.port);
  const std::string free_port = std::to_string(test::os_port());
  const test::cli_result json = test::run_cli({"kill", other_port, free_port, "--json"});
  INFO(json.describe());
  CHECK(json.status == 0);
  CHECK(json.out == "{\"signal\":\"SIGTERM\",\"signalled\":[{\"pid\":" + std::to_string(other.pid) +
                        ",\"command\":\"test_netns\",\"port\":" + other_port + "}],\"free\":[" +
                        other_port + "," + free_port + "],\"held\":[]}\n");
  REQUIRE(other.wait_end(20s));

  // One process holding two ports: signalled once, listed with each port.
  listening_child both(false, 2);
  const std::string first = std::to_string(both.ports[0]);
  const std::string second = std::to_string(both.ports[1]);
  const std::string entry = "{\"pid\":" + std::to_string(both.pid) + ",\"command\":\"test_netns\",\"port\":";
  const test::cli_result two = test::run_cli({"kill", first, second, "--json"});
  INFO(two.describe());
  CHECK(two.status == 0);
  CHECK(two.out == "{\"signal\":\"SIGTERM\",\"signalled\":[" + entry + first + "}," + entry + second +
                       "}],\"free\":[" + first + "," + second + "],\"held\":[]}\n");
  REQUIRE(both.wait_end(20s));
  CHECK(WTERMSIG(both.status) == SIGTERM);  // once: a second SIGTERM would not show, but
                                            // the JSON lists the process with each port
}

TEST_CASE("cli kill: a holder that ignores SIGTERM is named, exit 1; --signal KILL ends it") {
  require_kill_namespace();
  listening_child child(true);
  const std::string port = std::to_string(child.port);
  const std::string pid = std::to_string(child.pid);

  const test::cli_result term = test::run_cli({"kill", port, "--timeout", "300ms"});
  INFO(term.describe());
  CHECK(term.exited);
  CHECK(term.status == 1);
  CHECK(test::names(term.out, pid));
  CHECK(test::names(term.err, port));
  CHECK(test::names(term.err, "KILL"));  // the hint
  CHECK(term.elapsed >= 300ms);
  CHECK(child.alive());  // SIGTERM was ignored

  for (const char* sig : {"KILL"}) {
    const test::cli_result kill = test::run_cli({"kill", port, "--signal", sig});
    INFO(kill.describe());
    CHECK(kill.exited);
    CHECK(kill.status == 0);
    CHECK(kill.out == "sent SIGKILL to " + pid + " (test_netns), holding port " + port + "\n");
  }
  REQUIRE(child.wait_end(20s));
  CHECK(WIFSIGNALED(child.status));
  CHECK(WTERMSIG(child.status) == SIGKILL);
}

TEST_CASE("cli kill: several ports, signal names and numbers; a free port is no failure") {
  require_kill_namespace();
  listening_child a(false);
  listening_child b(false);
  const std::string free_port = std::to_string(test::os_port());
  const test::cli_result r = test::run_cli({"kill", std::to_string(a.port), free_port,
                                            std::to_string(b.port), "-s", "sigint"});
  INFO(r.describe());
  CHECK(r.status == 0);
  CHECK(test::names(r.out, std::to_string(a.pid)));
  CHECK(test::names(r.out, std::to_string(b.pid)));
  CHECK(test::names(r.out, "SIGINT"));
  CHECK(test::names(r.err, free_port));  // "nothing listens on port N"
  REQUIRE(a.wait_end(20s));
  REQUIRE(b.wait_end(20s));
  CHECK(WTERMSIG(a.status) == SIGINT);
  CHECK(WTERMSIG(b.status) == SIGINT);

  listening_child c(false);
  const test::cli_result numbered = test::run_cli({"kill", std::to_string(c.port), "--signal", "9"});
  INFO(numbered.describe());
  CHECK(numbered.status == 0);
  REQUIRE(c.wait_end(20s));
  CHECK(WTERMSIG(c.status) == SIGKILL);
}

TEST_CASE("cli kill: a holder this user may not signal is named, exit 1, and lives on") {
  require_kill_namespace();
  if (::geteuid() != 0) {
    MESSAGE("not root: no other user to run the command as");
    return;
  }
  listening_child child(false);  // root's
  const std::string port = std::to_string(child.port);
  // The command as uid/gid 65534, which can neither see nor signal root's process.
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  const std::string cli = test::cli_path();
  const pid_t runner = ::fork();
  REQUIRE(runner >= 0);
  if (runner == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(97);
    // The default --timeout (5 s): a port whose holder cannot be signalled is not waited for.
    const char* argv[] = {cli.c_str(), "kill", port.c_str(), nullptr};
    ::execv(cli.c_str(), const_cast<char* const*>(argv));
    ::_exit(96);
  }
  ::close(out[1]);
  const auto started = std::chrono::steady_clock::now();
  std::string text;
  for (int i = 0; i < 1000; ++i) {  // until EOF; at most 1000 reads, each within 20 s
    pollfd pfd{out[0], POLLIN, 0};
    if (::poll(&pfd, 1, 20000) != 1) break;
    char buf[1024];
    const ssize_t got = ::read(out[0], buf, sizeof buf);
    if (got <= 0) break;
    text.append(buf, static_cast<std::size_t>(got));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(runner, &status, 0) < 0 && errno == EINTR) {
  }
  const auto took = std::chrono::steady_clock::now() - started;
  INFO("output: ", text);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(test::names(text, port));
  CHECK(text.find("--signal KILL") == std::string::npos);  // no KILL would help: no such hint
  CHECK(took < 4s);  // not the 5 s timeout waited out
  CHECK(child.alive());
}

TEST_CASE("cli kill: bad usage names the bad value") {
  struct bad {
    std::vector<std::string> args;
    std::string named;
  };
  const std::string p = std::to_string(test::os_port());
  for (const bad& c : std::vector<bad>{{{"kill"}, "PORT"},
                                       {{"kill", "0"}, "0"},
                                       {{"kill", "70000"}, "70000"},
                                       {{"kill", p, "--signal", "FOO"}, "FOO"},
                                       {{"kill", p, "--signal", "0"}, "0"},
                                       {{"kill", p, "--signal", "99"}, "99"},
                                       {{"kill", p, "--timeout", "0"}, "0"}}) {
    const test::cli_result r = test::run_cli(c.args);
    INFO(r.describe());
    CHECK(r.exited);
    CHECK(r.status == 2);
    CHECK(test::names(r.err, c.named));
  }
}

}  // TEST_SUITE("kill")
