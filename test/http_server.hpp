// test/http_server.hpp: a real little HTTP server on 127.0.0.1 (a port the OS
// chose), on a thread of its own, for the HTTP probe's tests: it answers every
// request with one status, or, `silent`, accepts and never answers. It keeps
// the requests it read. Plain POSIX sockets; every wait is bounded, and the
// destructor stops and joins the thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

namespace test {

class http_server {
 public:
  static constexpr int silent = 0;  ///< accept, read the request, never answer

  /// `status`: the answer's status code, or `silent`; `body`: what follows the
  /// headers (`raw`: the whole answer as given, not HTTP at all if so made).
  explicit http_server(int status, std::string raw = "") : status_(status), raw_(std::move(raw)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 64) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    REQUIRE(::pipe2(stop_, O_CLOEXEC) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;
  ~http_server() {
    const char c = 'x';
    (void)!::write(stop_[1], &c, 1);
    thread_.join();
    for (int fd : held_) ::close(fd);
    ::close(fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }

  std::uint16_t port() const { return port_; }
  /// Whether `n` connections have been answered and closed on the server's
  /// side (its descriptors are gone) within `limit`.
  bool wait_closed(std::size_t n, std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return closed_changed_.wait_for(lock, limit, [&] { return closed_ >= n; });
  }
  /// The requests read so far, each up to its blank line.
  std::vector<std::string> requests() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    for (int round = 0; round < 100000; ++round) {  // bounded; ends at the stop byte
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(fds, 2, 30000) <= 0 || fds[1].revents != 0) return;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string request;
      for (int reads = 0; reads < 64 && request.find("\r\n\r\n") == std::string::npos; ++reads) {
        pollfd in[2] = {{c, POLLIN, 0}, {stop_[0], POLLIN, 0}};
        if (::poll(in, 2, 5000) <= 0 || in[1].revents != 0) break;
        char buf[1024];
        const ssize_t got = ::read(c, buf, sizeof buf);
        if (got <= 0) break;
        request.append(buf, static_cast<std::size_t>(got));
      }
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(request);
      }
      if (status_ == silent) {
        held_.push_back(c);  // open, unanswered, until the server ends
        continue;
      }
      const std::string answer =
          !raw_.empty() ? raw_
                        : "HTTP/1.1 " + std::to_string(status_) +
                              " Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      (void)!::write(c, answer.data(), answer.size());
      ::close(c);
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        ++closed_;
      }
      closed_changed_.notify_all();
    }
  }

  int status_;
  std::string raw_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::vector<int> held_;  // the serving thread's only
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::size_t closed_ = 0;  // connections answered and closed
  std::condition_variable closed_changed_;
  std::thread thread_;
};

}  // namespace test
