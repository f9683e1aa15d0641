// portprobe/detail/get_port_engine.hpp: one get-port search, driven by the composed
// operation of async_get_port(), async_get_ports() and async_listen().
// Compiled in lib/.
//
// The operation alternates two kinds of step: advance() on the caller's
// executor (the probes: socket, bind, listen, close) and on_registry() on the
// registry's strand (claims and releases, O(1) each). A pick is: check this
// process's locks, claim the shared slot, probe, then keep the claim or
// release it; an OS pick is probed first and claimed after.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include <asio/ip/tcp.hpp>

#include <portprobe/detail/registry.hpp>

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

class get_port_engine {
 public:
  /// Validates and copies `options` (nothing else: no probe, no registry).
  get_port_engine(const get_port_options& options, port_request request, std::size_t count = 1);
  get_port_engine(get_port_engine&&) noexcept;
  get_port_engine& operator=(get_port_engine&&) noexcept;
  ~get_port_engine();  // closes a socket not taken; gives back claims not handed over

  enum class need {
    registry,  ///< run on_registry() on strand(), then advance() again
    done,      ///< finished: error(), or ports() (and take_socket())
  };

  /// On the caller's executor: probes until the search needs the registry or
  /// is over.
  need advance() noexcept;
  /// On strand() only: the releases and the claim that advance() asked for.
  void on_registry() noexcept;
  /// The registry's strand (valid once advance() has returned need::registry).
  const registry_strand& strand() const noexcept;

  /// Cancelled: the next advance() gives back every claim and socket, and the
  /// search ends with asio::error::operation_aborted.
  void cancel() noexcept;

  std::error_code error() const noexcept;
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
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace portprobe::detail
