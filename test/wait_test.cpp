#include <portprobe/wait.hpp>

#include "asio.hpp"

#include "support.hpp"

namespace pp = portprobe;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

TEST_CASE_FIXTURE(test::io_fixture, "a port already open: success at once") {
  auto server = test::listen_on(io, "127.0.0.1");
  pp::error_code ec = asio::error::would_block;
  pp::async_wait_for_status(io, server.local_endpoint().port(), pp::port_status::open,
                            [&](pp::error_code e) { ec = e; });
  run();
  CHECK_FALSE(ec);
}

TEST_CASE_FIXTURE(test::io_fixture, "a server comes up later: the wait ends when it listens") {
  const std::uint16_t port = test::closed_port();
  std::optional<asio::ip::tcp::acceptor> server;
  asio::steady_timer later(io, 150ms);
  later.async_wait([&](pp::error_code) { server.emplace(test::listen_on(io, "127.0.0.1", port)); });
  pp::error_code ec = asio::error::would_block;
  clock_type::time_point when{};
  pp::wait_options options;
  options.interval = 20ms;
  pp::async_wait_for_status(io, port, pp::port_status::open, options, [&](pp::error_code e) {
    ec = e;
    when = clock_type::now();
    CHECK(server.has_value());
  });
  const auto start = clock_type::now();
  run();
  CHECK_FALSE(ec);
  CHECK(when - start >= 140ms);
}

TEST_CASE_FIXTURE(test::io_fixture, "wait for closed: the server goes away") {
  std::optional<asio::ip::tcp::acceptor> server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t port = server->local_endpoint().port();
  asio::steady_timer later(io, 100ms);
  later.async_wait([&](pp::error_code) { server.reset(); });
  pp::error_code ec = asio::error::would_block;
  pp::wait_options options;
  options.interval = 10ms;
  pp::async_wait_for_status(io, port, pp::port_status::closed, options,
                            [&](pp::error_code e) { ec = e; });
  run();
  CHECK_FALSE(ec);
  CHECK_FALSE(server.has_value());
}

TEST_CASE_FIXTURE(test::io_fixture, "past the timeout: asio::error::timed_out") {
  pp::wait_options options;
  options.timeout = 300ms;
  const auto start = clock_type::now();
  pp::error_code ec;
  pp::async_wait_for_status(io, test::closed_port(), pp::port_status::open, options,
                            [&](pp::error_code e) { ec = e; });
  run();
  CHECK(ec == asio::error::timed_out);
  CHECK(clock_type::now() - start >= 290ms);
  CHECK(clock_type::now() - start < 10s);
  // A black hole is not "closed" either: waiting for closed times out.
  test::black_hole hole;
  pp::async_wait_for_status(io, hole.port, pp::port_status::closed, options,
                            [&](pp::error_code e) { ec = e; });
  run();
  CHECK(ec == asio::error::timed_out);
}

TEST_CASE_FIXTURE(test::io_fixture, "bad arguments") {
  pp::error_code ec;
  pp::async_wait_for_status(io, 0, pp::port_status::open, [&](pp::error_code e) { ec = e; });
  run();
  CHECK(ec == asio::error::invalid_argument);
  pp::wait_options options;
  options.interval = -1ms;
  pp::async_wait_for_status(io, 80, pp::port_status::open, options,
                            [&](pp::error_code e) { ec = e; });
  run();
  CHECK(ec == asio::error::invalid_argument);
}

TEST_CASE_FIXTURE(test::io_fixture, "tokens, handler once, cancellation") {
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t open = server.local_endpoint().port();
  bool initiating = true;
  int calls = 0;
  pp::async_wait_for_status(io, open, pp::port_status::open, [&](pp::error_code) {
    CHECK_FALSE(initiating);
    ++calls;
  });
  initiating = false;
  run();
  CHECK(calls == 1);
  auto f = pp::async_wait_for_status(io, open, pp::port_status::open, asio::use_future);
  run();
  CHECK_NOTHROW(f.get());
  test::run_coroutine(*this, [&]() -> asio::awaitable<void> {
    co_await pp::async_wait_for_status(co_await asio::this_coro::executor, open,
                                       pp::port_status::open, asio::use_awaitable);
  }());
  // Waiting for a closed port to open, cancelled: operation_aborted at once.
  asio::cancellation_signal signal;
  pp::error_code ec;
  pp::async_wait_for_status(io, test::closed_port(), pp::port_status::open,
                            asio::bind_cancellation_slot(signal.slot(),
                                                         [&](pp::error_code e) { ec = e; }));
  asio::steady_timer timer(io, 120ms);
  timer.async_wait([&](pp::error_code) { signal.emit(asio::cancellation_type::terminal); });
  const auto start = clock_type::now();
  run();
  CHECK(ec == asio::error::operation_aborted);
  CHECK(clock_type::now() - start < 5s);
  CHECK(test::count_fds() == fds_before + 1);  // the server alone
}

TEST_CASE_FIXTURE(test::io_fixture, "a timeout of centuries does not overflow into an instant timeout") {
  const std::uint16_t port = test::closed_port();
  std::optional<asio::ip::tcp::acceptor> server;
  asio::steady_timer later(io, 100ms);
  later.async_wait([&](pp::error_code) { server.emplace(test::listen_on(io, "127.0.0.1", port)); });
  pp::wait_options options;
  options.timeout = std::chrono::milliseconds::max();
  options.interval = 10ms;
  pp::error_code ec = asio::error::would_block;
  pp::async_wait_for_status(io, port, pp::port_status::open, options,
                            [&](pp::error_code e) { ec = e; });
  run();
  CHECK_FALSE(ec);
}
