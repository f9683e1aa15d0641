// lib/cli/cli.hpp: what the commands of the portprobe tool share.
//
// Each command is a small struct (one .cpp each) that adds its subcommand and
// options to the CLI11 app, and runs once parsing chose it. Everything they
// have in common lives here: the exit statuses, the parsers for PORT, PORTS
// and millisecond values (each failure names the bad value), the --host and
// --timeout pair, running an operation on an io_context with its errors
// mapped, and printing an aligned table.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <portprobe/portprobe.hpp>

namespace portprobe::cli {

inline constexpr int exit_found = 0;      // the answer is found / open / reached
inline constexpr int exit_not_found = 1;  // it is not (or the operation failed)
inline constexpr int exit_usage = 2;      // bad usage: the message names the bad value

/// Bad usage found after parsing: the message names the bad value.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One command of the tool.
class command {
 public:
  command() = default;
  command(const command&) = delete;
  command& operator=(const command&) = delete;
  virtual ~command() = default;

  /// Adds the subcommand and its options to `app`.
  void add_to(CLI::App& app) { sub_ = define(app); }
  /// Whether the command line chose this command.
  bool chosen() const { return sub_ != nullptr && sub_->parsed(); }
  /// Whether `word` names this command.
  bool named(const std::string& word) const { return sub_ != nullptr && sub_->check_name(word); }
  /// Whether it takes a command to run after `--` (wait).
  virtual bool takes_command() const { return false; }
  /// The command after `--`, split off the command line before parsing.
  virtual void set_command(std::vector<std::string> /*argv*/) {}
  /// Runs it, once the command line is parsed: the exit status. Throws
  /// usage_error for a bad value, anything else for a failure.
  virtual int run() const = 0;

 protected:
  /// Adds the subcommand with its options, and returns it.
  virtual CLI::App* define(CLI::App& app) = 0;

 private:
  CLI::App* sub_ = nullptr;
};

/// The tool's command line (tool.cpp): every command on one CLI11 app.
class tool {
 public:
  tool();
  ~tool();
  tool(const tool&) = delete;
  tool& operator=(const tool&) = delete;

  /// Parses `args` (argv after the program's name). -1 when a command was
  /// chosen (run() runs it), else the exit status: 0 for --help and
  /// --version, exit_usage for bad usage. Messages (and the help) are printed
  /// only when `speak`.
  int parse(std::vector<std::string> args, bool speak = true);
  /// Runs the command parse() chose: its exit status (its errors printed).
  int run();

 private:
  std::unique_ptr<CLI::App> app_;
  std::vector<std::unique_ptr<command>> commands_;
  command* chosen_ = nullptr;
};

std::unique_ptr<command> make_get_command();
std::unique_ptr<command> make_check_command();
std::unique_ptr<command> make_find_command();
std::unique_ptr<command> make_scan_command();
std::unique_ptr<command> make_wait_command();
std::unique_ptr<command> make_who_command();
std::unique_ptr<command> make_kill_command();
std::unique_ptr<command> make_locks_command();

/// A TARGET of `wait`: PORT (on `default_host`), HOST:PORT, [IPv6]:PORT or
/// http://HOST[:PORT]/PATH (port 80 by default, path / by default).
struct wait_target {
  std::string text;  // as typed
  std::string host;
  std::uint16_t port = 0;
  bool http = false;
  std::string path;  // http only
};
/// Parses a TARGET; a bad one is a usage_error that names it.
wait_target parse_wait_target(const std::string& text, const std::string& default_host);

/// A --signal value: a name (TERM, SIGKILL, hup) or a number; a bad one is a
/// usage_error that names it.
int parse_signal(const std::string& text);

/// `text` as a JSON string, quoted and escaped.
std::string json_string(std::string_view text);

/// Adds the required positional PORT (one port) to `cmd`; parse it with parse_port().
void add_port_argument(CLI::App& cmd, std::string& port);

/// Adds the required positional PORTS (one or more lists) to `cmd`; parse them
/// with parse_ports().
void add_ports_argument(CLI::App& cmd, std::vector<std::string>& ports);

/// One list of the PORTS arguments, in order (pp::parse_port_list's grammar).
port_list parse_ports(const std::vector<std::string>& items);

/// A PORT argument: exactly one port, 1-65535.
std::uint16_t parse_port(const std::string& text);

/// The value of `option` as a duration in [min, 2^31 - 1] milliseconds: a whole
/// number followed by ms, s, m or h, or by nothing (milliseconds).
std::chrono::milliseconds parse_millis(std::string_view option, const std::string& text,
                                       long long min = 1);

/// A whole number in [min, max] given to `option`. The message for a bad value
/// names it, the range, and `unit` (" of milliseconds").
long long parse_number(std::string_view option, const std::string& text, long long min,
                       long long max, std::string_view unit = "");

/// Whether `ec` is the resolver's: the name does not resolve (now).
bool is_resolve_error(const std::error_code& ec);

/// --host H and --timeout T, as check, find, scan and wait take them.
struct probe_target {
  std::string host = "127.0.0.1";
  std::string timeout;  // as typed; its default is set by add_to()

  /// Adds both options to `cmd`; `timeout_help` says what the timeout bounds.
  void add_to(CLI::App& cmd, std::string default_timeout, const std::string& timeout_help);
  std::chrono::milliseconds timeout_value() const { return parse_millis("--timeout", timeout); }
  /// The probe options these values give (checked: bad values are usage errors).
  check_options probe_options() const;

  /// Throws the error `ec` of an operation on this target: the resolver's
  /// error (a host name that does not resolve) as bad usage naming the host,
  /// anything else as a std::system_error.
  [[noreturn]] void fail(const std::error_code& ec) const;
};

/// Runs the operation `start(executor)` returns (an asio::awaitable) on an
/// io_context of its own, until it and everything it started have ended, and
/// returns its value. Its errors are thrown through `target.fail()`.
template <typename Start>
auto run_operation(const probe_target& target, Start&& start) {
  using awaitable_type = std::invoke_result_t<Start&, asio::any_io_executor>;
  using value_type = typename awaitable_type::value_type;
  asio::io_context io;
  std::exception_ptr failure;
  bool done = false;
  std::optional<std::conditional_t<std::is_void_v<value_type>, bool, value_type>> value;
  if constexpr (std::is_void_v<value_type>) {
    asio::co_spawn(io, start(asio::any_io_executor(io.get_executor())), [&](std::exception_ptr e) {
      failure = e;
      done = true;
    });
  } else {
    asio::co_spawn(io, start(asio::any_io_executor(io.get_executor())),
                   [&](std::exception_ptr e, value_type v) {
                     failure = e;
                     done = true;
                     if (!e) value.emplace(std::move(v));
                   });
  }
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::system_error& e) {
      target.fail(e.code());
    }
  }
  if (!done) throw std::logic_error("the operation ended without completing");
  if constexpr (!std::is_void_v<value_type>) return std::move(*value);
}

/// Prints `rows` (the first is the header) with left-aligned columns two
/// spaces apart.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

}  // namespace portprobe::cli
