// test/lock_worker: one process of the cross-process collision harness (the
// lock tests and benchmarks/run start 16 of them at once, in a network
// namespace of their own).
//
//   lock_worker PICKS FROM TO [SEED]
//
// Does what a test of a parallel suite does, PICKS times: takes a port with
// async_get_port (preferring FROM-TO, fallback on; FROM 0: any port, the
// default options, and every port counts as in range), waits 0-20 ms (the test's
// set-up), then binds and listens on it as its server would ([::], dual-stack,
// SO_REUSEADDR), keeps it 0-20 ms and closes it. A bind that fails with
// EADDRINUSE is a collision: another process was handed the same port.
// Prints one JSON line: {"picks":N,"in_range":N,"collisions":N,"errors":N,"scope":"user"}.
// Bounded: PICKS x (at most 40 ms + the pick).
#include <portprobe/portprobe.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include "asio.hpp"

#include <unistd.h>

namespace pp = portprobe;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: lock_worker PICKS FROM TO [SEED]   (FROM 0: any port)\n");
    return 2;
  }
  const int picks = std::atoi(argv[1]);
  const int from = std::atoi(argv[2]);
  const int to = std::atoi(argv[3]);
  const unsigned seed = argc > 4 ? static_cast<unsigned>(std::atoi(argv[4]))
                                 : static_cast<unsigned>(::getpid());
  if (picks < 0 || picks > 100000) return 2;
  std::minstd_rand rng(seed);
  std::uniform_int_distribution<int> delay_ms(0, 20);

  pp::get_port_options options;
  if (from != 0) options.port = pp::port_numbers(from, to);  // FROM 0: no preference
  int in_range = 0;
  int collisions = 0;
  int errors = 0;
  asio::io_context io;
  for (int i = 0; i < picks; ++i) {
    pp::error_code result;
    std::uint16_t port = 0;
    pp::async_get_port(io, options, [&](pp::error_code ec, std::uint16_t p) {
      result = ec;
      port = p;
    });
    io.restart();
    io.run();
    if (result) {
      ++errors;
      continue;
    }
    if (from == 0 || (port >= from && port <= to)) ++in_range;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));  // the test's set-up
    asio::ip::tcp::acceptor server(io);
    pp::error_code ec;
    server.open(asio::ip::tcp::v6(), ec);
    if (!ec) server.set_option(asio::ip::v6_only(false), ec);
    if (!ec) server.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) server.bind({asio::ip::address_v6::any(), port}, ec);
    if (!ec) server.listen(asio::socket_base::max_listen_connections, ec);
    if (ec == asio::error::address_in_use) {
      ++collisions;
    } else if (ec) {
      ++errors;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));  // the test runs
    }
  }
  std::printf("{\"picks\":%d,\"in_range\":%d,\"collisions\":%d,\"errors\":%d,\"scope\":\"%s\"}\n",
              picks, in_range, collisions, errors,
              pp::to_string(pp::current_lock_scope()));
  return 0;
}
