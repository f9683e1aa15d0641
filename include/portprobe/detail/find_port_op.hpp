// portprobe/detail/find_port_op.hpp: the composed operation behind
// async_get_port() and async_listen().
//
// The search itself runs on the lock registry's strand, a batch of probes at a
// time (inline on the caller's thread when the strand is idle), so that checking
// a lock, probing and taking the lock are one atomic step for the process.
// Between batches and before completing it posts back to the caller's
// executor: the handler never runs inside the initiating function, and a
// cancellation is seen between batches.
#pragma once

#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>

#include <asio/bind_executor.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <portprobe/detail/finder.hpp>
#include <portprobe/detail/probe.hpp>
#include <portprobe/detail/registry.hpp>

namespace portprobe::detail {

/// Listen = false: completes with void(std::error_code, std::uint16_t).
/// Listen = true:  completes with void(std::error_code, asio::ip::tcp::acceptor)
///                 whose executor is `io_ex`.
template <bool Listen, typename IoExecutor>
struct find_port_op {
  find_port_op(const IoExecutor& ex, const get_port_options& options)
      : io_ex(ex), search(std::make_unique<finder>(options, Listen)) {}

  IoExecutor io_ex;
  std::unique_ptr<finder> search;  // on the heap: the strand works on it while `self` moves
  enum class state { start, between, done } next = state::start;

  template <typename Self>
  void operator()(Self& self) {
    switch (next) {
      case state::start:
        self.reset_cancellation_state(asio::enable_total_cancellation());
        if (search->error()) {
          next = state::done;
          asio::post(std::move(self));
          return;
        }
        return visit(self, false);

      case state::between:  // back on the caller's executor after a visit
        if (!search->finished()) return visit(self, cancelled(self));
        next = state::done;
        [[fallthrough]];

      case state::done:
        if (cancelled(self) && search->holds_result()) {
          return visit(self, true);  // cancelled after the port was found: undo it first
        }
        finish(self);
        return;
    }
  }

 private:
  // One visit of the registry's strand: a batch of the search, or undoing it.
  // `self` is carried there and posted back, never invoked off the caller's
  // executor (its cancellation state belongs to the caller's side).
  template <typename Self>
  void visit(Self& self, bool abandon) {
    next = state::between;
    finder* f = search.get();
    asio::dispatch(registry_executor(), [f, abandon, self = std::move(self)]() mutable {
      if (abandon) {
        f->abandon();
      } else {
        f->run();
      }
      asio::post(std::move(self));
    });
  }

  template <typename Self>
  static bool cancelled(Self& self) {
    return self.get_cancellation_state().cancelled() != asio::cancellation_type::none;
  }

  template <typename Self>
  void finish(Self& self) {
    std::error_code ec = cancelled(self) ? std::error_code(asio::error::operation_aborted)
                                         : search->error();
    if constexpr (Listen) {
      asio::ip::tcp::acceptor acceptor(io_ex);
      if (!ec) {
        const std::uint16_t port = search->port();
        const asio::ip::tcp protocol = search->protocol();
        const int fd = search->take_socket();
        acceptor.assign(protocol, fd, ec);
        if (ec) {  // rare: the reactor refused the socket
          close_socket(fd);
          release_port(port);
        }
      }
      self.complete(ec, std::move(acceptor));
    } else {
      self.complete(ec, ec ? std::uint16_t{0} : search->port());
    }
  }
};

}  // namespace portprobe::detail
