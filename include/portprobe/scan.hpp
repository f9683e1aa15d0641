// portprobe/scan.hpp: the status of every port of a list.
#pragma once

#include <cstdint>
#include <system_error>
#include <vector>

#include <portprobe/ports.hpp>
#include <portprobe/status.hpp>

namespace portprobe {

/// Asynchronously probes every port of `ports` and reports each, in list order.
///
/// This function always returns immediately. Probes (see async_check_status)
/// run concurrently, at most `options.concurrency` at a time; running out of
/// descriptors (EMFILE/ENFILE) shrinks the window and goes on: slower, never a
/// wrong status. Completion signature:
/// `void(std::error_code ec, std::vector<portprobe::port_report> reports)`,
/// one report per port of the list, in its order (empty on error). Errors,
/// cancellation, thread-safety: as async_check_status.
template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_scan(const Executor& ex, const port_list& ports, const check_options& options,
                CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_scan(ExecutionContext& ctx, const port_list& ports, const check_options& options,
                CompletionToken&& token =
                    asio::default_completion_token_t<typename ExecutionContext::executor_type>());

template <detail::executor_like Executor,
          detail::token_like CompletionToken = asio::default_completion_token_t<Executor>>
auto async_scan(const Executor& ex, const port_list& ports,
                CompletionToken&& token = asio::default_completion_token_t<Executor>());

template <detail::context_like ExecutionContext,
          detail::token_like CompletionToken =
              asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto async_scan(ExecutionContext& ctx, const port_list& ports,
                CompletionToken&& token =
                    asio::default_completion_token_t<typename ExecutionContext::executor_type>());

}  // namespace portprobe

#include <portprobe/impl/scan.hpp>
