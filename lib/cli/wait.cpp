// lib/cli/wait.cpp: `portprobe wait PORT [--host H] [--timeout MS] [--free] [--interval MS]`.
#include "cli.hpp"

#include <iostream>

#include <asio/error.hpp>
#include <asio/use_awaitable.hpp>

namespace portprobe::cli {
namespace {

struct wait_command final : command {
  std::string port;
  probe_target target;
  bool free = false;
  std::string interval;

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd =
        app.add_subcommand("wait", "Wait until a port is open (or, with --free, closed)");
    cmd->footer(
        "Probes PORT on --host every --interval until it is open (a server came up) or, with\n"
        "--free, closed (it went away; a filtered port is not closed). Exit 0 once it is, 1\n"
        "when --timeout passes first.\n"
        "Example: portprobe wait 8080 --timeout 30000 && curl localhost:8080");
    add_port_argument(*cmd, port);
    const wait_options defaults;
    target.add_to(*cmd, std::to_string(defaults.timeout.count()),
                  "Give up after this many milliseconds");
    cmd->add_flag("--free", free, "Wait until the port is closed (nothing listens)");
    interval = std::to_string(defaults.interval.count());
    cmd->add_option("--interval", interval, "Milliseconds between probes")
        ->type_name("MS")
        ->capture_default_str();
    return cmd;
  }

  int run() const override {
    const std::uint16_t p = parse_port(port);
    wait_options options;
    options.host = target.host;
    options.timeout = target.timeout_value();
    options.interval = parse_millis("--interval", interval, 0);
    const port_status wanted = free ? port_status::closed : port_status::open;
    try {
      run_operation(target, [&](const asio::any_io_executor& ex) {
        return async_wait_for_status(ex, p, wanted, options, asio::use_awaitable);
      });
    } catch (const std::system_error& e) {
      if (e.code() != asio::error::timed_out) throw;
      std::cerr << "portprobe wait: port " << p << " on " << target.host << " was not "
                << to_string(wanted) << " within " << options.timeout.count() << " ms\n";
      return exit_not_found;
    }
    return exit_found;
  }
};

}  // namespace

std::unique_ptr<command> make_wait_command() { return std::make_unique<wait_command>(); }

}  // namespace portprobe::cli
