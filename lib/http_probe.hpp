// lib/http_probe.hpp: one plain HTTP/1.1 GET, for `portprobe wait http://...`
// (private to the library and its command; compiled once in lib/http_probe.cpp).
//
// The probe resolves the host, connects to its addresses in turn, sends
//   GET PATH HTTP/1.1 / Host: HOST:PORT / Connection: close
// and reads the status line of the answer. No TLS. The whole exchange is
// bounded by one timeout: a server that accepts and never answers is a
// timeout, not an answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

#include "asio_lib.hpp"

#include <portprobe/detail/completion.hpp>

namespace portprobe::detail {

struct http_request {
  std::string host;  ///< an IP address or a name
  std::uint16_t port = 80;
  std::string path = "/";
};

struct http_result {
  error_code ec;  ///< the resolver's, the connect's or the read's error; timed_out
  int status = 0;      ///< the answer's status code (100-999), once one was read
};

/// Whether an answer's status means "ready": 2xx or 3xx.
constexpr bool http_ready(int status) noexcept { return status >= 200 && status < 400; }

/// Sends the request on `ex` and reads the answer's status line into `*result`
/// (asio::error::timed_out past `timeout`; an answer that is not HTTP:
/// asio::error::invalid_argument). A cancellation emitted on `slot` (if
/// connected) ends it with operation_aborted. `done` runs once, on `ex`, never
/// within this call, after its socket is closed.
void start_http_probe(const asio::any_io_executor& ex, http_request request,
                      std::chrono::milliseconds timeout, std::shared_ptr<http_result> result,
                      asio::cancellation_slot slot, one_shot done);

/// The status code of an HTTP/1.x status line ("HTTP/1.1 200 OK"), or 0 when
/// `line` is not one.
int parse_http_status_line(const std::string& line) noexcept;

}  // namespace portprobe::detail
