// lib/status_engine.cpp: the engine of the status operations (check, find,
// scan), compiled once. One engine drives a window of connect probes
// (children); everything it touches runs on a strand over the caller's I/O
// executor, so that an io_context run by several threads is safe. The order of
// probes and the moment the answer is known come from detail::ordered_window
// (plain code); the engine only does the I/O it asks for, and calls its
// completion after every child has settled and closed its socket.
#include <portprobe/detail/status_engine.hpp>
#include <portprobe/detail/io_ready.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "asio_lib.hpp"

#include "address_walk.hpp"
#include "connect.hpp"
#include "probe.hpp"
#include <portprobe/status.hpp>

namespace portprobe::detail {

namespace {

/// Probes in flight when check_options::concurrency is 0.
constexpr std::size_t default_concurrency = 256;

/// A probe's timeout is at most this (a day): longer ones would overflow the
/// timer's clock, and mean "no answer" just the same.
constexpr std::chrono::milliseconds max_probe_timeout = std::chrono::hours(24);

/// An OS error as Asio reports it, in detail::system_category(): equal to the
/// std::errc conditions (EMFILE == std::errc::too_many_files_open), as every OS
/// error portprobe passes on.
error_code os_error(const error_code& ec) noexcept {
  if (ec.category() == asio::error::get_system_category()) {
    return {ec.value(), detail::system_category()};
  }
  return ec;
}

class status_engine : public std::enable_shared_from_this<status_engine> {
 public:
  using strand_type = asio::strand<asio::any_io_executor>;
  using socket_type = asio::ip::tcp::socket;
  using timer_type = asio::steady_timer;
  using resolver_type = asio::ip::tcp::resolver;

  status_engine(const asio::any_io_executor& ex, std::shared_ptr<status_result> result,
                const check_options& options, one_shot done)
      : strand_(asio::make_strand(ex)),
        result_(std::move(result)),
        host_(options.host),
        timeout_(std::min<std::chrono::milliseconds>(options.timeout, max_probe_timeout)),
        window_(result_->ports.size(),
                options.concurrency ? options.concurrency : default_concurrency, result_->goal),
        progress_(result_->goal == ordered_window::goal::all ? options.on_progress : nullptr),
        done_(std::move(done)) {}

  /// Starts; `slot` is the operation's cancellation slot.
  void start(asio::cancellation_slot slot, error_code invalid) {
    // No socket or timer can be made on a context without its reactor (EMFILE):
    // the handler gets why, as for bad options.
    if (!invalid) invalid = io_ready(strand_.get_inner_executor());
    if (slot.is_connected()) {
      std::weak_ptr<status_engine> weak = shared_from_this();
      slot.assign([weak, strand = strand_](asio::cancellation_type) {
        asio::dispatch(strand, [weak] {
          if (auto self = weak.lock()) self->cancel();
        });
      });
    }
    asio::dispatch(strand_, [self = shared_from_this(), invalid] { self->begin(invalid); });
  }

 private:
  // Probes settled at once in a row before the engine lets other handlers run.
  static constexpr int sync_budget = 256;

  // A connect still in flight after start_connect(): waits for its socket to
  // become writable, or for the timeout.
  struct child {
    explicit child(const strand_type& s) : socket(s), timer(s) {}
    std::size_t index = 0;
    address_walk walk{0};  // its port's walk; current() is the address in flight
    bool timed_out = false;
    bool cancelled = false;
    int pending = 0;  // its handlers outstanding: the wait and the timer
    socket_type socket;
    timer_type timer;
  };

  enum class attempt_state { settled, started, resource };
  struct attempt {
    attempt_state state;
    port_status status = port_status::filtered;
    error_code ec;
  };

  void begin(error_code invalid) {
    if (invalid) return fail(invalid);
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(host_, ec);
    if (!ec) {
      addresses_.push_back(address);
      return launch();
    }
    try {
      resolver_.emplace(strand_);
      resolver_->async_resolve(
          host_, "",
          [self = shared_from_this()](const error_code& e,
                                            const asio::ip::tcp::resolver::results_type& results) {
            --self->live_;
            self->resolved(e, results);
          });
      ++live_;
    } catch (...) {  // the resolver's thread cannot be started, no memory
      resolver_.reset();
      return fail(current_exception_code());
    }
  }

  void resolved(const error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
    if (finishing_) return settle_finish();
    if (ec) return fail(ec);
    for (const auto& entry : results) {
      const auto a = entry.endpoint().address();
      bool seen = false;
      for (const auto& known : addresses_) seen = seen || known == a;
      if (!seen) addresses_.push_back(a);
    }
    if (addresses_.empty()) return fail(asio::error::host_not_found);
    launch();
  }

  // Starts probes while the window allows. Most probes on loopback settle
  // within start_connect(); after a run of them the engine yields (posts
  // itself) so that it never holds the executor for long.
  void launch() {
    if (finishing_) return settle_finish();
    int budget = sync_budget;
    while (auto index = window_.next()) {
      address_walk walk(addresses_.size());
      const attempt r = probe(*index, walk);
      if (r.state == attempt_state::resource) {
        if (!window_.retry(*index)) return fail(os_error(r.ec));
        continue;
      }
      if (r.state == attempt_state::settled) {
        if (record(*index, r.status)) return;
        if (--budget == 0) {
          ++live_;
          asio::post(strand_, [self = shared_from_this()] {
            --self->live_;
            self->launch();
          });
          return;
        }
      }
    }
    if (window_.finished()) finish();
  }

  // Walks port `index` over the addresses `walk` has still to try; a connect
  // still in flight becomes a child (which keeps the walk), the others are
  // decided here.
  attempt probe(std::size_t index, address_walk walk) {
    while (const auto address = walk.current()) {
      const connect_attempt a =
          start_connect({addresses_[*address], result_->ports[index]}, &spares_);
      switch (a.outcome) {
        case connect_outcome::resource:
          // With nothing else of ours in flight, no source address for this
          // destination (an IPv6 address on a host without IPv6) is not a
          // shortage that will pass: that address cannot be reached.
          if (a.ec == std::errc::address_not_available && window_.in_flight() <= 1) {
            walk.record(connect_outcome::filtered);
            break;
          }
          return {attempt_state::resource, port_status::filtered, a.ec};
        case connect_outcome::pending: {
          const error_code ec = start_child(index, walk, a.fd);
          if (!ec) return {attempt_state::started, port_status::filtered, {}};
          return {attempt_state::resource, port_status::filtered, ec};
        }
        default:  // open, closed, filtered (and aborted, which a connect just made cannot be)
          walk.record(a.outcome);
          break;
      }
    }
    return {attempt_state::settled, walk.status(), {}};
  }

  // Returns the error of handing the socket to the reactor, if any.
  error_code start_child(std::size_t index, const address_walk& walk, int fd) {
    child* c = acquire();
    c->index = index;
    c->walk = walk;
    c->timed_out = false;
    error_code ec;
    c->socket.assign(addresses_[*walk.current()].is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd,
                     ec);
    if (ec) {  // the reactor could not take it (ENOMEM...): a resource to wait for
      close_socket(fd);
      release(c);
      return ec;
    }
    c->pending = 2;
    live_ += 2;
    c->socket.async_wait(asio::socket_base::wait_write,
                         [self = shared_from_this(), c](error_code) {
                           c->timer.cancel();
                           self->step(c);
                         });
    c->timer.expires_after(timeout_);
    c->timer.async_wait([self = shared_from_this(), c](error_code e) {
      if (!e) {
        c->timed_out = true;
        c->socket.cancel();
      }
      self->step(c);
    });
    return {};
  }

  // One of a child's two handlers ran; the second decides.
  void step(child* c) {
    --live_;
    if (--c->pending != 0) return;
    const asio::ip::tcp::endpoint endpoint(addresses_[*c->walk.current()], result_->ports[c->index]);
    error_code ec;
    const connect_outcome o =
        c->cancelled ? connect_outcome::aborted
                     : finish_connect(c->socket.native_handle(), endpoint, c->timed_out, ec);
    error_code ignored;
    c->socket.close(ignored);
    const std::size_t index = c->index;
    address_walk walk = c->walk;
    release(c);
    if (finishing_) return settle_finish();
    switch (o) {
      case connect_outcome::aborted:  // no longer needed: the answer lies before it
        if (!window_.finished()) window_.complete(index, port_status::filtered);
        return launch();
      case connect_outcome::resource:
        if (!window_.retry(index)) return fail(os_error(ec));
        return launch();
      case connect_outcome::open:
        if (!record(index, port_status::open)) launch();
        return;
      default: {  // closed or filtered: on to the next address, if any
        walk.record(o);
        const attempt r = probe(index, walk);
        if (r.state == attempt_state::resource) {
          if (!window_.retry(index)) return fail(os_error(r.ec));
        } else if (r.state == attempt_state::settled && record(index, r.status)) {
          return;
        }
        return launch();
      }
    }
  }

  // A port's status is known. Returns true when that ended the operation.
  bool record(std::size_t index, port_status status) {
    window_.complete(index, status);
    if (progress_ && !finishing_) {
      try {
        progress_(scan_progress{++decided_, result_->ports.size(), {result_->ports[index], status}});
      } catch (...) {  // documented: must not throw; if it does, no more calls
        progress_ = nullptr;
      }
    }
    if (window_.finished()) {
      finish();
      return true;
    }
    // A new candidate for find: probes after it can no longer change the answer.
    if (result_->goal != ordered_window::goal::all && !window_.matters(index + 1)) {
      for (auto& other : children_) {
        if (other->pending != 0 && !other->cancelled && !window_.matters(other->index)) {
          abort_child(*other);
        }
      }
    }
    return false;
  }

  void finish() {
    if (!finishing_) {
      finishing_ = true;
      if (result_->goal == ordered_window::goal::all) {
        result_->statuses = window_.statuses();
      } else {
        result_->answer = window_.answer();
      }
      abort_all();
    }
    settle_finish();
  }

  void fail(error_code ec) {
    if (!finishing_) {
      result_->ec = ec;
      finishing_ = true;
      abort_all();
    }
    settle_finish();
  }

  void cancel() {
    if (finishing_) return;
    result_->aborted = true;
    fail(asio::error::operation_aborted);
  }

  void abort_all() {
    if (resolver_) resolver_->cancel();
    for (auto& c : children_) {
      if (c->pending != 0) abort_child(*c);
    }
  }

  static void abort_child(child& c) {
    c.cancelled = true;
    error_code ignored;
    c.socket.cancel(ignored);
    c.timer.cancel();
  }

  // Completes once nothing is in flight: every socket closed.
  void settle_finish() {
    if (live_ != 0 || completed_) return;
    completed_ = true;
    spares_.close_all();
    done_();
  }

  child* acquire() {
    if (free_.empty()) {
      children_.push_back(std::make_unique<child>(strand_));
      return children_.back().get();
    }
    child* c = free_.back();
    free_.pop_back();
    c->cancelled = false;
    return c;
  }

  void release(child* c) { free_.push_back(c); }

  strand_type strand_;
  std::shared_ptr<status_result> result_;
  std::string host_;
  std::chrono::milliseconds timeout_;
  ordered_window window_;
  std::function<void(const scan_progress&)> progress_;  // scan only
  std::size_t decided_ = 0;
  one_shot done_;
  std::optional<resolver_type> resolver_;
  std::vector<asio::ip::address> addresses_;
  std::vector<std::unique_ptr<child>> children_;
  std::vector<child*> free_;
  spare_sockets spares_;  // refused sockets, connected again by the next probes
  std::size_t live_ = 0;  // handlers outstanding: connects, timers, the resolve
  bool finishing_ = false;
  bool completed_ = false;
};

}  // namespace

error_code validate(const check_options& options) noexcept {
  if (options.timeout <= std::chrono::milliseconds::zero()) return asio::error::invalid_argument;
  return {};
}

void start_status_engine(const asio::any_io_executor& ex, std::shared_ptr<status_result> result,
                         const check_options& options, error_code invalid,
                         asio::cancellation_slot slot, one_shot done) {
  std::make_shared<status_engine>(ex, std::move(result), options, std::move(done))
      ->start(slot, invalid);
}

}  // namespace portprobe::detail
