// portprobe/impl/get_port.hpp: the get-port operations' composed operation
// (behind async_get_port(), async_get_ports() and async_listen()) and the
// definitions of portprobe/get_port.hpp's templates.
//
// The operation is a thin shell around the compiled search engine
// (detail/get_port_engine.hpp): it starts the engine, which posts its first
// step (nothing is probed inside the initiating function, and the handler
// never runs there), with a one-shot completion that resumes the operation on
// its handler's associated executor, where it completes. Cancellation reaches
// the engine through the operation's cancellation slot; the claims and sockets
// held are given back before completing.
#pragma once

#include <cstdint>
#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <portprobe/detail/asio.hpp>

#include <portprobe/detail/get_port_engine.hpp>
#include <portprobe/detail/io_ready.hpp>

namespace portprobe {
namespace detail {

/// The engine's completion: resumes the composed operation on its handler's
/// associated executor. The engine calls it on the operation's I/O executor,
/// inside a handler of its own: when the handler's executor is that same one,
/// the operation resumes at once, else it is posted there.
template <typename Self, typename IoExecutor>
struct resume_on_handler_executor {
  Self self;
  IoExecutor io_ex;
  void operator()() {
    auto handler_ex = asio::get_associated_executor(self, io_ex);
    if constexpr (std::is_same_v<decltype(handler_ex), IoExecutor>) {
      if (handler_ex == io_ex) return self();
    }
    post_self(std::move(self), io_ex);
  }
};

/// one:    completes with void(error_code, std::uint16_t)
/// many:   completes with void(error_code, std::vector<std::uint16_t>)
/// listen: completes with void(error_code, asio::ip::tcp::acceptor) whose
///         executor is `io_ex`.
template <port_request Request, typename IoExecutor>
struct get_port_op {
  get_port_op(const IoExecutor& ex, const get_port_options& options, std::size_t count = 1)
      : io_ex(ex), search(std::make_shared<get_port_engine>(options, Request, count)) {}

  IoExecutor io_ex;
  std::shared_ptr<get_port_engine> search;  // shared with the engine's driver until it is done
  bool started = false;

  template <typename Self>
  void operator()(Self& self) {
    if (!started) {
      started = true;
      self.reset_cancellation_state(asio::enable_total_cancellation());
      // Take what is needed before `self` (and these members with it) moves.
      const asio::cancellation_slot slot = self.get_cancellation_state().slot();
      const std::shared_ptr<get_port_engine> engine = search;
      const IoExecutor ex = io_ex;
      start_get_port_engine(engine_executor(ex), engine, slot,
                            one_shot(resume_on_handler_executor<Self, IoExecutor>{std::move(self), ex}));
      return;
    }
    finish(self);
  }

 private:
  template <typename Self>
  void finish(Self& self) {
    error_code ec = caller_error(search->error());
    if constexpr (Request == port_request::listen) {
      // On the caller's executor; at EMFILE on a context that has no reactor
      // yet, a closed one of the library's spare context, with the error.
      error_code made;
      asio::ip::tcp::acceptor acceptor = make_acceptor(asio::any_io_executor(io_ex), made);
      if (!ec) ec = made;
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
