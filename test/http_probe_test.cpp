#include "http_probe.hpp"

// test/http_probe_test.cpp: the HTTP probe of `portprobe wait http://...`
// (lib/http_probe.hpp) against a real little server (test/http_server.hpp) on
// loopback: the request it sends, the answers it reads, the ones it does not
// take for an answer, its timeout and its cancellation.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "asio.hpp"

#include "support.hpp"
#include "http_server.hpp"

namespace {

using namespace std::chrono_literals;
using portprobe::detail::http_request;
using portprobe::detail::http_result;
using portprobe::detail::one_shot;
using portprobe::detail::start_http_probe;

struct http_fixture : test::io_fixture {
  /// Probes `request` and runs the io_context until done; checks that the
  /// completion ran once, outside the initiating call.
  http_result probe(const http_request& request, std::chrono::milliseconds timeout = 5000ms,
                    asio::cancellation_slot slot = {}) {
    auto result = std::make_shared<http_result>();
    int calls = 0;
    bool initiating = true;
    start_http_probe(io.get_executor(), request, timeout, result, slot, one_shot([&] {
                       CHECK_FALSE(initiating);
                       ++calls;
                     }));
    initiating = false;
    run();
    CHECK(calls == 1);
    return *result;
  }
};

}  // namespace

TEST_CASE("http status line: HTTP/1.x and three digits, else not HTTP") {
  using portprobe::detail::parse_http_status_line;
  CHECK(parse_http_status_line("HTTP/1.1 200 OK\r\n") == 200);
  CHECK(parse_http_status_line("HTTP/1.0 302 Found") == 302);
  CHECK(parse_http_status_line("HTTP/1.1 500\r\n") == 500);
  CHECK(parse_http_status_line("HTTP/1.1 204 No Content") == 204);
  CHECK(parse_http_status_line("HTTP/2 200 OK") == 0);
  CHECK(parse_http_status_line("HTTP/1.1 20 OK") == 0);
  CHECK(parse_http_status_line("HTTP/1.1 2000 OK") == 0);
  CHECK(parse_http_status_line("HTTP/1.1 099 low") == 0);
  CHECK(parse_http_status_line("SSH-2.0-OpenSSH_9.2\r\n") == 0);
  CHECK(parse_http_status_line("") == 0);
  CHECK(portprobe::detail::http_ready(200));
  CHECK(portprobe::detail::http_ready(399));
  CHECK_FALSE(portprobe::detail::http_ready(400));
  CHECK_FALSE(portprobe::detail::http_ready(500));
  CHECK_FALSE(portprobe::detail::http_ready(199));
}

TEST_CASE_FIXTURE(http_fixture, "http probe: a 200 and a 500 are answers; the request is a plain GET") {
  {
    test::http_server ok(200);
    fds_before = test::count_fds();
    const http_result r = probe({"127.0.0.1", ok.port(), "/health?x=1"});
    CHECK_FALSE(r.ec);
    CHECK(r.status == 200);
    const std::vector<std::string> requests = ok.requests();
    REQUIRE(requests.size() == 1);
    const std::string& request = requests.front();
    CHECK(request.starts_with("GET /health?x=1 HTTP/1.1\r\n"));
    CHECK(request.find("\r\nHost: 127.0.0.1:" + std::to_string(ok.port()) + "\r\n") !=
          std::string::npos);
    CHECK(request.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(request.ends_with("\r\n\r\n"));
    // The probe's socket is closed (and the server's side of the connection,
    // closed by its thread once it has answered: waited for, not raced).
    REQUIRE(ok.wait_closed(1, std::chrono::milliseconds(20000)));
    CHECK(test::count_fds() == fds_before);
  }
  {
    test::http_server failing(500);
    const http_result r = probe({"localhost", failing.port(), "/"});  // a name, resolved
    CHECK_FALSE(r.ec);
    CHECK(r.status == 500);
  }
}

TEST_CASE_FIXTURE(http_fixture, "http probe: a server that accepts and never answers is a timeout") {
  test::http_server mute(test::http_server::silent);
  const auto start = std::chrono::steady_clock::now();
  const http_result r = probe({"127.0.0.1", mute.port(), "/"}, 300ms);
  CHECK(r.ec == asio::error::timed_out);
  CHECK(r.status == 0);
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  CHECK(mute.requests().size() == 1);  // it was asked
}

TEST_CASE_FIXTURE(http_fixture, "http probe: refused, not HTTP, and a name that does not resolve are errors") {
  const http_result refused = probe({"127.0.0.1", test::closed_port(), "/"});
  CHECK(refused.ec == asio::error::connection_refused);

  test::http_server ssh(200, "SSH-2.0-OpenSSH_9.2\r\n");
  const http_result garbage = probe({"127.0.0.1", ssh.port(), "/"});
  CHECK(garbage.ec == asio::error::invalid_argument);
  CHECK(garbage.status == 0);

  const http_result nowhere = probe({"no-such-host.invalid", 80, "/"});
  CHECK(nowhere.ec);
  CHECK(nowhere.status == 0);
}

TEST_CASE_FIXTURE(http_fixture, "http probe: cancelled while waiting for an answer: aborted at once") {
  test::http_server mute(test::http_server::silent);
  asio::cancellation_signal signal;
  asio::steady_timer later(io, 50ms);
  later.async_wait([&](portprobe::error_code) { signal.emit(asio::cancellation_type::terminal); });
  const auto start = std::chrono::steady_clock::now();
  const http_result r = probe({"127.0.0.1", mute.port(), "/"}, 20000ms, signal.slot());
  CHECK(r.ec == asio::error::operation_aborted);
  CHECK(std::chrono::steady_clock::now() - start < 10s);  // not the 20 s timeout
}
