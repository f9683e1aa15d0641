// portprobe/wait.hpp: wait until a port is open (a server came up) or closed (it went away).
#pragma once

#include <cstdint>
#include <system_error>

#include <portprobe/config.hpp>

#include <portprobe/status.hpp>
#include <portprobe/status_types.hpp>

namespace portprobe {

/// The completion signature of async_wait_for_status().
using wait_signature = void(error_code);

/// Asynchronously waits until `port` on `options.host` has status `wanted`:
/// `open` (a server came up) or `closed` (it went away; a filtered port is not
/// closed). It probes at once, then every `options.interval`; each probe's
/// timeout is what is left of the overall `options.timeout`, at most 400 ms.
///
/// @param ex      An executor, or an execution context whose executor is used.
/// @param port    1-65535.
/// @param wanted  port_status::open or port_status::closed.
/// @param options Where, how long and how often; copied before this returns.
/// @param token   Any completion token for wait_signature.
///
/// @par Completion signature
/// `void(error_code ec)`: success once the status is reached;
/// asio::error::timed_out past `options.timeout`; asio::error::invalid_argument
/// for port 0, a negative timeout or interval; a host name that does not
/// resolve: the resolver's error; asio::error::operation_aborted when
/// cancelled.
///
/// @par Inside the initiating function
/// The options are checked and copied and the first probe is started (as
/// async_check_status() starts one); the handler is never invoked from within
/// this function.
///
/// @par Executor
/// The timer between probes runs on `ex`; the handler runs on its associated
/// executor, else on `ex`.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: completes with operation_aborted, every socket
/// and timer released.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns. Any number may run
/// at once, on any executors and threads.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<wait_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_wait_for_status(ExecutorOrContext&& ex, std::uint16_t port, port_status wanted,
                           const wait_options& options,
                           CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

/// Asynchronously waits until `port` on 127.0.0.1 has status `wanted`:
/// async_wait_for_status() with default options (10 s at most, a probe every
/// 50 ms).
///
/// @param ex     An executor, or an execution context whose executor is used.
/// @param port   1-65535.
/// @param wanted port_status::open or port_status::closed.
/// @param token  Any completion token for wait_signature.
///
/// @par Completion signature
/// `void(error_code ec)`: success once the status is reached;
/// asio::error::timed_out after 10 s; asio::error::invalid_argument for port 0;
/// operation_aborted when cancelled.
///
/// @par Inside the initiating function
/// The first probe is started; the handler is never invoked from within this
/// function.
///
/// @par Executor
/// The timer between probes runs on `ex`; the handler runs on its associated
/// executor, else on `ex`.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: completes with operation_aborted, every socket
/// and timer released.
///
/// @par Object lifetimes and thread-safety
/// `ex`'s context must outlive the operation. Any number may run at once, on
/// any executors and threads.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<wait_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_wait_for_status(ExecutorOrContext&& ex, std::uint16_t port, port_status wanted,
                           CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

}  // namespace portprobe

#include <portprobe/impl/wait.hpp>
