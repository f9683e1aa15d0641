// portprobe: the command-line tool.
//
// Exit status: 0 when the answer is found, 1 when it is not, 2 for bad usage
// (with a message on stderr naming the bad value).
#include <portprobe/portprobe.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

namespace pp = portprobe;

namespace {

constexpr int exit_found = 0;
constexpr int exit_not_found = 1;
constexpr int exit_usage = 2;

// Bad usage found after parsing: the message names the bad value.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

pp::port_list parse_lists(const std::vector<std::string>& items) {
  std::vector<std::uint16_t> ports;
  for (const auto& item : items) {
    try {
      for (std::uint16_t p : pp::parse_port_list(item)) ports.push_back(p);
    } catch (const std::invalid_argument& e) {
      throw usage_error(e.what());
    }
  }
  return pp::port_list(ports);
}

struct get_command {
  std::vector<std::string> ports;
  std::vector<std::string> exclude;
  std::string host;
  bool no_fallback = false;

  void add_to(CLI::App& app) {
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
    cmd->callback([this] { chosen = true; });
  }

  int run() const {
    pp::get_port_options options;
    options.port = parse_lists(ports);
    options.exclude = parse_lists(exclude);
    options.host = host;
    options.fallback = !no_fallback;
    if (no_fallback && options.port.empty()) {
      throw usage_error("--no-fallback needs preferred PORTS");
    }
    asio::io_context io;
    std::error_code result;
    std::uint16_t port = 0;
    pp::async_get_port(io, options, [&](std::error_code ec, std::uint16_t p) {
      result = ec;
      port = p;
    });
    io.run();
    if (result == pp::error::no_available_port) {
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

  bool chosen = false;

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

int main(int argc, char** argv) {
  CLI::App app("portprobe: find free TCP ports and check port status", "portprobe");
  app.require_subcommand(1);
  app.footer("Run 'portprobe COMMAND --help' for a command's options.");
  get_command get;
  get.add_to(app);

  // An unknown command or option before any command: name it (CLI11 would only
  // say that a command is required).
  if (argc > 1) {
    const std::string first = argv[1];
    bool known = first == "-h" || first == "--help";
    for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->check_name(first);
    if (!known) {
      std::cerr << "portprobe: unknown " << (first.starts_with('-') ? "option" : "command")
                << " '" << first << "'\nRun 'portprobe --help' for usage.\n";
      return exit_usage;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string sub = app.get_subcommands().empty()
                                ? std::string()
                                : " " + app.get_subcommands().front()->get_name();
    std::cerr << "portprobe" << sub << ": " << e.what() << '\n';
    if (app.get_subcommands().empty()) std::cerr << "Run 'portprobe --help' for usage.\n";
    return exit_usage;
  }

  try {
    if (get.chosen) return get.run();
  } catch (const usage_error& e) {
    std::cerr << "portprobe: " << e.what() << '\n';
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "portprobe: " << e.what() << '\n';
    return exit_not_found;
  }
  return exit_usage;
}
