// lib/cli/get.cpp: `portprobe get [PORTS...] [--exclude PORTS] [--host H] [--no-fallback]`.
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

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd = app.add_subcommand("get", "Print a free TCP port");
    cmd->footer(
        "Prints the first free one of PORTS, in order, else (without --no-fallback) any free\n"
        "port the OS chooses. Free means a listening socket can be bound to it on every local\n"
        "address (or on --host). Exit 0 with a port, 1 when --no-fallback finds none.\n"
        "Example: portprobe get 3000 3001 --host 127.0.0.1");
    cmd->add_option("PORTS", ports, "Preferred ports: 3000, 3000-3100 or 3000,3005,4000-4010")
        ->type_name("PORTS");
    cmd->add_option("--exclude", exclude, "Ports never to print (same syntax; repeatable)")
        ->allow_extra_args(false)
        ->type_name("PORTS");
    cmd->add_option("--host", host, "Only this IPv4/IPv6 address (default: every local address)")
        ->type_name("H");
    cmd->add_flag("--no-fallback", no_fallback, "Only the preferred ports");
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
    asio::io_context io;
    std::error_code result;
    std::uint16_t port = 0;
    async_get_port(io, options, [&](std::error_code ec, std::uint16_t p) {
      result = ec;
      port = p;
    });
    io.run();
    if (result == error::no_available_port) {
      std::cerr << (options.fallback ? "portprobe get: no free port left\n"
                                     : "portprobe get: no free port among the preferred ports\n");
      return exit_not_found;
    }
    if (!host.empty()) check_host(result);
    if (result) {
      std::cerr << "portprobe get: " << result.message() << '\n';
      return exit_not_found;
    }
    std::cout << port << '\n';
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
