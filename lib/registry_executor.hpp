// lib/registry_executor.hpp: how operations reach the process-wide lock
// registry (lib/registry.hpp holds the registry itself). Private to the
// library: the get-port engine (lib/get_port_engine.cpp) enters the strand.
//
// The registry's state is touched only on its strand, an asio::strand over
// registry_executor. That executor runs work that may run at once inline on
// the calling thread (so entering an idle strand with asio::dispatch costs no
// thread hop), and work that must not (the strand handing itself over to
// the next queued visit, the registry's timer) on the registry's own thread,
// an io_context of its own started on first need. Nothing of it lives on a
// caller's io_context, so it never keeps a caller's run() from returning, and
// it owes nothing to asio::system_context (whose threads a forked child lacks).
// Each visit only checks, claims, confirms or releases entries: O(1), no system
// call but an atomic on the shared lease table.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "asio_lib.hpp"

namespace portprobe::detail {

/// A caller's execution context, as the registry's strand sees it: a service
/// of that context, made on the caller's thread when an operation starts, and
/// its state, shared with every get-port search on that context. A search
/// counts itself in before it enters the registry's strand; the visit posts
/// the next step to the context under the state's mutex, and counts itself
/// out. The context's destruction shuts the service down first: it marks the
/// state, then waits (under the same mutex, a few seconds at most) until no
/// visit is in flight. So no post begins once destruction has begun, a post
/// under way (still waking a thread of the context) ends before it goes on,
/// and a step dropped because destruction has begun is destroyed, with the
/// operation it carries, while the context's scheduler still exists.
class registry_link final : public asio::execution_context::service {
 public:
  struct state {
    std::mutex mutex;
    std::condition_variable idle;
    bool shut_down = false;
    long in_flight = 0;
    unsigned generation = 0;  // the fork generation in_flight counts in
  };

  static asio::execution_context::id id;
  explicit registry_link(asio::execution_context& context)
      : service(context), state_(std::make_shared<state>()) {}

  /// The shared state of `context`'s link, made if need be (on the caller's thread).
  static std::shared_ptr<state> of(asio::execution_context& context) {
    return asio::use_service<registry_link>(context).state_;
  }

  /// Before a visit to the registry's strand.
  static void enter(state& s) {
    const std::lock_guard<std::mutex> lock(s.mutex);
    renew(s);
    ++s.in_flight;
  }

  /// At the end of that visit: runs `post` (which posts the next step to the
  /// context) unless the context is being destroyed, else `drop` (which
  /// destroys the step), both under the mutex; then counts the visit out.
  template <typename Post, typename Drop>
  static void leave(state& s, Post&& post, Drop&& drop) {
    const std::lock_guard<std::mutex> lock(s.mutex);
    renew(s);
    if (s.shut_down) {
      std::forward<Drop>(drop)();
    } else {
      std::forward<Post>(post)();
    }
    if (s.in_flight > 0 && --s.in_flight == 0) s.idle.notify_all();
  }

 private:
  /// In a forked child, visits counted in the parent (on a registry thread
  /// the child lacks) are not waited for.
  static void renew(state& s) noexcept;

  void shutdown() override;

  std::shared_ptr<state> state_;
};

/// The registry's execution context: an io_context and, once needed, the one
/// thread that runs it. Created with its registry (a forked child gets new ones).
class registry_host {
 public:
  registry_host() = default;
  ~registry_host();  // stops and joins the thread (the process's registry is never destroyed)
  registry_host(const registry_host&) = delete;
  registry_host& operator=(const registry_host&) = delete;

  asio::io_context& io() noexcept { return io_; }

  /// Starts the thread if it is not running yet (all signals blocked in it).
  /// False when it cannot be started (no thread to be had): the caller then
  /// runs the work itself.
  bool ensure_thread() noexcept;

 private:
  asio::io_context io_{1};
  std::atomic<bool> running_{false};
  std::mutex start_mutex_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
};

/// Work handed to the registry's thread, kept when that thread cannot be had.
struct registry_task {
  virtual ~registry_task() = default;
  virtual void run() = 0;
};
template <typename F>
struct registry_task_of final : registry_task {
  explicit registry_task_of(F&& fn) : f(std::move(fn)) {}
  void run() override { f(); }
  F f;
};

/// Runs `task` on this thread: at once, or, when such a run is already under
/// way on this thread, right after it (a loop, never a recursion). For
/// never-blocking work when the registry's thread cannot be started.
void run_on_this_thread(std::unique_ptr<registry_task> task);

/// The executor under the registry's strand (see the file comment).
class registry_executor {
 public:
  explicit registry_executor(registry_host& host, bool never_blocking = false) noexcept
      : host_(&host), never_(never_blocking) {}

  template <typename Function>
  void execute(Function&& f) const {
    if (never_ && host_->ensure_thread()) {
      asio::execution::execute(
          asio::require(host_->io().get_executor(), asio::execution::blocking.never),
          std::forward<Function>(f));
      return;
    }
    if (never_) {  // no thread to be had: after the work under way here, not inside it
      run_on_this_thread(std::make_unique<registry_task_of<std::decay_t<Function>>>(
          std::decay_t<Function>(std::forward<Function>(f))));
      return;
    }
    std::decay_t<Function> local(std::forward<Function>(f));
    local();
  }

  registry_executor require(asio::execution::blocking_t::never_t) const noexcept {
    return registry_executor(*host_, true);
  }
  registry_executor require(asio::execution::blocking_t::possibly_t) const noexcept {
    return registry_executor(*host_, false);
  }
  asio::execution::blocking_t query(asio::execution::blocking_t) const noexcept {
    return never_ ? asio::execution::blocking_t(asio::execution::blocking.never)
                  : asio::execution::blocking_t(asio::execution::blocking.possibly);
  }
  asio::execution_context& query(asio::execution::context_t) const noexcept {
    return host_->io();
  }

  friend bool operator==(const registry_executor& a, const registry_executor& b) noexcept {
    return a.host_ == b.host_ && a.never_ == b.never_;
  }
  friend bool operator!=(const registry_executor& a, const registry_executor& b) noexcept {
    return !(a == b);
  }

 private:
  registry_host* host_;
  bool never_;
};

using registry_strand = asio::strand<registry_executor>;

}  // namespace portprobe::detail
