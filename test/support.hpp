// test/support.hpp: what every test file shares. Included after the header
// under test, so that each test file proves its header stands alone.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "asio.hpp"
#include <doctest/doctest.h>

#include <portprobe/get_port.hpp>
#include <portprobe/locks.hpp>

namespace test {

/// Open file descriptors of this process.
inline std::size_t count_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// An io_context whose destructor checks that the test left no work behind
/// (no pending operation, no handler not yet run) and no file descriptor open.
struct io_fixture {
  asio::io_context io;
  std::size_t fds_before = 0;  // a baseline the test may move on (after opening its servers)

 private:
  std::size_t fds_at_start = 0;  // checked by the destructor

 public:

  /// The io_context's reactor is created with its first socket: open one, so
  /// that the descriptors counted as the baseline include the reactor's own.
  /// The process's lock registry (its lease table, its thread's reactor) is
  /// made at its first use and lives as long as the process: made here too.
  io_fixture() {
    asio::ip::tcp::socket warm_up(io, asio::ip::tcp::v4());
    warm_up.close();
    (void)portprobe::current_lock_scope();
    fds_before = fds_at_start = count_fds();
  }
  io_fixture(const io_fixture&) = delete;
  io_fixture& operator=(const io_fixture&) = delete;
  ~io_fixture() {
    io.restart();
    const std::size_t ran = io.poll();
    CHECK_MESSAGE(ran == 0, "handlers were still queued at the end of the test");
    CHECK_MESSAGE(io.stopped(), "work was left pending on the io_context");
    // Everything the test opened is closed by now (its sockets were locals of
    // the test body, or members of a derived fixture, destroyed before this).
    CHECK_MESSAGE(count_fds() == fds_at_start, "descriptors were left open by the test");
  }

  /// Runs the io_context until it runs out of work, or fails the test after
  /// `limit` (a generous bound, never a synchronisation).
  void run(std::chrono::seconds limit = std::chrono::seconds(30)) {
    io.restart();
    io.run_for(limit);
    REQUIRE_MESSAGE(io.stopped(), "the io_context still had work after the time limit");
  }
};

/// Counts invocations of a completion handler: a test asserts exactly one.
struct call_counter {
  int calls = 0;
  std::thread::id thread;
};

/// A listening socket on `address`, port chosen by the OS unless given.
inline asio::ip::tcp::acceptor listen_on(asio::io_context& io, const std::string& address,
                                         std::uint16_t port = 0) {
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(address), port);
  asio::ip::tcp::acceptor a(io, ep.protocol());
  if (ep.address().is_v6()) a.set_option(asio::ip::v6_only(false));
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen();
  return a;
}

/// Whether a listening socket can be bound to address:port right now.
inline bool can_listen(const std::string& address, std::uint16_t port) {
  asio::io_context io;
  try {
    listen_on(io, address, port);
    return true;
  } catch (const portprobe::system_error&) {
    return false;
  }
}

/// A port that is free now on every local address (the OS chose it).
inline std::uint16_t os_port() {
  asio::io_context io;
  auto a = listen_on(io, "::");
  return a.local_endpoint().port();
}

/// A port that nothing listens on now at `address`: the OS chose it, then it
/// was closed.
inline std::uint16_t closed_port(const char* address = "127.0.0.1") {
  asio::io_context io;
  return listen_on(io, address).local_endpoint().port();
}

/// async_get_port() on an io_context of its own, run until it completes (at
/// most 30 s): its error (asio::error::would_block if it did not complete) and
/// port. Safe in a forked child too. A template only so that the test units
/// that never call it do not compile the operation.
template <typename Options = portprobe::get_port_options>
std::pair<portprobe::error_code, std::uint16_t> get_port_now(const Options& options) {
  asio::io_context io;
  portprobe::error_code ec = asio::error::would_block;
  std::uint16_t port = 0;
  portprobe::async_get_port(io, options, [&](portprobe::error_code e, std::uint16_t p) {
    ec = e;
    port = p;
  });
  io.run_for(std::chrono::seconds(30));
  return {ec, port};
}

/// Whether this machine has IPv6 loopback (::1 can be listened on).
inline bool have_ipv6_loopback() { return can_listen("::1", 0); }

}  // namespace test

namespace test {

/// Runs a coroutine to its end on `fx`'s io_context (bounded), rethrowing what it threw.
inline void run_coroutine(io_fixture& fx, asio::awaitable<void> coro) {
  std::exception_ptr failure;
  bool done = false;
  asio::co_spawn(fx.io, std::move(coro), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  fx.run();
  REQUIRE(done);
  if (failure) std::rethrow_exception(failure);
}

/// `n` consecutive ports free right now on every local address, found by
/// trying OS-chosen starting points (bounded).
inline std::uint16_t free_run(int n) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const std::uint16_t start = os_port();
    if (start + n - 1 > 65535) continue;
    bool all = true;
    for (int i = 0; i < n && all; ++i) all = can_listen("::", static_cast<std::uint16_t>(start + i));
    if (all) return start;
  }
  FAIL("no run of free ports found");
  return 0;
}

}  // namespace test

namespace test {

/// A port that answers no SYN: a listener with backlog 0 whose accept queue is
/// full (clients connected, never accepted). A connect to it gets no answer,
/// so a probe reports "filtered". Built on its own io_context; bounded.
struct black_hole {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io};
  std::vector<asio::ip::tcp::socket> clients;
  std::uint16_t port = 0;

  explicit black_hole(const std::string& address = "127.0.0.1") {
    const asio::ip::tcp::endpoint ep(asio::ip::make_address(address), 0);
    acceptor.open(ep.protocol());
    acceptor.bind(ep);
    acceptor.listen(0);
    port = acceptor.local_endpoint().port();
    // Fill the accept queue: connect until a connect gets no answer (bounded).
    for (int i = 0; i < 8; ++i) {
      clients.emplace_back(io);
      bool connected = false;
      clients.back().async_connect(acceptor.local_endpoint(),
                                   [&](portprobe::error_code ec) { connected = !ec; });
      io.restart();
      io.run_for(std::chrono::milliseconds(300));
      if (!connected) {
        clients.back().close();  // that SYN went unanswered: the queue is full
        io.restart();
        io.poll();
        return;
      }
    }
    FAIL("the accept queue never filled up");
  }
};

}  // namespace test
