// portprobe/listen.hpp: the zero-race form of get-port.
#pragma once

#include <portprobe/detail/asio.hpp>

#include <portprobe/get_port.hpp>

namespace portprobe {

/// The completion signature of async_listen().
using listen_signature = void(error_code, asio::ip::tcp::acceptor);

/// Asynchronously chooses a port exactly as async_get_port() does and hands
/// back an acceptor already bound and listening on it.
///
/// This is the answer to get-port's "Beware" note (another process may take
/// the port between get-port's answer and your listen): here no other socket
/// can take the port between the choice and its use, because the socket that
/// proved the port free is the one you get (or, with an empty `host`, is bound
/// before the operation completes, the port being tried again if that fails).
///
/// The acceptor listens on `options.host`, or on 127.0.0.1 when `host` is empty
/// (a test server is not exposed to the network unless asked), with
/// SO_REUSEADDR (not on Windows) and the maximum backlog. The port is also
/// locked as async_get_port() locks it (for every portprobe process of this
/// user: current_lock_scope()).
///
/// @param ex      An executor, or an execution context whose executor is used:
///                the probes run on it and the acceptor is made with it.
/// @param options What to look for (as for async_get_port()); copied before
///                this function returns.
/// @param token   Any completion token for listen_signature.
///
/// @par Completion signature
/// `void(error_code ec, asio::ip::tcp::acceptor acceptor)`; the acceptor's
/// executor is `ex` (or the context's executor); on error it is closed. Errors
/// as for async_get_port(), and asio::error::invalid_argument for
/// `options.time_wait`.
///
/// @par Inside the initiating function
/// The options are copied and the first step is posted: nothing is bound or
/// locked inside this function, and the handler is never invoked from within it.
///
/// @par Executor
/// As for async_get_port(): the probes on `ex`, the claims on the lock
/// registry, the handler on its associated executor, else on `ex`.
///
/// @par Per-operation cancellation
/// Terminal, partial and total, seen between steps: completes with
/// operation_aborted and a closed acceptor; the kept socket is closed and no
/// port stays locked.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns; `ex`'s context must
/// outlive the operation and the acceptor. Any number may run at once, on any
/// threads and io_contexts.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<listen_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_listen(ExecutorOrContext&& ex, const get_port_options& options,
                  CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

}  // namespace portprobe

#include <portprobe/impl/listen.hpp>
