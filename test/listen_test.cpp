#include <portprobe/listen.hpp>

#include <future>

#include "asio.hpp"

#include "registry.hpp"  // lib/: the test hooks

#include "lock_fixture.hpp"

namespace pp = portprobe;
using namespace std::chrono_literals;

namespace {

// Each test starts with no lock held by this process.
using fixture = test::lock_fixture;

std::pair<pp::error_code, asio::ip::tcp::acceptor> listen(test::io_fixture& fx,
                                                           const pp::get_port_options& options) {
  pp::error_code ec = asio::error::would_block;
  std::optional<asio::ip::tcp::acceptor> result;
  int calls = 0;
  pp::async_listen(fx.io, options, [&](pp::error_code e, asio::ip::tcp::acceptor a) {
    ++calls;
    ec = e;
    result.emplace(std::move(a));
  });
  fx.run();
  REQUIRE(calls == 1);
  return {ec, std::move(*result)};
}

// A client on loopback connects to the acceptor, which accepts it.
void check_accepts(asio::io_context& io, asio::ip::tcp::acceptor& acceptor) {
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  asio::ip::tcp::socket served = acceptor.accept();
  CHECK(served.remote_endpoint() == client.local_endpoint());
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "the acceptor comes back bound and listening on 127.0.0.1 by default") {
  auto [ec, acceptor] = listen(*this, {});
  REQUIRE_FALSE(ec);
  REQUIRE(acceptor.is_open());
  const auto endpoint = acceptor.local_endpoint();
  CHECK(endpoint.address() == asio::ip::make_address("127.0.0.1"));
  CHECK(endpoint.port() >= 1024);
  check_accepts(io, acceptor);
  // Its port is taken: no other socket can have it, and this process's get-port
  // does not return it either.
  CHECK_FALSE(test::can_listen("127.0.0.1", endpoint.port()));
  CHECK_FALSE(test::can_listen("::", endpoint.port()));
  CHECK(pp::detail::is_port_locked(endpoint.port()));
}

TEST_CASE_FIXTURE(fixture, "the acceptor's executor is the caller's") {
  auto [ec, acceptor] = listen(*this, {});
  REQUIRE_FALSE(ec);
  CHECK(acceptor.get_executor() == asio::any_io_executor(io.get_executor()));
}

TEST_CASE_FIXTURE(fixture, "an explicit host: the acceptor listens there, IPv4 and IPv6") {
  for (const char* host : {"127.0.0.1", "::1", "127.0.0.3"}) {
    CAPTURE(host);
    pp::get_port_options options;
    options.host = host;
    auto [ec, acceptor] = listen(*this, options);
    REQUIRE_FALSE(ec);
    CHECK(acceptor.local_endpoint().address() == asio::ip::make_address(host));
    check_accepts(io, acceptor);
  }
}

TEST_CASE_FIXTURE(fixture, "the acceptor has SO_REUSEADDR, whether the OS picked its port or not") {
  // Default host (the port probed on ::, then 127.0.0.1 bound for it), an
  // explicit host with the OS's pick (the probe socket is kept), and an
  // explicit host with a preferred port.
  pp::get_port_options preferred;
  preferred.host = "127.0.0.1";
  preferred.port = test::os_port();
  preferred.fallback = false;
  pp::get_port_options picked;
  picked.host = "127.0.0.1";
  for (const pp::get_port_options& options : {pp::get_port_options{}, picked, preferred}) {
    CAPTURE(options.host);
    CAPTURE(options.port.size());
    auto [ec, acceptor] = listen(*this, options);
    REQUIRE_FALSE(ec);
    asio::socket_base::reuse_address reuse;
    acceptor.get_option(reuse);
    CHECK(reuse.value());
  }
}

TEST_CASE_FIXTURE(fixture, "3000-or-the-next-free: a busy preferred port is skipped") {
  // A server already holds the first port of the range.
  const std::uint16_t start = test::free_run(3);
  auto server = test::listen_on(io, "127.0.0.1", start);
  pp::get_port_options options;
  options.port = pp::port_numbers(start, start + 2);
  auto [ec, acceptor] = listen(*this, options);
  REQUIRE_FALSE(ec);
  CHECK(acceptor.local_endpoint().port() == start + 1);
}

TEST_CASE_FIXTURE(fixture, "a port busy on another address is skipped even though 127.0.0.1 is free") {
  // A server on ::1 only: binding 127.0.0.1:P would work, but P is not free
  // for a server on every address, so it is not chosen (as async_get_port).
  auto server = test::listen_on(io, "::1");
  const std::uint16_t busy = server.local_endpoint().port();
  const std::uint16_t other = test::os_port();
  pp::get_port_options options;
  options.port = {busy, other};
  auto [ec, acceptor] = listen(*this, options);
  REQUIRE_FALSE(ec);
  CHECK(acceptor.local_endpoint().port() == other);
}

TEST_CASE_FIXTURE(fixture, "nothing free without fallback: no_available_port and a closed acceptor") {
  auto server = test::listen_on(io, "127.0.0.1");
  pp::get_port_options options;
  options.port = server.local_endpoint().port();
  options.fallback = false;
  auto [ec, acceptor] = listen(*this, options);
  CHECK(ec == pp::error::no_available_port);
  CHECK_FALSE(acceptor.is_open());
}

TEST_CASE_FIXTURE(fixture, "an excluded OS pick is never listened on") {
  pp::get_port_options options;
  options.exclude = pp::port_numbers(32768, 65535);
  auto [ec, acceptor] = listen(*this, options);
  REQUIRE_FALSE(ec);
  CHECK(acceptor.local_endpoint().port() < 32768);
  CHECK(test::count_fds() == fds_before + 1);  // the acceptor, and no socket left over
}

TEST_CASE_FIXTURE(fixture, "bad hosts are errors") {
  pp::get_port_options options;
  options.host = "192.0.2.1";
  CHECK(listen(*this, options).first == std::errc::address_not_available);
  options.host = "not-an-ip";
  CHECK(listen(*this, options).first == asio::error::invalid_argument);
}

TEST_CASE_FIXTURE(fixture, "cancellation closes the socket and leaves no port locked") {
  for (const auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                          asio::cancellation_type::total}) {
    asio::cancellation_signal signal;
    pp::error_code result;
    bool open = true;
    pp::async_listen(io, pp::get_port_options{},
                     asio::bind_cancellation_slot(
                         signal.slot(), [&](pp::error_code ec, asio::ip::tcp::acceptor a) {
                           result = ec;
                           open = a.is_open();
                         }));
    signal.emit(type);
    run();
    CHECK(result == asio::error::operation_aborted);
    CHECK_FALSE(open);
  }
  CHECK(pp::detail::stored_lock_count() == 0);
  CHECK(test::count_fds() == fds_before);
}

TEST_CASE_FIXTURE(fixture, "every completion token") {
  SUBCASE("use_future") {
    auto f = pp::async_listen(io, pp::get_port_options{}, asio::use_future);
    run();
    asio::ip::tcp::acceptor a = f.get();
    CHECK(a.is_open());
  }
  SUBCASE("deferred") {
    auto op = pp::async_listen(io.get_executor(), pp::get_port_options{},
                               asio::experimental::deferred);
    bool open = false;
    std::move(op)([&](pp::error_code, asio::ip::tcp::acceptor a) { open = a.is_open(); });
    run();
    CHECK(open);
  }
  SUBCASE("use_awaitable and as_tuple") {
    test::run_coroutine(*this, [&]() -> asio::awaitable<void> {
      auto ex = co_await asio::this_coro::executor;
      pp::get_port_options options;
      asio::ip::tcp::acceptor a = co_await pp::async_listen(ex, options, asio::use_awaitable);
      CHECK(a.is_open());
      options.port = a.local_endpoint().port();
      options.fallback = false;
      auto [ec, b] = co_await pp::async_listen(
          ex, options, asio::experimental::as_tuple(asio::use_awaitable));
      CHECK(ec == pp::error::no_available_port);
      CHECK_FALSE(b.is_open());
    }());
  }
  CHECK(test::count_fds() == fds_before);
}

TEST_CASE_FIXTURE(fixture, "the handler is not called inside the initiating function, and once") {
  bool initiating = true;
  int calls = 0;
  pp::async_listen(io, pp::get_port_options{}, [&](pp::error_code, asio::ip::tcp::acceptor) {
    CHECK_FALSE(initiating);
    ++calls;
  });
  initiating = false;
  CHECK(calls == 0);
  run();
  CHECK(calls == 1);
}

TEST_CASE_FIXTURE(fixture, "time_wait is not for async_listen: invalid_argument, nothing held") {
  // It hands back the socket itself: there is nothing to park in TIME_WAIT.
  pp::get_port_options options;
  options.time_wait = true;
  pp::error_code ec;
  bool open = true;
  pp::async_listen(io, options, [&](pp::error_code e, asio::ip::tcp::acceptor a) {
    ec = e;
    open = a.is_open();
  });
  run();
  CHECK(ec == asio::error::invalid_argument);
  CHECK_FALSE(open);
  CHECK(pp::detail::stored_lock_count() == 0);
  CHECK(test::count_fds() == fds_before);
}
