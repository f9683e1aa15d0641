#include <portprobe/find.hpp>

#include "asio.hpp"

#include "support.hpp"

namespace pp = portprobe;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using found_type = std::optional<std::uint16_t>;

namespace {

enum class which { in_use, not_in_use };

std::pair<pp::error_code, found_type> find(test::io_fixture& fx, which w,
                                            const pp::port_list& ports,
                                            const pp::check_options& options = {}) {
  pp::error_code ec = asio::error::would_block;
  found_type found = 1;
  int calls = 0;
  auto handler = [&](pp::error_code e, found_type f) {
    ++calls;
    ec = e;
    found = f;
  };
  if (w == which::in_use) {
    pp::async_find_port_in_use(fx.io, ports, options, handler);
  } else {
    pp::async_find_port_not_in_use(fx.io, ports, options, handler);
  }
  fx.run();
  REQUIRE(calls == 1);
  return {ec, found};
}

}  // namespace

TEST_CASE_FIXTURE(test::io_fixture, "in use: the first open port in list order, not the first to answer") {
  // Two servers; the list names the higher port first.
  auto a = test::listen_on(io, "127.0.0.1");
  auto b = test::listen_on(io, "127.0.0.1");
  const std::uint16_t pa = a.local_endpoint().port();
  const std::uint16_t pb = b.local_endpoint().port();
  const std::uint16_t c1 = test::closed_port();
  const std::uint16_t c2 = test::closed_port();
  CHECK(find(*this, which::in_use, {c1, std::max(pa, pb), c2, std::min(pa, pb)}).second ==
        std::max(pa, pb));
  CHECK(find(*this, which::in_use, {c1, c2, pa}).second == pa);
}

TEST_CASE_FIXTURE(test::io_fixture, "not in use: the first closed port in list order") {
  auto a = test::listen_on(io, "127.0.0.1");
  const std::uint16_t open = a.local_endpoint().port();
  const std::uint16_t c = test::closed_port();
  CHECK(find(*this, which::not_in_use, {open, c}).second == c);
  CHECK(find(*this, which::not_in_use, {open}).second == std::nullopt);
}

TEST_CASE_FIXTURE(test::io_fixture, "nothing found, or an empty list: std::nullopt, no error") {
  const auto [ec, found] = find(*this, which::in_use, {test::closed_port(), test::closed_port()});
  CHECK_FALSE(ec);
  CHECK(found == std::nullopt);
  CHECK(find(*this, which::in_use, {}) == std::pair{pp::error_code(), found_type()});
  CHECK(find(*this, which::not_in_use, {}) == std::pair{pp::error_code(), found_type()});
}

TEST_CASE_FIXTURE(test::io_fixture, "a silent first port decides only after its timeout") {
  // A black hole first, then an open port: the open one is the answer, but
  // only once the first is known not to be open.
  test::black_hole hole;
  auto server = test::listen_on(io, "127.0.0.1");
  pp::check_options options;
  options.timeout = 300ms;
  const auto start = clock_type::now();
  CHECK(find(*this, which::in_use, {hole.port, server.local_endpoint().port()}, options).second ==
        server.local_endpoint().port());
  CHECK(clock_type::now() - start >= 290ms);
}

TEST_CASE_FIXTURE(test::io_fixture, "an open first port answers at once; silent probes after it are cancelled") {
  std::vector<std::unique_ptr<test::black_hole>> holes;
  for (int i = 0; i < 3; ++i) holes.push_back(std::make_unique<test::black_hole>());
  auto server = test::listen_on(io, "127.0.0.1");
  fds_before = test::count_fds();
  pp::check_options options;
  options.timeout = 20s;
  const auto start = clock_type::now();
  const auto result = find(*this, which::in_use,
                           {server.local_endpoint().port(), holes[0]->port, holes[1]->port,
                            holes[2]->port},
                           options);
  CHECK(result.second == server.local_endpoint().port());
  CHECK(clock_type::now() - start < 10s);  // not the 20 s of the silent ones
  CHECK(test::count_fds() == fds_before);  // their sockets are closed
}

TEST_CASE_FIXTURE(test::io_fixture, "a port_range, a concurrency of 1, duplicates") {
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t open = server.local_endpoint().port();
  pp::check_options options;
  options.concurrency = 1;
  const std::uint16_t c = test::closed_port();
  CHECK(find(*this, which::in_use, {c, c, open, open}, options).second == open);
  // A range of ports this test took from the OS; the last one listens.
  const std::uint16_t start = test::free_run(4);
  auto last = test::listen_on(io, "127.0.0.1", static_cast<std::uint16_t>(start + 3));
  CHECK(find(*this, which::in_use, pp::port_numbers(start, start + 3), options).second ==
        start + 3);
}

TEST_CASE_FIXTURE(test::io_fixture, "every completion token, and cancellation") {
  auto server = test::listen_on(io, "127.0.0.1");
  const pp::port_list ports{test::closed_port(), server.local_endpoint().port()};
  auto f = pp::async_find_port_in_use(io, ports, asio::use_future);
  run();
  CHECK(f.get() == server.local_endpoint().port());
  test::run_coroutine(*this, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const found_type a = co_await pp::async_find_port_not_in_use(ex, ports, asio::use_awaitable);
    CHECK(a == ports.begin().operator*());
    auto [ec, b] = co_await pp::async_find_port_in_use(
        ex, ports, asio::experimental::as_tuple(asio::use_awaitable));
    CHECK_FALSE(ec);
    CHECK(b == server.local_endpoint().port());
  }());
  auto op = pp::async_find_port_in_use(io.get_executor(), ports, asio::experimental::deferred);
  found_type d;
  std::move(op)([&](pp::error_code, found_type p) { d = p; });
  run();
  CHECK(d == server.local_endpoint().port());

  // Cancelled while a silent port holds the answer back.
  test::black_hole hole;
  fds_before = test::count_fds();
  asio::cancellation_signal signal;
  pp::error_code result;
  pp::check_options slow;
  slow.timeout = 30s;
  pp::async_find_port_in_use(io, pp::port_list{hole.port, server.local_endpoint().port()}, slow,
                             asio::bind_cancellation_slot(signal.slot(),
                                                          [&](pp::error_code ec, found_type) {
                                                            result = ec;
                                                          }));
  asio::steady_timer timer(io, 20ms);
  timer.async_wait([&](pp::error_code) { signal.emit(asio::cancellation_type::terminal); });
  const auto start = clock_type::now();
  run();
  CHECK(result == asio::error::operation_aborted);
  CHECK(clock_type::now() - start < 10s);
  CHECK(test::count_fds() == fds_before);
}
