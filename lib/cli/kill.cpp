// lib/cli/kill.cpp: `portprobe kill PORT... [--signal SIG] [--timeout T] [--json]`: what kill-port and
// `lsof -ti:PORT | xargs kill` do, the everyday fix for EADDRINUSE.
//
// The holders are the processes with a TCP socket listening on the port
// (port_owners()); a process that only has a connection from that port (a
// client elsewhere whose local port it happens to be) is not one. Each is
// signalled once -- never pid 0, never this process -- and then the command
// waits until the port is free: nothing listens on it and a connection to it
// on 127.0.0.1 is refused.
#include "cli.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <set>
#include <thread>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <asio/use_awaitable.hpp>

namespace portprobe::cli {

int parse_signal(const std::string& text) {
  const auto bad = [&] {
    return usage_error("invalid --signal '" + text +
                       "': expected a signal name (TERM, SIGKILL, HUP...) or number (1-" +
                       std::to_string(NSIG - 1) + ")");
  };
  if (text.empty()) throw bad();
  if (text.find_first_not_of("0123456789") == std::string::npos) {
    if (text.size() > 3) throw bad();
    const int n = std::stoi(text);
    if (n < 1 || n >= NSIG) throw bad();
    return n;
  }
  std::string name = text;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (name.starts_with("SIG")) name = name.substr(3);
  for (int n = 1; n < NSIG; ++n) {
    const char* abbrev = ::sigabbrev_np(n);
    if (abbrev != nullptr && name == abbrev) return n;
  }
  throw bad();
}

namespace {

using namespace std::chrono_literals;

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

/// The TCP listeners on `port`.
std::vector<port_owner> listeners(std::uint16_t port) {
  std::error_code ec;
  std::vector<port_owner> owners = port_owners(port, ec);
  if (ec) throw std::system_error(ec, "cannot list the sockets of port " + std::to_string(port));
  std::erase_if(owners, [](const port_owner& o) {
    return !o.protocol.starts_with("tcp") || o.state != "LISTEN";
  });
  return owners;
}

struct kill_command final : command {
  std::vector<std::string> ports;
  std::string signal = "TERM";
  std::string timeout = "5s";
  bool json = false;

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd =
        app.add_subcommand("kill", "Signal the processes listening on ports; wait until free");
    cmd->footer(
        "Sends --signal to every process with a TCP socket listening on each PORT (never to\n"
        "portprobe itself), prints each one signalled, then waits up to --timeout until the\n"
        "ports are free: nothing listens and a connection to 127.0.0.1 is refused. Exit 0 once\n"
        "they are, 1 when one is still held (try --signal KILL) or a holder could not be\n"
        "signalled (another user's: run as that user or root).\n"
        "--json prints {\"signal\":\"SIGTERM\",\"signalled\":[{\"pid\":N,\"command\":\"...\",\n"
        "\"port\":N}],\"free\":[N,...],\"held\":[N,...]} (messages stay on stderr).\n"
        "Example: portprobe who 3000 && portprobe kill 3000");
    cmd->add_option("PORT", ports, "The ports, 1-65535 each")->required()->type_name("");
    cmd->add_option("--signal,-s", signal, "TERM, INT, HUP, KILL... (with or without SIG), or a number")
        ->type_name("SIG")
        ->capture_default_str();
    cmd->add_option("--timeout", timeout, "How long to wait for the ports to be free")
        ->type_name("T")
        ->capture_default_str();
    cmd->add_flag("--json", json, "Print what was signalled and which ports are free, as JSON");
    return cmd;
  }

  int run() const override {
    std::vector<std::uint16_t> list;
    for (const std::string& p : ports) {
      const std::uint16_t port = parse_port(p);
      if (std::find(list.begin(), list.end(), port) == list.end()) list.push_back(port);
    }
    const int sig = parse_signal(signal);
    const std::chrono::milliseconds limit = parse_millis("--timeout", timeout, 1);

    bool trouble = false;
    std::set<int> signalled;       // each process is signalled once...
    std::set<int> failed;          // ...or failed once
    std::set<std::uint16_t> stuck;  // a holder could not be seen or signalled: not waited for
    std::string signalled_json;    // the "signalled" entries: one per process and port
    const int self = static_cast<int>(::getpid());
    // Every port's holders first, then the signals: a process signalled for
    // one port may be gone (or half gone) by the time the next is looked up.
    std::vector<std::vector<port_owner>> holders_of;
    for (const std::uint16_t port : list) holders_of.push_back(listeners(port));
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::uint16_t port = list[i];
      const std::vector<port_owner>& holders = holders_of[i];
      if (holders.empty()) {
        std::cerr << "portprobe kill: nothing listens on port " << port << '\n';
        continue;
      }
      for (const port_owner& o : holders) {
        if (o.pid <= 0) {
          std::cerr << "portprobe kill: port " << port
                    << " is held by a process this user cannot see (another user's?)\n";
          trouble = true;
          stuck.insert(port);
          continue;
        }
        if (o.pid == self) continue;
        if (failed.count(o.pid) != 0) {
          stuck.insert(port);
          continue;
        }
        const bool again = signalled.count(o.pid) != 0;  // it holds an earlier port too
        if (!again && ::kill(o.pid, sig) != 0) {
          const int error = errno;
          if (error == ESRCH) continue;  // it ended meanwhile
          std::cerr << "portprobe kill: cannot signal " << o.pid << " (" << o.command
                    << "), holding port " << port << ": " << std::strerror(error) << '\n';
          trouble = true;
          failed.insert(o.pid);
          stuck.insert(port);
          continue;
        }
        signalled.insert(o.pid);
        if (json) {
          signalled_json += std::string(signalled_json.empty() ? "" : ",") + "{\"pid\":" +
                            std::to_string(o.pid) + ",\"command\":" + json_string(o.command) +
                            ",\"port\":" + std::to_string(port) + "}";
        } else if (again) {
          std::cout << o.pid << " (" << o.command << "), signalled above, holds port " << port
                    << " too\n";
        } else {
          std::cout << "sent " << signal_name(sig) << " to " << o.pid << " (" << o.command
                    << "), holding port " << port << '\n';
        }
      }
    }
    std::cout.flush();

    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string free_json, held_json;
    for (const std::uint16_t port : list) {
      // A port whose holder we could not signal is not waited for (it is said above).
      const bool unsignalled = stuck.count(port) != 0;
      const bool is_free = !unsignalled && wait_free(port, deadline);
      std::string& into = is_free ? free_json : held_json;
      into += (into.empty() ? "" : ",") + std::to_string(port);
      if (!is_free && !unsignalled) {
        std::cerr << "portprobe kill: port " << port << " is still held after " << limit.count()
                  << " ms";
        if (sig != SIGKILL) std::cerr << " (try --signal KILL)";
        std::cerr << '\n';
        trouble = true;
      }
    }
    if (json) {
      std::cout << "{\"signal\":" << json_string(signal_name(sig)) << ",\"signalled\":["
                << signalled_json << "],\"free\":[" << free_json << "],\"held\":[" << held_json
                << "]}\n";
    }
    return trouble ? exit_not_found : exit_found;
  }

  /// Whether `port` is free (no listener, a connection refused) by `deadline`;
  /// looked at every 20 ms.
  static bool wait_free(std::uint16_t port, std::chrono::steady_clock::time_point deadline) {
    probe_target target;
    check_options options;
    options.timeout = 200ms;
    for (;;) {
      if (listeners(port).empty()) {
        const port_status status = run_operation(target, [&](const asio::any_io_executor& ex) {
          return async_check_status(ex, port, options, asio::use_awaitable);
        });
        if (status == port_status::closed) return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
  }
};

}  // namespace

std::unique_ptr<command> make_kill_command() { return std::make_unique<kill_command>(); }

}  // namespace portprobe::cli
