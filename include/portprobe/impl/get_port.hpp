// portprobe/impl/get_port.hpp: the get-port operations' composed operation
// (behind async_get_port(), async_get_ports() and async_listen()) and the
// definitions of portprobe/get_port.hpp's templates.
//
// The operation alternates the search engine's two kinds of step (compiled in
// lib/get_port_engine.cpp): probes on the caller's executor (the handler's
// associated executor), and claims and releases on the registry's strand,
// entered with asio::dispatch (inline when the strand is idle) and left with
// asio::post back to the caller's executor. The first step is posted: nothing
// is probed inside the initiating function, and the handler never runs there.
// A cancellation is seen after every step; the claims and sockets held are
// given back before completing.
#pragma once

#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/cancellation_state.hpp>
#include <asio/compose.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <portprobe/detail/get_port_engine.hpp>

namespace portprobe {
namespace detail {

/// one:    completes with void(std::error_code, std::uint16_t)
/// many:   completes with void(std::error_code, std::vector<std::uint16_t>)
/// listen: completes with void(std::error_code, asio::ip::tcp::acceptor) whose
///         executor is `io_ex`.
template <port_request Request, typename IoExecutor>
struct get_port_op {
  get_port_op(const IoExecutor& ex, const get_port_options& options, std::size_t count = 1)
      : io_ex(ex), search(std::make_unique<get_port_engine>(options, Request, count)) {}

  IoExecutor io_ex;
  std::unique_ptr<get_port_engine> search;  // on the heap: the strand works on it while `self` moves
  bool started = false;

  template <typename Self>
  void operator()(Self& self) {
    if (!started) {
      started = true;
      self.reset_cancellation_state(asio::enable_total_cancellation());
      asio::post(std::move(self));
      return;
    }
    if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none) {
      search->cancel();
    }
    if (search->advance() == get_port_engine::need::registry) {
      // `self` is carried to the strand and posted back, never invoked off the
      // caller's executor (its cancellation state belongs to the caller's side).
      get_port_engine* f = search.get();
      asio::dispatch(f->strand(), [f, self = std::move(self)]() mutable {
        f->on_registry();
        asio::post(std::move(self));
      });
      return;
    }
    finish(self);
  }

 private:
  template <typename Self>
  void finish(Self& self) {
    std::error_code ec = search->error();
    if constexpr (Request == port_request::listen) {
      asio::ip::tcp::acceptor acceptor(io_ex);
      if (!ec) {
        acceptor.assign(search->protocol(), search->socket(), ec);
        if (!ec) {
          (void)search->take_socket();
          search->hand_over();
        }
        // Else (rare: the reactor refused the socket) the get_port_engine, reset below,
        // closes the socket and gives its claim back.
      }
      search.reset();
      self.complete(ec, std::move(acceptor));
    } else if constexpr (Request == port_request::many) {
      std::vector<std::uint16_t> ports = ec ? std::vector<std::uint16_t>() : search->ports();
      search->hand_over();
      search.reset();
      self.complete(ec, std::move(ports));
    } else {
      const std::uint16_t port = ec ? std::uint16_t{0} : search->ports().front();
      search->hand_over();
      search.reset();
      self.complete(ec, port);
    }
  }
};

/// Starts a get_port_op on the executor of `ex`.
template <port_request Request, typename Signature, typename ExecutorOrContext,
          typename CompletionToken>
auto start_get_port_op(ExecutorOrContext& ex, const get_port_options& options, std::size_t count,
                       CompletionToken& token) {
  using executor_type = executor_of_t<ExecutorOrContext>;
  const executor_type io_ex = executor_of(ex);
  return asio::async_compose<CompletionToken, Signature>(
      get_port_op<Request, executor_type>(io_ex, options, count), token, io_ex);
}

}  // namespace detail

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<get_port_signature> CompletionToken>
auto async_get_port(ExecutorOrContext&& ex, const get_port_options& options,
                    CompletionToken&& token) {
  return detail::start_get_port_op<detail::port_request::one, get_port_signature>(ex, options, 1,
                                                                                  token);
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<get_port_signature> CompletionToken>
auto async_get_port(ExecutorOrContext&& ex, CompletionToken&& token) {
  return async_get_port(ex, get_port_options{}, std::forward<CompletionToken>(token));
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<get_ports_signature> CompletionToken>
auto async_get_ports(ExecutorOrContext&& ex, std::size_t count, const get_port_options& options,
                     CompletionToken&& token) {
  return detail::start_get_port_op<detail::port_request::many, get_ports_signature>(
      ex, options, count, token);
}

}  // namespace portprobe
