// portprobe: the command-line tool.
//
// Exit status: 0 when the answer is found (the port is open, the wait
// succeeded), 1 when it is not, 2 for bad usage (with a message on stderr
// naming the bad value). Each command lives in a file of its own; what they
// share is in cli.hpp.
#include "cli.hpp"

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

namespace cli = portprobe::cli;

int main(int argc, char** argv) {
  CLI::App app("portprobe: find free TCP ports, check port status, see who holds a port",
               "portprobe");
  app.set_version_flag("--version", std::string("portprobe ") + PORTPROBE_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'portprobe COMMAND --help' for a command's options.");
  std::vector<std::unique_ptr<cli::command>> commands;
  for (auto make : {cli::make_get_command, cli::make_check_command, cli::make_find_command,
                    cli::make_scan_command, cli::make_wait_command, cli::make_who_command, cli::make_kill_command,
                    cli::make_locks_command}) {
    commands.push_back(make());
    commands.back()->add_to(app);
  }

  // An unknown command or option before any command: name it (CLI11 would only
  // say that a command is required).
  if (argc > 1) {
    const std::string first = argv[1];
    bool known = first == "-h" || first == "--help" || first == "--version";
    for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->check_name(first);
    if (!known) {
      std::cerr << "portprobe: unknown " << (first.starts_with('-') ? "option" : "command") << " '"
                << first << "'\nRun 'portprobe --help' for usage.\n";
      return cli::exit_usage;
    }
  }

  // `wait ... -- COMMAND [ARGS...]`: the command is split off before parsing,
  // its arguments passed on exactly as given.
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> after;
  if (!args.empty()) {
    for (const auto& command : commands) {
      if (!command->takes_command() || !command->named(args.front())) continue;
      const auto dashes = std::find(args.begin(), args.end(), "--");
      if (dashes == args.end()) break;
      after.assign(dashes + 1, args.end());
      args.erase(dashes, args.end());
      if (after.empty()) {
        std::cerr << "portprobe " << args.front() << ": no COMMAND after '--'\n";
        return cli::exit_usage;
      }
      command->set_command(after);
      break;
    }
  }

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
    app.parse(reversed);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
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
    return cli::exit_usage;
  }

  for (const auto& command : commands) {
    if (!command->chosen()) continue;
    const std::string name = "portprobe " + app.get_subcommands().front()->get_name();
    try {
      return command->run();
    } catch (const cli::usage_error& e) {
      std::cerr << name << ": " << e.what() << '\n';
      return cli::exit_usage;
    } catch (const std::exception& e) {
      std::cerr << name << ": " << e.what() << '\n';
      return cli::exit_not_found;
    }
  }
  return cli::exit_usage;
}
