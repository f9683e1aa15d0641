// lib/cli/scan.cpp: `portprobe scan PORTS [--host H] [--timeout T] [--json] [--verbose]
// [--concurrency N]`.
#include "cli.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iostream>

#include <unistd.h>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace portprobe::cli {
namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

/// A progress bar on stderr, shown only when stderr is a terminal and the
/// scan has run for a second. A timer on the scan's io_context draws it from
/// the count of ports done; the destructor stops the timer and wipes the bar.
class progress_bar {
 public:
  progress_bar(const asio::any_io_executor& ex, std::size_t total) {
    if (::isatty(STDERR_FILENO) != 1) return;
    state_ = std::make_shared<state>(ex, total);
    tick(state_, 1s);
  }
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;
  ~progress_bar() {
    if (!state_) return;
    state_->stopped = true;
    state_->timer.cancel();
    if (state_->shown) std::cerr << "\r\033[K" << std::flush;
  }

  /// `done` ports of the total have their status.
  void update(std::size_t done) {
    if (!state_) return;
    state_->done = done;
    if (state_->shown) draw(*state_);
  }

 private:
  struct state {
    state(const asio::any_io_executor& ex, std::size_t n) : timer(ex), total(n) {}
    asio::steady_timer timer;
    std::size_t total;
    std::size_t done = 0;
    bool shown = false;
    bool stopped = false;
    steady_clock::time_point start = steady_clock::now();
  };

  // The handler shares the state: it may run (cancelled) after the bar is gone.
  static void tick(const std::shared_ptr<state>& s, steady_clock::duration after) {
    s->timer.expires_after(after);
    s->timer.async_wait([s](const std::error_code& ec) {
      if (ec || s->stopped) return;
      s->shown = true;
      draw(*s);
      tick(s, 250ms);
    });
  }

  static void draw(const state& s) {
    constexpr std::size_t width = 30;
    const std::size_t filled = s.total ? s.done * width / s.total : width;
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - s.start).count();
    std::cerr << "\rscanning [" << std::string(filled, '#') << std::string(width - filled, '-')
              << "] " << s.done << '/' << s.total << " ports, " << seconds << " s\033[K"
              << std::flush;
  }

  std::shared_ptr<state> state_;
};

/// async_scan over `ports` in chunks, one after another, so that the progress
/// bar advances between them; the reports keep the list's order.
asio::awaitable<std::vector<port_report>> scan_in_chunks(port_list ports, check_options options) {
  const auto ex = co_await asio::this_coro::executor;
  const std::size_t chunk_size = std::max<std::size_t>(1024, 4 * options.concurrency);
  progress_bar bar(ex, ports.size());
  std::vector<port_report> reports;
  reports.reserve(ports.size());
  std::vector<std::uint16_t> chunk;
  for (auto it = ports.begin(); it != ports.end();) {
    chunk.clear();
    for (; it != ports.end() && chunk.size() < chunk_size; ++it) chunk.push_back(*it);
    const auto part = co_await async_scan(ex, port_list(chunk), options, asio::use_awaitable);
    reports.insert(reports.end(), part.begin(), part.end());
    bar.update(reports.size());
  }
  co_return reports;
}

void print_json(std::ostream& out, const std::vector<port_report>& reports) {
  out << '[';
  const char* separator = "\n  ";
  for (const port_report& r : reports) {
    out << separator << R"({"port":)" << r.port << R"(,"status":")" << to_string(r.status) << "\"}";
    separator = ",\n  ";
  }
  out << "\n]\n";
}

/// The ports that are not closed (every port when `all`), as a table; the
/// closed ones left out are counted, as nmap does.
void print_report(std::ostream& out, const std::vector<port_report>& reports, bool all) {
  std::vector<std::vector<std::string>> rows = {{"PORT", "STATE"}};
  for (const port_report& r : reports) {
    if (all || r.status != port_status::closed) {
      rows.push_back({std::to_string(r.port), std::string(to_string(r.status))});
    }
  }
  const std::size_t hidden = reports.size() - (rows.size() - 1);
  if (rows.size() == 1) {
    out << (hidden == 1 ? "The port is closed"
                        : "All " + std::to_string(hidden) + " ports are closed")
        << '\n';
    return;
  }
  if (hidden != 0) {
    out << "Not shown: " << hidden << (hidden == 1 ? " closed port" : " closed ports") << '\n';
  }
  print_table(out, rows);
}

struct scan_command final : command {
  std::vector<std::string> ports;
  probe_target target;
  bool json = false;
  bool verbose = false;
  std::string concurrency;

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd = app.add_subcommand("scan", "Print the status of every port of PORTS");
    cmd->footer(
        "Probes every port of PORTS on --host and prints a table of those that are not\n"
        "closed (open: something listens; filtered: no answer), or of all of them with\n"
        "--verbose. --json prints every port as [{\"port\":N,\"status\":\"open\"}, ...].\n"
        "Exit 0 once the scan is complete, whatever the statuses.\n"
        "Example: portprobe scan 8000-8100 --host 192.168.1.10");
    add_ports_argument(*cmd, ports);
    target.add_to(*cmd, "400ms", "Timeout of each probe");
    cmd->add_flag("--json", json, "Print every port as JSON");
    cmd->add_flag("--verbose", verbose, "List the closed ports too");
    cmd->add_option("--concurrency", concurrency, "Probes in flight at once (default: 256)")
        ->type_name("N");
    return cmd;
  }

  int run() const override {
    const port_list list = parse_ports(ports);
    check_options options = target.probe_options();
    if (!concurrency.empty()) {
      options.concurrency =
          static_cast<std::size_t>(parse_number("--concurrency", concurrency, 1, 65535));
    }
    const std::vector<port_report> reports = run_operation(
        target, [&](const asio::any_io_executor&) { return scan_in_chunks(list, options); });
    if (json) {
      print_json(std::cout, reports);
    } else {
      print_report(std::cout, reports, verbose);
    }
    return exit_found;
  }
};

}  // namespace

std::unique_ptr<command> make_scan_command() { return std::make_unique<scan_command>(); }

}  // namespace portprobe::cli
