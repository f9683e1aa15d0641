// test/fault_worker: portprobe under faults, each in a fresh process of its own
// (test/fault_test.cpp starts it), so that "the first call of the process" and
// "the process exits" are real:
//
//   fault_worker emfile          every descriptor in use before the process's first
//                                call: each operation completes with an error, none
//                                throws; with descriptors back, the next call works
//   fault_worker fork-idle       one call, then fork: the child exits with exit(0)
//   fault_worker fork-call       one call, then fork: the child calls once, exits
//   fault_worker fork-threads    one call, then fork: in the child, 2 threads each
//                                start 100 calls (one io_context each) and a third
//                                100 on a shared one; all 300 complete
//   fault_worker fork-busy       2 threads calling in a loop while the main thread
//                                forks 10 times: each child calls once and exits
//   fault_worker exit-pending    operations pending on a static io_context when
//                                main returns (its destructor runs at exit, after
//                                the library's first use)
//
// Prints one line per check ("ok: ..." or "FAIL: ...") and exits 0 when every
// check held, 1 otherwise (2: bad usage). Bounded: every wait has a limit, and a
// child that does not exit within it is killed (by its pid) and counted a failure.
// Only loopback ports this process opened (or bound and did not listen on) are
// probed.
#include <portprobe/portprobe.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "asio.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace pp = portprobe;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
  std::fflush(stdout);
  if (!ok) ++failures;
}

/// A port of 127.0.0.1 that refuses connections: bound by this process, not
/// listening (so no other socket takes it meanwhile).
struct closed_port {
  int fd = -1;
  std::uint16_t port = 0;
  closed_port() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      std::perror("closed_port");
      std::exit(2);
    }
    port = ntohs(a.sin_port);
  }
  ~closed_port() { ::close(fd); }
};

/// One async_get_port on `io`, run to completion (bounded).
pp::error_code get_port_once(asio::io_context& io, std::uint16_t* port = nullptr) {
  pp::error_code result = asio::error::would_block;
  int calls = 0;
  pp::async_get_port(io, [&](pp::error_code ec, std::uint16_t p) {
    ++calls;
    result = ec;
    if (port != nullptr) *port = p;
  });
  io.restart();
  io.run_for(20s);
  if (calls != 1) return asio::error::timed_out;
  return result;
}

/// Waits (bounded) for child `pid`; true when it exited with status 0. A child
/// still running after `limit` is killed with SIGKILL and reaped.
bool child_exits_cleanly(pid_t pid, std::chrono::seconds limit, std::string& story) {
  const auto end = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      story = std::string("waitpid: ") + std::strerror(errno);
      return false;
    }
    if (std::chrono::steady_clock::now() > end) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      story = "did not exit within " + std::to_string(limit.count()) + " s (killed)";
      return false;
    }
    std::this_thread::sleep_for(5ms);  // polling a child's exit, not a synchronisation
  }
  if (WIFEXITED(status)) {
    story = "exit status " + std::to_string(WEXITSTATUS(status));
    return WEXITSTATUS(status) == 0;
  }
  story = std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
          strsignal(WTERMSIG(status)) + ")";
  return false;
}

/// fork(); the child runs `body` and leaves with exit() (static destructors,
/// atexit handlers: what a test runner's worker does), its status being
/// `body`'s. True when the child exited with 0.
bool in_child(const std::string& what, const std::function<int()>& body) {
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) {
    check(false, what + ": fork: " + std::strerror(errno));
    return false;
  }
  if (pid == 0) {

    std::setvbuf(stdout, nullptr, _IONBF, 0);  // what it says is seen, even if it is killed
    const int status = body();
    std::exit(status);
  }
  std::string story;
  const bool ok = child_exits_cleanly(pid, 30s, story);
  check(ok, what + ": the child " + story);
  return ok;
}

// ------------------------------------------------------------------ emfile

int emfile() {
  // A low limit, so that filling it is quick; the io_context exists first, as
  // a program's does, but has done no I/O yet.
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 128);
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    std::perror("setrlimit");
    return 2;
  }
  const closed_port closed;  // opened before the limit is reached
  asio::io_context io;
  std::vector<int> filler;
  for (int i = 0; i < 1024; ++i) {  // bounded: the limit is 128
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    filler.push_back(fd);
  }
  check(::open("/dev/null", O_RDONLY) < 0 && errno == EMFILE, "every descriptor is in use");

  // Each operation: its initiating function returns (no exception), its handler
  // runs once, with an error (nothing can be done without a descriptor).
  struct outcome {
    std::string name;
    int calls = 0;
    pp::error_code ec;
    std::string thrown;
  };
  std::vector<outcome> outcomes(7);
  auto start = [&](std::size_t i, const char* name, const std::function<void(outcome&)>& init) {
    outcomes[i].name = name;
    try {
      init(outcomes[i]);
    } catch (const std::exception& e) {
      outcomes[i].thrown = e.what();
    }
  };
  pp::get_port_options options;
  start(0, "async_get_port", [&](outcome& o) {
    pp::async_get_port(io, [&o](pp::error_code ec, std::uint16_t) { ++o.calls, o.ec = ec; });
  });
  start(1, "async_get_ports", [&](outcome& o) {
    pp::async_get_ports(io, 2, options, [&o](pp::error_code ec, std::vector<std::uint16_t>) {
      ++o.calls, o.ec = ec;
    });
  });
  start(2, "async_listen", [&](outcome& o) {
    pp::async_listen(io, options, [&o](pp::error_code ec, tcp::acceptor) { ++o.calls, o.ec = ec; });
  });
  start(3, "async_check_status", [&](outcome& o) {
    pp::async_check_status(io, closed.port, [&o](pp::error_code ec, pp::port_status) {
      ++o.calls, o.ec = ec;
    });
  });
  start(4, "async_find_port_in_use", [&](outcome& o) {
    pp::async_find_port_in_use(io, pp::port_list{closed.port},
                               [&o](pp::error_code ec, std::optional<std::uint16_t>) {
                                 ++o.calls, o.ec = ec;
                               });
  });
  start(5, "async_scan", [&](outcome& o) {
    pp::async_scan(io, pp::port_list{closed.port}, [&o](pp::error_code ec, std::vector<pp::port_report>) {
      ++o.calls, o.ec = ec;
    });
  });
  start(6, "async_wait_for_status", [&](outcome& o) {
    pp::wait_options w;
    w.timeout = 2s;
    pp::async_wait_for_status(io, closed.port, pp::port_status::closed, w,
                              [&o](pp::error_code ec) { ++o.calls, o.ec = ec; });
  });
  for (const outcome& o : outcomes) {
    check(o.thrown.empty(), o.name + " at EMFILE: the initiating function returns" +
                                (o.thrown.empty() ? "" : " (it threw: " + o.thrown + ")"));
    check(o.calls == 0, o.name + " at EMFILE: its handler is not called inside it");
  }
  std::size_t loops = 0;
  try {
    loops = io.run_for(20s);
  } catch (const std::exception& e) {
    check(false, std::string("io_context::run at EMFILE threw: ") + e.what());
  }
  (void)loops;
  for (const outcome& o : outcomes) {
    if (!o.thrown.empty()) continue;
    check(o.calls == 1, o.name + " at EMFILE: its handler is called once (" +
                            std::to_string(o.calls) + ")");
    check(o.calls != 1 || o.ec, o.name + " at EMFILE: completes with an error (" +
                                    (o.ec ? o.ec.message() : std::string("none")) + ")");
  }

  check(pp::current_lock_scope() == pp::lock_scope::process,
        "at EMFILE the lease table could not be opened: in-process locks meanwhile");

  // Descriptors back: the same io_context and the library work again.
  for (int fd : filler) ::close(fd);
  std::uint16_t port = 0;
  const pp::error_code again = get_port_once(io, &port);
  check(!again && port != 0, "async_get_port once descriptors are back: " +
                                 (again ? again.message() : "port " + std::to_string(port)));
  pp::error_code status_ec = asio::error::would_block;
  pp::port_status status = pp::port_status::open;
  pp::async_check_status(io, closed.port, [&](pp::error_code ec, pp::port_status s) {
    status_ec = ec;
    status = s;
  });
  io.restart();
  io.run_for(20s);
  check(!status_ec && status == pp::port_status::closed,
        "async_check_status once descriptors are back: closed");
  // The lease table, not opened at the first call, is opened at a later claim (tried at most every 100 ms), so the
  // locks are shared with the user's other processes again. Bounded: 5 s.
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (pp::current_lock_scope() != pp::lock_scope::user && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(20ms);  // past the retry interval, not a synchronisation
    (void)get_port_once(io);
  }
  check(pp::current_lock_scope() == pp::lock_scope::user,
        "the lease table is in use once descriptors are back: " + pp::lock_scope_reason());
  return failures == 0 ? 0 : 1;
}

// ------------------------------------------------------------------ fork

/// A thread of fork-busy's parent: async_get_port in a loop (bounded; stopped
/// after the forks).
void busy_thread_calls(std::atomic<bool>& stop, std::atomic<int>& calls) {
  asio::io_context io;
  for (int i = 0; i < 20000 && !stop; ++i) {
    pp::get_port_options o;
    o.hold = 0ms;
    pp::async_get_port(io, o, [&](pp::error_code, std::uint16_t) { ++calls; });
    io.restart();
    io.run_for(20s);
  }
}

int fork_mode(const std::string& mode) {
  {
    asio::io_context io;  // the parent's first call starts the registry's thread
    const pp::error_code ec = get_port_once(io);
    check(!ec, "the parent's call before fork: " + (ec ? ec.message() : std::string("ok")));
  }
  if (mode == "fork-idle") {
    in_child("fork-idle", [] { return 0; });
  } else if (mode == "fork-call") {
    in_child("fork-call", [] {
      asio::io_context io;
      const pp::error_code ec = get_port_once(io);
      if (ec) std::printf("FAIL: the child's call: %s\n", ec.message().c_str());
      return ec ? 1 : 0;
    });
  } else if (mode == "fork-threads") {
    in_child("fork-threads", [] {
      std::atomic<int> done{0};
      std::atomic<int> errors{0};
      asio::io_context shared;
      auto start_calls = [&](asio::io_context& io, int n) {
        for (int i = 0; i < n; ++i) {
          pp::async_get_port(io, [&](pp::error_code ec, std::uint16_t) {
            ++done;
            if (ec) ++errors;
          });
        }
      };
      std::vector<std::thread> threads;
      for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&] {
          asio::io_context own;
          start_calls(own, 100);
          own.run_for(30s);
        });
      }
      start_calls(shared, 100);
      std::thread runner([&] { shared.run_for(30s); });
      for (auto& t : threads) t.join();
      runner.join();
      std::printf("%s: the child's 300 calls on 3 threads: %d completed, %d errors\n",
                  done == 300 && errors == 0 ? "ok" : "FAIL", done.load(), errors.load());
      return done == 300 && errors == 0 ? 0 : 1;
    });
  } else if (mode == "fork-busy") {
    std::atomic<bool> stop{false};
    std::atomic<int> calls{0};
    std::vector<std::thread> busy;
    for (int t = 0; t < 2; ++t) busy.emplace_back([&] { busy_thread_calls(stop, calls); });
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (calls < 20 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    check(calls >= 20, "the parent's threads are calling before the forks");
    for (int i = 0; i < 10; ++i) {
      in_child("fork-busy #" + std::to_string(i + 1), [] {
        asio::io_context io;
        const pp::error_code ec = get_port_once(io);
        if (ec) std::printf("FAIL: the child's call: %s\n", ec.message().c_str());
        return ec ? 1 : 0;
      });
    }
    stop = true;
    for (auto& t : busy) t.join();
    check(calls > 0, "the parent's threads went on: " + std::to_string(calls.load()) + " calls");
  } else {
    return 2;
  }
  return failures == 0 ? 0 : 1;
}

// ------------------------------------------------------------------ exit

asio::io_context& static_context() {
  static asio::io_context io;  // destroyed at exit, with what is pending in it
  return io;
}

int exit_pending() {
  asio::io_context& io = static_context();
  static const closed_port closed;  // outlives main, as the io_context does
  // Pending when main returns: a wait that has 60 s to go, a lock timer (a
  // 15 s hold), a get-port search and a check not yet run.
  pp::wait_options w;
  w.timeout = 60s;
  w.interval = 20ms;
  pp::async_wait_for_status(io, closed.port, pp::port_status::open, w, [](pp::error_code) {
    std::printf("FAIL: the wait completed\n");
    std::_Exit(1);
  });
  std::uint16_t port = 0;
  const pp::error_code ec = get_port_once(io, &port);
  check(!ec, "a call before exit");
  pp::async_get_port(io, [](pp::error_code, std::uint16_t) {});
  pp::async_check_status(io, closed.port, [](pp::error_code, pp::port_status) {});
  io.restart();
  io.run_for(30ms);
  io.stop();
  std::printf("ok: main returns with operations pending\n");
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fault_worker emfile|fork-idle|fork-call|fork-threads|fork-busy|exit-pending\n");
    return 2;
  }
  const std::string mode = argv[1];
  if (mode == "emfile") return emfile();
  if (mode.starts_with("fork-")) return fork_mode(mode);
  if (mode == "exit-pending") return exit_pending();
  std::fprintf(stderr, "fault_worker: unknown mode %s\n", mode.c_str());
  return 2;
}
