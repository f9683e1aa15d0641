// lib/address_walk.hpp: one port's walk over the addresses of a host, as plain
// code (no Asio, no sockets). The status engine connects to the address the
// walk names and tells it the outcome; the walk says which address comes next
// and, once it knows, the port's status:
//   open      as soon as one address accepts (later addresses are not tried);
//   closed    when every address refused;
//   filtered  otherwise: some address gave no answer (or was unreachable) and
//             none accepted.
// Tested without sockets in test/window_test.cpp.
#pragma once

#include <cstddef>
#include <optional>

#include <portprobe/status_types.hpp>

namespace portprobe::detail {

/// What a connect's outcome means for one address.
enum class connect_outcome {
  open,      ///< connected
  closed,    ///< refused (or reset, or a socket that met itself)
  filtered,  ///< no answer, unreachable, not permitted, family unusable
  resource,  ///< out of a resource of this machine (EMFILE, ENFILE, no local port): retry
  aborted,   ///< cancelled
  pending,   ///< still in flight: wait for the socket to become writable
};

class address_walk {
 public:
  /// A walk over `addresses` addresses (0 gives a walk that is already over,
  /// with the status closed: no address accepted).
  explicit address_walk(std::size_t addresses) noexcept : count_(addresses) {}

  /// The index of the address to connect to now, or nullopt once the status is known.
  std::optional<std::size_t> current() const noexcept {
    if (open_ || next_ >= count_) return std::nullopt;
    return next_;
  }

  /// The connect to current() ended with `outcome`: open, closed or filtered.
  /// Any other outcome (resource, aborted, pending) is the engine's to handle
  /// and must not be recorded; recorded anyway, it counts as filtered, never as
  /// an answer. Does nothing once the walk is over.
  void record(connect_outcome outcome) noexcept {
    if (!current()) return;
    if (outcome == connect_outcome::open) {
      open_ = true;
      return;
    }
    if (outcome != connect_outcome::closed) saw_filtered_ = true;
    ++next_;
  }

  /// Whether the status is known.
  bool done() const noexcept { return !current(); }

  /// The port's status. Meaningful once done().
  port_status status() const noexcept {
    if (open_) return port_status::open;
    return saw_filtered_ ? port_status::filtered : port_status::closed;
  }

 private:
  std::size_t count_;
  std::size_t next_ = 0;
  bool saw_filtered_ = false;
  bool open_ = false;
};

}  // namespace portprobe::detail
