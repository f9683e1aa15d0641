// portprobe/status.hpp: the status of a TCP port (npm portscanner, with nmap's three states).
#pragma once

#include <cstdint>
#include <system_error>

#include <asio/async_result.hpp>

#include <portprobe/detail/async.hpp>
#include <portprobe/error.hpp>
#include <portprobe/status_types.hpp>

namespace portprobe {

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
