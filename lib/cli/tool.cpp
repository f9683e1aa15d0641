// lib/cli/tool.cpp: the portprobe tool's command line -- every command added
// to one CLI11 app, `wait ... -- COMMAND` split off, the line parsed, the
// chosen command run -- apart from main() (main.cpp), so that the fuzz target
// (test/fuzz/cli.cpp) parses command lines exactly as the tool does.
#include "cli.hpp"

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

namespace portprobe::cli {

tool::tool()
    : app_(std::make_unique<CLI::App>(
          "portprobe: find free TCP ports, check port status, see who holds a port", "portprobe")) {
  CLI::App& app = *app_;
  app.set_version_flag("--version", std::string("portprobe ") + PORTPROBE_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'portprobe COMMAND --help' for a command's options.");
  for (auto make : {make_get_command, make_check_command, make_find_command, make_scan_command,
                    make_wait_command, make_who_command, make_kill_command, make_locks_command}) {
    commands_.push_back(make());
    commands_.back()->add_to(app);
  }
}

tool::~tool() = default;

int tool::parse(std::vector<std::string> args, bool speak) {
  CLI::App& app = *app_;
  // An unknown command or option before any command: name it (CLI11 would only
  // say that a command is required).
  if (!args.empty()) {
    const std::string& first = args.front();
    bool known = first == "-h" || first == "--help" || first == "--version";
    for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->check_name(first);
    if (!known) {
      if (speak) {
        std::cerr << "portprobe: unknown " << (first.starts_with('-') ? "option" : "command") << " '"
                  << first << "'\nRun 'portprobe --help' for usage.\n";
      }
      return exit_usage;
    }
  }

  // `wait ... -- COMMAND [ARGS...]`: the command is split off before parsing,
  // its arguments passed on exactly as given.
  if (!args.empty()) {
    for (const auto& command : commands_) {
      if (!command->takes_command() || !command->named(args.front())) continue;
      const auto dashes = std::find(args.begin(), args.end(), "--");
      if (dashes == args.end()) break;
      std::vector<std::string> after(dashes + 1, args.end());
      args.erase(dashes, args.end());
      if (after.empty()) {
        if (speak) std::cerr << "portprobe " << args.front() << ": no COMMAND after '--'\n";
        return exit_usage;
      }
      command->set_command(std::move(after));
      break;
    }
  }

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
    app.parse(reversed);
  } catch (const CLI::CallForVersion& e) {
    return speak ? app.exit(e) : exit_found;
  } catch (const CLI::CallForHelp& e) {
    return speak ? app.exit(e) : exit_found;
  } catch (const CLI::CallForAllHelp& e) {
    return speak ? app.exit(e) : exit_found;
  } catch (const CLI::ParseError& e) {
    if (speak) {
      const std::string sub = app.get_subcommands().empty()
                                  ? std::string()
                                  : " " + app.get_subcommands().front()->get_name();
      std::cerr << "portprobe" << sub << ": " << e.what() << '\n';
      if (app.get_subcommands().empty()) std::cerr << "Run 'portprobe --help' for usage.\n";
    }
    return exit_usage;
  }
  for (const auto& command : commands_) {
    if (command->chosen()) {
      chosen_ = command.get();
      return -1;
    }
  }
  return exit_usage;
}

int tool::run() {
  if (chosen_ == nullptr) return exit_usage;
  const std::string name = "portprobe " + app_->get_subcommands().front()->get_name();
  try {
    return chosen_->run();
  } catch (const usage_error& e) {
    std::cerr << name << ": " << e.what() << '\n';
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << '\n';
    return exit_not_found;
  }
}

}  // namespace portprobe::cli
