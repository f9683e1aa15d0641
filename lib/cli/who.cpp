// lib/cli/who.cpp: `portprobe who PORT [--json]`.
#include "cli.hpp"

#include <iostream>

namespace portprobe::cli {
namespace {

struct who_command final : command {
  std::string port;
  bool json = false;

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd = app.add_subcommand("who", "Print the processes holding a port");
    cmd->footer(
        "Lists every local socket bound to PORT (TCP and UDP, IPv4 and IPv6) with the process\n"
        "that holds it; '-' where this user may not see the process. Exit 0 when there is\n"
        "one, 1 when there is none. Linux only (reads /proc).\n"
        "--json prints {\"port\":N,\"owners\":[{\"pid\":N,\"command\":\"...\",\"protocol\":\"tcp\",\n"
        "\"address\":\"...\",\"state\":\"LISTEN\"}]}; pid and command are null where unseen.\n"
        "Example: portprobe who 8080");
    add_port_argument(*cmd, port);
    cmd->add_flag("--json", json, "Print the answer as JSON");
    return cmd;
  }

  int run() const override {
    const std::uint16_t p = parse_port(port);
    std::error_code ec;
    const std::vector<port_owner> owners = port_owners(p, ec);
    if (ec) throw std::system_error(ec, "cannot list the sockets of port " + std::to_string(p));
    if (json) {
      std::cout << "{\"port\":" << p << ",\"owners\":[";
      for (std::size_t i = 0; i < owners.size(); ++i) {
        const port_owner& o = owners[i];
        std::cout << (i ? "," : "") << "{\"pid\":" << (o.pid > 0 ? std::to_string(o.pid) : "null")
                  << ",\"command\":" << (o.command.empty() ? "null" : json_string(o.command))
                  << ",\"protocol\":" << json_string(o.protocol)
                  << ",\"address\":" << json_string(o.address.to_string())
                  << ",\"state\":" << json_string(o.state) << "}";
      }
      std::cout << "]}\n";
      return owners.empty() ? exit_not_found : exit_found;
    }
    if (owners.empty()) {
      std::cerr << "portprobe who: no socket is bound to port " << p << '\n';
      return exit_not_found;
    }
    std::vector<std::vector<std::string>> rows = {{"PID", "COMMAND", "PROTO", "ADDRESS", "STATE"}};
    for (const port_owner& o : owners) {
      rows.push_back({o.pid > 0 ? std::to_string(o.pid) : "-", o.command.empty() ? "-" : o.command,
                      o.protocol, o.address.to_string(), o.state});
    }
    print_table(std::cout, rows);
    return exit_found;
  }
};

}  // namespace

std::unique_ptr<command> make_who_command() { return std::make_unique<who_command>(); }

}  // namespace portprobe::cli
