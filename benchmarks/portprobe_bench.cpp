// benchmarks/portprobe_bench.cpp: portprobe's side of each work item, as a user
// writes it (one io_context, one thread, default options unless the item says
// otherwise). One run = one repetition; benchmarks/run.py interleaves the runs
// with the peers', nmap's and the floor's.
//
//   portprobe_bench ITEM CALLS   prints {"item": ..., "seconds": S, "calls": N, "answer": A, ...}
//
// It runs inside the network namespace that run.py makes (ports: layout.h).
#include <portprobe/portprobe.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "layout.h"

namespace pp = portprobe;
using clock_type = std::chrono::steady_clock;

namespace {

[[noreturn]] void fail(const char* item, const pp::error_code& ec) {
  std::fprintf(stderr, "portprobe_bench %s: %s\n", item, ec.message().c_str());
  std::exit(1);
}

// This process's peak resident set (VmHWM). Not getrusage's ru_maxrss: Linux
// carries that over execve(), so it would report the parent's (run.py's) peak.
long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

std::uint16_t get_port(asio::io_context& io, const pp::get_port_options& options) {
  pp::error_code ec;
  std::uint16_t port = 0;
  pp::async_get_port(io, options, [&](pp::error_code e, std::uint16_t p) {
    ec = e;
    port = p;
  });
  io.restart();
  io.run();
  if (ec) fail("get_port", ec);
  return port;
}

pp::port_status check(asio::io_context& io, std::uint16_t port) {
  pp::error_code ec;
  pp::port_status status = pp::port_status::filtered;
  pp::async_check_status(io, port, [&](pp::error_code e, pp::port_status s) {
    ec = e;
    status = s;
  });
  io.restart();
  io.run();
  if (ec) fail("check_status", ec);
  return status;
}

std::optional<std::uint16_t> find_in_use(asio::io_context& io, const pp::port_list& ports,
                                         const pp::check_options& options) {
  pp::error_code ec;
  std::optional<std::uint16_t> port;
  pp::async_find_port_in_use(io, ports, options,
                             [&](pp::error_code e, std::optional<std::uint16_t> p) {
                               ec = e;
                               port = p;
                             });
  io.restart();
  io.run();
  if (ec) fail("find_port_in_use", ec);
  return port;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: portprobe_bench ITEM CALLS\n");
    return 2;
  }
  const std::string item = argv[1];
  const long calls = std::atol(argv[2]);
  asio::io_context io;
  long answer = -1;
  std::string extra;
  const auto start = clock_type::now();
  if (item == "random") {  // any free port; the default options (15 s lock)
    for (long i = 0; i < calls; ++i) answer = get_port(io, {});
  } else if (item == "random_unlocked") {  // the same with hold 0: no lock, so no re-pick
    pp::get_port_options options;
    options.hold = std::chrono::milliseconds(0);
    for (long i = 0; i < calls; ++i) answer = get_port(io, options);
  } else if (item == "range") {  // preferred 20000-20999, the first 200 busy
    pp::get_port_options options;
    options.port = pp::port_numbers(RANGE_FIRST, RANGE_LAST);
    for (long i = 0; i < calls; ++i) {
      answer = get_port(io, options);
      pp::release_port(static_cast<std::uint16_t>(answer));  // the next call finds the same
    }
  } else if (item == "closed" || item == "open") {
    const std::uint16_t port = item == "open" ? OPEN_PORT : CLOSED_PORT;
    for (long i = 0; i < calls; ++i) answer = check(io, port) == pp::port_status::open;
  } else if (item == "in_use") {
    const pp::check_options options;
    for (long i = 0; i < calls; ++i) {
      answer = find_in_use(io, pp::port_numbers(IN_USE_FIRST, IN_USE_LAST), options).value_or(0);
    }
  } else if (item == "filtered") {
    pp::check_options options;
    options.timeout = std::chrono::milliseconds(FILTERED_TIMEOUT_MS);
    for (long i = 0; i < calls; ++i) {
      answer = find_in_use(io, pp::port_numbers(FILTERED_FIRST, FILTERED_FIRST + FILTERED_COUNT - 1),
                           options)
                   .value_or(0);
    }
  } else if (item == "scan" || item == "scan_holes") {  // every port, default options
    long filtered = 0;
    for (long i = 0; i < calls; ++i) {
      pp::error_code ec;
      std::vector<pp::port_report> reports;
      pp::async_scan(io, pp::port_numbers(SCAN_FIRST, SCAN_LAST),
                     [&](pp::error_code e, std::vector<pp::port_report> r) {
                       ec = e;
                       reports = std::move(r);
                     });
      io.restart();
      io.run();
      if (ec) fail("scan", ec);
      answer = 0;
      filtered = 0;
      for (const auto& r : reports) {
        answer += r.status == pp::port_status::open;
        filtered += r.status == pp::port_status::filtered;
      }
    }
    extra = ", \"filtered\": " + std::to_string(filtered);
  } else if (item == "concurrent") {  // `calls` check_status at once on one io_context
    // Ports 20000-23099 in turn: open (the busy range, 21000, 22999), closed,
    // and the 100 black holes (filtered after the 400 ms default timeout).
    std::size_t counts[3] = {0, 0, 0};
    std::size_t errors = 0;
    pp::error_code first_error;
    for (long i = 0; i < calls; ++i) {
      const auto port = static_cast<std::uint16_t>(RANGE_FIRST + i % (FILTERED_FIRST + FILTERED_COUNT - RANGE_FIRST));
      pp::async_check_status(io, port, [&](pp::error_code e, pp::port_status s) {
        if (e) {
          ++errors;
          if (!first_error) first_error = e;
          return;
        }
        ++counts[static_cast<int>(s)];
      });
    }
    io.run();
    answer = static_cast<long>(counts[0] + counts[1] + counts[2]);
    extra = ", \"open\": " + std::to_string(counts[0]) + ", \"closed\": " +
            std::to_string(counts[1]) + ", \"filtered\": " + std::to_string(counts[2]) +
            ", \"errors\": " + std::to_string(errors);
    if (first_error) extra += ", \"first_error\": \"" + first_error.message() + "\"";
    // Handlers all ran: the figure is for all of them.
    if (static_cast<long>(answer + static_cast<long>(errors)) != calls) {
      std::fprintf(stderr, "portprobe_bench concurrent: %ld answers for %ld calls\n", answer, calls);
      return 1;
    }
  } else {
    std::fprintf(stderr, "portprobe_bench: unknown item %s\n", item.c_str());
    return 2;
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("{\"item\": \"%s\", \"seconds\": %.9f, \"calls\": %ld, \"answer\": %ld, "
              "\"peak_rss_kib\": %ld%s}\n",
              item.c_str(), seconds, calls, answer, peak_rss_kib(), extra.c_str());
  return 0;
}
