// portprobe/listen.hpp: the zero-race form of get-port.
#pragma once

#include <asio/ip/tcp.hpp>

#include <portprobe/get_port.hpp>

namespace portprobe {

/// The completion signature of async_listen().
using listen_signature = void(std::error_code, asio::ip::tcp::acceptor);

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
/// @par Completion signature
/// `void(std::error_code ec, asio::ip::tcp::acceptor acceptor)`; the acceptor's
/// executor is `ex` (or the context's executor); on error it is closed. Errors
/// as for async_get_port(), and asio::error::invalid_argument for
/// `options.time_wait`.
///
/// @par Inside the initiating function, executor, cancellation, lifetimes and thread-safety
/// As for async_get_port(): nothing is probed inside this function; a
/// cancelled operation closes the socket and leaves no port locked.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<listen_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_listen(ExecutorOrContext&& ex, const get_port_options& options,
                  CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

}  // namespace portprobe

#include <portprobe/impl/listen.hpp>
