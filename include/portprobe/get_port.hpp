// portprobe/get_port.hpp: find a free TCP port (npm get-port, done right).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <portprobe/detail/asio.hpp>

#include <portprobe/detail/async.hpp>
#include <portprobe/error.hpp>
#include <portprobe/locks.hpp>
#include <portprobe/ports.hpp>

namespace portprobe {

/// What async_get_port(), async_get_ports() and async_listen() look for. A
/// plain value: copy it, share it between threads; the operations copy what
/// they need at initiation.
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
  /// The lock on a returned port, seen by every portprobe process of this user
  /// in this network namespace (current_lock_scope()): the port is not returned
  /// again while it is locked. In this process the lock lasts at least `hold`
  /// (it is forgotten by 2 x `hold`); its lease in the shared table lasts
  /// exactly `hold`, even after this process has exited or was killed (so
  /// `PORT=$(portprobe get)` works across parallel shell jobs). Zero means no
  /// lock. Negative: asio::error::invalid_argument.
  std::chrono::milliseconds hold = std::chrono::seconds(15);
  /// Lock until release_port()/clear_locked_ports(), not for `hold`. Across
  /// processes the lease is renewed while this process lives, and ends at most
  /// 30 s after it dies.
  bool reserve = false;
  /// Never return a port of the OS's ephemeral range
  /// (/proc/sys/net/ipv4/ip_local_port_range), where outgoing connections take
  /// ports at any moment: preferred ports inside it are skipped, and the
  /// fallback never asks the OS but searches 1024-65535 outside the range from
  /// a random start.
  bool avoid_ephemeral = false;
  /// Also leave the chosen port in TIME_WAIT for about 60 s, on 127.0.0.1 (on
  /// ::1 where there is no IPv4; on `host` when given): meanwhile no other
  /// program's bind to port 0 and no outgoing connection takes it, while a
  /// server that sets SO_REUSEADDR (Asio's acceptor does) can bind it. For
  /// handing a port to a program that does not use portprobe. Not with
  /// async_listen() (asio::error::invalid_argument).
  bool time_wait = false;
};

/// The completion signatures of async_get_port() and async_get_ports().
using get_port_signature = void(error_code, std::uint16_t);
using get_ports_signature = void(error_code, std::vector<std::uint16_t>);

/// Asynchronously finds a free TCP port.
///
/// The search:
/// 1. tries each preferred port (`options.port`) in order, skipping those that
///    are excluded, and returns the first that is not locked and that a
///    listening socket can be bound to (EADDRINUSE and EACCES count as busy);
/// 2. then, when `options.fallback`, asks the OS for a port (bind to port 0),
///    asking again while its pick is excluded or locked; should it keep picking
///    such ports, the remaining ports of 1024-65535 are tried one by one.
/// Each port is claimed before it is probed (a port that this process or
/// another portprobe process holds is skipped without probing it); an OS pick
/// is claimed after its probe. The port returned stays locked for
/// `options.hold` (or until release_port() when `options.reserve`).
///
/// A probe binds and listens (SO_REUSEADDR, as servers do, except on Windows)
/// and is closed before the operation completes: the port is free when the
/// handler runs, and no portprobe process of this user returns it while it is
/// locked, but a program that does not use portprobe may still take it before
/// you bind it. Use async_listen() for the zero-race form.
///
/// @param ex      An executor, or an execution context (an io_context) whose
///                executor is used: the probes run on it.
/// @param options What to look for; copied before this function returns.
/// @param token   Any completion token for get_port_signature.
///
/// @par Completion signature
/// `void(error_code ec, std::uint16_t port)`. Errors:
/// error::no_available_port; asio::error::invalid_argument for a `host` that
/// is not an IP address or a negative `hold`; the OS error of the bind
/// (std::errc::address_not_available for a `host` that is not an address of
/// this machine, EMFILE...); asio::error::operation_aborted when cancelled. On
/// error the port is 0 and nothing stays locked.
///
/// @par Inside the initiating function
/// The options are copied and the first step is posted: nothing is probed,
/// read from /proc or locked inside this function, and the handler is never
/// invoked from within it.
///
/// @par Executor
/// The probes run on `ex`, the claims on the process's lock registry (a strand
/// of its own, entered inline when idle); the handler runs on its associated
/// executor, else on `ex`.
///
/// @par Per-operation cancellation
/// Terminal, partial and total, seen between steps: the operation then
/// completes with operation_aborted, its sockets closed and no port locked.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns. Any number may run
/// at once, on any threads and io_contexts of the process; the lock registry is
/// process-wide. An operation destroyed before it completes (its io_context
/// destroyed first) gives its claims back.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<get_port_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_get_port(ExecutorOrContext&& ex, const get_port_options& options,
                    CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

/// Asynchronously finds any free TCP port: async_get_port() with default
/// options (the OS's pick, free on every local address, locked for 15 s).
///
/// @param ex    An executor, or an execution context whose executor is used.
/// @param token Any completion token for get_port_signature.
///
/// @par Completion signature
/// `void(error_code ec, std::uint16_t port)`; errors as for the overload
/// with options (error::no_available_port, the OS error of the bind,
/// operation_aborted); on error the port is 0 and nothing stays locked.
///
/// @par Inside the initiating function
/// The first step is posted: nothing is probed or locked inside this
/// function, and the handler is never invoked from within it.
///
/// @par Executor
/// The probes run on `ex`, the claims on the process's lock registry; the
/// handler runs on its associated executor, else on `ex`.
///
/// @par Per-operation cancellation
/// Terminal, partial and total, seen between steps: completes with
/// operation_aborted, its sockets closed and no port locked.
///
/// @par Object lifetimes and thread-safety
/// Nothing is used after this returns but `ex`'s context, which must outlive
/// the operation. Any number may run at once, on any threads and io_contexts.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<get_port_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_get_port(ExecutorOrContext&& ex,
                    CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

/// Asynchronously finds `count` distinct free TCP ports, each chosen and
/// locked as async_get_port() would (preferred ports first, in order). All or
/// nothing: when fewer than `count` can be had it completes with
/// error::no_available_port and an empty vector, and none stays locked.
/// `count == 0` completes with an empty vector.
///
/// @param ex      An executor, or an execution context whose executor is used.
/// @param count   How many ports.
/// @param options What to look for; copied before this function returns.
/// @param token   Any completion token for get_ports_signature.
///
/// @par Completion signature
/// `void(error_code ec, std::vector<std::uint16_t> ports)`: `count`
/// distinct ports in the order found, or an empty vector with the error (as
/// for async_get_port(), and error::no_available_port when fewer than `count`
/// can be had).
///
/// @par Inside the initiating function
/// The options are copied and the first step is posted: nothing is probed or
/// locked inside this function, and the handler is never invoked from within it.
///
/// @par Executor
/// As for async_get_port(): the probes on `ex`, the claims on the lock
/// registry, the handler on its associated executor, else on `ex`.
///
/// @par Per-operation cancellation
/// Terminal, partial and total, seen between steps: completes with
/// operation_aborted and an empty vector; the ports claimed so far are given
/// back and their sockets closed.
///
/// @par Object lifetimes and thread-safety
/// As for async_get_port(); the locks of all `count` ports count from the
/// completion.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<get_ports_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_get_ports(ExecutorOrContext&& ex, std::size_t count, const get_port_options& options,
                     CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

}  // namespace portprobe

#include <portprobe/impl/get_port.hpp>
