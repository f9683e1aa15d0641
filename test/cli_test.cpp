#include <portprobe/portprobe.hpp>

#include "support.hpp"
#include "cli_support.hpp"

// test/cli_test.cpp: the `portprobe get` command, run as a program.
//
// Every test case starts the built CLI (its path is in PORTPROBE_CLI, set by
// test/meson.build) with an argv of its own -- no shell in between -- and looks
// at what a user or a script would see: the exit status, stdout and stderr.
// Busy ports are real listening sockets on loopback held by this test process;
// free ports are chosen by the OS. No port number is written down here.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asio.hpp"

namespace pp = portprobe;

// These tests are about what one `portprobe get` answers (order, ranges,
// exclusions), so each run must not see the leases earlier runs left (a
// `get` lease outlives its process for 15 s by design, and would turn the
// next run's answer into the next port). The lease table across processes
// has tests of its own (cli_locks_test.cpp, shared_locks_test.cpp).
[[maybe_unused]] const bool in_process_locks = ::setenv("PORTPROBE_LOCKS", "process", 1) == 0;

namespace {

using namespace std::chrono_literals;
using test::cli_result;
using test::names;
using test::port_of;
using test::run_cli;
using test::str;

/// The port a successful `get` printed: only digits then one newline, 1-65535.
std::optional<std::uint16_t> printed_port(const std::string& out) {
  if (out.size() < 2 || out.size() > 6 || out.back() != '\n') return std::nullopt;
  const std::string digits = out.substr(0, out.size() - 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  const long value = std::stol(digits);
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

/// Runs `get ...`, requires exit 0 with exactly one port on stdout and nothing on
/// stderr, and returns the port.
std::uint16_t get_port(const std::vector<std::string>& args) {
  const cli_result r = run_cli(args);
  INFO("portprobe get: ", r.describe());
  REQUIRE(r.exited);
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  const auto port = printed_port(r.out);
  REQUIRE_MESSAGE(port.has_value(), "stdout is not one port and a newline");
  return *port;
}

/// Requires a clean exit with `status` and nothing on stdout.
void require_exit_without_port(const cli_result& r, int status) {
  INFO("portprobe: ", r.describe());
  REQUIRE_MESSAGE(r.exited, "the process did not exit normally (a crash?)");
  CHECK(r.status == status);
  CHECK(r.out.empty());
  CHECK_FALSE(r.err.empty());
}

/// Whether a listener can be bound to `port` on the loopback addresses a test uses.
bool free_on_loopback(std::uint16_t port) {
  return test::can_listen("::", port) || test::can_listen("127.0.0.1", port);
}

/// `n` distinct ports, each free now on every local address: the OS chooses
/// them while all `n` are held at once, so no two are the same. Taken right
/// before the run that uses them, to keep short the window in which another
/// process (a test running in parallel) could take one.
std::vector<std::uint16_t> os_ports(std::size_t n) {
  asio::io_context io;
  std::vector<asio::ip::tcp::acceptor> held;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < n; ++i) {
    held.push_back(test::listen_on(io, "::"));
    ports.push_back(port_of(held.back()));
  }
  return ports;
}

/// Whether this machine has IPv6 loopback.

/// Listeners on 127.0.0.1 at P and P+1, where P..P+3 were all free (test::free_run),
/// so that P+2 and P+3 are free ports right after them. Bounded retries.
struct busy_pair {
  asio::ip::tcp::acceptor first;
  asio::ip::tcp::acceptor second;
  std::uint16_t port() const { return port_of(first); }
};

busy_pair hold_two_consecutive(asio::io_context& io) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const std::uint16_t p = test::free_run(4);
    try {
      auto first = test::listen_on(io, "127.0.0.1", p);
      auto second = test::listen_on(io, "127.0.0.1", static_cast<std::uint16_t>(p + 1));
      return {std::move(first), std::move(second)};
    } catch (const std::system_error&) {
      // Someone took one of them in between: another run.
    }
  }
  FAIL("could not hold two consecutive loopback ports in 20 attempts");
  throw std::logic_error("unreachable");
}

}  // namespace

// ---------------------------------------------------------------------------
// No arguments: any free port.

TEST_CASE("cli get: with no arguments prints one free unprivileged port") {
  // A user asks for any free port: exit 0 and exactly "NNNN\n" on stdout.
  const std::uint16_t port = get_port({"get"});
  // It is an unprivileged port, and nothing holds it now: the CLI has exited
  // and its in-process lock went with it, so this process can listen there.
  CHECK(port >= pp::min_port);
  CHECK(port <= pp::max_port);
  CHECK(free_on_loopback(port));
}

// ---------------------------------------------------------------------------
// Preferred ports.

TEST_CASE("cli get: a free preferred port is printed") {
  // The OS names a port that is free now; asked for it, the CLI gives it back.
  const std::uint16_t wanted = test::os_port();
  CHECK(get_port({"get", str(wanted)}) == wanted);
}

TEST_CASE("cli get: preferred ports are tried in the order given") {
  // Two free ports, asked for in one order then the other: the first one
  // named wins each time.
  const auto ab = os_ports(2);
  CHECK(get_port({"get", str(ab[0]), str(ab[1])}) == ab[0]);
  const auto cd = os_ports(2);
  CHECK(get_port({"get", str(cd[1]), str(cd[0])}) == cd[1]);
}

TEST_CASE("cli get: a busy preferred port is skipped for the next one") {
  // This process listens on P (127.0.0.1); Q is free. `get P Q` prints Q.
  asio::io_context io;
  auto busy = test::listen_on(io, "127.0.0.1");
  const std::uint16_t p = port_of(busy);
  const std::uint16_t q = test::os_port();
  REQUIRE(p != q);
  CHECK(get_port({"get", str(p), str(q)}) == q);
}

TEST_CASE("cli get: --no-fallback with every preferred port busy exits 1, printing nothing") {
  // Both preferred ports are held by this process: with --no-fallback there is
  // no answer, which is exit 1 with nothing on stdout (a message on stderr).
  asio::io_context io;
  auto busy1 = test::listen_on(io, "127.0.0.1");
  auto busy2 = test::listen_on(io, "127.0.0.1");
  const cli_result r =
      run_cli({"get", str(port_of(busy1)), str(port_of(busy2)), "--no-fallback"});
  require_exit_without_port(r, 1);

  // The flag may come first as well.
  const cli_result r2 = run_cli({"get", "--no-fallback", str(port_of(busy1))});
  require_exit_without_port(r2, 1);
}

TEST_CASE("cli get: every preferred port busy falls back to another free port") {
  // The same busy list without --no-fallback: some other port, free, is printed.
  asio::io_context io;
  auto busy1 = test::listen_on(io, "127.0.0.1");
  auto busy2 = test::listen_on(io, "127.0.0.1");
  const std::uint16_t got = get_port({"get", str(port_of(busy1)), str(port_of(busy2))});
  CHECK(got != port_of(busy1));
  CHECK(got != port_of(busy2));
  CHECK(got >= pp::min_port);
  CHECK(free_on_loopback(got));
}

TEST_CASE("cli get: --no-fallback with a free preferred port prints it") {
  const std::uint16_t wanted = test::os_port();
  CHECK(get_port({"get", str(wanted), "--no-fallback"}) == wanted);
}

// ---------------------------------------------------------------------------
// PORTS syntax: ranges, lists, several arguments.

TEST_CASE("cli get: a range A-B includes both ends and is tried in ascending order") {
  // This process holds P and P+1.
  asio::io_context io;
  const busy_pair held = hold_two_consecutive(io);
  const std::uint16_t p = held.port();
  INFO("held ports ", p, " and ", p + 1);

  // "P-(P+1)" is exactly the two held ports: with --no-fallback, no answer.
  require_exit_without_port(run_cli({"get", str(p) + "-" + str(p + 1), "--no-fallback"}), 1);

  // "P-(P+3)": P+2 and P+3 are free; ascending order makes it P+2.
  CHECK(get_port({"get", str(p) + "-" + str(p + 3), "--no-fallback"}) == p + 2);
  // Reversed roles: "(P+2)-(P+3)" starts with a free port.
  CHECK(get_port({"get", str(p + 2) + "-" + str(p + 3)}) == p + 2);

  // A one-port range "Q-Q" is that port.
  const std::uint16_t q = test::os_port();
  CHECK(get_port({"get", str(q) + "-" + str(q)}) == q);
}

TEST_CASE("cli get: a comma list A,B,C-D is tried item by item") {
  // A and B are held; C (a fresh free port each time) is free:
  // "A,B,C-C" and "A,B,C" print C.
  asio::io_context io;
  auto a = test::listen_on(io, "127.0.0.1");
  auto b = test::listen_on(io, "127.0.0.1");
  const std::string pa = str(port_of(a));
  const std::string pb = str(port_of(b));
  std::uint16_t c = test::os_port();
  CHECK(get_port({"get", pa + "," + pb + "," + str(c) + "-" + str(c)}) == c);
  c = test::os_port();
  CHECK(get_port({"get", pa + "," + pb + "," + str(c)}) == c);
  // Spaces around items are allowed by the grammar.
  c = test::os_port();
  CHECK(get_port({"get", pa + ", " + pb + " , " + str(c)}) == c);

  // A range in the middle of a list: the held pair as a range, then C.
  const busy_pair held = hold_two_consecutive(io);
  const std::string pair = str(held.port()) + "-" + str(held.port() + 1);
  c = test::os_port();
  CHECK(get_port({"get", pa + "," + pair + "," + str(c), "--no-fallback"}) == c);

  // All items busy, --no-fallback: no answer.
  require_exit_without_port(run_cli({"get", pa + "," + pair + "," + pb, "--no-fallback"}), 1);
}

TEST_CASE("cli get: several positional arguments form one list, in order") {
  // Held: A, B, the pair P-(P+1); free: Q. `get A B,P-(P+1) Q` prints Q.
  asio::io_context io;
  auto a = test::listen_on(io, "127.0.0.1");
  auto b = test::listen_on(io, "127.0.0.1");
  const busy_pair held = hold_two_consecutive(io);
  const std::string pair = str(held.port()) + "-" + str(held.port() + 1);
  const std::uint16_t q = test::os_port();
  CHECK(get_port({"get", str(port_of(a)), str(port_of(b)) + "," + pair, str(q)}) == q);
  // Order across arguments: two free ports R then Q, the first argument wins.
  const auto rq = os_ports(2);
  CHECK(get_port({"get", str(port_of(a)), str(rq[0]), str(rq[1])}) == rq[0]);
}

// ---------------------------------------------------------------------------
// --exclude.

TEST_CASE("cli get: --exclude is honoured, for preferred ports and the fallback") {
  // P, Q, R: three distinct ports free now (each SUBCASE reruns this).
  const auto pqr = os_ports(3);
  const std::uint16_t p = pqr[0];
  const std::uint16_t q = pqr[1];
  const std::uint16_t r = pqr[2];

  SUBCASE("prefer P, exclude P: something else") {
    const std::uint16_t got = get_port({"get", str(p), "--exclude", str(p)});
    CHECK(got != p);
  }
  SUBCASE("prefer P, exclude P, --no-fallback: no answer") {
    require_exit_without_port(run_cli({"get", str(p), "--exclude", str(p), "--no-fallback"}), 1);
  }
  SUBCASE("--exclude=P spelling") {
    CHECK(get_port({"get", str(p), "--exclude=" + str(p)}) != p);
  }
  SUBCASE("an excluded range around P") {
    const std::uint32_t lo = std::max<std::uint32_t>(p - 1, pp::min_port);
    const std::uint32_t hi = std::min<std::uint32_t>(p + 1, pp::max_port);
    const std::uint16_t got = get_port({"get", str(p), "--exclude", str(lo) + "-" + str(hi)});
    CHECK((got < lo || got > hi));
  }
  SUBCASE("--exclude takes one value: the next argument is a preferred port") {
    // `get --exclude P Q`: Q is not swallowed by --exclude, it is preferred.
    CHECK(get_port({"get", "--exclude", str(p), str(q)}) == q);
  }
  SUBCASE("--exclude repeated, and as a list") {
    // Prefer P Q R, exclude P and Q: R.
    CHECK(get_port({"get", str(p), str(q), str(r), "--exclude", str(p), "--exclude", str(q)}) ==
          r);
    CHECK(get_port({"get", str(p), str(q), str(r), "--exclude", str(p) + "," + str(q)}) == r);
  }
}

TEST_CASE("cli get: --exclude over a range of preferred ports leaves no answer") {
  // Held: P and P+1; P+2 and P+3 are excluded. "P-(P+3)" has no eligible port.
  asio::io_context io;
  const busy_pair held = hold_two_consecutive(io);
  const std::uint16_t p = held.port();
  const cli_result r = run_cli({"get", str(p) + "-" + str(p + 3), "--exclude",
                               str(p + 2) + "-" + str(p + 3), "--no-fallback"});
  require_exit_without_port(r, 1);
}

TEST_CASE("cli get: the fallback honours an --exclude covering the OS's ephemeral ports") {
  // Exclude 1024-64999: the OS's picks (from its ephemeral range) are all
  // excluded, so the answer must come from 65000-65535 -- and promptly.
  const cli_result r = run_cli({"get", "--exclude", "1024-64999"});
  INFO("portprobe get: ", r.describe());
  REQUIRE(r.exited);
  REQUIRE(r.status == 0);
  const auto port = printed_port(r.out);
  REQUIRE(port.has_value());
  CHECK(*port >= 65000);
  CHECK(r.elapsed < 10s);
}

TEST_CASE("cli get: every port excluded leaves no answer, promptly") {
  // --exclude 1024-65535 leaves the fallback nothing: exit 1, nothing printed,
  // and no endless re-picking.
  const cli_result r = run_cli({"get", "--exclude", "1024-65535"});
  require_exit_without_port(r, 1);
  CHECK(r.elapsed < 10s);
}

// ---------------------------------------------------------------------------
// --host.

TEST_CASE("cli get: --host 127.0.0.1 checks that address") {
  // Any port: one this process can then listen on at 127.0.0.1.
  const std::uint16_t any = get_port({"get", "--host", "127.0.0.1"});
  CHECK(any >= pp::min_port);
  CHECK(test::can_listen("127.0.0.1", any));

  // A port busy on 127.0.0.1 is skipped there.
  asio::io_context io;
  auto busy = test::listen_on(io, "127.0.0.1");
  const std::uint16_t q = test::os_port();
  CHECK(get_port({"get", str(port_of(busy)), str(q), "--host", "127.0.0.1"}) == q);
  require_exit_without_port(
      run_cli({"get", str(port_of(busy)), "--host", "127.0.0.1", "--no-fallback"}), 1);
}

TEST_CASE("cli get: --host ::1 checks that address") {
  if (!test::have_ipv6_loopback()) {
    MESSAGE("no IPv6 loopback on this machine: skipped");
    return;
  }
  const std::uint16_t any = get_port({"get", "--host", "::1"});
  CHECK(any >= pp::min_port);
  CHECK(test::can_listen("::1", any));

  // A port busy on ::1 is skipped there.
  asio::io_context io;
  auto busy = test::listen_on(io, "::1");
  const std::uint16_t q = test::os_port();
  CHECK(get_port({"get", str(port_of(busy)), str(q), "--host", "::1"}) == q);
  require_exit_without_port(
      run_cli({"get", str(port_of(busy)), "--host", "::1", "--no-fallback"}), 1);
}

TEST_CASE("cli get: --host limits the check to that one address") {
  if (!test::have_ipv6_loopback()) {
    MESSAGE("no IPv6 loopback on this machine: skipped");
    return;
  }
  // P is held on ::1 only. On 127.0.0.1 P is free, so `--host 127.0.0.1`
  // may print it; without --host every local address counts and P is busy.
  asio::io_context io;
  auto busy = test::listen_on(io, "::1");
  const std::uint16_t p = port_of(busy);
  REQUIRE(test::can_listen("127.0.0.1", p));
  CHECK(get_port({"get", str(p), "--host", "127.0.0.1", "--no-fallback"}) == p);
  require_exit_without_port(run_cli({"get", str(p), "--no-fallback"}), 1);
}

TEST_CASE("cli get: a --host that is not an address of this machine is bad usage") {
  // 192.0.2.1 (TEST-NET-1, documentation only) is not a local address here:
  // binding to it fails with EADDRNOTAVAIL and nothing is ever sent.
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::v4());
    asio::error_code ec;
    a.bind({asio::ip::make_address("192.0.2.1"), 0}, ec);
    if (!ec) {
      MESSAGE("192.0.2.1 is an address of this machine: skipped");
      return;
    }
    REQUIRE_MESSAGE(ec.value() == EADDRNOTAVAIL, "binding 192.0.2.1: ", ec.message());
  }
  const std::uint16_t q = test::os_port();
  const std::vector<std::vector<std::string>> cases = {
      {"get", "--host", "192.0.2.1"},
      {"get", str(q), "--host", "192.0.2.1"},
      {"get", str(q), "--host", "192.0.2.1", "--no-fallback"},
  };
  for (const auto& args : cases) {
    const cli_result r = run_cli(args);
    require_exit_without_port(r, 2);
    CHECK_MESSAGE(names(r.err, "192.0.2.1"), r.describe());
  }
}

TEST_CASE("cli get: a link-local --host without a scope is bad usage naming it") {
  // fe80::1 with no %interface: the OS refuses to bind it (EINVAL, or
  // EADDRNOTAVAIL). Like any --host that cannot be bound, that is the user's
  // value at fault: exit 2, and the message names it.
  if (!test::have_ipv6_loopback()) {
    MESSAGE("no IPv6 on this machine: skipped");
    return;
  }
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::v6());
    asio::error_code ec;
    a.bind({asio::ip::make_address("fe80::1"), 0}, ec);
    if (!ec) {
      MESSAGE("fe80::1 can be bound on this machine: skipped");
      return;
    }
  }
  const cli_result r = run_cli({"get", "--host", "fe80::1"});
  require_exit_without_port(r, 2);
  CHECK_MESSAGE(names(r.err, "fe80::1"), r.describe());
}

TEST_CASE("cli get: a --host that is not an IP address is bad usage") {
  // `foo` is not an address: exit 2, and the message names it.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "--host", "foo"},
        std::vector<std::string>{"get", str(test::os_port()), "--host", "foo"},
        std::vector<std::string>{"get", "--host", "127.0.0.1.5"}}) {
    const cli_result r = run_cli(args);
    require_exit_without_port(r, 2);
    CHECK_MESSAGE(names(r.err, args.back()), r.describe());
  }
}

// ---------------------------------------------------------------------------
// Bad usage.

TEST_CASE("cli get: bad values exit 2 with a message naming them, never a crash") {
  struct bad_case {
    std::vector<std::string> args;
    std::string named;  // what stderr must mention
  };
  const std::vector<bad_case> cases = {
      {{"get", "70000"}, "70000"},
      {{"get", "65536"}, "65536"},
      {{"get", "99999999999999999999999"}, "99999999999999999999999"},
      {{"get", "0"}, "0"},
      {{"get", "abc"}, "abc"},
      {{"get", "3000x"}, "3000x"},
      {{"get", "5000-4000"}, "5000-4000"},
      {{"get", "1-2-3"}, "1-2-3"},
      {{"get", "4000-"}, "4000-"},
      {{"get", "3000,,3001"}, "3000,,3001"},
      {{"get", "3000,"}, "3000,"},
      {{"get", "--exclude", "99999"}, "99999"},
      {{"get", "--exclude", "abc"}, "abc"},
      {{"get", "--exclude", "5000-4000"}, "5000-4000"},
      {{"get", "--bogus"}, "--bogus"},
      {{"get", "3000", "--bogus"}, "--bogus"},
  };
  for (const auto& c : cases) {
    const cli_result r = run_cli(c.args);
    require_exit_without_port(r, 2);
    CHECK_MESSAGE(names(r.err, c.named), r.describe());
  }
}

TEST_CASE("cli get: an empty PORTS value is bad usage") {
  // `get ""` and `get --exclude ""`: exit 2, stderr says what is wrong (the
  // value itself is empty, so the message says "empty" or quotes it as '').
  for (const std::vector<std::string>& args : {std::vector<std::string>{"get", ""},
                                               std::vector<std::string>{"get", " "},
                                               std::vector<std::string>{"get", "--exclude", ""}}) {
    const cli_result r = run_cli(args);
    require_exit_without_port(r, 2);
    CHECK_MESSAGE((names(r.err, "empty") || r.err.find("''") != std::string::npos), r.describe());
  }
}

TEST_CASE("cli get: options missing their value are bad usage") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"get", "--exclude"},
                                               std::vector<std::string>{"get", "--host"}}) {
    const cli_result r = run_cli(args);
    require_exit_without_port(r, 2);
    CHECK_MESSAGE(names(r.err, args.back()), r.describe());
  }
}

TEST_CASE("cli get: --no-fallback without preferred ports is bad usage") {
  const cli_result r = run_cli({"get", "--no-fallback"});
  require_exit_without_port(r, 2);
  CHECK_MESSAGE(names(r.err, "--no-fallback"), r.describe());
}

// ---------------------------------------------------------------------------
// Help and subcommands.

TEST_CASE("cli: --help and get --help print usage and exit 0") {
  // Top-level help lists the `get` command.
  const cli_result top = run_cli({"--help"});
  INFO("portprobe --help: ", top.describe());
  REQUIRE(top.exited);
  CHECK(top.status == 0);
  CHECK(names(top.out, "get"));

  // The command's help names it and its options.
  const cli_result get = run_cli({"get", "--help"});
  INFO("portprobe get --help: ", get.describe());
  REQUIRE(get.exited);
  CHECK(get.status == 0);
  CHECK(names(get.out, "get"));
  CHECK(names(get.out, "--exclude"));
  CHECK(names(get.out, "--host"));
  CHECK(names(get.out, "--no-fallback"));
}

TEST_CASE("cli: no subcommand is bad usage") {
  // `portprobe` alone: exit 2, and stderr says a command is needed.
  const cli_result none = run_cli({});
  require_exit_without_port(none, 2);
}

TEST_CASE("cli: an unknown subcommand or top-level flag is bad usage naming it") {
  // `portprobe frobnicate` and `portprobe --bogus`: exit 2, and the message
  // names the word that was not understood.
  const cli_result unknown = run_cli({"frobnicate"});
  require_exit_without_port(unknown, 2);
  CHECK_MESSAGE(names(unknown.err, "frobnicate"), unknown.describe());

  const cli_result flag = run_cli({"--bogus"});
  require_exit_without_port(flag, 2);
  CHECK_MESSAGE(names(flag.err, "--bogus"), flag.describe());
}

// ---------------------------------------------------------------------------
// Exit with a lock pending.

TEST_CASE("cli get: exits promptly although its 15 s lock on the port is pending") {
  // `get` locks the port it returns for 15 s inside its own process. That lock
  // must not keep the process alive: it ends well before (bound: 10 s).
  const cli_result r = run_cli({"get"}, 10s);
  INFO("portprobe get: ", r.describe());
  REQUIRE(r.exited);
  CHECK(r.status == 0);
  CHECK(printed_port(r.out).has_value());
  CHECK(r.elapsed < 10s);

  // Same with a preferred port that is taken from the list.
  const std::uint16_t wanted = test::os_port();
  const cli_result r2 = run_cli({"get", str(wanted)}, 10s);
  INFO("portprobe get P: ", r2.describe());
  REQUIRE(r2.exited);
  CHECK(r2.status == 0);
  CHECK(r2.elapsed < 10s);
}
