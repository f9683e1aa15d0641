// lib/cli/wait.cpp: `portprobe wait TARGET... [--timeout T] [--interval T] [--free] [--any]
// [-q] [--host H] [-- COMMAND [ARGS...]]`: what wait-for-it does, for several targets at once.
//
// Every target is waited for at once, each by its own coroutine on one
// io_context (the library's async_wait_for_status()); a name that does not
// resolve yet is retried every --interval until the deadline. Once all (or,
// with --any, one) are ready, the command after `--` replaces this process, so
// that its exit status is ours; on a timeout it does not run.
#include "cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <unistd.h>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "http_probe.hpp"

namespace portprobe::cli {

wait_target parse_wait_target(const std::string& text, const std::string& default_host) {
  const auto bad = [&](const std::string& why) {
    return usage_error("invalid TARGET '" + text + "': " + why);
  };
  const auto port_of = [&](const std::string& digits) -> std::uint16_t {
    if (digits.empty()) throw bad("no port after ':' (expected HOST:PORT)");
    try {
      return parse_port(digits);
    } catch (const usage_error&) {
      throw bad("the port '" + digits + "' is not a port (1-65535)");
    }
  };
  wait_target t;
  t.text = text;
  if (text.empty()) throw bad("empty");
  if (text.find_first_not_of("0123456789") == std::string::npos) {  // PORT
    if (default_host.empty()) throw usage_error("invalid --host '': empty (the host of a bare PORT)");
    t.host = default_host;
    t.port = port_of(text);
    return t;
  }
  std::string rest = text;
  if (rest.starts_with("https://")) throw bad("https is not supported (plain HTTP/1.1 only, no TLS)");
  if (rest.starts_with("http://")) {
    t.http = true;
    rest = rest.substr(7);
    const std::size_t slash = rest.find('/');
    t.path = slash == std::string::npos ? "/" : rest.substr(slash);
    rest = rest.substr(0, slash);
    if (rest.empty()) throw bad("no host after http://");
  }
  std::string port_text;
  if (rest.starts_with('[')) {  // [IPv6]:PORT
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) throw bad("no ']' after the IPv6 address");
    t.host = rest.substr(1, close - 1);
    const std::string after = rest.substr(close + 1);
    if (after.empty() && t.http) {
      port_text = "80";
    } else if (!after.starts_with(':')) {
      throw bad("expected [IPv6]:PORT");
    } else {
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string::npos) {
      if (!t.http) throw bad("expected PORT, HOST:PORT, [IPv6]:PORT or http://HOST:PORT/PATH");
      t.host = rest;
      port_text = "80";
    } else {
      t.host = rest.substr(0, colon);
      port_text = rest.substr(colon + 1);
      if (t.host.find(':') != std::string::npos) {
        throw bad("an IPv6 address takes brackets: [" + t.host + "]:" + port_text);
      }
    }
  }
  if (t.host.empty()) throw bad("no host before ':'");
  t.port = port_of(port_text);
  return t;
}

namespace {

using namespace std::chrono_literals;
using asio::experimental::as_tuple;

std::string shown(const wait_target& t) {
  const std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  return t.http ? "http://" + host + ":" + std::to_string(t.port) + t.path
                : host + ":" + std::to_string(t.port);
}

struct wait_command final : command {
  std::vector<std::string> targets;
  std::string host = "127.0.0.1";
  std::string timeout;
  std::string interval;
  bool free = false;
  bool any = false;
  bool quiet = false;
  std::vector<std::string> after;  // the command after `--`

  bool takes_command() const override { return true; }
  void set_command(std::vector<std::string> argv) override { after = std::move(argv); }

  CLI::App* define(CLI::App& app) override {
    CLI::App* cmd = app.add_subcommand(
        "wait", "Wait until ports are open (or, with --free, closed), then run a command");
    cmd->footer(
        "Waits for every TARGET at once: PORT (on --host), HOST:PORT, [IPv6]:PORT, or\n"
        "http://HOST[:PORT]/PATH (ready when a plain HTTP GET is answered 2xx or 3xx; no TLS;\n"
        "not with --free). A name that does not resolve yet is retried until --timeout.\n"
        "Exit 0 once all are open (--any: one; --free: closed, nothing listens; a filtered port\n"
        "is neither), 1 when --timeout passes first. After --, COMMAND runs once they are ready, with its arguments as given, and its\n"
        "exit status is portprobe's; on a timeout it does not run.\n"
        "Durations: 500ms, 30s, 2m, 1h, or a bare number of milliseconds.\n"
        "Example: portprobe wait db:5432 redis:6379 --timeout 60s -- ./start.sh");
    cmd->add_option("TARGET", targets, "PORT, HOST:PORT, [IPv6]:PORT or http://HOST[:PORT]/PATH; several are all waited for")
        ->required()
        ->type_name("");
    cmd->add_option("--host", host, "The host of a bare PORT target")
        ->type_name("H")
        ->capture_default_str();
    const wait_options defaults;
    timeout = std::to_string(defaults.timeout.count() / 1000) + "s";
    cmd->add_option("--timeout", timeout, "Give up after this long; 0 waits forever")
        ->type_name("T")
        ->capture_default_str();
    interval = std::to_string(defaults.interval.count()) + "ms";
    cmd->add_option("--interval", interval, "Time between probes of a target")
        ->type_name("T")
        ->capture_default_str();
    cmd->add_flag("--free", free, "Wait until the ports are closed (nothing listens)");
    cmd->add_flag("--any", any, "Ready once one target is");
    cmd->add_flag("-q,--quiet", quiet, "Print nothing; the exit status alone");
    return cmd;
  }

  struct state {
    wait_target target;
    bool ready = false;
    std::error_code last;  // a resolver error while the name does not resolve
    int http_status = 0;          // http: the last answer's status
    std::error_code http_error;   // http: the last attempt's error
    asio::cancellation_signal cancel;
  };

  int run() const override {
    std::vector<state> states(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) {
      states[i].target = parse_wait_target(targets[i], host);
      if (states[i].target.http && free) {
        throw usage_error("invalid TARGET '" + targets[i] +
                          "': --free waits for refused connections, not for an HTTP answer");
      }
    }
    const std::chrono::milliseconds limit = parse_millis("--timeout", timeout, 0);
    const std::chrono::milliseconds every = parse_millis("--interval", interval, 0);
    const bool forever = limit == 0ms;
    const port_status wanted = free ? port_status::closed : port_status::open;
    const auto deadline = std::chrono::steady_clock::now() + limit;

    std::exception_ptr failure;
    {
      asio::io_context io;
      std::size_t ready = 0;
      const auto finished = [&] { return any ? ready > 0 : ready == states.size(); };
      for (state& s : states) {
        asio::co_spawn(
            io,
            s.target.http ? wait_http(s, forever, deadline, every)
                          : wait_one(s, wanted, forever, deadline, every),
            asio::bind_cancellation_slot(s.cancel.slot(), [&, self = &s](std::exception_ptr e) {
              if (e && !failure) failure = e;
              if (self->ready) ++ready;
              if (failure || finished()) {
                for (state& other : states) other.cancel.emit(asio::cancellation_type::terminal);
              }
            }));
      }
      io.run();
    }  // every socket and timer closed before the command runs
    if (failure) {
      if (quiet) return exit_not_found;  // -q: the exit status alone (EMFILE, say)
      std::rethrow_exception(failure);
    }

    std::size_t ready = 0;
    for (const state& s : states) ready += s.ready;
    if (any ? ready == 0 : ready != states.size()) {
      if (!quiet) {
        for (const state& s : states) {
          if (s.ready) continue;
          std::cerr << "portprobe wait: " << shown(s.target) << " was not "
                    << (s.target.http ? "ready" : to_string(wanted)) << " within " << limit.count()
                    << " ms";
          if (s.target.http && s.http_status != 0) {
            std::cerr << " (last answer: HTTP " << s.http_status << ")";
          } else if (s.target.http && s.http_error && !s.last) {
            std::cerr << " (" << s.http_error.message() << ")";
          }
          if (s.last) std::cerr << " (" << s.target.host << " does not resolve: " << s.last.message() << ")";
          std::cerr << '\n';
        }
      }
      return exit_not_found;
    }
    if (after.empty()) return exit_found;
    return exec_command();
  }

  static asio::awaitable<void> wait_one(state& s, port_status wanted, bool forever,
                                        std::chrono::steady_clock::time_point deadline,
                                        std::chrono::milliseconds every) {
    const auto ex = co_await asio::this_coro::executor;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      wait_options options;
      options.host = s.target.host;
      options.interval = every;
      options.timeout = forever ? std::chrono::milliseconds(std::chrono::hours(24))
                                : std::max(0ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    deadline - now));
      const auto [ec] = co_await async_wait_for_status(ex, s.target.port, wanted, options,
                                                       as_tuple(asio::use_awaitable));
      if (!ec) {
        s.ready = true;
        s.last = {};
        co_return;
      }
      if (ec == asio::error::operation_aborted) co_return;
      if (ec == asio::error::timed_out) {
        if (forever) continue;
        co_return;
      }
      if (!is_resolve_error(ec)) throw std::system_error(ec);
      // The name does not resolve (yet): again after --interval, until the deadline.
      s.last = ec;
      if (!co_await pause(every, forever, deadline)) co_return;
    }
  }

  /// Waits --interval (not past the deadline) before a target's next try;
  /// false when there is none: the deadline has passed, or the wait was cancelled.
  static asio::awaitable<bool> pause(std::chrono::milliseconds every, bool forever,
                                     std::chrono::steady_clock::time_point deadline) {
    if (!forever && std::chrono::steady_clock::now() >= deadline) co_return false;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto next = std::chrono::steady_clock::now() + std::max(every, 1ms);
    timer.expires_at(forever ? next : std::min(next, deadline));
    const auto [waited] = co_await timer.async_wait(as_tuple(asio::use_awaitable));
    co_return waited != asio::error::operation_aborted;
  }

  /// An http:// target: a GET every --interval until one answers 2xx or 3xx.
  /// Each attempt is bounded by what is left of the timeout, and by 2 s, so
  /// that a server that accepts and never answers is tried again.
  static asio::awaitable<void> wait_http(state& s, bool forever,
                                         std::chrono::steady_clock::time_point deadline,
                                         std::chrono::milliseconds every) {
    const auto ex = co_await asio::this_coro::executor;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      auto attempt = std::chrono::milliseconds(2000);
      if (!forever) {
        if (now >= deadline) co_return;
        attempt = std::min(attempt, std::max(1ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      deadline - now)));
      }
      auto result = std::make_shared<detail::http_result>();
      detail::http_request request{s.target.host, s.target.port, s.target.path};
      co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
          [&](auto handler) {
            const asio::cancellation_slot slot = asio::get_associated_cancellation_slot(handler);
            detail::start_http_probe(ex, request, attempt, result, slot,
                                     detail::one_shot(std::move(handler)));
          },
          asio::use_awaitable);
      if (result->ec == asio::error::operation_aborted) co_return;
      if (!result->ec && detail::http_ready(result->status)) {
        s.ready = true;
        s.last = {};
        co_return;
      }
      s.http_status = result->ec ? 0 : result->status;
      s.http_error = result->ec;
      s.last = is_resolve_error(result->ec) ? result->ec : std::error_code();
      if (!co_await pause(every, forever, deadline)) co_return;
    }
  }

  int exec_command() const {
    std::cout.flush();
    std::fflush(nullptr);
    std::vector<char*> argv;
    for (const std::string& a : after) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    const int error = errno;  // execvp returns only on failure
    if (!quiet) {
      std::cerr << "portprobe wait: cannot run '" << after.front() << "': " << std::strerror(error)
                << '\n';
    }
    return error == ENOENT ? 127 : 126;  // as a shell says it
  }
};

}  // namespace

std::unique_ptr<command> make_wait_command() { return std::make_unique<wait_command>(); }

}  // namespace portprobe::cli
