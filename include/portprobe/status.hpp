// portprobe/status.hpp: the status of a TCP port (npm portscanner, with nmap's three states).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/async_result.hpp>

#include <portprobe/detail/async.hpp>
#include <portprobe/error.hpp>

namespace portprobe {

/// nmap's port states, as a TCP connect probe sees them.
enum class port_status {
  open,      ///< something accepted the connection (the port is in use)
  closed,    ///< the connection was refused (nothing listens)
  filtered,  ///< no answer within the timeout, or the host/network was unreachable
};

/// "open", "closed" or "filtered".
std::string_view to_string(port_status status) noexcept;

/// One port's status (what async_scan() reports).
struct port_report {
  std::uint16_t port;
  port_status status;
  friend bool operator==(const port_report&, const port_report&) = default;
};

/// How the status operations probe. A plain value; copied at initiation.
struct check_options {
  /// An IPv4/IPv6 address, or a host name (resolved once per operation, to all
  /// its addresses, IPv4 and IPv6).
  std::string host = "127.0.0.1";
  /// Per probe (per port and address). Must be positive.
  std::chrono::milliseconds timeout{400};
  /// Probes in flight at once for find and scan; 0 = a sensible default (256).
  std::size_t concurrency = 0;
};

/// Asynchronously probes `port` on `options.host` with a TCP connect.
///
/// This function always returns immediately. The connect's outcome maps as
/// nmap maps it: connected = open; ECONNREFUSED = closed; no answer within
/// `options.timeout`, EHOSTUNREACH, ENETUNREACH, EACCES = filtered. A host name
/// is resolved to all its addresses: open if any accepts, closed if all
/// refuse, filtered otherwise. A connection of a socket to itself (loopback,
/// local port = remote port, possible inside the ephemeral range when nothing
/// listens) is closed, not open. Probe sockets are closed with SO_LINGER {1, 0}
/// (a reset), so probes leave no TIME_WAIT behind.
///
/// Completion signature: `void(std::error_code ec, portprobe::port_status status)`.
/// A status, closed and filtered included, is a result, not an error. Errors:
/// a host name that does not resolve (the resolver's error); port 0 or a
/// non-positive timeout (asio::error::invalid_argument); out of descriptors
/// (EMFILE); asio::error::operation_aborted when cancelled (terminal, partial or
/// total per-operation cancellation), every socket closed.
///
/// Thread-safety: any number may run at once on any executors. The handler is
/// never invoked from within this function; it runs on its associated executor
/// (else `ex`).
template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_check_status(const Executor& ex, std::uint16_t port, const check_options& options,
                        CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_check_status(
    ExecutionContext& ctx, std::uint16_t port, const check_options& options,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

/// With default options (127.0.0.1, 400 ms).
template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_check_status(const Executor& ex, std::uint16_t port,
                        CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_check_status(
    ExecutionContext& ctx, std::uint16_t port,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

}  // namespace portprobe

#include <portprobe/impl/status.hpp>
