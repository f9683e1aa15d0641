#include <portprobe/get_port.hpp>

#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <grp.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asio.hpp"

// Private parts of the library (lib/): the probe plan, the test hooks.
#include "probe.hpp"
#include "registry.hpp"

#include "lock_fixture.hpp"

namespace pp = portprobe;
using namespace std::chrono_literals;

namespace {

// Each test starts with no lock held by this process.
using fixture = test::lock_fixture;

// Runs async_get_port with a callback and returns what it completed with.
std::pair<pp::error_code, std::uint16_t> get_port(test::io_fixture& fx,
                                                   const pp::get_port_options& options) {
  pp::error_code ec = asio::error::would_block;
  std::uint16_t port = 0;
  int calls = 0;
  pp::async_get_port(fx.io, options, [&](pp::error_code e, std::uint16_t p) {
    ++calls;
    ec = e;
    port = p;
  });
  fx.run();
  REQUIRE(calls == 1);
  return {ec, port};
}

std::uint16_t get_free_port(test::io_fixture& fx, const pp::get_port_options& options = {}) {
  const auto result = get_port(fx, options);
  REQUIRE_MESSAGE(!result.first, result.first.message());
  REQUIRE(result.second != 0);
  return result.second;
}

// The OS's ephemeral range, from /proc.
std::pair<int, int> ephemeral_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  int high = 60999;
  in >> low >> high;
  return {low, high};
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "a returned port can be listened on, on IPv4 and dual-stack") {
  const std::uint16_t port = get_free_port(*this);
  CHECK(port >= 1024);
  CHECK(test::can_listen("0.0.0.0", port));
  CHECK(test::can_listen("::", port));
  CHECK(test::can_listen("127.0.0.1", port));
}

TEST_CASE_FIXTURE(fixture, "a free preferred port is returned") {
  const std::uint16_t wanted = test::os_port();
  pp::get_port_options options;
  options.port = wanted;
  CHECK(get_free_port(*this, options) == wanted);
}

TEST_CASE_FIXTURE(fixture, "a busy preferred port is skipped; a list is tried in order") {
  // A server holds P on 127.0.0.1; the caller prefers P, then Q, then R.
  const std::uint16_t start = test::free_run(3);
  const auto p = start;
  const auto q = static_cast<std::uint16_t>(start + 1);
  const auto r = static_cast<std::uint16_t>(start + 2);
  auto server = test::listen_on(io, "127.0.0.1", p);
  pp::get_port_options options;
  options.port = {p, q, r};
  CHECK(get_free_port(*this, options) == q);
  // The order is the caller's, not ascending: R before Q.
  pp::clear_locked_ports();
  options.port = {p, r, q};
  CHECK(get_free_port(*this, options) == r);
}

TEST_CASE_FIXTURE(fixture, "when every preferred port is busy, the fallback lies outside the list") {
  auto a = test::listen_on(io, "127.0.0.1");
  auto b = test::listen_on(io, "::");
  const std::uint16_t pa = a.local_endpoint().port();
  const std::uint16_t pb = b.local_endpoint().port();
  pp::get_port_options options;
  options.port = {pa, pb};
  const std::uint16_t port = get_free_port(*this, options);
  CHECK(port != pa);
  CHECK(port != pb);
  CHECK(test::can_listen("::", port));
}

TEST_CASE_FIXTURE(fixture, "a range is honoured: the first free port of port_numbers(from, to)") {
  // A server holds the first two ports of a run of five.
  const std::uint16_t start = test::free_run(5);
  auto s1 = test::listen_on(io, "0.0.0.0", start);
  auto s2 = test::listen_on(io, "::1", static_cast<std::uint16_t>(start + 1));
  pp::get_port_options options;
  options.port = pp::port_numbers(start, start + 4);
  options.fallback = false;
  CHECK(get_free_port(*this, options) == start + 2);
}

TEST_CASE_FIXTURE(fixture, "exclude is honoured inside a range, given as a port_range") {
  // get-port silently ignores `exclude: portNumbers(...)`.
  const std::uint16_t start = test::free_run(5);
  pp::get_port_options options;
  options.port = pp::port_numbers(start, start + 4);
  options.exclude = pp::port_numbers(start, start + 2);
  options.fallback = false;
  CHECK(get_free_port(*this, options) == start + 3);
  // Excluding the whole range leaves nothing, even though every port is free.
  options.exclude = pp::port_numbers(start, start + 4);
  CHECK(get_port(*this, options).first == pp::error::no_available_port);
}

TEST_CASE_FIXTURE(fixture, "exclude is honoured for the OS-chosen fallback, without an endless loop") {
  // get-port returns the OS's pick unchecked. Exclude the whole ephemeral range,
  // where the OS picks: the search re-picks a few times, then sweeps the rest.
  const auto [low, high] = ephemeral_range();
  pp::get_port_options options;
  options.exclude = pp::port_numbers(std::max(low, 1024), high);
  for (int i = 0; i < 3; ++i) {
    const std::uint16_t port = get_free_port(*this, options);
    CHECK_FALSE(options.exclude.contains(port));
    CHECK(port >= 1024);
    CHECK(test::can_listen("::", port));
  }
}

TEST_CASE_FIXTURE(fixture, "fallback = false stays inside the preferred ports") {
  auto a = test::listen_on(io, "127.0.0.1");
  const std::uint16_t busy = a.local_endpoint().port();
  pp::get_port_options options;
  options.port = busy;
  options.fallback = false;
  const auto [ec, port] = get_port(*this, options);
  CHECK(ec == pp::error::no_available_port);
  CHECK(port == 0);
  // No preferred port at all and no fallback: nothing to return.
  options.port = {};
  CHECK(get_port(*this, options).first == pp::error::no_available_port);
}

TEST_CASE_FIXTURE(fixture, "default host: a port busy on any local address is skipped") {
  // A server listens on one address; the caller prefers its port, then a free one.
  // Both probe plans: the single dual-stack probe (Linux) and one probe per
  // address (what the BSDs need).
  for (const auto plan : {pp::detail::probe_plan::automatic, pp::detail::probe_plan::per_address}) {
    pp::detail::set_probe_plan(plan);
    for (const char* address : {"::", "0.0.0.0", "127.0.0.1", "::1", "127.0.0.2"}) {
      CAPTURE(address);
      CAPTURE(static_cast<int>(plan));
      pp::clear_locked_ports();
      asio::ip::tcp::acceptor server = test::listen_on(io, address);
      const std::uint16_t busy = server.local_endpoint().port();
      const std::uint16_t other = test::os_port();
      pp::get_port_options options;
      options.port = {busy, other};
      CHECK(get_free_port(*this, options) == other);
    }
  }
  pp::detail::set_probe_plan(pp::detail::probe_plan::automatic);
}

TEST_CASE("the per-address plan binds every local interface address, skipping none it can bind") {
  pp::error_code ec;
  const auto addresses = pp::detail::local_addresses(ec);
  REQUIRE_FALSE(ec);
  bool has_v4_loopback = false;
  for (const auto& a : addresses) has_v4_loopback = has_v4_loopback || a.is_loopback();
  CHECK(has_v4_loopback);
  pp::detail::set_probe_plan(pp::detail::probe_plan::per_address);
  const auto targets = pp::detail::default_probe_targets();
  pp::detail::set_probe_plan(pp::detail::probe_plan::automatic);
  CHECK(targets.size() == addresses.size() + 2);  // `::`, `0.0.0.0`, then each address
  CHECK(targets.at(0) == asio::ip::address(asio::ip::address_v6::any()));
  CHECK(targets.at(1) == asio::ip::address(asio::ip::address_v4::any()));
  // An address that cannot be bound here is "unavailable", to be skipped, not an error.
  constexpr auto then_close = pp::detail::after_probe::close;
  const auto unscoped = pp::detail::bind_probe(asio::ip::make_address("fe80::1"), 0, then_close);
  CHECK(unscoped.verdict == pp::detail::bind_verdict::unavailable);
  const auto foreign = pp::detail::bind_probe(asio::ip::make_address("192.0.2.1"), 0, then_close);
  CHECK(foreign.verdict == pp::detail::bind_verdict::unavailable);
  CHECK(foreign.ec == std::errc::address_not_available);
}

TEST_CASE_FIXTURE(fixture, "an explicit host is the only address checked") {
  // A server holds P on 127.0.0.1 only: P is busy there but free on ::1.
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t p = server.local_endpoint().port();
  pp::get_port_options options;
  options.port = p;
  options.fallback = false;
  options.host = "::1";
  CHECK(get_free_port(*this, options) == p);
  pp::clear_locked_ports();
  options.host = "127.0.0.1";
  CHECK(get_port(*this, options).first == pp::error::no_available_port);
  options.host = "";
  CHECK(get_port(*this, options).first == pp::error::no_available_port);
  // The fallback on an explicit IPv6 host can be listened on there.
  options = {};
  options.host = "::1";
  const std::uint16_t v6 = get_free_port(*this, options);
  CHECK(test::can_listen("::1", v6));
}

TEST_CASE_FIXTURE(fixture, "a host that is not local, or not an IP address, is an error") {
  pp::get_port_options options;
  options.host = "192.0.2.1";  // documentation address: not on this machine, nothing is sent
  auto [ec, port] = get_port(*this, options);
  CHECK(ec == std::errc::address_not_available);
  CHECK(port == 0);
  options.host = "fe80::1";  // link-local without a scope: EINVAL, an error, not a skip
  CHECK(get_port(*this, options).first == std::errc::invalid_argument);
  options.host = "localhost";
  CHECK(get_port(*this, options).first == asio::error::invalid_argument);
  options.host = "not an address";
  CHECK(get_port(*this, options).first == asio::error::invalid_argument);
  options.host = "";
  options.hold = -1ms;
  CHECK(get_port(*this, options).first == asio::error::invalid_argument);
}

TEST_CASE_FIXTURE(fixture, "a port this process may not bind (EACCES) is skipped like a busy one") {
  // As root every port can be bound, so there the search runs in a forked
  // child that gave up root (uid and gid 65534); otherwise, in-process.
  const std::uint16_t free_port = test::os_port();
  pp::get_port_options options;
  options.port = {80, free_port};
  options.fallback = false;
  options.host = "127.0.0.1";
  if (::geteuid() != 0) {
    CHECK(get_free_port(*this, options) == free_port);
    return;
  }
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the child: no doctest here, only an exit status
    const gid_t nobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(nobody, nobody, nobody) != 0 ||
        ::setresuid(nobody, nobody, nobody) != 0) {
      ::_exit(3);
    }
    const auto [ec, port] = test::get_port_now(options);
    ::_exit(ec ? 2 : port == free_port ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // 1: another port; 2: an error; 3: could not drop root
}

TEST_CASE_FIXTURE(fixture, "a returned port is locked: not returned again while the lock holds") {
  const std::uint16_t p = get_free_port(*this);
  CHECK(pp::detail::is_port_locked(p));
  CHECK(test::can_listen("::", p));  // the port itself is free: only the lock keeps it
  pp::get_port_options options;
  options.port = p;
  options.fallback = false;
  CHECK(get_port(*this, options).first == pp::error::no_available_port);
  pp::release_port(p);
  CHECK_FALSE(pp::detail::is_port_locked(p));
  CHECK(get_free_port(*this, options) == p);
}

TEST_CASE_FIXTURE(fixture, "a locked port is skipped without probing it (get-port's bug #72)") {
  // get-port probes first and so briefly binds the port under its owner's feet.
  const std::uint16_t locked = get_free_port(*this);
  const std::uint16_t other = test::os_port();
  pp::get_port_options options;
  options.port = {locked, other};
  const auto probes_before = pp::detail::probe_count();
  CHECK(get_free_port(*this, options) == other);
  CHECK(pp::detail::probe_count() - probes_before == 1);  // `other` only
}

TEST_CASE_FIXTURE(fixture, "a lock lasts its hold, then ends, in an idle process too") {
  // A hold far longer than getting a port takes, even on a loaded machine, so
  // that the lock is certainly seen before it ends.
  constexpr auto hold = 1000ms;
  pp::get_port_options options;
  options.hold = hold;
  const auto start = std::chrono::steady_clock::now();
  const std::uint16_t p = get_free_port(*this, options);
  REQUIRE_MESSAGE(std::chrono::steady_clock::now() - start < hold,
                  "getting one free port took longer than 1 s");
  // Poll (bounded) until the lock is gone; then check when it went.
  bool locked = pp::detail::is_port_locked(p);
  CHECK(locked);
  asio::steady_timer timer(io);
  for (int i = 0; i < 400 && locked; ++i) {
    timer.expires_after(10ms);
    timer.wait();
    locked = pp::detail::is_port_locked(p);
  }
  CHECK_FALSE(locked);
  CHECK(std::chrono::steady_clock::now() - start >= hold);
  // The idle process's registry forgets the entry by itself (its timer, not a call).
  std::size_t stored = pp::detail::stored_lock_count();
  for (int i = 0; i < 500 && stored != 0; ++i) {
    timer.expires_after(10ms);
    timer.wait();
    stored = pp::detail::stored_lock_count();
  }
  CHECK(stored == 0);
}

TEST_CASE_FIXTURE(fixture, "reserve locks until release_port or clear_locked_ports") {
  pp::get_port_options options;
  options.hold = 1ms;
  options.reserve = true;
  const std::uint16_t a = get_free_port(*this, options);
  const std::uint16_t b = get_free_port(*this, options);
  asio::steady_timer timer(io, 20ms);
  timer.wait();  // far past `hold`: a reserved lock ignores it
  CHECK(pp::detail::is_port_locked(a));
  CHECK(pp::detail::is_port_locked(b));
  pp::release_port(a);
  CHECK_FALSE(pp::detail::is_port_locked(a));
  CHECK(pp::detail::is_port_locked(b));
  pp::clear_locked_ports();
  CHECK_FALSE(pp::detail::is_port_locked(b));
  // A zero hold locks nothing.
  options = {};
  options.hold = 0ms;
  CHECK_FALSE(pp::detail::is_port_locked(get_free_port(*this, options)));
}

TEST_CASE_FIXTURE(fixture, "the registry never keeps io_context::run() from returning") {
  pp::get_port_options options;
  options.hold = std::chrono::hours(1);
  const auto start = std::chrono::steady_clock::now();
  get_free_port(*this, options);  // run() returned, with an hour-long lock pending
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(io.stopped());
}

TEST_CASE_FIXTURE(fixture, "the handler is not called inside the initiating function, once, on its executor") {
  auto strand = asio::make_strand(io);
  bool initiating = true;
  test::call_counter counter;
  bool on_strand = false;
  pp::async_get_port(io.get_executor(),
                     asio::bind_executor(strand, [&](pp::error_code ec, std::uint16_t port) {
                       CHECK_FALSE(initiating);
                       CHECK_FALSE(ec);
                       CHECK(port != 0);
                       ++counter.calls;
                       on_strand = strand.running_in_this_thread();
                     }));
  initiating = false;
  CHECK(counter.calls == 0);
  run();
  CHECK(counter.calls == 1);
  CHECK(on_strand);
}

TEST_CASE_FIXTURE(fixture, "the handler runs on the io_context's thread, not the registry's") {
  std::thread::id handler_thread;
  pp::async_get_port(io, [&](pp::error_code, std::uint16_t) {
    handler_thread = std::this_thread::get_id();
  });
  std::thread runner([&] { io.run(); });
  const auto runner_id = runner.get_id();
  runner.join();
  CHECK(handler_thread == runner_id);
}

TEST_CASE_FIXTURE(fixture, "every completion token: use_future") {
  std::future<std::uint16_t> f = pp::async_get_port(io, asio::use_future);
  run();
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(f.get() != 0);
  // An error arrives as an exception.
  pp::get_port_options options;
  options.port = test::os_port();
  options.exclude = options.port;
  options.fallback = false;
  auto failing = pp::async_get_port(io.get_executor(), options, asio::use_future);
  run();
  CHECK_THROWS_AS(failing.get(), pp::system_error);
}

TEST_CASE_FIXTURE(fixture, "every completion token: use_awaitable and as_tuple") {
  test::run_coroutine(*this, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const std::uint16_t a = co_await pp::async_get_port(ex, asio::use_awaitable);
    CHECK(a != 0);
    pp::get_port_options options;  // built first: GCC 12 rejects a braced list in co_await
    options.port = a;
    options.fallback = false;
    auto [ec, b] = co_await pp::async_get_port(
        ex, options, asio::experimental::as_tuple(asio::use_awaitable));
    CHECK(ec == pp::error::no_available_port);  // `a` is locked
    CHECK(b == 0);
    options.fallback = true;
    bool threw = false;
    options.exclude = pp::port_numbers(1024, 65535);
    try {
      co_await pp::async_get_port(ex, options, asio::use_awaitable);
    } catch (const pp::system_error& e) {
      threw = e.code() == pp::error::no_available_port;
    }
    CHECK(threw);
  }());
}

TEST_CASE_FIXTURE(fixture, "every completion token: deferred") {
  auto op = pp::async_get_port(io, asio::experimental::deferred);
  CHECK(io.poll() == 0);  // deferred: nothing started yet
  std::uint16_t port = 0;
  std::move(op)([&](pp::error_code ec, std::uint16_t p) {
    CHECK_FALSE(ec);
    port = p;
  });
  run();
  CHECK(port != 0);
}

TEST_CASE_FIXTURE(fixture, "cancellation through a slot: operation_aborted, no lock left") {
  asio::cancellation_signal signal;
  pp::error_code result;
  std::uint16_t port = 1;
  pp::async_get_port(io, asio::bind_cancellation_slot(signal.slot(),
                                                      [&](pp::error_code ec, std::uint16_t p) {
                                                        result = ec;
                                                        port = p;
                                                      }));
  signal.emit(asio::cancellation_type::terminal);
  run();
  CHECK(result == asio::error::operation_aborted);
  CHECK(port == 0);
  CHECK(pp::detail::stored_lock_count() == 0);
  // Partial and total cancellation are honoured too.
  for (const auto type : {asio::cancellation_type::partial, asio::cancellation_type::total}) {
    asio::cancellation_signal s;
    pp::async_get_port(io, asio::bind_cancellation_slot(s.slot(), [&](pp::error_code ec,
                                                                       std::uint16_t) {
                         result = ec;
                       }));
    s.emit(type);
    run();
    CHECK(result == asio::error::operation_aborted);
  }
  CHECK(pp::detail::stored_lock_count() == 0);
  CHECK(test::count_fds() == fds_before);
}

TEST_CASE_FIXTURE(fixture, "cancellation in a parallel group (`||`): the loser is aborted, no lock left") {
  // Each preferred port is one step of the search (a claim on the registry's
  // strand, then a probe): with 150 busy ones it lasts 150 steps at least, so
  // a plain post() wins the race and the search is cancelled between steps.
  std::vector<asio::ip::tcp::acceptor> servers;
  pp::get_port_options options;
  std::vector<std::uint16_t> busy;
  for (int i = 0; i < 150; ++i) {
    servers.push_back(test::listen_on(io, "127.0.0.1"));
    busy.push_back(servers.back().local_endpoint().port());
  }
  options.port = busy;
  pp::error_code get_ec;
  std::uint16_t got = 1;
  bool done = false;
  asio::experimental::make_parallel_group(
      pp::async_get_port(io, options, asio::experimental::deferred),
      asio::post(io, asio::experimental::deferred))
      .async_wait(asio::experimental::wait_for_one(),
                  [&](std::array<std::size_t, 2> order, pp::error_code ec, std::uint16_t port) {
                    CHECK(order[0] == 1);  // the post finished first
                    get_ec = ec;
                    got = port;
                    done = true;
                  });
  run();
  REQUIRE(done);
  CHECK(get_ec == asio::error::operation_aborted);
  CHECK(got == 0);
  CHECK(pp::detail::stored_lock_count() == 0);

  // The same with awaitable operators: a timer against the search.
  using namespace asio::experimental::awaitable_operators;
  test::run_coroutine(*this, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, 10s);
    auto winner = co_await (pp::async_get_port(ex, options, asio::use_awaitable) ||
                            timer.async_wait(asio::use_awaitable));
    CHECK(winner.index() == 0);  // the search wins; the timer is cancelled
    CHECK(std::get<0>(winner) != 0);
  }());
}

TEST_CASE_FIXTURE(fixture, "no file descriptor outlives its operation") {
  const std::size_t before = test::count_fds();
  for (int i = 0; i < 20; ++i) {
    pp::async_get_port(io, [](pp::error_code, std::uint16_t) {});
  }
  pp::get_port_options bad;
  bad.host = "192.0.2.1";
  pp::async_get_port(io, bad, [](pp::error_code, std::uint16_t) {});
  run();
  CHECK(test::count_fds() == before);
}

TEST_CASE_FIXTURE(fixture, "400 concurrent calls on two threads and two io_contexts: 400 distinct ports") {
  asio::io_context second;
  std::mutex m;
  std::vector<std::uint16_t> ports;
  int failures = 0;
  auto start = [&](asio::io_context& ctx) {
    for (int i = 0; i < 200; ++i) {
      pp::async_get_port(ctx, [&](pp::error_code ec, std::uint16_t p) {
        std::lock_guard lock(m);
        if (ec) ++failures;
        ports.push_back(p);
      });
    }
  };
  start(io);
  start(second);
  std::thread t1([&] { io.run_for(60s); });
  std::thread t2([&] { second.run_for(60s); });
  t1.join();
  t2.join();
  CHECK(failures == 0);
  CHECK(ports.size() == 400);
  CHECK(std::set<std::uint16_t>(ports.begin(), ports.end()).size() == 400);
  CHECK(pp::detail::stored_lock_count() == 400);
  pp::clear_locked_ports();
  CHECK(pp::detail::stored_lock_count() == 0);
}

TEST_CASE_FIXTURE(fixture, "a port locked by another search between two visits of the strand is skipped") {
  // A prefers 63 busy ports, then P: each is one step (claim, probe), so A
  // reaches P 63 steps after its start. B, started right after, prefers P and
  // claims it at its first step, in between. A must skip P and go on to
  // another port, not fail.
  std::vector<asio::ip::tcp::acceptor> servers;
  std::vector<std::uint16_t> busy;
  for (int i = 0; i < 63; ++i) {
    servers.push_back(test::listen_on(io, "127.0.0.1"));
    busy.push_back(servers.back().local_endpoint().port());
  }
  const std::uint16_t p = test::os_port();
  pp::get_port_options a_options;
  a_options.port = busy;
  a_options.port.push_back(p);
  pp::get_port_options b_options;
  b_options.port = p;
  pp::error_code a_ec = asio::error::would_block;
  pp::error_code b_ec = asio::error::would_block;
  std::uint16_t a_port = 0;
  std::uint16_t b_port = 0;
  pp::async_get_port(io, a_options, [&](pp::error_code ec, std::uint16_t port) {
    a_ec = ec;
    a_port = port;
  });
  pp::async_get_port(io, b_options, [&](pp::error_code ec, std::uint16_t port) {
    b_ec = ec;
    b_port = port;
  });
  run();
  CHECK_FALSE(a_ec);
  CHECK_FALSE(b_ec);
  CHECK(b_port == p);
  CHECK(a_port != 0);
  CHECK(a_port != p);
}

TEST_CASE_FIXTURE(fixture, "a hold of milliseconds::max() locks \"forever\", without overflow") {
  pp::get_port_options options;
  options.hold = std::chrono::milliseconds::max();
  const std::uint16_t p = get_free_port(*this, options);
  CHECK(pp::detail::is_port_locked(p));
  pp::release_port(p);
}

// ---------------------------------------------------------------------------
// async_get_ports, avoid_ephemeral, time_wait; the registry from handlers.

namespace {

std::pair<pp::error_code, std::vector<std::uint16_t>> get_ports(test::io_fixture& fx,
                                                                 std::size_t count,
                                                                 const pp::get_port_options& o) {
  pp::error_code ec = asio::error::would_block;
  std::vector<std::uint16_t> ports{1};
  int calls = 0;
  pp::async_get_ports(fx.io, count, o, [&](pp::error_code e, std::vector<std::uint16_t> p) {
    ++calls;
    ec = e;
    ports = std::move(p);
  });
  fx.run();
  REQUIRE(calls == 1);
  return {ec, ports};
}

// Whether a socket without SO_REUSEADDR can bind 0.0.0.0:port now.
bool can_bind_plain(std::uint16_t port) {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io);
  a.open(asio::ip::tcp::v4());
  pp::error_code ec;
  a.bind({asio::ip::address_v4::any(), port}, ec);
  return !ec;
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "async_get_ports: count distinct ports, preferred first, each locked") {
  const std::uint16_t start = test::free_run(3);
  auto server = test::listen_on(io, "127.0.0.1", static_cast<std::uint16_t>(start + 1));
  pp::get_port_options options;
  options.port = pp::port_numbers(start, start + 2);
  const auto [ec, ports] = get_ports(*this, 5, options);
  REQUIRE_FALSE(ec);
  REQUIRE(ports.size() == 5);
  CHECK(ports[0] == start);      // preferred, in order, the busy one skipped
  CHECK(ports[1] == start + 2);  // then the fallback
  CHECK(std::set<std::uint16_t>(ports.begin(), ports.end()).size() == 5);
  for (const std::uint16_t p : ports) {
    CHECK(pp::detail::is_port_locked(p));
    CHECK(test::can_listen("::", p));
  }
}

TEST_CASE_FIXTURE(fixture, "async_get_ports is all or nothing; count 0 is an empty answer") {
  const std::uint16_t start = test::free_run(3);
  pp::get_port_options options;
  options.port = pp::port_numbers(start, start + 2);
  options.fallback = false;
  // Four wanted, three to be had: nothing, and none of the three stays locked.
  auto [ec, ports] = get_ports(*this, 4, options);
  CHECK(ec == pp::error::no_available_port);
  CHECK(ports.empty());
  CHECK(pp::detail::stored_lock_count() == 0);
  for (int p = start; p <= start + 2; ++p) CHECK_FALSE(pp::detail::is_port_locked(static_cast<std::uint16_t>(p)));
  // Exactly three: all of them, in order.
  std::tie(ec, ports) = get_ports(*this, 3, options);
  REQUIRE_FALSE(ec);
  CHECK(ports == std::vector<std::uint16_t>{start, static_cast<std::uint16_t>(start + 1),
                                            static_cast<std::uint16_t>(start + 2)});
  std::tie(ec, ports) = get_ports(*this, 0, options);
  CHECK_FALSE(ec);
  CHECK(ports.empty());
}

TEST_CASE_FIXTURE(fixture, "async_get_ports with every token; cancelled: aborted, none locked") {
  auto f = pp::async_get_ports(io, 2, pp::get_port_options{}, asio::use_future);
  run();
  CHECK(f.get().size() == 2);
  test::run_coroutine(*this, [&]() -> asio::awaitable<void> {
    pp::get_port_options options;  // built first: GCC 12 rejects a braced list in co_await
    auto ex = co_await asio::this_coro::executor;
    const auto ports = co_await pp::async_get_ports(ex, 3, options, asio::use_awaitable);
    CHECK(ports.size() == 3);
    auto [ec, none] = co_await pp::async_get_ports(
        ex, 65536, options, asio::experimental::as_tuple(asio::use_awaitable));
    CHECK(ec == pp::error::no_available_port);  // more than there are ports: at once
    CHECK(none.empty());
  }());
  auto op = pp::async_get_ports(io, 1, pp::get_port_options{}, asio::experimental::deferred);
  CHECK(io.poll() == 0);
  std::move(op)([](pp::error_code ec, std::vector<std::uint16_t> p) {
    CHECK_FALSE(ec);
    CHECK(p.size() == 1);
  });
  run();
  pp::clear_locked_ports();
  asio::cancellation_signal signal;
  pp::error_code result;
  std::vector<std::uint16_t> got{1};
  pp::async_get_ports(io, 4, pp::get_port_options{},
                      asio::bind_cancellation_slot(signal.slot(),
                                                   [&](pp::error_code ec, std::vector<std::uint16_t> p) {
                                                     result = ec;
                                                     got = std::move(p);
                                                   }));
  signal.emit(asio::cancellation_type::terminal);
  run();
  CHECK(result == asio::error::operation_aborted);
  CHECK(got.empty());
  CHECK(pp::detail::stored_lock_count() == 0);
  CHECK(test::count_fds() == fds_before);
}

TEST_CASE_FIXTURE(fixture, "nothing is probed inside the initiating function") {
  const std::uint64_t before = pp::detail::probe_count();
  pp::async_get_port(io, [](pp::error_code, std::uint16_t) {});
  pp::async_get_ports(io, 3, pp::get_port_options{}, [](pp::error_code, std::vector<std::uint16_t>) {});
  CHECK(pp::detail::probe_count() == before);
  run();
  CHECK(pp::detail::probe_count() > before);
}

TEST_CASE_FIXTURE(fixture, "avoid_ephemeral: never a port of ip_local_port_range") {
  const auto [low, high] = ephemeral_range();
  pp::get_port_options options;
  options.avoid_ephemeral = true;
  const auto [ec, ports] = get_ports(*this, 20, options);
  REQUIRE_FALSE(ec);
  for (const std::uint16_t p : ports) {
    CHECK((p < low || p > high));
    CHECK(p >= 1024);
  }
  // A preferred port inside the range is skipped too; one outside is taken.
  const std::uint16_t outside = test::free_run(1);
  pp::get_port_options pref;
  pref.avoid_ephemeral = true;
  pref.fallback = false;
  pref.port = static_cast<std::uint16_t>(low);
  CHECK(get_port(*this, pref).first == pp::error::no_available_port);
  if (outside < low || outside > high) {
    pref.port = outside;
    CHECK(get_free_port(*this, pref) == outside);
  }
}

TEST_CASE_FIXTURE(fixture, "time_wait parks the port: a plain bind fails, a SO_REUSEADDR server binds") {
  pp::get_port_options options;
  options.time_wait = true;
  const std::uint16_t p = get_free_port(*this, options);
  CHECK_FALSE(can_bind_plain(p));       // TIME_WAIT holds it against programs without SO_REUSEADDR
  CHECK(test::can_listen("0.0.0.0", p));  // Asio's acceptor (SO_REUSEADDR) can still listen
  CHECK(test::count_fds() == fds_before);
}

TEST_CASE_FIXTURE(fixture, "release_port and clear_locked_ports from handlers and threads never block") {
  // From inside a completion handler, and from another thread while this one
  // runs searches: every call returns, every lock ends.
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < 20; ++i) {
    pp::async_get_port(io, [&](pp::error_code ec, std::uint16_t p) {
      REQUIRE_FALSE(ec);
      ports.push_back(p);
      pp::release_port(p);
    });
  }
  std::thread other([] {
    for (int i = 0; i < 200; ++i) pp::clear_locked_ports();
  });
  run();
  other.join();
  CHECK(ports.size() == 20);
  pp::clear_locked_ports();
  for (const std::uint16_t p : ports) CHECK_FALSE(pp::detail::is_port_locked(p));
  CHECK(pp::detail::stored_lock_count() == 0);
}

TEST_CASE_FIXTURE(fixture, "a claim still being probed is not ended by clear_locked_ports: never handed out twice") {
  // A claims P and is about to probe it; then every lock is cleared, and B
  // prefers P. A's claim is not yet a port handed out: it stands, B gets another.
  const std::uint16_t p = test::os_port();
  pp::get_port_options options;
  options.port = p;
  std::uint16_t a = 0;
  std::uint16_t b = 0;
  pp::async_get_port(io, options, [&](pp::error_code ec, std::uint16_t port) {
    CHECK_FALSE(ec);
    a = port;
  });
  io.run_one();  // A's first step: P claimed, its probe posted
  pp::clear_locked_ports();
  pp::release_port(p);
  pp::async_get_port(io, options, [&](pp::error_code ec, std::uint16_t port) {
    CHECK_FALSE(ec);
    b = port;
  });
  run();
  CHECK(a == p);
  CHECK(b != p);
  CHECK(b != 0);
}

TEST_CASE_FIXTURE(fixture, "async_get_ports: each hold counts from the completion, not from the claim") {
  // The caller's executor stalls in the middle of the search (longer than the
  // hold): the first port's lock must still last `hold` after the answer.
  pp::get_port_options options;
  options.hold = 300ms;
  std::vector<std::uint16_t> ports;
  pp::async_get_ports(io, 3, options, [&](pp::error_code ec, std::vector<std::uint16_t> p) {
    CHECK_FALSE(ec);
    ports = std::move(p);
  });
  io.run_one();
  io.run_one();  // a port or two are claimed
  std::this_thread::sleep_for(500ms);  // the stall (a busy executor), not a synchronisation
  run();
  REQUIRE(ports.size() == 3);
  for (const std::uint16_t p : ports) CHECK(pp::detail::is_port_locked(p));
}

TEST_CASE_FIXTURE(fixture, "an operation destroyed before completing gives its claims back") {
  {
    asio::io_context other;
    pp::get_port_options options;
    options.reserve = true;  // were it leaked, it would be held until the process ends
    pp::async_get_ports(other, 3, options, [](pp::error_code, std::vector<std::uint16_t>) {
      FAIL("not to be called: its io_context is destroyed first");
    });
    other.run_one();
    other.run_one();
    other.run_one();
  }  // destroyed with the operation in it
  CHECK(pp::detail::stored_lock_count() == 0);  // the strand runs the give-back first
  pp::error_code ec;
  CHECK(pp::active_leases(ec).empty());
}

TEST_CASE_FIXTURE(fixture, "async_get_ports cancelled while it holds claims: aborted, all given back") {
  asio::cancellation_signal signal;
  pp::error_code result;
  std::vector<std::uint16_t> got{1};
  pp::get_port_options options;
  options.reserve = true;
  pp::async_get_ports(io, 4, options,
                      asio::bind_cancellation_slot(signal.slot(),
                                                   [&](pp::error_code ec, std::vector<std::uint16_t> p) {
                                                     result = ec;
                                                     got = std::move(p);
                                                   }));
  io.run_one();
  io.run_one();  // claims held now
  signal.emit(asio::cancellation_type::terminal);
  run();
  CHECK(result == asio::error::operation_aborted);
  CHECK(got.empty());
  CHECK(pp::detail::stored_lock_count() == 0);
  pp::error_code ec;
  CHECK(pp::active_leases(ec).empty());
  CHECK(test::count_fds() == fds_before);
}
