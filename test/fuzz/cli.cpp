// test/fuzz/cli.cpp: the portprobe command line, parsed as the tool parses it
// (cli::tool::parse, every command and option, `wait ... -- COMMAND`), never
// run; and each argument through the tool's value parsers (ports, durations,
// wait targets, signals). Input: the arguments, separated by NUL bytes. Bad
// usage is an exit status or a usage_error, never a crash or another
// exception.
#include "cli.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace cli = portprobe::cli;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 2048) return -1;
  std::vector<std::string> args(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      if (args.size() == 64) break;
      args.emplace_back();
    } else {
      args.back() += static_cast<char>(data[i]);
    }
  }
  {
    cli::tool tool;
    const int status = tool.parse(args, false);
    if (status != -1 && status != cli::exit_found && status != cli::exit_usage) std::abort();
  }
  for (const std::string& a : args) {
    const auto quietly = [](auto&& f) {
      try {
        f();
      } catch (const cli::usage_error&) {
      }
    };
    quietly([&] { (void)cli::parse_ports({a}); });
    quietly([&] { (void)cli::parse_port(a); });
    quietly([&] {
      const auto ms = cli::parse_millis("--timeout", a, 0);
      if (ms.count() < 0 || ms.count() > 2147483647) std::abort();
    });
    quietly([&] {
      const cli::wait_target t = cli::parse_wait_target(a, "127.0.0.1");
      if (t.port == 0 || t.host.empty()) std::abort();
    });
    quietly([&] {
      const int sig = cli::parse_signal(a);
      if (sig <= 0 || sig >= 65) std::abort();
    });
  }
  return 0;
}
