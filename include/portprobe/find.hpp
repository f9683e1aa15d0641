// portprobe/find.hpp: the first port of a list that is in use, or not in use.
#pragma once

#include <cstdint>
#include <optional>
#include <system_error>

#include <portprobe/config.hpp>

#include <portprobe/ports.hpp>
#include <portprobe/status.hpp>

namespace portprobe {

/// The completion signature of async_find_port_in_use() and
/// async_find_port_not_in_use().
using find_signature = void(error_code, std::optional<std::uint16_t>);

/// Asynchronously finds the first port of `ports`, **in list order**, whose
/// status is `open` (in use).
///
/// Probes (see async_check_status()) run concurrently, at most
/// `options.concurrency` at a time, in a window that slides over the list; the
/// answer is the first port in list order with the status, whatever order the
/// probes answer in: an open first port answers at once, a silent first port
/// decides only after its timeout. Once the answer is known the probes still
/// in flight are cancelled and their sockets closed. Running out of
/// descriptors shrinks the window and goes on.
///
/// @param ex      An executor, or an execution context whose executor is used.
/// @param ports   The ports, in the order that decides; copied before this returns.
/// @param options Where and how to probe; copied before this returns.
/// @param token   Any completion token for find_signature.
///
/// @par Completion signature
/// `void(error_code ec, std::optional<std::uint16_t> port)`: std::nullopt
/// when no port has the status (an empty list too). Errors as for
/// async_check_status().
///
/// @par Inside the initiating function
/// The first probes may be made at once when the caller runs on `ex`'s
/// context (a host name is resolved asynchronously first); the handler is
/// never invoked from within this function.
///
/// @par Executor
/// The probes run on a strand over `ex`; the handler runs on its associated
/// executor, else on `ex`, after every probe socket is closed.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: completes with operation_aborted and
/// std::nullopt, every probe socket closed.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns; `ex`'s context
/// must outlive the operation. Any number may run at once, on any executors
/// and threads; each has its own strand.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<find_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_find_port_in_use(ExecutorOrContext&& ex, const port_list& ports,
                            const check_options& options,
                            CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

/// Asynchronously finds the first port of `ports`, in list order, that is open
/// on 127.0.0.1: async_find_port_in_use() with default options (400 ms
/// timeout per probe, 256 probes at once).
///
/// @param ex    An executor, or an execution context whose executor is used.
/// @param ports The ports, in the order that decides; copied before this returns.
/// @param token Any completion token for find_signature.
///
/// @par Completion signature
/// `void(error_code ec, std::optional<std::uint16_t> port)`: std::nullopt
/// when no port is open. Errors: EMFILE with nothing in flight,
/// operation_aborted.
///
/// @par Inside the initiating function
/// The first probes may be made at once when the caller runs on `ex`'s
/// context (a host name is resolved asynchronously first); the handler is
/// never invoked from within this function.
///
/// @par Executor
/// The probes run on a strand over `ex`; the handler runs on its associated
/// executor, else on `ex`, after every probe socket is closed.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: completes with operation_aborted and
/// std::nullopt, every probe socket closed.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns; `ex`'s context
/// must outlive the operation. Any number may run at once, on any executors
/// and threads; each has its own strand.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<find_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_find_port_in_use(ExecutorOrContext&& ex, const port_list& ports,
                            CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

/// Asynchronously finds the first port of `ports`, **in list order**, whose
/// status is `closed` (nothing listens): as async_find_port_in_use(), for the
/// other status. A filtered port is neither in use nor known to be free.
///
/// @param ex      An executor, or an execution context whose executor is used.
/// @param ports   The ports, in the order that decides; copied before this returns.
/// @param options Where and how to probe; copied before this returns.
/// @param token   Any completion token for find_signature.
///
/// @par Completion signature
/// `void(error_code ec, std::optional<std::uint16_t> port)`: std::nullopt
/// when no port is closed (an empty list too). Errors as for
/// async_check_status().
///
/// @par Inside the initiating function
/// The first probes may be made at once when the caller runs on `ex`'s
/// context (a host name is resolved asynchronously first); the handler is
/// never invoked from within this function.
///
/// @par Executor
/// The probes run on a strand over `ex`; the handler runs on its associated
/// executor, else on `ex`, after every probe socket is closed.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: completes with operation_aborted and
/// std::nullopt, every probe socket closed.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns; `ex`'s context
/// must outlive the operation. Any number may run at once, on any executors
/// and threads; each has its own strand.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<find_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_find_port_not_in_use(
    ExecutorOrContext&& ex, const port_list& ports, const check_options& options,
    CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

/// Asynchronously finds the first port of `ports`, in list order, that is
/// closed on 127.0.0.1: async_find_port_not_in_use() with default options.
///
/// @param ex    An executor, or an execution context whose executor is used.
/// @param ports The ports, in the order that decides; copied before this returns.
/// @param token Any completion token for find_signature.
///
/// @par Completion signature
/// `void(error_code ec, std::optional<std::uint16_t> port)`: std::nullopt
/// when no port is closed. Errors: EMFILE with nothing in flight,
/// operation_aborted.
///
/// @par Inside the initiating function
/// The first probes may be made at once when the caller runs on `ex`'s
/// context (a host name is resolved asynchronously first); the handler is
/// never invoked from within this function.
///
/// @par Executor
/// The probes run on a strand over `ex`; the handler runs on its associated
/// executor, else on `ex`, after every probe socket is closed.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: completes with operation_aborted and
/// std::nullopt, every probe socket closed.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns; `ex`'s context
/// must outlive the operation. Any number may run at once, on any executors
/// and threads; each has its own strand.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<find_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_find_port_not_in_use(
    ExecutorOrContext&& ex, const port_list& ports,
    CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

}  // namespace portprobe

#include <portprobe/impl/find.hpp>
