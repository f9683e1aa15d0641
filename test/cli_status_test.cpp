#include <portprobe/portprobe.hpp>

#include "support.hpp"
#include "cli_support.hpp"
#include "http_server.hpp"

// test/cli_status_test.cpp: the `portprobe` commands check, find, scan, wait
// and who, run as a program (see cli_support.hpp).
//
// Real sockets on loopback only, every port chosen by the OS:
//   open      a listener this test holds;
//   closed    a port the OS chose, then closed again (nothing listens there);
//   filtered  a listener with backlog 0 whose accept queue is full: the kernel
//             drops further SYNs, so a probe gets no answer (silent_port()).
// No other port is ever probed: other programs listen on loopback here.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <future>
#include <sstream>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "asio.hpp"

namespace pp = portprobe;

namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using test::cli_result;
using test::names;
using test::port_of;
using test::run_cli;
using test::str;

/// A closed port: the OS chose it, and nothing listens there any more.
std::string closed_port_text() { return str(test::os_port()); }

/// A port that answers nothing: a listener on 127.0.0.1 with backlog 0 whose
/// accept queue clients fill, never accepted. Linux then drops every further
/// SYN. Clients are added (at most 8) until a connect gets no answer within
/// 300 ms -- on loopback an answer takes microseconds -- so the setup checks
/// itself; a kernel that keeps answering fails the test.
struct silent_port {
  tcp::acceptor acceptor;
  std::vector<tcp::socket> clients;
  std::string port() const { return str(port_of(acceptor)); }
};

silent_port make_silent_port(asio::io_context& io) {
  silent_port s{tcp::acceptor(io, tcp::v4()), {}};
  s.acceptor.bind({asio::ip::make_address("127.0.0.1"), 0});
  s.acceptor.listen(0);
  const tcp::endpoint target = s.acceptor.local_endpoint();
  for (int i = 0; i < 8; ++i) {
    tcp::socket client(io, tcp::v4());
    client.native_non_blocking(true);
    const int fd = client.native_handle();
    if (::connect(fd, target.data(), static_cast<socklen_t>(target.size())) != 0) {
      REQUIRE_MESSAGE(errno == EINPROGRESS, "connect: ", std::strerror(errno));
      pollfd pfd{fd, POLLOUT, 0};
      const int ready = ::poll(&pfd, 1, 300);
      REQUIRE(ready >= 0);
      if (ready == 0) return s;  // no answer: the queue is full (this client goes)
      int error = 0;
      socklen_t len = sizeof error;
      REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0);
      REQUIRE_MESSAGE(error == 0, "a client of the backlog-0 listener: ", std::strerror(error));
    }
    s.clients.push_back(std::move(client));  // connected: it holds a place in the queue
  }
  FAIL("the kernel still answers a backlog-0 listener after 8 unaccepted clients");
  return s;
}


/// Requires a normal exit with `status`, nothing on stdout and a message on stderr.
void require_failure(const cli_result& r, int status) {
  INFO(r.describe());
  REQUIRE_MESSAGE(r.exited, "the process did not exit normally (a crash?)");
  CHECK(r.status == status);
  CHECK(r.out.empty());
  CHECK_FALSE(r.err.empty());
}

/// Requires exit `status` with exactly `out` on stdout and nothing on stderr.
void require_output(const cli_result& r, int status, const std::string& out) {
  INFO(r.describe());
  REQUIRE_MESSAGE(r.exited, "the process did not exit normally (a crash?)");
  CHECK(r.status == status);
  CHECK(r.out == out);
  CHECK(r.err.empty());
}

/// The lines of `text`, each split into its whitespace-separated words.
std::vector<std::vector<std::string>> words(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> row;
    for (std::string w; fields >> w;) row.push_back(w);
    lines.push_back(row);
  }
  return lines;
}

/// The rows of scan's table after its header, as {port, state}.
std::vector<std::vector<std::string>> scan_rows(const std::string& out) {
  const auto lines = words(out);
  const auto header =
      std::find(lines.begin(), lines.end(), std::vector<std::string>{"PORT", "STATE"});
  REQUIRE_MESSAGE(header != lines.end(), "no PORT STATE header in: ", out);
  return {header + 1, lines.end()};
}

/// The JSON object scan --json prints for one port.
std::string json_entry(const std::string& port, const std::string& status) {
  return R"({"port":)" + port + R"(,"status":")" + status + "\"}";
}

}  // namespace

// ---------------------------------------------------------------------------
// check

TEST_CASE("cli check: open, closed and filtered, with their exit statuses") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const silent_port silent = make_silent_port(io);

  require_output(run_cli({"check", str(port_of(listener))}), 0, "open\n");
  require_output(run_cli({"check", closed_port_text()}), 1, "closed\n");

  const cli_result filtered = run_cli({"check", silent.port(), "--timeout", "200"});
  require_output(filtered, 1, "filtered\n");
  // The answer waited for the probe's timeout (and not for much longer).
  CHECK(filtered.elapsed >= 200ms);
  CHECK(filtered.elapsed < 10s);
}

TEST_CASE("cli check: --host ::1 and --host localhost") {
  asio::io_context io;
  SUBCASE("::1") {
    if (!test::have_ipv6_loopback()) {
      MESSAGE("no IPv6 loopback on this machine: skipped");
      return;
    }
    auto listener = test::listen_on(io, "::1");
    const std::string p = str(port_of(listener));
    require_output(run_cli({"check", p, "--host", "::1"}), 0, "open\n");
    // The same port on 127.0.0.1 is another socket: nothing listens there.
    if (test::can_listen("127.0.0.1", port_of(listener))) {
      require_output(run_cli({"check", p, "--host", "127.0.0.1"}), 1, "closed\n");
    }
  }
  SUBCASE("localhost") {
    // Listening on :: (both families) whatever localhost resolves to here.
    auto listener = test::listen_on(io, test::have_ipv6_loopback() ? "::" : "127.0.0.1");
    require_output(run_cli({"check", str(port_of(listener)), "--host", "localhost"}), 0, "open\n");
    require_output(run_cli({"check", closed_port_text(), "--host", "localhost"}), 1, "closed\n");
  }
}

// ---------------------------------------------------------------------------
// find

TEST_CASE("cli find --in-use: the first open port in list order") {
  asio::io_context io;
  auto a = test::listen_on(io, "127.0.0.1");
  auto b = test::listen_on(io, "127.0.0.1");
  // `high` is the larger port number of the two, `low` the smaller.
  const std::uint16_t high = std::max(port_of(a), port_of(b));
  const std::uint16_t low = std::min(port_of(a), port_of(b));
  const std::string c1 = closed_port_text();
  const std::string c2 = closed_port_text();

  // Only the last port of the list is open: it is the one printed.
  require_output(run_cli({"find", "--in-use", c1 + "," + c2 + "," + str(low)}), 0, str(low) + "\n");
  // Two open ports, the larger first: list order wins over numeric order,
  // within one argument and across arguments.
  require_output(run_cli({"find", "--in-use", c1 + "," + str(high) + "," + str(low)}), 0,
                 str(high) + "\n");
  require_output(run_cli({"find", "--in-use", c1, str(high), str(low)}), 0, str(high) + "\n");
  // The flag may come after the ports.
  require_output(run_cli({"find", str(high) + "," + str(low), "--in-use"}), 0, str(high) + "\n");
}

TEST_CASE("cli find --in-use: a filtered port before an open one is not in use") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const silent_port silent = make_silent_port(io);
  const std::string open = str(port_of(listener));
  require_output(run_cli({"find", "--in-use", silent.port() + "," + open, "--timeout", "200"}), 0,
                 open + "\n");
}

TEST_CASE("cli find --free: the first closed port in list order") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const silent_port silent = make_silent_port(io);
  const std::string open = str(port_of(listener));
  const std::string closed = closed_port_text();
  require_output(run_cli({"find", "--free", open + "," + closed}), 0, closed + "\n");
  // A filtered port is not known to be free: skipped as well.
  require_output(run_cli({"find", "--free", silent.port(), open, closed, "--timeout", "200"}), 0,
                 closed + "\n");
}

TEST_CASE("cli find: no such port exits 1 with a message, printing nothing") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const silent_port silent = make_silent_port(io);
  const std::string open = str(port_of(listener));
  require_failure(run_cli({"find", "--in-use", closed_port_text()}), 1);
  require_failure(
      run_cli({"find", "--in-use", closed_port_text() + "," + silent.port(), "--timeout", "200"}), 1);
  require_failure(run_cli({"find", "--free", open}), 1);
  require_failure(run_cli({"find", "--free", open + "," + silent.port(), "--timeout", "200"}), 1);
}

// ---------------------------------------------------------------------------
// scan

TEST_CASE("cli scan: a table of the ports that are not closed, all of them with --verbose") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const silent_port silent = make_silent_port(io);
  const std::string open = str(port_of(listener));
  const std::string closed = closed_port_text();
  const std::string filtered = silent.port();
  const std::string list = filtered + "," + closed + "," + open;

  SUBCASE("the table") {
    const cli_result r = run_cli({"scan", list, "--timeout", "200"});
    INFO(r.describe());
    REQUIRE(r.exited);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    // In list order, the closed port left out.
    CHECK(scan_rows(r.out) ==
          std::vector<std::vector<std::string>>{{filtered, "filtered"}, {open, "open"}});
    CHECK_FALSE(names(r.out, closed));
  }
  SUBCASE("--verbose") {
    const cli_result r = run_cli({"scan", list, "--timeout", "200", "--verbose"});
    INFO(r.describe());
    REQUIRE(r.exited);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK(scan_rows(r.out) == std::vector<std::vector<std::string>>{
                                  {filtered, "filtered"}, {closed, "closed"}, {open, "open"}});
  }
  SUBCASE("several arguments form one list, in order") {
    const cli_result r = run_cli({"scan", open, closed, filtered, "--timeout=200", "--verbose"});
    INFO(r.describe());
    REQUIRE(r.exited);
    CHECK(r.status == 0);
    CHECK(scan_rows(r.out) == std::vector<std::vector<std::string>>{
                                  {open, "open"}, {closed, "closed"}, {filtered, "filtered"}});
  }
  SUBCASE("the table's columns are aligned") {
    const cli_result r = run_cli({"scan", list, "--timeout", "200", "--verbose"});
    REQUIRE(r.exited);
    std::istringstream in(r.out);
    std::size_t state_column = std::string::npos;
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("PORT")) state_column = line.find("STATE");
      if (state_column == std::string::npos) continue;
      INFO("line: [", line, "] in ", r.describe());
      CHECK(line.size() > state_column);
      CHECK(line[state_column - 1] == ' ');
      CHECK(line[state_column] != ' ');
    }
    CHECK(state_column != std::string::npos);
  }
}

TEST_CASE("cli scan --json: every port with its status") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const silent_port silent = make_silent_port(io);
  const std::string open = str(port_of(listener));
  const std::string closed = closed_port_text();
  const cli_result r =
      run_cli({"scan", "--json", closed + "," + silent.port() + "," + open, "--timeout", "200"});
  INFO(r.describe());
  REQUIRE(r.exited);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out.starts_with("["));
  CHECK(r.out.ends_with("]\n"));
  const std::size_t c = r.out.find(json_entry(closed, "closed"));
  const std::size_t f = r.out.find(json_entry(silent.port(), "filtered"));
  const std::size_t o = r.out.find(json_entry(open, "open"));
  CHECK(c != std::string::npos);
  CHECK(f != std::string::npos);
  CHECK(o != std::string::npos);
  CHECK((c < f && f < o));  // list order
  CHECK(std::count(r.out.begin(), r.out.end(), '{') == 3);
  CHECK(std::count(r.out.begin(), r.out.end(), ',') == 3 + 2);  // in each object, between them
}

TEST_CASE("cli scan: every port closed is still a complete scan (exit 0)") {
  const std::string a = closed_port_text();
  const std::string b = closed_port_text();
  const cli_result r = run_cli({"scan", a + "," + b});
  INFO(r.describe());
  REQUIRE(r.exited);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK_FALSE(names(r.out, a));
  CHECK_FALSE(names(r.out, b));
  CHECK_FALSE(names(r.out, "open"));

  const cli_result json = run_cli({"scan", a + "," + b, "--json"});
  INFO(json.describe());
  CHECK(json.status == 0);
  CHECK(json.out.find(json_entry(a, "closed")) != std::string::npos);
  CHECK(json.out.find(json_entry(b, "closed")) != std::string::npos);
}

TEST_CASE("cli scan: a long list keeps its order") {
  // The CLI scans the whole list in one sliding window (256 probes in flight).
  // A list may repeat ports: the filtered and the closed port, alternating,
  // 1200 times over -- only ports of this test, many windows long.
  asio::io_context io;
  const silent_port silent = make_silent_port(io);
  const std::string closed = closed_port_text();
  std::string list;
  std::vector<std::string> expected;
  for (int i = 0; i < 600; ++i) {
    list += (i ? "," : "") + silent.port() + "," + closed;
    expected.push_back(json_entry(silent.port(), "filtered"));
    expected.push_back(json_entry(closed, "closed"));
  }
  const cli_result r = run_cli({"scan", list, "--json", "--timeout", "200"});
  REQUIRE_MESSAGE(r.exited, r.describe());
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  std::vector<std::string> got;
  for (std::size_t at = r.out.find('{'); at != std::string::npos; at = r.out.find('{', at + 1)) {
    got.push_back(r.out.substr(at, r.out.find('}', at) + 1 - at));
  }
  CHECK(got.size() == expected.size());
  CHECK(got == expected);
}

TEST_CASE("cli scan: --concurrency 1 gives the same answer") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const std::string open = str(port_of(listener));
  const std::string closed = closed_port_text();
  const cli_result r = run_cli({"scan", closed + "," + open, "--concurrency", "1", "--verbose"});
  INFO(r.describe());
  REQUIRE(r.exited);
  CHECK(r.status == 0);
  CHECK(scan_rows(r.out) ==
        std::vector<std::vector<std::string>>{{closed, "closed"}, {open, "open"}});
}

TEST_CASE("cli scan: a progress bar on stderr only when it is a terminal and the scan is slow") {
  // A filtered port with a 1500 ms probe timeout: the scan lasts at least
  // 1.5 s, so the bar (shown after 1 s) must appear on a terminal -- on stderr,
  // wiped at the end, while stdout holds only the table.
  asio::io_context io;
  const silent_port silent = make_silent_port(io);
  const std::vector<std::string> args = {"scan", silent.port(), "--timeout", "1500"};

  const cli_result tty = run_cli(args, 30s, test::stderr_to::terminal);
  INFO(tty.describe());
  REQUIRE(tty.exited);
  CHECK(tty.status == 0);
  CHECK(scan_rows(tty.out) == std::vector<std::vector<std::string>>{{silent.port(), "filtered"}});
  CHECK(tty.err.find("scanning [") != std::string::npos);
  CHECK(tty.err.find("0/1 ports, 0 open") != std::string::npos);
  CHECK(tty.err.ends_with("\r\033[K"));  // the bar is wiped
  CHECK(tty.out.find("scanning") == std::string::npos);

  // The same scan under a pipe: no bar.
  const cli_result piped = run_cli(args);
  INFO(piped.describe());
  CHECK(piped.status == 0);
  CHECK(piped.err.empty());

  // A quick scan on a terminal: none either.
  const cli_result quick = run_cli({"scan", closed_port_text()}, 30s, test::stderr_to::terminal);
  INFO(quick.describe());
  CHECK(quick.status == 0);
  CHECK(quick.err.empty());
}

// ---------------------------------------------------------------------------
// wait

TEST_CASE("cli wait: a port already open, or already free, returns 0 at once") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  // A 20 s timeout: returning well before it shows the state was seen, not waited out.
  const cli_result open = run_cli({"wait", str(port_of(listener)), "--timeout", "20000"});
  require_output(open, 0, "");
  CHECK(open.elapsed < 10s);

  const cli_result free = run_cli({"wait", "--free", closed_port_text(), "--timeout", "20000"});
  require_output(free, 0, "");
  CHECK(free.elapsed < 10s);
}

TEST_CASE("cli wait: past --timeout exits 1 with a message") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const silent_port silent = make_silent_port(io);
  const std::string closed = closed_port_text();

  const cli_result r = run_cli({"wait", closed, "--timeout", "300"});
  require_failure(r, 1);
  CHECK(names(r.err, closed));
  CHECK(r.elapsed >= 300ms);
  CHECK(r.elapsed < 10s);

  // Still open: not free within the time.
  require_failure(run_cli({"wait", "--free", str(port_of(listener)), "--timeout", "300"}), 1);
  // Filtered is neither open nor free.
  require_failure(run_cli({"wait", silent.port(), "--timeout", "300"}), 1);
  require_failure(run_cli({"wait", "--free", silent.port(), "--timeout", "300"}), 1);
}

TEST_CASE("cli wait: several targets at once, one late; then the command runs, its arguments as given") {
  asio::io_context io;
  auto open = test::listen_on(io, "127.0.0.1");
  // The late one: bound now (the port is ours, connects to it are refused),
  // listening only once the CLI is seen probing.
  tcp::acceptor late(io, tcp::v4());
  late.bind({asio::ip::make_address("127.0.0.1"), 0});
  const std::string late_port = str(port_of(late));

  auto cli = std::async(std::launch::async, [&] {
    return run_cli({"wait", "127.0.0.1:" + str(port_of(open)), late_port, "--timeout", "0",
                    "--interval", "20ms", "--", "sh", "-c", "printf '%s|' \"$@\"", "sh", "a b", "",
                    "$HOME", "--timeout"});
  });
  // The CLI's probe of the open target reaches our listener: it is running.
  // Bounded: should the CLI end first (it must not: the late one is closed),
  // the test fails with what it printed.
  bool probed = false;
  for (int slice = 0; slice < 300 && !probed; ++slice) {  // 30 s at most
    pollfd pfd{open.native_handle(), POLLIN, 0};
    probed = ::poll(&pfd, 1, 100) == 1;
    if (!probed && cli.wait_for(0s) == std::future_status::ready) {
      const cli_result early = cli.get();
      FAIL("the CLI ended before the late target listened: ", early.describe());
    }
  }
  REQUIRE(probed);
  CHECK(cli.wait_for(0s) == std::future_status::timeout);  // one target is not open yet
  late.listen();
  const cli_result r = cli.get();
  INFO(r.describe());
  CHECK(r.exited);
  CHECK(r.status == 0);
  CHECK(r.out == "a b||$HOME|--timeout|");  // exactly as given: no shell, no option parsing
  CHECK(r.err.empty());
}

TEST_CASE("cli wait: the command's exit status is ours; on a timeout it does not run") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const std::string open = str(port_of(listener));
  const cli_result seven = run_cli({"wait", open, "--", "sh", "-c", "exit 7"});
  INFO(seven.describe());
  CHECK(seven.exited);
  CHECK(seven.status == 7);

  const std::string closed = closed_port_text();
  const cli_result timed_out =
      run_cli({"wait", open, closed, "--timeout", "300ms", "--", "sh", "-c", "echo ran"});
  require_failure(timed_out, 1);
  CHECK(timed_out.out.empty());  // the command did not run
  CHECK(names(timed_out.err, closed));
  CHECK_FALSE(names(timed_out.err, open));  // only the target that was not ready is named
  CHECK(timed_out.elapsed >= 300ms);

  const cli_result missing = run_cli({"wait", open, "--", "portprobe-test-no-such-command"});
  INFO(missing.describe());
  CHECK(missing.exited);
  CHECK(missing.status == 127);
  CHECK(names(missing.err, "portprobe-test-no-such-command"));
}

TEST_CASE("cli wait: --any is ready with one target; -q prints nothing; durations with units") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const std::string open = str(port_of(listener));
  const std::string closed = closed_port_text();
  const cli_result any = run_cli({"wait", closed, open, "--any", "--timeout", "20s"});
  require_output(any, 0, "");
  CHECK(any.elapsed < 10s);  // seen at once, not waited out

  const cli_result quiet = run_cli({"wait", closed, "-q", "--timeout", "200ms"});
  INFO(quiet.describe());
  CHECK(quiet.exited);
  CHECK(quiet.status == 1);  // the exit status alone
  CHECK(quiet.out.empty());
  CHECK(quiet.err.empty());

  // 1s is a second, not a millisecond: the wait lasts it.
  const cli_result second = run_cli({"wait", closed, "--timeout", "1s"});
  require_failure(second, 1);
  CHECK(second.elapsed >= 1s);
  CHECK(names(second.err, "1000"));
}

TEST_CASE("cli wait: [IPv6]:PORT and HOST:PORT targets") {
  asio::io_context io;
  auto v4 = test::listen_on(io, "127.0.0.1");
  require_output(run_cli({"wait", "localhost:" + str(port_of(v4)), "--timeout", "20s"}), 0, "");
  if (!test::have_ipv6_loopback()) {
    MESSAGE("no IPv6 loopback here: the [::1] target is not tried");
    return;
  }
  auto v6 = test::listen_on(io, "::1");
  require_output(run_cli({"wait", "[::1]:" + str(port_of(v6)), "--timeout", "20s"}), 0, "");
}

TEST_CASE("cli wait: http:// targets are ready on a 2xx or 3xx answer, not on a 500 or on silence") {
  test::http_server ok(200);
  test::http_server moved(302);
  test::http_server failing(500);
  test::http_server mute(test::http_server::silent);
  const std::string ok_url = "http://127.0.0.1:" + str(ok.port()) + "/health";

  const cli_result ready = run_cli({"wait", ok_url, "http://localhost:" + str(moved.port()) + "/",
                                    "--timeout", "20s", "--", "sh", "-c", "echo started"});
  require_output(ready, 0, "started\n");
  const std::vector<std::string> asked = ok.requests();
  REQUIRE_FALSE(asked.empty());
  CHECK(asked.front().starts_with("GET /health HTTP/1.1\r\n"));

  const cli_result error = run_cli({"wait", "http://127.0.0.1:" + str(failing.port()) + "/",
                                    "--timeout", "500ms", "--interval", "50ms"});
  require_failure(error, 1);
  CHECK(names(error.err, "500"));
  CHECK(failing.requests().size() >= 2);  // asked again until the timeout

  const cli_result silence =
      run_cli({"wait", "http://127.0.0.1:" + str(mute.port()) + "/", "--timeout", "500ms"});
  require_failure(silence, 1);  // accepted, never answered: not ready
  CHECK(silence.elapsed >= 500ms);

  const cli_result free = run_cli({"wait", "--free", ok_url});
  require_failure(free, 2);
  CHECK(names(free.err, ok_url));
}

TEST_CASE("cli wait: a name that does not resolve is retried until the timeout") {
  const std::string no_host = "no-such-host.invalid";
  const cli_result r =
      run_cli({"wait", no_host + ":" + closed_port_text(), "--timeout", "600ms", "--interval", "50ms"});
  require_failure(r, 1);  // not a usage error: the name may appear (a container starting)
  CHECK(names(r.err, no_host));
  CHECK(names(r.err, "resolve"));
  CHECK(r.elapsed >= 600ms);
  CHECK(r.elapsed < 20s);
}

// ---------------------------------------------------------------------------
// who

TEST_CASE("cli who: the listener this test holds, with this process's pid") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const cli_result r = run_cli({"who", str(port_of(listener))});
  INFO(r.describe());
  REQUIRE(r.exited);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  const auto lines = words(r.out);
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0] == std::vector<std::string>{"PID", "COMMAND", "PROTO", "ADDRESS", "STATE"});
  const std::string pid = std::to_string(::getpid());
  const bool ours = std::any_of(lines.begin() + 1, lines.end(), [&](const auto& row) {
    return row.size() == 5 && row[0] == pid && row[2] == "tcp" && row[3] == "127.0.0.1" &&
           row[4] == "LISTEN";
  });
  CHECK_MESSAGE(ours, "no row for pid ", pid);
}

TEST_CASE("cli who: a port nobody holds exits 1") {
  require_failure(run_cli({"who", closed_port_text()}), 1);
}

TEST_CASE("cli --json: check, find and who print one documented object") {
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  const std::string open = str(port_of(listener));
  const std::string closed = closed_port_text();

  require_output(run_cli({"check", open, "--json"}), 0,
                 "{\"port\":" + open + ",\"host\":\"127.0.0.1\",\"status\":\"open\"}\n");
  const cli_result refused = run_cli({"check", closed, "--json"});
  INFO(refused.describe());
  CHECK(refused.status == 1);
  CHECK(refused.out == "{\"port\":" + closed + ",\"host\":\"127.0.0.1\",\"status\":\"closed\"}\n");

  require_output(run_cli({"find", "--in-use", closed + "," + open, "--json"}), 0,
                 "{\"port\":" + open + "}\n");
  const cli_result none = run_cli({"find", "--in-use", closed, "--json"});
  CHECK(none.status == 1);
  CHECK(none.out == "{\"port\":null}\n");

  const cli_result who = run_cli({"who", open, "--json"});
  INFO(who.describe());
  CHECK(who.status == 0);
  CHECK(who.out.starts_with("{\"port\":" + open + ",\"owners\":[{"));
  CHECK(who.out.ends_with("}]}\n"));
  CHECK(who.out.find("{\"pid\":" + std::to_string(::getpid()) + ",\"command\":\"") !=
        std::string::npos);
  CHECK(who.out.find("\"protocol\":\"tcp\",\"address\":\"127.0.0.1\",\"state\":\"LISTEN\"}") !=
        std::string::npos);
  const cli_result nobody = run_cli({"who", closed, "--json"});
  CHECK(nobody.status == 1);
  CHECK(nobody.out == "{\"port\":" + closed + ",\"owners\":[]}\n");
}

namespace {

/// The options a command's --help lists ("-q,--quiet", "--host H=...").
std::set<std::string> help_options(const std::string& command) {
  const cli_result r = run_cli({command, "--help"});
  REQUIRE_MESSAGE(r.status == 0, r.describe());
  std::set<std::string> options;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos || line[start] != '-' || start == 0) continue;
    std::string names = line.substr(start, line.find(' ', start) - start);
    std::istringstream parts(names);
    std::string name;
    while (std::getline(parts, name, ',')) {
      if (name != "-h" && name != "--help") options.insert(name);
    }
  }
  return options;
}

std::string read_doc(const std::string& name) {
  const char* dir = std::getenv("PORTPROBE_DOC_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "PORTPROBE_DOC_DIR is not set: run this test through meson test");
  std::ifstream in(std::string(dir) + "/" + name);
  REQUIRE_MESSAGE(in.good(), "cannot read ", dir, "/", name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string joined(const std::set<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return "[" + out + "]";
}

/// The words of `text` that start with '-'.
std::set<std::string> dashed_words(const std::string& text) {
  std::set<std::string> words;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    if (word.starts_with('-') && word.size() > 1 && word != "--") words.insert(word);
  }
  return words;
}

}  // namespace

TEST_CASE("cli: the manual page and the bash completion have every option of every command, and no other") {
  const std::string completion = read_doc("portprobe.bash");
  std::string man = read_doc("portprobe.1");
  for (std::size_t at = man.find("\\-"); at != std::string::npos; at = man.find("\\-", at)) {
    man.replace(at, 2, "-");  // roff's \- is a hyphen
  }
  const std::vector<std::string> commands = {"get", "check", "find", "scan", "wait", "who", "kill", "locks"};
  for (const std::string& command : commands) {
    INFO("portprobe ", command);
    const std::set<std::string> options = help_options(command);
    // The completion's line for the command: `command)  opts="..."`.
    const std::size_t line = completion.find("    " + command + ")");
    REQUIRE(line != std::string::npos);
    const std::size_t open = completion.find('"', line);
    const std::size_t close = completion.find('"', open + 1);
    const std::set<std::string> completed = dashed_words(completion.substr(open + 1, close - open - 1));
    CHECK_MESSAGE(completed == options, "completion ", joined(completed), ", --help ", joined(options));
    // The manual page's section for the command, up to the next section.
    const std::size_t section = man.find(".SS portprobe " + command + "\n");
    REQUIRE(section != std::string::npos);
    const std::size_t next = man.find("\n.S", section + 1);
    std::set<std::string> documented;
    std::istringstream lines(man.substr(section, next - section));
    std::string row;
    while (std::getline(lines, row)) {
      if (!row.starts_with(".B -")) continue;
      std::string names = row.substr(3);
      for (char& c : names) c = c == ',' ? ' ' : c;
      for (const std::string& w : dashed_words(names)) documented.insert(w);
    }
    CHECK_MESSAGE(documented == options, "manual ", joined(documented), ", --help ", joined(options));
  }
  // Every command in the completion's list and in the manual's synopsis.
  for (const std::string& command : commands) {
    CHECK(completion.find(" " + command) != std::string::npos);
    CHECK(man.find(".B portprobe " + command) != std::string::npos);
  }
}

TEST_CASE("cli --version: the Meson project's version") {
  const cli_result r = run_cli({"--version"});
  INFO(r.describe());
  CHECK(r.exited);
  CHECK(r.status == 0);
  CHECK(r.out == std::string("portprobe ") + PORTPROBE_VERSION + "\n");
  CHECK(r.err.empty());
}

// ---------------------------------------------------------------------------
// Bad usage

TEST_CASE("cli: bad values exit 2 with a message naming them, never a crash") {
  struct bad_case {
    std::vector<std::string> args;
    std::string named;  // what stderr must mention
  };
  const std::string p = closed_port_text();  // probed by none of these
  const std::string no_host = "no-such-host.invalid";
  const std::vector<bad_case> cases = {
      {{"check", "0"}, "0"},
      {{"check", "99999"}, "99999"},
      {{"check", "1-2-3"}, "1-2-3"},
      {{"check", "abc"}, "abc"},
      {{"check", p + "," + p}, p + "," + p},
      {{"check", p + "-" + p}, p + "-" + p},
      {{"check"}, "PORT"},
      {{"check", p, p}, p},
      {{"check", p, "--timeout", "-5"}, "-5"},
      {{"check", p, "--timeout", "0"}, "0"},
      {{"check", p, "--timeout", "abc"}, "abc"},
      {{"check", p, "--timeout", "1.5"}, "1.5"},
      {{"check", p, "--timeout", "99999999999999999999"}, "99999999999999999999"},
      {{"check", p, "--timeout"}, "--timeout"},
      {{"check", p, "--bogus"}, "--bogus"},
      {{"check", p, "--host", no_host}, no_host},
      {{"find", "--in-use", "0"}, "0"},
      {{"find", "--in-use", "1-2-3"}, "1-2-3"},
      {{"find", "--free", "abc"}, "abc"},
      {{"find", "--free", "99999"}, "99999"},
      {{"find", "--in-use"}, "PORTS"},
      {{"find", p}, "--in-use"},
      {{"find", "--in-use", "--free", p}, "--free"},
      {{"find", "--free", p, "--timeout", "-5"}, "-5"},
      {{"find", "--free", p, "--host", no_host}, no_host},
      {{"find", "--free", p, "--bogus"}, "--bogus"},
      {{"scan", "abc"}, "abc"},
      {{"scan", "0"}, "0"},
      {{"scan", "5000-4000"}, "5000-4000"},
      {{"scan"}, "PORTS"},
      {{"scan", p, "--timeout", "abc"}, "abc"},
      {{"scan", p, "--concurrency", "0"}, "0"},
      {{"scan", p, "--concurrency", "-3"}, "-3"},
      {{"scan", p, "--concurrency", "many"}, "many"},
      {{"scan", p, "--host", no_host}, no_host},
      {{"scan", p, "--json", "--bogus"}, "--bogus"},
      {{"wait", "0"}, "0"},
      {{"wait", "99999"}, "99999"},
      {{"wait"}, "TARGET"},
      {{"wait", p, "--timeout", "2x"}, "2x"},
      {{"wait", p, "--timeout", "1.5s"}, "1.5s"},
      {{"wait", p, "--timeout", "-1s"}, "-1s"},
      {{"wait", p, "--interval", "ms"}, "ms"},
      {{"wait", "::1:" + p}, "::1:" + p},
      {{"wait", "localhost:"}, "localhost:"},
      {{"wait", ":" + p}, ":" + p},
      {{"wait", "localhost:0"}, "localhost:0"},
      {{"wait", "[::1" + p}, "[::1" + p},
      {{"wait", "https://localhost:" + p + "/"}, "https://localhost:" + p + "/"},
      {{"wait", p, "--"}, "COMMAND"},
      {{"wait", p, "--host", ""}, "--host"},
      {{"check", p, "--timeout", "0"}, "0"},
      {{"check", p, "--timeout", "5y"}, "5y"},
      {{"wait", p, "--timeout", "-5"}, "-5"},
      {{"wait", p, "--timeout", "abc"}, "abc"},
      {{"wait", p, "--interval", "-1"}, "-1"},
      {{"wait", p, "--interval", "soon"}, "soon"},
      {{"wait", p, "--bogus"}, "--bogus"},
      {{"who", "0"}, "0"},
      {{"who", "99999"}, "99999"},
      {{"who", "abc"}, "abc"},
      {{"who"}, "PORT"},
      {{"who", p, "--bogus"}, "--bogus"},
  };
  for (const auto& c : cases) {
    const cli_result r = run_cli(c.args);
    require_failure(r, 2);
    CHECK_MESSAGE(names(r.err, c.named), r.describe());
  }
}

TEST_CASE("cli: --help on every command exits 0 and describes its options") {
  const cli_result top = run_cli({"--help"});
  INFO(top.describe());
  REQUIRE(top.exited);
  CHECK(top.status == 0);
  for (const char* name : {"get", "check", "find", "scan", "wait", "who", "kill", "locks"}) {
    CHECK_MESSAGE(names(top.out, name), name);
  }

  const std::vector<std::vector<std::string>> commands = {
      {"check", "--host", "--timeout", "--json"},
      {"find", "--in-use", "--free", "--host", "--timeout", "--json"},
      {"scan", "--host", "--timeout", "--json", "--verbose", "--concurrency"},
      {"wait", "--host", "--timeout", "--free", "--interval", "--any", "--quiet", "TARGET"},
      {"who", "--json"},
      {"kill", "--signal", "--timeout", "PORT"},
  };
  for (const auto& expected : commands) {
    for (const char* help : {"--help", "-h"}) {
      const cli_result r = run_cli({expected.front(), help});
      INFO(r.describe());
      REQUIRE(r.exited);
      CHECK(r.status == 0);
      CHECK(r.err.empty());
      for (const auto& word : expected) CHECK_MESSAGE(names(r.out, word), word);
    }
  }
}
