// lib/cli/get.cpp: `portprobe get [PORTS...] [--exclude PORTS] [--host H] [--no-fallback]
// [--count N] [--avoid-ephemeral] [--time-wait] [--json]`.
#include "cli.hpp"

#include <iostream>

#include <asio/ip/address.hpp>

namespace portprobe::cli {
namespace {

struct get_command final : command {
  std::vector<std::string> ports;
  std::vector<std::string> exclude;
  std::string host;
  bool no_fallback = false;
  std::string count = "1";
  bool avoid_ephemeral = false;
  bool time_wait = false;
  bool json = false;

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd = app.add_subcommand("get", "Print a free TCP port");
    cmd->footer(
        "Prints the first free one of PORTS, in order, else (without --no-fallback) any free\n"
        "port the OS chooses. Free means a listening socket can be bound to it on every local\n"
        "address (or on --host). The port stays locked for 15 s against every portprobe\n"
        "process of this user in this network namespace (see 'portprobe locks'), even after\n"
        "this command has exited: PORT=$(portprobe get 3000-3100) in parallel jobs gives each\n"
        "its own port. --count N prints N distinct ports, one a line, all or nothing.\n"
        "Exit 0 with a port, 1 when none can be had.\n"
        "--json prints {\"port\":N,\"ports\":[N,...],\"lock_scope\":\"user\"}.\n"
        "Example: portprobe get 3000 3001 --host 127.0.0.1");
    cmd->add_option("PORTS", ports, "Preferred ports: 3000, 3000-3100 or 3000,3005,4000-4010")
        ->type_name("PORTS");
    cmd->add_option("--exclude", exclude, "Ports never to print (same syntax; repeatable)")
        ->allow_extra_args(false)
        ->type_name("PORTS");
    cmd->add_option("--host", host, "Only this IPv4/IPv6 address (default: every local address)")
        ->type_name("H");
    cmd->add_flag("--no-fallback", no_fallback, "Only the preferred ports");
    cmd->add_option("--count", count, "Print N distinct free ports, one a line (all or nothing)")
        ->type_name("N");
    cmd->add_flag("--avoid-ephemeral", avoid_ephemeral,
                  "Never a port of the OS's ephemeral range (ip_local_port_range)");
    cmd->add_flag("--time-wait", time_wait,
                  "Also park the port in TIME_WAIT for 60 s (for a program without portprobe)");
    cmd->add_flag("--json", json, "Print the answer as JSON");
    return cmd;
  }

  int run() const override {
    get_port_options options;
    options.port = parse_ports(ports);
    options.exclude = parse_ports(exclude);
    options.host = host;
    options.fallback = !no_fallback;
    if (no_fallback && options.port.empty()) {
      throw usage_error("--no-fallback needs preferred PORTS");
    }
    options.avoid_ephemeral = avoid_ephemeral;
    options.time_wait = time_wait;
    const auto n = static_cast<std::size_t>(parse_number("--count", count, 1, 65535));
    asio::io_context io;
    std::error_code result;
    std::vector<std::uint16_t> ports;
    async_get_ports(io, n, options, [&](std::error_code ec, std::vector<std::uint16_t> p) {
      result = ec;
      ports = std::move(p);
    });
    io.run();
    if (result == error::no_available_port) {
      const std::string what = n == 1 ? "no free port" : "fewer than " + std::to_string(n) + " free ports";
      std::cerr << "portprobe get: " << what
                << (options.fallback ? " left\n" : " among the preferred ports\n");
      return exit_not_found;
    }
    if (!host.empty()) check_host(result);
    if (result) {
      std::cerr << "portprobe get: " << result.message() << '\n';
      return exit_not_found;
    }
    if (json) {
      std::cout << R"({"port":)" << ports.front() << R"(,"ports":[)";
      for (std::size_t i = 0; i < ports.size(); ++i) std::cout << (i ? "," : "") << ports[i];
      std::cout << R"(],"lock_scope":")"
                << to_string(current_lock_scope()) << "\"}\n";
      return exit_found;
    }
    for (const std::uint16_t port : ports) std::cout << port << '\n';
    return exit_found;
  }

 private:
  // An error that comes from the value of --host is bad usage, named.
  void check_host(const std::error_code& ec) const {
    std::error_code parse_error;
    (void)asio::ip::make_address(host, parse_error);
    if (parse_error) throw usage_error("invalid --host '" + host + "': not an IP address");
    if (ec == std::errc::address_not_available) {
      throw usage_error("invalid --host '" + host + "': not an address of this machine");
    }
    if (ec == std::errc::invalid_argument || ec == std::errc::address_family_not_supported) {
      throw usage_error("invalid --host '" + host + "': cannot be bound here (" + ec.message() +
                        "; a link-local IPv6 address needs its interface: fe80::1%eth0)");
    }
  }
};

}  // namespace

std::unique_ptr<command> make_get_command() { return std::make_unique<get_command>(); }

}  // namespace portprobe::cli
