#include "registry.hpp"

#include <algorithm>
#include <cerrno>

#include <deque>
#include <future>
#include <string_view>

#include "asio_lib.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <portprobe/get_port.hpp>

namespace portprobe::detail {

namespace {

// The timer only forgets entries whose hold has ended (a lock is judged by its
// deadline, whatever the timer does). Waiting a little past the earliest
// deadline lets one wake-up forget a burst of locks taken together.
constexpr auto expiry_slack = std::chrono::milliseconds(50);

class real_clock final : public lock_clock {
 public:
  lock_table::time_point steady_now() const override { return lock_table::clock::now(); }
  std::uint64_t boot_ms() const override { return boot_time_ms(); }
};

// Bumped in a forked child: the registry made in the parent is left alone
// there (its strand or mutexes may have been held by a thread the child
// lacks), and the child makes its own.
std::atomic<unsigned> fork_generation{0};
void on_fork_child() noexcept { fork_generation.fetch_add(1, std::memory_order_acq_rel); }

std::atomic<registry*> current_registry{nullptr};

/// A failure to open the lease table that passes: out of descriptors or memory.
bool passing_failure(int error) noexcept {
  return error == EMFILE || error == ENFILE || error == ENOMEM || error == EAGAIN;
}

/// Opens the table at `where`; `retry_later` when it failed for a reason that
/// passes (passing_failure), so that a later claim tries again.
std::unique_ptr<lease_table_file> open_lease_table(const lease_table_location& where,
                                                   std::string& why, bool& retry_later) {
  errno = 0;
  std::unique_ptr<lease_table_file> table = lease_table_file::open(where, why);
  retry_later = !table && passing_failure(errno);
  return table;
}

std::uint64_t ceil_ms(lock_table::duration d) {
  return static_cast<std::uint64_t>(std::chrono::ceil<std::chrono::milliseconds>(d).count());
}

registry* make_process_registry() {
  std::string why;
  std::unique_ptr<lease_table_file> table;
  std::optional<lease_table_location> retry;
  const char* mode = std::getenv("PORTPROBE_LOCKS");
  if (mode != nullptr && std::string_view(mode) == "process") {
    why = "PORTPROBE_LOCKS=process";
  } else {
    const lease_table_location where = default_lease_table_location(why);
    if (why.empty()) {
      bool retry_later = false;
      table = open_lease_table(where, why, retry_later);
      if (retry_later) retry = where;  // EMFILE at the first call, say
    }
  }
  auto* r = new registry(system_lock_clock(), std::move(table), std::move(why), ::getpid(), true);
  if (retry) r->retry_table(std::move(*retry));
  r->prepare();
  return r;
}

}  // namespace

const lock_clock& system_lock_clock() {
  static const real_clock clock;
  return clock;
}

// ---------------------------------------------------------------- registry_host

asio::execution_context::id registry_link::id;

void registry_link::renew(state& s) noexcept {
  const unsigned now = fork_generation.load(std::memory_order_acquire);
  if (s.generation != now) {
    s.generation = now;
    s.in_flight = 0;
  }
}

void registry_link::shutdown() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  renew(*state_);
  state_->shut_down = true;
  // A visit is O(1): the registry's thread ends one in microseconds. Bounded
  // all the same, should that thread be gone (no hang at exit).
  state_->idle.wait_for(lock, std::chrono::seconds(5), [this] { return state_->in_flight == 0; });
}

registry_host::~registry_host() {
  if (thread_.joinable()) {
    work_.reset();
    io_.stop();
    thread_.join();
  }
}

bool registry_host::ensure_thread() noexcept {
  if (running_.load(std::memory_order_acquire)) return true;
  try {
    std::lock_guard<std::mutex> lock(start_mutex_);
    if (running_.load(std::memory_order_relaxed)) return true;
    work_.emplace(io_.get_executor());
    // The thread takes no signal: they stay with the program's own threads.
    sigset_t all;
    sigset_t old;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      thread_ = std::thread([this] {
        for (;;) {
          try {
            io_.run();
            return;
          } catch (...) {
            // A handler threw (it should not): keep serving the registry.
          }
        }
      });
    } catch (...) {
      ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
      throw;
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    running_.store(true, std::memory_order_release);
    return true;
  } catch (...) {
    work_.reset();
    return false;
  }
}

void run_on_this_thread(std::unique_ptr<registry_task> task) {
  thread_local std::deque<std::unique_ptr<registry_task>> queue;
  thread_local bool running = false;
  queue.push_back(std::move(task));
  if (running) return;
  running = true;
  while (!queue.empty()) {
    std::unique_ptr<registry_task> next = std::move(queue.front());
    queue.pop_front();
    try {
      next->run();
    } catch (...) {
      running = false;
      throw;
    }
  }
  running = false;
}

// ---------------------------------------------------------------- registry

unsigned registry::current_generation() noexcept {
  return fork_generation.load(std::memory_order_acquire);
}

registry& registry::instance() {
  static const int registered = ::pthread_atfork(nullptr, nullptr, on_fork_child);
  (void)registered;
  const unsigned generation = fork_generation.load(std::memory_order_acquire);
  registry* r = current_registry.load(std::memory_order_acquire);
  // Leaked on purpose: a timer or an operation still pending at exit never
  // touches a destroyed registry.
  while (r == nullptr || r->generation_ != generation) {
    registry* fresh = make_process_registry();
    fresh->generation_ = generation;
    fresh->abandoned_ = r;  // still reachable: nothing of it is freed or touched
    if (current_registry.compare_exchange_strong(r, fresh, std::memory_order_acq_rel)) {
      return *fresh;
    }
    delete fresh;  // another thread made one first: `r` is now that one
  }
  return *r;
}

registry::registry(const lock_clock& clock, std::unique_ptr<lease_table_file> table,
                   std::string why, int pid, bool timers)
    : clock_(clock),
      strand_(registry_executor(host_)),
      table_(std::move(table)),
      why_(std::move(why)),
      pid_(pid),
      timers_(timers) {
  shared_.store(table_.get(), std::memory_order_release);
}

void registry::open_table_if_due(clock::time_point now) {
  if (!retry_where_ || table() != nullptr || now < next_table_try_) return;
  next_table_try_ = now + std::chrono::milliseconds(100);
  std::string why;
  bool retry_later = false;
  std::unique_ptr<lease_table_file> opened = open_lease_table(*retry_where_, why, retry_later);
  if (opened) {
    table_ = std::move(opened);
    shared_.store(table_.get(), std::memory_order_release);
  }
  // Opened, or refused for good (another owner, a bad file...: in-process locks).
  if (!retry_later) retry_where_.reset();
}

void registry::prepare() noexcept {
  // Not yet shared with any other thread: its strand is not needed here.
  try {
    if (host_.ensure_thread() && !timer_) timer_.emplace(host_.io());
  } catch (const std::exception&) {
    // No descriptor for the timer's reactor now: arm() tries again.
  }
}

std::optional<std::uint64_t> registry::claim(std::uint16_t port, duration hold, bool reserve,
                                             claim_kind kind) {
  const auto now = clock_.steady_now();
  open_table_if_due(now);
  if (locks_.is_locked(port, now)) return std::nullopt;
  if (!reserve && hold <= duration::zero()) {
    // No lock wanted: the port must only not be held by another process.
    if (table() && lease_word::held(table()->slots().load(port), clock_.boot_ms())) {
      return std::nullopt;
    }
    return 0;
  }
  const bool pending = kind == claim_kind::pending;
  std::uint64_t lease = 0;
  if (table()) {
    std::uint64_t ms = reserve ? reserve_lease_ms : ceil_ms(hold);
    if (pending) ms = std::max(ms, pending_lease_ms);
    const auto word = table()->slots().claim(port, clock_.boot_ms(), ms,
                                            lease_word::make_tag(pid_, reserve));
    if (!word) return std::nullopt;
    lease = *word;
  }
  const std::uint64_t ticket = next_ticket_++;
  try {
    if (pending) {
      locks_.try_claim(port, now, ticket, lease);
    } else {
      locks_.try_lock(port, now, hold, reserve, ticket, lease);
    }
  } catch (...) {  // out of memory: the shared lease must not outlive the failed claim
    if (lease != 0) table()->slots().release(port, lease);
    throw;
  }
  if (!pending) arm_for(now, hold, reserve);
  return ticket;
}

bool registry::confirm(std::uint16_t port, std::uint64_t ticket, duration hold, bool reserve) {
  if (ticket == 0) return true;  // a zero hold: nothing was taken, nothing to confirm
  const lock_table::entry* e = locks_.find(port);
  if (e == nullptr || e->id != ticket || !e->pending) return false;
  const auto now = clock_.steady_now();
  std::uint64_t lease = e->lease;
  if (table() && lease != 0) {
    const std::uint64_t renewed = lease_word::make(
        lease_word::deadline(clock_.boot_ms(), reserve ? reserve_lease_ms : ceil_ms(hold)),
        lease_word::tag(lease));
    if (!table()->slots().renew(port, lease, renewed)) {
      (void)locks_.take_if(port, ticket);  // lapsed and taken: not ours any more
      return false;
    }
    lease = renewed;
  }
  locks_.confirm(port, ticket, now, hold, reserve, lease);
  arm_for(now, hold, reserve);
  return true;
}

void registry::arm_for(clock::time_point now, duration hold, bool reserve) {
  if (reserve) {
    if (table()) {
      if (!next_renewal_) next_renewal_ = now + renew_interval;
      arm(*next_renewal_);
    }
  } else {
    arm(hold >= clock::time_point::max() - now ? clock::time_point::max() : now + hold);
  }
}

void registry::forget(const lock_table::entry& e, std::uint16_t port) {
  if (e.lease != 0 && table()) table()->slots().release(port, e.lease);
}

void registry::release(std::uint16_t port, std::uint64_t ticket) {
  if (ticket == 0) return;
  if (const auto e = locks_.take_if(port, ticket)) forget(*e, port);
}

void registry::release(std::uint16_t port) {
  if (const auto e = locks_.take(port)) forget(*e, port);
}

void registry::clear() {
  locks_.drain([this](std::uint16_t port, const lock_table::entry& e) { forget(e, port); });
}

bool registry::is_locked(std::uint16_t port) const {
  return locks_.is_locked(port, clock_.steady_now());
}

void registry::tick() {
  armed_for_.reset();
  const auto now = clock_.steady_now();
  std::optional<clock::time_point> next = locks_.expire(now);
  if (next_renewal_ && now >= *next_renewal_) {
    next_renewal_.reset();
    const std::uint64_t boot = clock_.boot_ms();
    std::vector<std::uint16_t> lost;
    bool renewing = false;
    locks_.for_each_reserved([&](std::uint16_t port, lock_table::entry& e) {
      if (e.lease == 0 || !table()) return;
      const std::uint64_t renewed = lease_word::make(
          lease_word::deadline(boot, reserve_lease_ms), lease_word::tag(e.lease));
      if (table()->slots().renew(port, e.lease, renewed)) {
        e.lease = renewed;
        renewing = true;
      } else {
        lost.push_back(port);  // it lapsed and another process took it
      }
    });
    for (const std::uint16_t port : lost) (void)locks_.take(port);
    if (renewing) next_renewal_ = now + renew_interval;
  }
  if (next_renewal_ && (!next || *next_renewal_ < *next)) next = next_renewal_;
  if (next) arm(*next);
}

void registry::arm(clock::time_point deadline) {
  if (armed_for_ && *armed_for_ <= deadline) return;  // an earlier wake-up will see it
  armed_for_ = deadline;
  if (!timers_) return;
  // No timer now (no descriptor or thread to be had): locks are judged by
  // their deadlines all the same; the next claim tries to arm it again.
  if (!host_.ensure_thread()) {
    armed_for_.reset();
    return;
  }
  try {
    if (!timer_) timer_.emplace(host_.io());
    timer_->expires_at(deadline >= clock::time_point::max() - expiry_slack
                           ? clock::time_point::max()
                           : deadline + expiry_slack);
    timer_->async_wait(asio::bind_executor(strand_, [this](const error_code& ec) {
      if (ec != asio::error::operation_aborted) tick();
    }));
  } catch (const std::exception&) {
    armed_for_.reset();
  }
}

std::vector<port_lease> registry::leases() const {
  const auto now = clock_.steady_now();
  std::vector<port_lease> out;
  for (const auto& [port, e] : locks_.held(now)) {
    const auto left = e.reserved ? std::chrono::milliseconds::max()
                                 : std::chrono::ceil<std::chrono::milliseconds>(e.until - now);
    out.push_back({port, pid_, left, e.reserved});
  }
  return out;
}

std::vector<port_lease> held_leases(const lease_slots& slots, std::uint64_t now_ms) {
  std::vector<port_lease> out;
  for (std::size_t p = 1; p < lease_slots::count; ++p) {
    const auto port = static_cast<std::uint16_t>(p);
    const std::uint64_t w = slots.load(port);
    if (!lease_word::held(w, now_ms)) continue;
    const std::uint32_t tag = lease_word::tag(w);
    out.push_back({port, static_cast<int>(tag & lease_word::pid_mask),
                   std::chrono::milliseconds(lease_word::expiry(w) - now_ms),
                   (tag & lease_word::reserved_bit) != 0});
  }
  return out;
}

// ---------------------------------------------------------------- entry points

namespace {

// Runs `f` on the registry's strand and waits for it (a visit in progress is
// O(1)). Not from the strand itself: no user code runs there.
template <typename F>
auto run_on_registry(F f) {
  registry& r = registry::instance();
  std::packaged_task<decltype(f(r))()> task([&] { return f(r); });
  auto result = task.get_future();
  asio::dispatch(r.strand(), [&task] { task(); });
  return result.get();
}

}  // namespace

bool is_port_locked(std::uint16_t port) {
  return run_on_registry([port](registry& r) { return r.is_locked(port); });
}

std::size_t stored_lock_count() {
  return run_on_registry([](registry& r) { return r.size(); });
}

}  // namespace portprobe::detail

namespace portprobe {

lock_scope current_lock_scope() { return detail::registry::instance().scope(); }

std::string lock_scope_reason() { return detail::registry::instance().scope_reason(); }

std::string lock_table_path() {
  const detail::registry& r = detail::registry::instance();
  if (r.table() != nullptr) return r.table()->path();
  std::string why;
  const detail::lease_table_location where = detail::default_lease_table_location(why);
  return where.file_name.empty() ? std::string() : where.path();
}

std::vector<port_lease> active_leases(error_code& ec) {
  ec.clear();
  detail::registry& r = detail::registry::instance();
  try {
    if (r.table() != nullptr) return detail::held_leases(r.table()->slots(), detail::boot_time_ms());
    return detail::run_on_registry([](detail::registry& reg) { return reg.leases(); });
  } catch (const std::bad_alloc&) {
    ec = detail::make_errc(std::errc::not_enough_memory);
    return {};
  }
}

void release_port(std::uint16_t port) {
  detail::registry& r = detail::registry::instance();
  asio::dispatch(r.strand(), [&r, port] { r.release(port); });
}

void clear_locked_ports() {
  detail::registry& r = detail::registry::instance();
  asio::dispatch(r.strand(), [&r] { r.clear(); });
}

}  // namespace portprobe
