// portprobe/detail/get_port_engine.hpp: one get-port search, the engine behind
// async_get_port(), async_get_ports() and async_listen(), compiled once in
// lib/get_port_engine.cpp. start_get_port_engine() drives it through its two
// kinds of step: probes on the caller's I/O executor (socket, bind, listen,
// close) and claims and releases on the process's lock registry (its own
// strand, O(1) each). A pick is: check this process's locks, claim the shared
// slot, probe, then keep the claim or release it; an OS pick is probed first
// and claimed after. The header-side operation (impl/get_port.hpp) only starts
// it and completes on the handler's executor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <type_traits>
#include <vector>

#include <portprobe/detail/asio.hpp>

#include <portprobe/detail/completion.hpp>

namespace portprobe {
struct get_port_options;
}  // namespace portprobe

namespace portprobe::detail {

/// What the operation hands back.
enum class port_request {
  one,     ///< one port number
  many,    ///< `count` distinct port numbers, all or nothing
  listen,  ///< one port, with its listening socket kept open
};

class get_port_engine;
PORTPROBE_API void start_get_port_engine(const asio::any_io_executor& ex,
                           std::shared_ptr<get_port_engine> engine, asio::cancellation_slot slot,
                           one_shot done);
PORTPROBE_API void start_get_port_engine(const asio::io_context::executor_type& ex,
                           std::shared_ptr<get_port_engine> engine, asio::cancellation_slot slot,
                           one_shot done);

class PORTPROBE_API get_port_engine {
 public:
  /// Validates and copies `options` (nothing else: no probe, no registry).
  get_port_engine(const get_port_options& options, port_request request, std::size_t count = 1);
  get_port_engine(const get_port_engine&) = delete;
  get_port_engine& operator=(const get_port_engine&) = delete;
  ~get_port_engine();  // closes a socket not taken; gives back claims not handed over

  error_code error() const noexcept;
  /// The ports found, in order (empty on error).
  const std::vector<std::uint16_t>& ports() const noexcept;
  /// On success, once the operation has taken ports() (and the socket): the
  /// locks are the caller's now, not given back when the get_port_engine is destroyed.
  /// (A get_port_engine destroyed before completing gives back what it holds.)
  void hand_over() noexcept;
  /// The kept listening socket (listen mode), still the get_port_engine's.
  int socket() const noexcept;
  /// The kept listening socket, the caller's from now on; and its protocol.
  int take_socket() noexcept;
  asio::ip::tcp protocol() const noexcept;

 private:
  friend void start_get_port_engine(const asio::any_io_executor&, std::shared_ptr<get_port_engine>,
                                    asio::cancellation_slot, one_shot);
  friend void start_get_port_engine(const asio::io_context::executor_type&,
                                    std::shared_ptr<get_port_engine>, asio::cancellation_slot,
                                    one_shot);
  static void start(std::shared_ptr<get_port_engine> engine, asio::cancellation_slot slot,
                    one_shot done);
  /// One step on the caller's executor, then a registry visit if the search
  /// asks for one, and the next step posted back; or `done`.
  static void drive(std::shared_ptr<get_port_engine> self, one_shot done);
  /// Posts the next drive() to the caller's executor.
  static void post_drive(std::shared_ptr<get_port_engine> self, one_shot done);
  enum class need {
    registry,  ///< run on_registry() on the registry's strand, then advance() again
    done,      ///< finished: error(), or ports() (and take_socket())
  };
  /// On the caller's executor: probes until the search needs the registry or is over.
  need advance() noexcept;
  /// On the registry's strand only: the releases and the claim that advance() asked for.
  void on_registry() noexcept;
  /// Cancelled: the next advance() gives back every claim and socket, and the
  /// search ends with asio::error::operation_aborted.
  void cancel() noexcept;

  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Runs `engine`'s search: its first step posted to `ex` (nothing runs within
/// this call), its probes on `ex`, its registry visits on the registry's
/// strand. A cancellation emitted on `slot` (if connected) is seen at the next
/// step: the search then gives back what it holds and ends with
/// asio::error::operation_aborted. `done` runs once, on `ex`, when the search is
/// over; then `engine` holds the result. Destroyed unrun (its executor's
/// context destroyed first), `done` is destroyed and the engine, once its last
/// owner lets go, gives its claims back.
PORTPROBE_API void start_get_port_engine(const asio::any_io_executor& ex,
                           std::shared_ptr<get_port_engine> engine, asio::cancellation_slot slot,
                           one_shot done);
/// The same for a plain io_context's executor, posted to without type erasure.
PORTPROBE_API void start_get_port_engine(const asio::io_context::executor_type& ex,
                           std::shared_ptr<get_port_engine> engine, asio::cancellation_slot slot,
                           one_shot done);

/// The executor the engine is given: a plain io_context's as it is, any other
/// type-erased.
template <typename IoExecutor>
decltype(auto) engine_executor(const IoExecutor& ex) {
  if constexpr (std::is_same_v<IoExecutor, asio::io_context::executor_type>) {
    return (ex);
  } else {
    return asio::any_io_executor(ex);
  }
}

}  // namespace portprobe::detail
