// portprobe/detail/finder.hpp: one get-port search, driven by the composed
// operation of async_get_port()/async_listen(). Compiled in lib/.
#pragma once

#include <cstdint>
#include <memory>
#include <system_error>

#include <asio/ip/tcp.hpp>

namespace portprobe {
struct get_port_options;
}  // namespace portprobe

namespace portprobe::detail {

class finder {
 public:
  /// Validates and copies `options`. `listen`: keep the chosen port's socket
  /// open, listening on `host` (127.0.0.1 when `host` is empty).
  finder(const get_port_options& options, bool listen);
  finder(finder&&) noexcept;
  finder& operator=(finder&&) noexcept;
  ~finder();  // closes a socket not taken

  /// Set for bad options from the start, or once finished with an error.
  std::error_code error() const noexcept;

  /// On the registry strand only: probes up to a batch of ports. Returns true
  /// once finished (a port found and locked, or error() set).
  bool run();

  /// On the registry strand only: undoes a result (unlocks the port, closes the
  /// socket). Returns whether there was anything to undo.
  bool abandon();

  /// Whether the search is over (run() returned true, or abandon() ran).
  bool finished() const noexcept;

  /// Whether a found port is held (locked and/or its socket kept).
  bool holds_result() const noexcept;

  std::uint16_t port() const noexcept;
  /// The kept listening socket (listen mode) and its protocol; the caller owns it.
  int take_socket() noexcept;
  asio::ip::tcp protocol() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace portprobe::detail
