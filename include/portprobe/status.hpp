// portprobe/status.hpp: the status of a TCP port (npm portscanner, with nmap's three states).
#pragma once

#include <cstdint>
#include <system_error>

#include <portprobe/detail/asio.hpp>

#include <portprobe/detail/async.hpp>
#include <portprobe/error.hpp>
#include <portprobe/status_types.hpp>

namespace portprobe {

/// The completion signature of async_check_status().
using check_signature = void(error_code, port_status);

/// Asynchronously probes `port` on `options.host` with a TCP connect.
///
/// The connect's outcome maps as nmap maps it: connected = open; ECONNREFUSED
/// = closed; no answer within `options.timeout`, EHOSTUNREACH, ENETUNREACH,
/// EACCES = filtered. A host name is resolved to all its addresses: open if
/// any accepts, closed if all refuse, filtered otherwise. A connection of a
/// socket to itself (loopback, local port = remote port, possible inside the
/// ephemeral range when nothing listens) is closed, not open. Probe sockets are
/// closed with SO_LINGER {1, 0} (a reset), so probes leave no TIME_WAIT behind.
///
/// @param ex      An executor, or an execution context (an io_context) whose
///                executor is used: the probes run on a strand over it.
/// @param port    1-65535.
/// @param options Where and how long to probe; copied before this returns.
/// @param token   Any completion token for check_signature.
///
/// @par Completion signature
/// `void(error_code ec, portprobe::port_status status)`. A status, closed
/// and filtered included, is a result, not an error. Errors: a host name that
/// does not resolve (the resolver's error); port 0 or a non-positive timeout
/// (asio::error::invalid_argument); out of descriptors (EMFILE);
/// asio::error::operation_aborted when cancelled. On error `status` is filtered.
///
/// @par Inside the initiating function
/// The options are copied and the operation is started: an address is parsed
/// and the first connect may be made at once when the caller runs on `ex`'s
/// context; a host name is resolved asynchronously. The handler is never
/// invoked from within this function.
///
/// @par Executor
/// The handler runs on its associated executor, else on `ex`; it is invoked as
/// if by asio::post, after every probe socket is closed.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: the operation then completes with
/// operation_aborted, its sockets closed.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns. Any number may run
/// at once, on any executors and threads; each has its own strand.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<check_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_check_status(ExecutorOrContext&& ex, std::uint16_t port, const check_options& options,
                        CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

/// Asynchronously probes `port` on 127.0.0.1 with a TCP connect:
/// async_check_status() with default options (a 400 ms timeout).
///
/// @param ex    An executor, or an execution context whose executor is used.
/// @param port  1-65535.
/// @param token Any completion token for check_signature.
///
/// @par Completion signature
/// `void(error_code ec, portprobe::port_status status)`: open, closed or
/// filtered. Errors: port 0 (asio::error::invalid_argument), EMFILE,
/// operation_aborted; on error `status` is filtered.
///
/// @par Inside the initiating function
/// The first connect may be made at once when the caller runs on `ex`'s
/// context; the handler is never invoked from within this function.
///
/// @par Executor
/// The probe runs on a strand over `ex`; the handler runs on its associated
/// executor, else on `ex`, after the probe socket is closed.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: completes with operation_aborted, its socket
/// closed.
///
/// @par Object lifetimes and thread-safety
/// `ex`'s context must outlive the operation. Any number may run at once, on
/// any executors and threads.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<check_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_check_status(ExecutorOrContext&& ex, std::uint16_t port,
                        CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

}  // namespace portprobe

#include <portprobe/impl/status.hpp>
