// lib/cli/locks.cpp: `portprobe locks [--json]`.
#include "cli.hpp"

#include <fstream>
#include <iostream>

namespace portprobe::cli {
namespace {

// The command name of a live process ("" when it has exited or is not ours to see).
std::string command_of(int pid) {
  if (pid <= 0) return {};
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

std::string left_text(const port_lease& l) {
  const auto ms = l.remaining.count();
  if (ms >= 10000) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + "s";
}

struct locks_command final : command {
  bool json = false;

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd = app.add_subcommand("locks", "List the ports locked now (this user)");
    cmd->footer(
        "Lists the leases of the lease table shared by every portprobe process of this user\n"
        "in this network namespace: the port, the process that took it (it may have exited:\n"
        "a 'get' lease outlives its process), the time left, and whether it is reserved\n"
        "(renewed while its process lives). The table is the file portprobe-v1-u<uid>-n<netns>\n"
        "in $PORTPROBE_LOCK_DIR, else /dev/shm. When it cannot be used (or PORTPROBE_LOCKS=\n"
        "process), locks are in-process only: this says why. Exit 0.\n"
        "--json prints {\"lock_scope\":\"user\",\"table\":PATH,\"reason\":\"\",\"leases\":\n"
        "[{\"port\":N,\"pid\":N,\"command\":\"...\",\"remaining_ms\":N,\"reserved\":false}]}.");
    cmd->add_flag("--json", json, "Print the leases as JSON");
    return cmd;
  }

  int run() const override {
    std::error_code ec;
    const std::vector<port_lease> leases = active_leases(ec);
    if (ec) throw std::system_error(ec, "cannot read the lease table");
    const bool shared = current_lock_scope() == lock_scope::user;
    if (json) {
      std::cout << R"({"lock_scope":")" << to_string(current_lock_scope()) << R"(","table":)"
                << json_string(lock_table_path()) << R"(,"reason":)"
                << json_string(lock_scope_reason()) << R"(,"leases":[)";
      const char* separator = "\n  ";
      for (const port_lease& l : leases) {
        std::cout << separator << R"({"port":)" << l.port << R"(,"pid":)" << l.pid
                  << R"(,"command":)" << json_string(command_of(l.pid)) << R"(,"remaining_ms":)"
                  << l.remaining.count() << R"(,"reserved":)" << (l.reserved ? "true" : "false")
                  << '}';
        separator = ",\n  ";
      }
      std::cout << (leases.empty() ? "]}\n" : "\n]}\n");
      return exit_found;
    }
    if (!shared) {
      std::cerr << "portprobe locks: locks are in-process only (" << lock_scope_reason()
                << "): no other process's lock can be listed\n";
      return exit_found;
    }
    if (leases.empty()) {
      std::cout << "No port is locked (" << lock_table_path() << ")\n";
      return exit_found;
    }
    std::vector<std::vector<std::string>> rows = {{"PORT", "PID", "COMMAND", "LEFT", "RESERVED"}};
    for (const port_lease& l : leases) {
      const std::string name = command_of(l.pid);
      rows.push_back({std::to_string(l.port), std::to_string(l.pid),
                      name.empty() ? "(exited)" : name, left_text(l), l.reserved ? "yes" : "no"});
    }
    print_table(std::cout, rows);
    return exit_found;
  }
};

}  // namespace

std::unique_ptr<command> make_locks_command() { return std::make_unique<locks_command>(); }

}  // namespace portprobe::cli
