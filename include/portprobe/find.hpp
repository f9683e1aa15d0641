// portprobe/find.hpp: the first port of a list that is in use, or not in use.
#pragma once

#include <cstdint>
#include <optional>
#include <system_error>

#include <portprobe/ports.hpp>
#include <portprobe/status.hpp>

namespace portprobe {

/// Asynchronously finds the first port of `ports`, **in list order**, whose
/// status is `open` (in use).
///
/// This function always returns immediately. Probes (see async_check_status)
/// run concurrently, at most `options.concurrency` at a time, in a window that
/// slides over the list; the answer is the first port in list order with the
/// status, whatever order the probes answer in: an open first port answers at
/// once, a silent first port decides only after its timeout. Once the answer
/// is known the probes still in flight are cancelled and their sockets closed.
/// The list is copied at initiation.
///
/// Completion signature:
/// `void(std::error_code ec, std::optional<std::uint16_t> port)`: std::nullopt
/// when no port has the status (an empty list too). Errors, cancellation,
/// thread-safety: as async_check_status. Running out of descriptors shrinks the
/// window and goes on.
template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_find_port_in_use(const Executor& ex, const port_list& ports,
                            const check_options& options,
                            CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_find_port_in_use(
    ExecutionContext& ctx, const port_list& ports, const check_options& options,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_find_port_in_use(const Executor& ex, const port_list& ports,
                            CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_find_port_in_use(
    ExecutionContext& ctx, const port_list& ports,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

/// As async_find_port_in_use, for the first port whose status is `closed`
/// (nothing listens). A filtered port is neither in use nor known to be free.
template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_find_port_not_in_use(
    const Executor& ex, const port_list& ports, const check_options& options,
    CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_find_port_not_in_use(
    ExecutionContext& ctx, const port_list& ports, const check_options& options,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_find_port_not_in_use(
    const Executor& ex, const port_list& ports,
    CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_find_port_not_in_use(
    ExecutionContext& ctx, const port_list& ports,
    CompletionToken&& token =
        asio::default_completion_token_t<typename ExecutionContext::executor_type>());

}  // namespace portprobe

#include <portprobe/impl/find.hpp>
