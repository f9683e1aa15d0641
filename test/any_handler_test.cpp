// Every operation behind a type-erased completion handler (asio::any_completion_handler,
// Asio 1.26 and newer: the Boost.Asio flavour here), as a library that compiles its own
// code once would call them: an initiating function of its own whose initiation hands the
// erased handler to portprobe. Each completes once, with what the plain call gives.
#include <portprobe/portprobe.hpp>

#include "asio.hpp"

#if PORTPROBE_BOOST_ASIO
#include <boost/asio/version.hpp>
#define PORTPROBE_TEST_ASIO_VERSION BOOST_ASIO_VERSION
#else
#include <asio/version.hpp>
#define PORTPROBE_TEST_ASIO_VERSION ASIO_VERSION
#endif

#if PORTPROBE_TEST_ASIO_VERSION >= 102600

#if PORTPROBE_BOOST_ASIO
#include <boost/asio/any_completion_handler.hpp>
#else
#include <asio/any_completion_handler.hpp>
#endif

#include <cstdint>
#include <optional>
#include <vector>

#include "support.hpp"

namespace pp = portprobe;

namespace {

template <typename Signature>
using erased = asio::any_completion_handler<Signature>;

// The compiled side: each takes an erased handler and starts the portprobe operation.
void erased_get_port(asio::any_io_executor ex, pp::get_port_options o,
                     erased<pp::get_port_signature> h) {
  pp::async_get_port(ex, o, std::move(h));
}
void erased_get_ports(asio::any_io_executor ex, std::size_t n, erased<pp::get_ports_signature> h) {
  pp::async_get_ports(ex, n, pp::get_port_options{}, std::move(h));
}
void erased_listen(asio::any_io_executor ex, pp::get_port_options o,
                   erased<pp::listen_signature> h) {
  pp::async_listen(ex, o, std::move(h));
}
void erased_check(asio::any_io_executor ex, std::uint16_t port, erased<pp::check_signature> h) {
  pp::async_check_status(ex, port, std::move(h));
}
void erased_find(asio::any_io_executor ex, pp::port_list ports, erased<pp::find_signature> h) {
  pp::async_find_port_in_use(ex, ports, std::move(h));
}
void erased_find_not(asio::any_io_executor ex, pp::port_list ports, erased<pp::find_signature> h) {
  pp::async_find_port_not_in_use(ex, ports, std::move(h));
}
void erased_scan(asio::any_io_executor ex, pp::port_list ports, erased<pp::scan_signature> h) {
  pp::async_scan(ex, ports, std::move(h));
}
void erased_wait(asio::any_io_executor ex, std::uint16_t port, erased<pp::wait_signature> h) {
  pp::wait_options options;
  options.timeout = std::chrono::seconds(30);
  pp::async_wait_for_status(ex, port, pp::port_status::open, options, std::move(h));
}

// The header side: an initiating function of the user's library, any token.
template <typename Signature, typename Fn, typename Token, typename... Args>
auto initiate(Fn fn, asio::any_io_executor ex, Token&& token, Args... args) {
  return asio::async_initiate<Token, Signature>(
      [fn, ex](auto handler, auto... a) { fn(ex, a..., erased<Signature>(std::move(handler))); },
      token, args...);
}

}  // namespace

TEST_CASE_FIXTURE(test::io_fixture, "any_completion_handler: every operation, each completed once") {
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t open = server.local_endpoint().port();
  const std::uint16_t closed = test::closed_port();
  const asio::any_io_executor ex = io.get_executor();
  int calls = 0;

  pp::get_port_options local;
  local.host = "127.0.0.1";
  initiate<pp::get_port_signature>(&erased_get_port, ex, [&](pp::error_code ec, std::uint16_t p) {
    ++calls;
    CHECK(!ec);
    CHECK(p != 0);
  }, local);
  initiate<pp::get_ports_signature>(&erased_get_ports, ex,
                                    [&](pp::error_code ec, std::vector<std::uint16_t> ps) {
    ++calls;
    CHECK(!ec);
    CHECK(ps.size() == 3);
  }, std::size_t{3});
  initiate<pp::listen_signature>(&erased_listen, ex,
                                 [&](pp::error_code ec, asio::ip::tcp::acceptor a) {
    ++calls;
    CHECK(!ec);
    CHECK(a.is_open());
  }, local);
  initiate<pp::check_signature>(&erased_check, ex, [&](pp::error_code ec, pp::port_status s) {
    ++calls;
    CHECK(!ec);
    CHECK(s == pp::port_status::open);
  }, open);
  initiate<pp::find_signature>(&erased_find, ex,
                               [&](pp::error_code ec, std::optional<std::uint16_t> p) {
    ++calls;
    CHECK(!ec);
    CHECK(p == open);
  }, pp::port_list{closed, open});
  initiate<pp::find_signature>(&erased_find_not, ex,
                               [&](pp::error_code ec, std::optional<std::uint16_t> p) {
    ++calls;
    CHECK(!ec);
    CHECK(p == closed);
  }, pp::port_list{open, closed});
  initiate<pp::scan_signature>(&erased_scan, ex,
                               [&](pp::error_code ec, std::vector<pp::port_report> r) {
    ++calls;
    CHECK(!ec);
    REQUIRE(r.size() == 2);
    CHECK(r[0].status == pp::port_status::open);
    CHECK(r[1].status == pp::port_status::closed);
  }, pp::port_list{open, closed});
  initiate<pp::wait_signature>(&erased_wait, ex, [&](pp::error_code ec) {
    ++calls;
    CHECK(!ec);
  }, open);
  CHECK(calls == 0);  // none inside its initiating function
  run();
  CHECK(calls == 8);
}

TEST_CASE_FIXTURE(test::io_fixture, "any_completion_handler: cancellation reaches the operation") {
  // A wait for a port that never opens, cancelled through the erased handler's slot.
  const std::uint16_t closed = test::closed_port();
  asio::cancellation_signal signal;
  pp::error_code result;
  int calls = 0;
  initiate<pp::wait_signature>(&erased_wait, io.get_executor(),
                               asio::bind_cancellation_slot(signal.slot(), [&](pp::error_code ec) {
                                 ++calls;
                                 result = ec;
                               }),
                               closed);
  asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); });
  run();
  CHECK(calls == 1);
  CHECK(result == asio::error::operation_aborted);
}

TEST_CASE_FIXTURE(test::io_fixture,
                  "any_completion_handler: not completed inside an initiation made on the context") {
  // Initiated from a handler that runs on the io_context: operations that finish at once
  // (bad options, a refused loopback port, a server that accepts) still complete later.
  const std::uint16_t closed = test::closed_port();
  auto server = test::listen_on(io, "127.0.0.1");
  const std::uint16_t open = server.local_endpoint().port();
  const asio::any_io_executor ex = io.get_executor();
  int calls = 0;
  int inside = -1;
  asio::post(io, [&] {
    initiate<pp::check_signature>(&erased_check, ex, [&](pp::error_code, pp::port_status) {
      ++calls;
    }, closed);
    initiate<pp::check_signature>(&erased_check, ex, [&](pp::error_code ec, pp::port_status) {
      ++calls;
      CHECK(ec == asio::error::invalid_argument);
    }, std::uint16_t{0});
    initiate<pp::wait_signature>(&erased_wait, ex, [&](pp::error_code ec) {
      ++calls;
      CHECK(ec == asio::error::invalid_argument);
    }, std::uint16_t{0});
    initiate<pp::wait_signature>(&erased_wait, ex, [&](pp::error_code ec) {
      ++calls;
      CHECK(!ec);
    }, open);
    initiate<pp::find_signature>(&erased_find, ex, [&](pp::error_code, std::optional<std::uint16_t>) {
      ++calls;
    }, pp::port_list{});
    initiate<pp::get_port_signature>(&erased_get_port, ex, [&](pp::error_code, std::uint16_t) {
      ++calls;
    }, pp::get_port_options{});
    inside = calls;
  });
  run();
  CHECK(inside == 0);
  CHECK(calls == 6);
}

#endif  // Asio 1.26
