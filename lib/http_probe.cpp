// lib/http_probe.cpp: the HTTP probe of lib/http_probe.hpp, a small composed
// operation: resolve, connect (each address in turn), write the request, read
// up to the end of the status line; a timer bounds all of it. Everything runs
// on a strand over the caller's executor; the completion runs once both the
// exchange and the timer have settled and the socket is closed.
#include "http_probe.hpp"

#include <portprobe/detail/io_ready.hpp>

#include <cctype>
#include <utility>

#include "asio_lib.hpp"

namespace portprobe::detail {

int parse_http_status_line(const std::string& line) noexcept {
  // "HTTP/1.x NNN[ reason]"
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 ||
      !std::isdigit(static_cast<unsigned char>(line[7])) || line[8] != ' ') {
    return 0;
  }
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return 0;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return 0;
  if (line.size() > 12 && line[12] != ' ' && line[12] != '\r') return 0;
  return status;
}

namespace {

/// The longest status line read before the answer counts as not HTTP.
constexpr std::size_t max_line = 8192;

class http_probe : public std::enable_shared_from_this<http_probe> {
 public:
  http_probe(const asio::any_io_executor& ex, http_request request,
             std::chrono::milliseconds timeout, std::shared_ptr<http_result> result, one_shot done)
      : strand_(asio::make_strand(ex)),
        resolver_(strand_),
        socket_(strand_),
        timer_(strand_),
        request_(std::move(request)),
        timeout_(timeout),
        result_(std::move(result)),
        done_(std::move(done)) {}

  void start(asio::cancellation_slot slot) {
    if (slot.is_connected()) {
      slot.assign([weak = weak_from_this(), strand = strand_](asio::cancellation_type) {
        asio::dispatch(strand, [weak] {
          if (auto self = weak.lock()) self->stop(asio::error::operation_aborted);
        });
      });
    }
    asio::post(strand_, [self = shared_from_this()] { self->begin(); });
  }

 private:
  void begin() {
    pending_ = 2;  // the exchange and the timer
    timer_.expires_after(timeout_);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->stop(asio::error::timed_out);
      self->settle();
    });
    const std::string host = request_.host;
    resolver_.async_resolve(
        host, std::to_string(request_.port),
        [self = shared_from_this()](error_code ec,
                                    const asio::ip::tcp::resolver::results_type& results) {
          if (ec) return self->end(ec);
          if (self->stopped_) return self->end({});
          asio::async_connect(self->socket_, results,
                              [self](error_code e, const asio::ip::tcp::endpoint&) {
                                if (e) return self->end(e);
                                self->send();
                              });
        });
  }

  void send() {
    if (stopped_) return end({});
    const std::string host =
        request_.host.find(':') != std::string::npos ? "[" + request_.host + "]" : request_.host;
    text_ = "GET " + request_.path + " HTTP/1.1\r\nHost: " + host + ":" +
            std::to_string(request_.port) +
            "\r\nUser-Agent: portprobe\r\nAccept: */*\r\nConnection: close\r\n\r\n";
    asio::async_write(socket_, asio::buffer(text_),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (ec) return self->end(ec);
                        self->receive();
                      });
  }

  void receive() {
    if (stopped_) return end({});
    line_.clear();
    asio::async_read_until(socket_, asio::dynamic_buffer(line_, max_line), "\r\n",
                           [self = shared_from_this()](error_code ec, std::size_t n) {
                             if (ec == asio::error::not_found) {
                               return self->end(asio::error::invalid_argument);  // no line: not HTTP
                             }
                             if (ec) return self->end(ec);
                             const int status = parse_http_status_line(self->line_.substr(0, n));
                             if (status == 0) return self->end(asio::error::invalid_argument);
                             self->result_->status = status;
                             self->end({});
                           });
  }

  // The exchange is over (`ec` its error, unless stop() gave one first).
  void end(error_code ec) {
    if (!stopped_) {
      stopped_ = true;
      result_->ec = ec;
    }
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    settle();
  }

  // Ends the exchange early: its pending step then completes with an error.
  void stop(error_code why) {
    if (stopped_) return;
    stopped_ = true;
    result_->ec = why;
    resolver_.cancel();
    error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

  // Both the exchange and the timer are over (end() closed the socket).
  void settle() {
    if (--pending_ != 0) return;
    one_shot done = std::move(done_);
    done();
  }

  asio::strand<asio::any_io_executor> strand_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  http_request request_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<http_result> result_;
  one_shot done_;
  std::string text_;
  std::string line_;
  int pending_ = 0;
  bool stopped_ = false;
};

}  // namespace

void start_http_probe(const asio::any_io_executor& ex, http_request request,
                      std::chrono::milliseconds timeout, std::shared_ptr<http_result> result,
                      asio::cancellation_slot slot, one_shot done) {
  // No socket or timer can be made on a context without its reactor (EMFILE):
  // the result says why, after this call returns.
  if (const error_code no_io = io_ready(ex)) {
    result->ec = no_io;
    asio::post(ex, [done = std::move(done)]() mutable { done(); });
    return;
  }
  std::make_shared<http_probe>(ex, std::move(request), timeout, std::move(result), std::move(done))
      ->start(slot);
}

}  // namespace portprobe::detail
