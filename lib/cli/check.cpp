// lib/cli/check.cpp: `portprobe check PORT [--host H] [--timeout T] [--json]`.
#include "cli.hpp"

#include <iostream>

#include <asio/use_awaitable.hpp>

namespace portprobe::cli {
namespace {

struct check_command final : command {
  std::string port;
  probe_target target;
  bool json = false;

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd = app.add_subcommand("check", "Print a port's status: open, closed or filtered");
    cmd->footer(
        "Probes PORT on --host with a TCP connect: open = something accepted it, closed = it\n"
        "was refused (nothing listens), filtered = no answer within --timeout, or the host is\n"
        "unreachable. Exit 0 when open, 1 when closed or filtered.\n"
        "--json prints {\"port\":N,\"host\":\"H\",\"status\":\"open|closed|filtered\"}.\n"
        "Example: portprobe check 5432 --host db.example.com");
    add_port_argument(*cmd, port);
    target.add_to(*cmd, "400ms", "Probe timeout");
    cmd->add_flag("--json", json, "Print the answer as JSON");
    return cmd;
  }

  int run() const override {
    const std::uint16_t p = parse_port(port);
    const check_options options = target.probe_options();
    const port_status status = run_operation(target, [&](const asio::any_io_executor& ex) {
      return async_check_status(ex, p, options, asio::use_awaitable);
    });
    if (json) {
      std::cout << "{\"port\":" << p << ",\"host\":" << json_string(target.host)
                << ",\"status\":" << json_string(to_string(status)) << "}\n";
    } else {
      std::cout << to_string(status) << '\n';
    }
    return status == port_status::open ? exit_found : exit_not_found;
  }
};

}  // namespace

std::unique_ptr<command> make_check_command() { return std::make_unique<check_command>(); }

}  // namespace portprobe::cli
