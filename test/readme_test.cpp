#include <portprobe/portprobe.hpp>

// The README's examples, as they are written there (the README's literal 3000
// becomes a port the OS chose: tests use no fixed port).
#include <future>
#include <string>

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include "support.hpp"

namespace pp = portprobe;

namespace {

// README, example 1: a test fixture co_awaits a port and starts a server on it.
asio::awaitable<void> greet(asio::ip::tcp::acceptor acceptor) {
  asio::ip::tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
  co_await asio::async_write(peer, asio::buffer(std::string("hello\n")), asio::use_awaitable);
}

asio::awaitable<void> client_meets_server() {
  auto ex = co_await asio::this_coro::executor;
  pp::get_port_options options;  // built first: GCC 12 rejects co_await f({...})
  options.host = "127.0.0.1";
  const std::uint16_t port = co_await pp::async_get_port(ex, options, asio::use_awaitable);

  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  asio::ip::tcp::acceptor acceptor(ex, endpoint);
  asio::co_spawn(ex, greet(std::move(acceptor)), asio::detached);

  asio::ip::tcp::socket client(ex);
  co_await client.async_connect(endpoint, asio::use_awaitable);
  std::string line(6, '\0');
  co_await asio::async_read(client, asio::buffer(line), asio::use_awaitable);
  CHECK(line == "hello\n");
}

// README, example 2: a server on "3000, or the next free port", zero-race.
asio::awaitable<std::uint16_t> serve_from(std::uint16_t first_choice) {
  auto ex = co_await asio::this_coro::executor;
  pp::get_port_options options;
  options.port = pp::port_numbers(first_choice, first_choice + 100);
  asio::ip::tcp::acceptor acceptor = co_await pp::async_listen(ex, options, asio::use_awaitable);
  const std::uint16_t port = acceptor.local_endpoint().port();
  asio::co_spawn(ex, greet(std::move(acceptor)), asio::detached);
  co_return port;
}

}  // namespace

TEST_CASE("README 1: a test co_awaits a free port, starts a server, a client connects") {
  test::io_fixture fx;
  test::run_coroutine(fx, client_meets_server());
}

TEST_CASE("README 2: an Asio server takes its first choice, or the next free port") {
  test::io_fixture fx;
  const std::uint16_t first_choice = test::free_run(2);
  // Someone already runs on the first choice.
  auto other = test::listen_on(fx.io, "127.0.0.1", first_choice);
  std::uint16_t port = 0;
  test::run_coroutine(fx, [&]() -> asio::awaitable<void> {
    port = co_await serve_from(first_choice);
    // A client gets the greeting.
    asio::ip::tcp::socket client(co_await asio::this_coro::executor);
    co_await client.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                  asio::use_awaitable);
    std::string line(6, '\0');
    co_await asio::async_read(client, asio::buffer(line), asio::use_awaitable);
    CHECK(line == "hello\n");
  }());
  CHECK(port == first_choice + 1);
}

TEST_CASE("README 3: the callback and use_future forms") {
  test::io_fixture fx;
  asio::io_context& io = fx.io;

  // Callback.
  std::uint16_t from_callback = 0;
  pp::async_get_port(io, [&](std::error_code ec, std::uint16_t port) {
    if (!ec) from_callback = port;
  });
  io.run();
  CHECK(from_callback != 0);

  // use_future, with the io_context run by another thread.
  io.restart();
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  pp::get_port_options options;
  options.port = {from_callback, test::os_port()};  // the first is locked: the second comes back
  std::future<std::uint16_t> port = pp::async_get_port(io, options, asio::use_future);
  const std::uint16_t second = port.get();
  work.reset();
  runner.join();
  CHECK(second != from_callback);
  CHECK(second != 0);
}
