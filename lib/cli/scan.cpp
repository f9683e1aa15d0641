// lib/cli/scan.cpp: `portprobe scan PORTS [--host H] [--timeout T] [--json] [--verbose]
// [--concurrency N]`.
#include "cli.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
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
/// the counts async_scan() reports (check_options::on_progress): ports done,
/// open so far, and an ETA; the destructor stops the timer and wipes the bar.
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

  bool active() const { return state_ != nullptr; }

  /// The progress hook for async_scan(): counts, and leaves the drawing to the timer.
  std::function<void(const scan_progress&)> hook() const {
    if (!state_) return nullptr;
    return [s = state_](const scan_progress& p) {
      s->done = p.decided;
      if (p.latest.status == port_status::open) ++s->open;
    };
  }

 private:
  struct state {
    state(const asio::any_io_executor& ex, std::size_t n) : timer(ex), total(n) {}
    asio::steady_timer timer;
    std::size_t total;
    std::size_t done = 0;
    std::size_t open = 0;
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
    const auto elapsed = steady_clock::now() - s.start;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
    std::cerr << "\rscanning [" << std::string(filled, '#') << std::string(width - filled, '-')
              << "] " << s.done << '/' << s.total << " ports, " << s.open << " open, " << seconds
              << " s";
    if (s.done > 0 && s.done < s.total) {  // at the rate so far
      const auto left = std::chrono::duration_cast<std::chrono::seconds>(
          elapsed * static_cast<double>(s.total - s.done) / static_cast<double>(s.done));
      std::cerr << ", about " << left.count() << " s left";
    }
    std::cerr << "\033[K" << std::flush;
  }

  std::shared_ptr<state> state_;
};

/// async_scan over all of `ports` at once, one sliding window over the whole
/// list; on a terminal the bar reads its progress as it goes.
asio::awaitable<std::vector<port_report>> scan_all(port_list ports, check_options options) {
  const auto ex = co_await asio::this_coro::executor;
  progress_bar bar(ex, ports.size());
  options.on_progress = bar.hook();
  co_return co_await async_scan(ex, ports, options, asio::use_awaitable);
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
        target, [&](const asio::any_io_executor&) { return scan_all(list, options); });
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
