// portprobe/wait.hpp: wait until a port is open (a server came up) or closed (it went away).
#pragma once

#include <cstdint>
#include <system_error>

#include <portprobe/status.hpp>
#include <portprobe/status_types.hpp>

namespace portprobe {

/// Asynchronously waits until `port` on `options.host` has status `wanted`:
/// `open` (a server came up) or `closed` (it went away; a filtered port is not
/// closed). It probes at once, then every `options.interval`; each probe's
/// timeout is what is left of the overall `options.timeout`, at most 400 ms.
///
/// This function always returns immediately. Completion signature:
/// `void(std::error_code ec)`: success once the status is reached;
/// asio::error::timed_out past `options.timeout`; asio::error::invalid_argument
/// for port 0, a negative timeout or interval; a host name that does not
/// resolve: the resolver's error; asio::error::operation_aborted when
/// cancelled (terminal, partial or total), every socket and timer released.
/// Thread-safety: as async_check_status.
template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_wait_for_status(const Executor& ex, std::uint16_t port, port_status wanted,
                           const wait_options& options,
                           CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_wait_for_status(
    ExecutionContext& ctx, std::uint16_t port, port_status wanted, const wait_options& options,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_wait_for_status(const Executor& ex, std::uint16_t port, port_status wanted,
                           CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_wait_for_status(
    ExecutionContext& ctx, std::uint16_t port, port_status wanted,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

}  // namespace portprobe

#include <portprobe/impl/wait.hpp>
