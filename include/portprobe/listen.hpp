// portprobe/listen.hpp: the zero-race form of get-port.
#pragma once

#include <asio/ip/tcp.hpp>

#include <portprobe/get_port.hpp>

namespace portprobe {

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
/// user: current_lock_scope()). `options.time_wait` is not for this operation:
/// asio::error::invalid_argument.
///
/// This function always returns immediately. Completion signature:
/// `void(std::error_code ec, asio::ip::tcp::acceptor acceptor)`; the acceptor's
/// executor is `ex` (or `ctx.get_executor()`); on error it is closed. Errors,
/// cancellation and thread-safety as for async_get_port(): a cancelled
/// operation closes the socket and leaves no port locked.
template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_listen(const Executor& ex, const get_port_options& options,
                  CompletionToken&& token = asio::default_completion_token_t<Executor>());

/// As above, on an execution context's executor.
template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_listen(
    ExecutionContext& ctx, const get_port_options& options,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

}  // namespace portprobe

#include <portprobe/impl/listen.hpp>
