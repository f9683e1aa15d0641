// lib/cli/find.cpp: `portprobe find (--in-use|--free) PORTS [--host H] [--timeout T] [--json]`.
#include "cli.hpp"

#include <iostream>

#include <asio/use_awaitable.hpp>

namespace portprobe::cli {
namespace {

struct find_command final : command {
  std::vector<std::string> ports;
  bool in_use = false;
  bool free = false;
  probe_target target;
  bool json = false;

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd =
        app.add_subcommand("find", "Print the first port of PORTS that is in use (or free)");
    cmd->footer(
        "Probes PORTS on --host, several at a time, and prints the first port in list order\n"
        "that is open (--in-use) or closed (--free: nothing listens; a filtered port is not\n"
        "known to be free). Exit 0 with a port, 1 when there is none.\n"
        "--json prints {\"port\":N} (null when there is none).\n"
        "Example: portprobe find --free 3000-3100");
    add_ports_argument(*cmd, ports);
    cmd->add_flag("--in-use", in_use, "Find a port that is open (something listens)");
    cmd->add_flag("--free", free, "Find a port that is closed (nothing listens)");
    target.add_to(*cmd, "400ms", "Timeout of each probe");
    cmd->add_flag("--json", json, "Print the answer as JSON");
    return cmd;
  }

  int run() const override {
    if (in_use == free) {
      throw usage_error(std::string(in_use ? "--in-use and --free exclude each other"
                                           : "--in-use or --free is required") +
                        ": give exactly one of them");
    }
    const port_list list = parse_ports(ports);
    const check_options options = target.probe_options();
    const std::optional<std::uint16_t> found =
        run_operation(target, [&](const asio::any_io_executor& ex) {
          return in_use ? async_find_port_in_use(ex, list, options, asio::use_awaitable)
                        : async_find_port_not_in_use(ex, list, options, asio::use_awaitable);
        });
    if (json) std::cout << "{\"port\":" << (found ? std::to_string(*found) : "null") << "}\n";
    if (!found) {
      std::cerr << "portprobe find: no " << (in_use ? "port in use" : "free port") << " among "
                << list.size() << (list.size() == 1 ? " port" : " ports") << " on " << target.host
                << '\n';
      return exit_not_found;
    }
    if (!json) std::cout << *found << '\n';
    return exit_found;
  }
};

}  // namespace

std::unique_ptr<command> make_find_command() { return std::make_unique<find_command>(); }

}  // namespace portprobe::cli
