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
#include <system_error>
#include <utility>

#include <asio/bind_executor.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <portprobe/detail/finder.hpp>
#include <portprobe/detail/registry.hpp>

namespace portprobe::detail {

/// Listen = false: completes with void(std::error_code, std::uint16_t).
/// Listen = true:  completes with void(std::error_code, asio::ip::tcp::acceptor)
///                 whose executor is `io_ex`.
template <bool Listen, typename IoExecutor>
struct find_port_op {
  IoExecutor io_ex;
  finder search;
  enum class state { start, on_strand, between, done } next = state::start;

  template <typename Self>
  void operator()(Self& self) {
    switch (next) {
      case state::start:
        self.reset_cancellation_state(asio::enable_total_cancellation());
        if (search.error()) {
          next = state::done;
          asio::post(std::move(self));
          return;
        }
        next = state::on_strand;
        asio::dispatch(asio::bind_executor(registry_executor(), std::move(self)));
        return;

      case state::on_strand:
        if (cancelled(self)) {
          search.abandon();
          next = state::done;
        } else {
          next = search.run() ? state::done : state::between;
        }
        asio::post(std::move(self));  // leave the strand for the caller's executor
        return;

      case state::between:
        next = state::on_strand;
        asio::dispatch(asio::bind_executor(registry_executor(), std::move(self)));
        return;

      case state::done:
        if (cancelled(self) && search.holds_result()) {
          // Cancelled after the port was found: unlock it on the strand first.
          next = state::on_strand;
          asio::dispatch(asio::bind_executor(registry_executor(), std::move(self)));
          return;
        }
        finish(self);
        return;
    }
  }

 private:
  template <typename Self>
  static bool cancelled(Self& self) {
    return self.get_cancellation_state().cancelled() != asio::cancellation_type::none;
  }

  template <typename Self>
  void finish(Self& self) {
    std::error_code ec = cancelled(self) ? std::error_code(asio::error::operation_aborted)
                                         : search.error();
    if constexpr (Listen) {
      asio::ip::tcp::acceptor acceptor(io_ex);
      if (!ec) {
        const std::uint16_t port = search.port();
        const asio::ip::tcp protocol = search.protocol();
        acceptor.assign(protocol, search.take_socket(), ec);
        if (ec) release_port(port);  // rare: the reactor refused the socket
      }
      self.complete(ec, std::move(acceptor));
    } else {
      self.complete(ec, ec ? std::uint16_t{0} : search.port());
    }
  }
};

}  // namespace portprobe::detail
