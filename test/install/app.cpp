// A user's program, built against an installed portprobe (pkg-config) and as a Meson
// subproject by .ci/test. Gets a free port with a callback and with asio::use_awaitable;
// prints both and exits 0 when both are real ports (1-65535).
#include <portprobe/portprobe.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <system_error>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

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

}  // namespace

int main() {
  asio::io_context io;
  std::uint16_t by_callback = 0;
  std::uint16_t by_coroutine = 0;
  std::error_code error;

  pp::async_get_port(io, [&](std::error_code ec, std::uint16_t port) {
    if (ec) error = ec;
    by_callback = port;
  });
  asio::co_spawn(io, preferred_or_any(), [&](std::exception_ptr e, std::uint16_t port) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const std::system_error& failure) {
      error = failure.code();
    }
    by_coroutine = port;
  });
  io.run();

  std::printf("callback: %u\nuse_awaitable: %u\n", unsigned{by_callback}, unsigned{by_coroutine});
  if (error) std::fprintf(stderr, "error: %s\n", error.message().c_str());
  return !error && valid(by_callback) && valid(by_coroutine) ? 0 : 1;
}
