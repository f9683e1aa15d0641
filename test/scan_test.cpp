#include <portprobe/scan.hpp>

#include <algorithm>
#include <stdexcept>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "asio.hpp"

#include "support.hpp"

namespace pp = portprobe;
using namespace std::chrono_literals;
using reports = std::vector<pp::port_report>;

namespace {

std::pair<pp::error_code, reports> scan(test::io_fixture& fx, const pp::port_list& ports,
                                         const pp::check_options& options = {}) {
  pp::error_code ec = asio::error::would_block;
  reports result;
  int calls = 0;
  pp::async_scan(fx.io, ports, options, [&](pp::error_code e, reports r) {
    ++calls;
    ec = e;
    result = std::move(r);
  });
  fx.run();
  REQUIRE(calls == 1);
  return {ec, result};
}

// The lowest descriptor number free now: RLIMIT_NOFILE bounds numbers, not counts.
rlim_t lowest_free_fd() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  ::close(fd);
  return static_cast<rlim_t>(fd);
}

std::vector<std::uint16_t> closed_ports(int n) {
  asio::io_context io;
  std::vector<asio::ip::tcp::acceptor> held;
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < n; ++i) {
    held.push_back(test::listen_on(io, "127.0.0.1"));
    ports.push_back(held.back().local_endpoint().port());
  }
  return ports;  // all closed again as `held` goes
}

}  // namespace

TEST_CASE_FIXTURE(test::io_fixture, "every port of the list, in list order, with its status") {
  test::black_hole hole;
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t open = server.local_endpoint().port();
  const auto closed = closed_ports(2);
  pp::check_options options;
  options.timeout = 200ms;
  const auto [ec, r] = scan(*this, {closed[0], open, hole.port, closed[1], open}, options);
  CHECK_FALSE(ec);
  CHECK(r == reports{{closed[0], pp::port_status::closed},
                     {open, pp::port_status::open},
                     {hole.port, pp::port_status::filtered},
                     {closed[1], pp::port_status::closed},
                     {open, pp::port_status::open}});
}

TEST_CASE_FIXTURE(test::io_fixture, "an empty list: an empty report; bad options: an error") {
  CHECK(scan(*this, {}) == std::pair{pp::error_code(), reports{}});
  pp::check_options options;
  options.timeout = -1ms;
  CHECK(scan(*this, {80}, options).first == asio::error::invalid_argument);
}

TEST_CASE_FIXTURE(test::io_fixture, "out of descriptors: the window shrinks and the scan goes on") {
  // Probes of a black hole stay in flight until their timeout, each holding a
  // descriptor; with only a few to spare, the scan runs out of them: slower,
  // never a wrong status, never a failed scan.
  test::black_hole hole;
  auto server = test::listen_on(io, "127.0.0.1");
  const auto closed = closed_ports(20);
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < 20; ++i) {
    ports.push_back(hole.port);
    ports.push_back(closed[static_cast<std::size_t>(i)]);
  }
  ports.push_back(server.local_endpoint().port());
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
  rlimit low = old;
  low.rlim_cur = lowest_free_fd() + 4;  // a few spare descriptors
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  pp::error_code ec = asio::error::would_block;
  reports r;
  pp::check_options options;
  options.concurrency = 256;
  options.timeout = 100ms;
  pp::async_scan(io, ports, options, [&](pp::error_code e, reports got) {
    ec = e;
    r = std::move(got);
  });
  io.run_for(60s);
  ::setrlimit(RLIMIT_NOFILE, &old);
  REQUIRE(io.stopped());
  CHECK_FALSE(ec);
  REQUIRE(r.size() == ports.size());
  int wrong = 0;
  for (std::size_t i = 0; i + 1 < r.size(); ++i) {
    const auto want = i % 2 == 0 ? pp::port_status::filtered : pp::port_status::closed;
    wrong += r[i].status != want || r[i].port != ports[i];
  }
  CHECK(wrong == 0);
  CHECK(r.back().status == pp::port_status::open);
}

TEST_CASE_FIXTURE(test::io_fixture, "a long scan does not hold the executor: other handlers run meanwhile") {
  const auto closed = closed_ports(3);
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < 900; ++i) ports.push_back(closed[static_cast<std::size_t>(i % 3)]);
  bool scan_done = false;
  bool other_ran_first = false;
  pp::async_scan(io, ports, [&](pp::error_code ec, reports r) {
    CHECK_FALSE(ec);
    CHECK(r.size() == ports.size());
    scan_done = true;
  });
  asio::post(io, [&] { other_ran_first = !scan_done; });
  run();
  CHECK(scan_done);
  CHECK(other_ran_first);
}

TEST_CASE_FIXTURE(test::io_fixture, "no descriptor at all: the scan fails with EMFILE, never hangs") {
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
  rlimit none = old;
  const auto ports = closed_ports(3);
  none.rlim_cur = lowest_free_fd();  // not one more
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &none) == 0);
  pp::error_code ec;
  pp::async_scan(io, ports, [&](pp::error_code e, reports) { ec = e; });
  io.run_for(30s);
  ::setrlimit(RLIMIT_NOFILE, &old);
  REQUIRE(io.stopped());
  CHECK(ec == std::errc::too_many_files_open);
}

TEST_CASE_FIXTURE(test::io_fixture, "tokens and cancellation") {
  const auto closed = closed_ports(3);
  auto f = pp::async_scan(io, closed, asio::use_future);
  run();
  CHECK(f.get().size() == 3);
  auto op = pp::async_scan(io.get_executor(), closed, asio::experimental::deferred);
  std::size_t deferred_size = 0;
  std::move(op)([&](pp::error_code, reports r) { deferred_size = r.size(); });
  run();
  CHECK(deferred_size == 3);
  test::run_coroutine(*this, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const reports a = co_await pp::async_scan(ex, closed, asio::use_awaitable);
    CHECK(a.size() == 3);
    pp::check_options bad;
    bad.timeout = 0ms;
    auto [ec, b] = co_await pp::async_scan(ex, closed, bad,
                                           asio::experimental::as_tuple(asio::use_awaitable));
    CHECK(ec == asio::error::invalid_argument);
    CHECK(b.empty());
  }());

  test::black_hole hole;
  fds_before = test::count_fds();
  asio::cancellation_signal signal;
  pp::error_code result;
  reports got{{1, pp::port_status::open}};
  pp::check_options slow;
  slow.timeout = 30s;
  pp::async_scan(io, pp::port_list{closed[0], hole.port, closed[1]}, slow,
                 asio::bind_cancellation_slot(signal.slot(), [&](pp::error_code ec, reports r) {
                   result = ec;
                   got = std::move(r);
                 }));
  asio::steady_timer timer(io, 20ms);
  timer.async_wait([&](pp::error_code) { signal.emit(asio::cancellation_type::total); });
  run();
  CHECK(result == asio::error::operation_aborted);
  CHECK(got.empty());
  CHECK(test::count_fds() == fds_before);
}

TEST_CASE_FIXTURE(test::io_fixture, "on_progress: once per port, counting, before the completion") {
  test::black_hole hole;
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t open = server.local_endpoint().port();
  const auto closed = closed_ports(2);
  const pp::port_list list{closed[0], hole.port, open, closed[1]};
  std::vector<pp::scan_progress> seen;
  bool completed = false;
  pp::check_options options;
  options.timeout = 200ms;
  options.on_progress = [&](const pp::scan_progress& p) {
    CHECK_FALSE(completed);  // never after the completion
    seen.push_back(p);
  };
  reports result;
  pp::async_scan(io, list, options, [&](pp::error_code ec, reports r) {
    CHECK_FALSE(ec);
    completed = true;
    result = std::move(r);
  });
  CHECK(seen.empty());  // the io_context is not running here: nothing was probed yet
  run();
  REQUIRE(completed);
  REQUIRE(seen.size() == 4);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].decided == i + 1);
    CHECK(seen[i].total == 4);
  }
  // Every port once, with the status of the final report.
  reports from_progress;
  for (const auto& p : seen) from_progress.push_back(p.latest);
  std::sort(from_progress.begin(), from_progress.end(),
            [](const pp::port_report& a, const pp::port_report& b) { return a.port < b.port; });
  reports sorted = result;
  std::sort(sorted.begin(), sorted.end(),
            [](const pp::port_report& a, const pp::port_report& b) { return a.port < b.port; });
  CHECK(from_progress == sorted);
  // The filtered port answers last (after its timeout): the open one was reported before.
  CHECK(seen.back().latest == pp::port_report{hole.port, pp::port_status::filtered});

  // A callback that throws is stopped, and the scan completes as usual.
  int calls = 0;
  options.on_progress = [&](const pp::scan_progress&) {
    ++calls;
    throw std::runtime_error("a progress bar that fails");
  };
  const auto [ec, r] = scan(*this, {closed[0], closed[1], open}, options);
  CHECK_FALSE(ec);
  CHECK(r.size() == 3);
  CHECK(calls == 1);

  // After a cancellation, no more calls.
  fds_before = test::count_fds();
  asio::cancellation_signal signal;
  std::size_t after_cancel = 0;
  bool cancelled = false;
  options.timeout = 30s;
  options.on_progress = [&](const pp::scan_progress&) { after_cancel += cancelled; };
  pp::error_code result_ec;
  pp::async_scan(io, pp::port_list{hole.port, closed[0]}, options,
                 asio::bind_cancellation_slot(signal.slot(), [&](pp::error_code e, reports) {
                   result_ec = e;
                 }));
  asio::steady_timer timer(io, 20ms);
  timer.async_wait([&](pp::error_code) {
    cancelled = true;
    signal.emit(asio::cancellation_type::terminal);
  });
  run();
  CHECK(result_ec == asio::error::operation_aborted);
  CHECK(after_cancel == 0);
}
