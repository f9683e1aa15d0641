#include <portprobe/status.hpp>

#include <array>
#include <future>

#include "asio.hpp"

#include "connect.hpp"

#include <sys/socket.h>

#include "support.hpp"

namespace pp = portprobe;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

std::pair<pp::error_code, pp::port_status> check(test::io_fixture& fx, std::uint16_t port,
                                                  const pp::check_options& options = {}) {
  pp::error_code ec = asio::error::would_block;
  pp::port_status status = pp::port_status::open;
  int calls = 0;
  pp::async_check_status(fx.io, port, options, [&](pp::error_code e, pp::port_status s) {
    ++calls;
    ec = e;
    status = s;
  });
  fx.run();
  REQUIRE(calls == 1);
  return {ec, status};
}

// A loopback connect to a closed port is refused within start_connect()
// nearly always; on a loaded machine the refusal may come after it returned
// (pending). Tried again, bounded, until the refusal is read at once.
pp::detail::connect_attempt refused_at_once(const asio::ip::tcp::endpoint& to,
                                            pp::detail::spare_sockets* spares) {
  auto a = pp::detail::start_connect(to, spares);
  for (int i = 0; i < 100 && a.outcome == pp::detail::connect_outcome::pending; ++i) {
    ::close(a.fd);
    a = pp::detail::start_connect(to, spares);
  }
  REQUIRE_MESSAGE(a.outcome != pp::detail::connect_outcome::pending,
                  "100 loopback connects to a closed port in a row were not refused at once");
  return a;
}

}  // namespace

TEST_CASE("to_string names the three states") {
  CHECK(pp::to_string(pp::port_status::open) == "open");
  CHECK(pp::to_string(pp::port_status::closed) == "closed");
  CHECK(pp::to_string(pp::port_status::filtered) == "filtered");
}

TEST_CASE_FIXTURE(test::io_fixture, "open: something accepts; closed: refused (default host)") {
  auto server = test::listen_on(io, "127.0.0.1");
  CHECK(check(*this, server.local_endpoint().port()) ==
        std::pair{pp::error_code(), pp::port_status::open});
  CHECK(check(*this, test::closed_port()) == std::pair{pp::error_code(), pp::port_status::closed});
  CHECK(test::count_fds() == fds_before + 1);  // the server alone
}

TEST_CASE_FIXTURE(test::io_fixture, "explicit hosts: IPv4, IPv6 literal, a name resolved to all addresses") {
  auto v6 = test::listen_on(io, "::1");
  const std::uint16_t port = v6.local_endpoint().port();
  pp::check_options options;
  options.host = "::1";
  CHECK(check(*this, port, options).second == pp::port_status::open);
  options.host = "127.0.0.1";  // nothing listens on the IPv4 side of that port
  CHECK(check(*this, port, options).second == pp::port_status::closed);
  // A name is resolved (here from /etc/hosts: no lookup leaves the machine).
  // Names with several addresses are checked in the namespace test, which
  // writes its own hosts file.
  auto v4 = test::listen_on(io, "127.0.0.1");
  options.host = "localhost";
  CHECK(check(*this, v4.local_endpoint().port(), options).second == pp::port_status::open);
  CHECK(check(*this, test::closed_port(), options).second == pp::port_status::closed);
}

TEST_CASE_FIXTURE(test::io_fixture, "filtered: no answer within the timeout, not 'closed' (portscanner #12, #35)") {
  test::black_hole hole;
  fds_before = test::count_fds();
  pp::check_options options;
  options.timeout = 200ms;
  const auto start = clock_type::now();
  const auto [ec, status] = check(*this, hole.port, options);
  const auto elapsed = clock_type::now() - start;
  CHECK_FALSE(ec);
  CHECK(status == pp::port_status::filtered);
  CHECK(elapsed >= 190ms);
  CHECK(elapsed < 5s);
  CHECK(test::count_fds() == fds_before);
}

TEST_CASE_FIXTURE(test::io_fixture, "bad arguments are errors, not statuses") {
  pp::check_options options;
  CHECK(check(*this, 0, options).first == asio::error::invalid_argument);
  options.timeout = 0ms;
  CHECK(check(*this, 80, options).first == asio::error::invalid_argument);
  options.timeout = -5ms;
  CHECK(check(*this, 80, options).first == asio::error::invalid_argument);
  // A name that does not resolve (an empty one: answered without any lookup).
  options = {};
  options.host = "";
  CHECK(check(*this, 80, options).first);
}

TEST_CASE_FIXTURE(test::io_fixture, "a probe leaves no TIME_WAIT behind: closed with a reset") {
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t port = server.local_endpoint().port();
  for (int i = 0; i < 20; ++i) CHECK(check(*this, port).second == pp::port_status::open);
  // The server accepts the queued connections: each was reset by the probe.
  server.non_blocking(true);
  int accepted = 0;
  for (int i = 0; i < 20; ++i) {
    pp::error_code ec;
    asio::ip::tcp::socket s = server.accept(ec);
    if (ec) break;
    ++accepted;
    char byte;
    s.read_some(asio::buffer(&byte, 1), ec);
    CHECK(ec == asio::error::connection_reset);
  }
  CHECK(accepted > 0);
}

TEST_CASE_FIXTURE(test::io_fixture, "the handler: not inside the initiating function, once, on its executor") {
  auto strand = asio::make_strand(io);
  bool initiating = true;
  int calls = 0;
  bool on_strand = false;
  pp::async_check_status(io.get_executor(), test::closed_port(),
                         asio::bind_executor(strand, [&](pp::error_code, pp::port_status) {
                           CHECK_FALSE(initiating);
                           ++calls;
                           on_strand = strand.running_in_this_thread();
                         }));
  initiating = false;
  CHECK(calls == 0);
  run();
  CHECK(calls == 1);
  CHECK(on_strand);
}

TEST_CASE_FIXTURE(test::io_fixture, "every completion token") {
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t port = server.local_endpoint().port();
  SUBCASE("use_future") {
    auto f = pp::async_check_status(io, port, asio::use_future);
    run();
    CHECK(f.get() == pp::port_status::open);
  }
  SUBCASE("deferred") {
    auto op = pp::async_check_status(io, port, asio::experimental::deferred);
    pp::port_status status = pp::port_status::filtered;
    std::move(op)([&](pp::error_code, pp::port_status s) { status = s; });
    run();
    CHECK(status == pp::port_status::open);
  }
  SUBCASE("use_awaitable and as_tuple") {
    test::run_coroutine(*this, [&]() -> asio::awaitable<void> {
      auto ex = co_await asio::this_coro::executor;
      CHECK(co_await pp::async_check_status(ex, port, asio::use_awaitable) ==
            pp::port_status::open);
      pp::check_options options;
      options.timeout = 0ms;
      auto [ec, status] = co_await pp::async_check_status(
          ex, port, options, asio::experimental::as_tuple(asio::use_awaitable));
      CHECK(ec == asio::error::invalid_argument);
      (void)status;
    }());
  }
}

TEST_CASE_FIXTURE(test::io_fixture, "cancellation: a slot, or `||` with a timer, ends a probe at once") {
  test::black_hole hole;
  fds_before = test::count_fds();
  pp::check_options options;
  options.timeout = 30s;  // would take 30 s without the cancellation
  const auto start = clock_type::now();
  for (const auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                          asio::cancellation_type::total}) {
    asio::cancellation_signal signal;
    pp::error_code result;
    pp::async_check_status(io, hole.port, options,
                           asio::bind_cancellation_slot(signal.slot(),
                                                        [&](pp::error_code ec, pp::port_status) {
                                                          result = ec;
                                                        }));
    asio::steady_timer timer(io, 20ms);
    timer.async_wait([&](pp::error_code) { signal.emit(type); });
    run();
    CHECK(result == asio::error::operation_aborted);
  }
  using namespace asio::experimental::awaitable_operators;
  test::run_coroutine(*this, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, 50ms);
    auto winner = co_await (pp::async_check_status(ex, hole.port, options, asio::use_awaitable) ||
                            timer.async_wait(asio::use_awaitable));
    CHECK(winner.index() == 1);
  }());
  CHECK(clock_type::now() - start < 10s);
  CHECK(test::count_fds() == fds_before);
}

TEST_CASE_FIXTURE(test::io_fixture, "many probes at once, from two threads") {
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t open = server.local_endpoint().port();
  const std::uint16_t closed = test::closed_port();
  std::atomic<int> right{0};
  for (int i = 0; i < 200; ++i) {
    const bool want_open = i % 2 == 0;
    pp::async_check_status(io, want_open ? open : closed,
                           [&right, want_open](pp::error_code ec, pp::port_status s) {
                             if (!ec && (s == pp::port_status::open) == want_open) ++right;
                           });
  }
  std::thread other([&] { io.run(); });
  io.run();
  other.join();
  CHECK(right == 200);
}

// ---------------------------------------------------------------------------
// The connect probe itself: a refused socket connects again (Linux).

#ifdef __linux__
TEST_CASE_FIXTURE(test::io_fixture, "a refused probe's socket is kept and connects again, to any port") {
  namespace d = pp::detail;
  for (const std::string host : {"127.0.0.1", "::1"}) {
    if (!test::can_listen(host, 0)) continue;  // no IPv6 loopback here
    CAPTURE(host);
    const auto address = asio::ip::make_address(host);
    auto listener = test::listen_on(io, host);
    const asio::ip::tcp::endpoint open_at(address, listener.local_endpoint().port());
    const asio::ip::tcp::endpoint closed_at(address, test::closed_port(host.c_str()));
    const std::size_t fds = test::count_fds();
    {
      d::spare_sockets spares;
      // Refused: the socket is kept, not closed.
      auto a = refused_at_once(closed_at, &spares);
      CHECK(a.outcome == d::connect_outcome::closed);
      CHECK(a.ec == std::errc::connection_refused);
      CHECK(spares.size() == 1);
      CHECK(test::count_fds() == fds + 1);
      // Refused again, on the same socket: no new descriptor.
      a = d::start_connect(closed_at, &spares);
      CHECK(a.outcome == d::connect_outcome::closed);
      CHECK(spares.size() == 1);
      CHECK(test::count_fds() == fds + 1);
      // The kept socket reaches a listener: it is the connection, then closed.
      a = d::start_connect(open_at, &spares);
      CHECK(a.outcome == d::connect_outcome::open);
      CHECK(spares.size() == 0);
      CHECK(test::count_fds() == fds);
      // The listener got that connection, already reset (SO_LINGER {1, 0}).
      asio::ip::tcp::socket served = listener.accept();
      std::array<char, 1> byte{};
      pp::error_code read_ec;
      asio::read(served, asio::buffer(byte), read_ec);
      CHECK((read_ec == asio::error::connection_reset || read_ec == asio::error::eof));
      // And a new refused one is kept again, until the spares go.
      a = d::start_connect(closed_at, &spares);
      CHECK(a.outcome == d::connect_outcome::closed);
      CHECK(spares.size() == 1);
    }
    CHECK(test::count_fds() == fds);  // the destructor closed the spare
    // Without spares, nothing is kept.
    auto a = d::start_connect(closed_at);
    CHECK(a.outcome == d::connect_outcome::closed);
    CHECK(test::count_fds() == fds);
  }
}
#endif

TEST_CASE_FIXTURE(test::io_fixture, "a socket refused by a v4-mapped address is not kept") {
  // The kernel keeps such an IPv6 socket on its IPv4 path after the refusal:
  // connected again to ::1 it would not reach ::1.
  namespace d = pp::detail;
  if (!test::can_listen("::1", 0)) return;  // no IPv6 here
  const asio::ip::tcp::endpoint mapped(asio::ip::make_address("::ffff:127.0.0.1"),
                                       test::closed_port("127.0.0.1"));
  const std::size_t fds = test::count_fds();
  d::spare_sockets spares;
  const auto a = refused_at_once(mapped, &spares);
  CHECK(a.outcome == d::connect_outcome::closed);
  CHECK(spares.size() == 0);
  CHECK(test::count_fds() == fds);
  // A native ::1 probe after it gets its own socket and the right answer.
  auto listener = test::listen_on(io, "::1");
  const auto b = d::start_connect({asio::ip::make_address("::1"), listener.local_endpoint().port()},
                                  &spares);
  CHECK(b.outcome == d::connect_outcome::open);
  if (b.outcome == d::connect_outcome::pending) ::close(b.fd);
  if (b.outcome == d::connect_outcome::open) listener.accept();  // never blocks: it connected
}

TEST_CASE("spare_sockets: one per family, a second is closed") {
  namespace d = pp::detail;
  const std::size_t fds = test::count_fds();
  d::spare_sockets spares;
  spares.give(AF_INET, ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  spares.give(AF_INET, ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  CHECK(spares.size() == 1);
  CHECK(test::count_fds() == fds + 1);
  CHECK(spares.take(AF_INET6) == -1);
  const int fd = spares.take(AF_INET);
  CHECK(fd >= 0);
  CHECK(spares.size() == 0);
  spares.give(AF_INET, fd);
  spares.close_all();
  CHECK(spares.size() == 0);
  CHECK(test::count_fds() == fds);
}
