// A user's program, built against an installed portprobe by .ci/test: with pkg-config, with
// CMake (find_package) and as a Meson subproject, for either flavour of Asio (the
// pkg-config file, the CMake target and the dependency define PORTPROBE_USE_BOOST_ASIO for
// the Boost one). Gets a free port with a callback and with use_awaitable, prints both, and
// exits 0 when both are real ports.
//
// `app --resolver-error` instead checks that an error of one of Asio's own categories made
// inside the shared library equals the program's: a check of a host name that cannot be
// resolved (1,100 characters: longer than any DNS name, refused before any query is made;
// .ci/test runs it in a network namespace of its own besides).
#include <portprobe/portprobe.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#if PORTPROBE_USE_BOOST_ASIO
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
namespace asio = boost::asio;
#else
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#endif

namespace pp = portprobe;

namespace {

bool valid(std::uint16_t port) { return port >= 1; }  // uint16_t: at most 65535

asio::awaitable<std::uint16_t> preferred_or_any() {
  // Options in a local: GCC 12 cannot compile a braced list inside co_await.
  pp::get_port_options options;
  options.port = pp::port_numbers(3000, 3100);
  options.host = "127.0.0.1";
  co_return co_await pp::async_get_port(co_await asio::this_coro::executor, options,
                                        asio::use_awaitable);
}

int resolver_error() {
  asio::io_context io;
  pp::check_options options;
  options.host = std::string(1100, 'a');
  pp::error_code error;
  int calls = 0;
  pp::async_check_status(io, 8080, options, [&](pp::error_code ec, pp::port_status) {
    error = ec;
    ++calls;
  });
  io.run();
  std::printf("resolver error: %s (%s)\n", error.message().c_str(), error.category().name());
  const bool netdb = error.category() == asio::error::get_netdb_category() ||
                     error.category() == asio::error::get_addrinfo_category();
  if (calls != 1 || !error || !netdb) {
    std::fprintf(stderr, "expected one call with an error of this program's asio.netdb or "
                         "asio.addrinfo category\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--resolver-error") == 0) return resolver_error();
  asio::io_context io;
  std::uint16_t by_callback = 0;
  std::uint16_t by_coroutine = 0;
  pp::error_code error;

  pp::async_get_port(io, [&](pp::error_code ec, std::uint16_t port) {
    if (ec) error = ec;
    by_callback = port;
  });
  asio::co_spawn(io, preferred_or_any(), [&](std::exception_ptr e, std::uint16_t port) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const pp::system_error& failure) {
      error = failure.code();
    }
    by_coroutine = port;
  });
  io.run();

  std::printf("callback: %u\nuse_awaitable: %u\n", unsigned{by_callback}, unsigned{by_coroutine});
  if (error) std::fprintf(stderr, "error: %s\n", error.message().c_str());
  return !error && valid(by_callback) && valid(by_coroutine) ? 0 : 1;
}
