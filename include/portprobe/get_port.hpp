// portprobe/get_port.hpp: find a free TCP port (npm get-port, done right).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>

#include <asio/async_result.hpp>

#include <portprobe/detail/async.hpp>
#include <portprobe/error.hpp>
#include <portprobe/ports.hpp>

namespace portprobe {

/// What async_get_port() and async_listen() look for. A plain value: copy it,
/// share it between threads; the operations copy what they need at initiation.
struct get_port_options {
  /// Preferred ports, tried in this order.
  port_list port;
  /// Never returned, not even as the fallback (the OS's choice is checked too).
  port_list exclude;
  /// "" = the port must be free on every local address (the dual-stack wildcard
  /// `::`, `0.0.0.0` and every interface address); else only on this IPv4/IPv6
  /// address ("127.0.0.1", "::1", "fe80::1%eth0").
  std::string host;
  /// After the preferred ports, any free port; false = preferred ports only.
  bool fallback = true;
  /// In-process lock on a returned port: it is not returned again by this
  /// process for `hold` (it lasts at least `hold`, and is forgotten by 2 x `hold`).
  /// Zero means no lock. Negative: asio::error::invalid_argument.
  std::chrono::milliseconds hold = std::chrono::seconds(15);
  /// Lock until release_port()/clear_locked_ports(), not for `hold`.
  bool reserve = false;
};


/// Asynchronously finds a free TCP port.
///
/// This function always returns immediately. The search:
/// 1. tries each preferred port (`options.port`) in order, skipping those that
///    are excluded or locked by this process (a locked port is skipped without
///    probing it), and returns the first that a listening socket can be bound to
///    (EADDRINUSE and EACCES count as busy);
/// 2. then, when `options.fallback`, asks the OS for a port (bind to port 0),
///    asking again while its pick is excluded or locked; should it keep picking
///    such ports, the remaining ports of 1024-65535 are tried one by one.
/// The port returned is locked in this process for `options.hold` (or until
/// release_port() when `options.reserve`).
///
/// A probe binds and listens (SO_REUSEADDR, as servers do, except on Windows)
/// and is closed before the operation completes: the port is free when the
/// handler runs, but nothing stops another *process* from taking it before you
/// bind it. Use async_listen() for the zero-race form.
///
/// @param ex      The executor (or execution context) the operation runs on and
///                completes on, unless the handler has an associated executor.
/// @param options What to look for; copied before this function returns.
/// @param token   Any Asio completion token. Completion signature:
///                `void(std::error_code ec, std::uint16_t port)`.
///
/// Errors: error::no_available_port; asio::error::invalid_argument for a
/// `host` that is not an IP address or a negative `hold`; the OS error of the
/// bind (std::errc::address_not_available for a `host` that is not an address
/// of this machine, EMFILE...); asio::error::operation_aborted when cancelled.
/// On error the port is 0 and nothing stays locked.
///
/// Per-operation cancellation: terminal, partial and total. The operation then
/// completes with operation_aborted, its sockets closed and no port locked.
///
/// Thread-safety: any number of these may run at once, on any threads and
/// io_contexts of the process; the lock registry is process-wide. The handler is
/// never invoked from within this function; it runs on its associated executor.
template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_get_port(const Executor& ex, const get_port_options& options,
                    CompletionToken&& token = asio::default_completion_token_t<Executor>());

/// As above, on an execution context's executor (an io_context, say).
template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_get_port(
    ExecutionContext& ctx, const get_port_options& options,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

/// Any free port, with default options.
template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_get_port(const Executor& ex,
                    CompletionToken&& token = asio::default_completion_token_t<Executor>());

/// Any free port, with default options, on an execution context's executor.
template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_get_port(
    ExecutionContext& ctx,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

/// Ends the lock on `port` now, reserved or not. Does nothing if it is not
/// locked. Thread-safe; returns once the lock is gone.
void release_port(std::uint16_t port);

/// Ends every lock now, reserved ones too (get-port's clearLockedPorts).
/// Thread-safe; returns once the locks are gone.
void clear_locked_ports();

}  // namespace portprobe

#include <portprobe/impl/get_port.hpp>
