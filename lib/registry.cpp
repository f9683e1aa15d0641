#include "registry.hpp"

#include <future>

#include <asio/dispatch.hpp>

#include <portprobe/get_port.hpp>

namespace portprobe::detail {

namespace {
// The timer only forgets entries whose hold has ended (a lock is judged by its
// deadline, whatever the timer does). Waiting a little past the earliest
// deadline lets one wake-up forget a burst of locks taken together.
constexpr auto expiry_slack = std::chrono::milliseconds(50);
}  // namespace

registry& registry::instance() {
  // Leaked on purpose: a pending timer or operation at exit never touches a
  // destroyed registry.
  static registry* const the_registry = new registry();
  return *the_registry;
}

registry::registry()
    : strand_(asio::make_strand(asio::system_executor())), timer_(strand_) {}

bool registry::try_lock(std::uint16_t port, clock::duration hold, bool reserve) {
  const auto now = clock::now();
  if (!table_.try_lock(port, now, hold, reserve)) return false;
  if (!reserve && hold > clock::duration::zero()) {
    arm(hold >= clock::time_point::max() - now ? clock::time_point::max() : now + hold);
  }
  return true;
}

void registry::arm(clock::time_point deadline) {
  if (armed_for_ && *armed_for_ <= deadline) return;  // an earlier wake-up will see it
  armed_for_ = deadline;
  timer_.expires_at(deadline >= clock::time_point::max() - expiry_slack
                        ? clock::time_point::max()
                        : deadline + expiry_slack);
  timer_.async_wait([this](const std::error_code& ec) {
    if (ec != asio::error::operation_aborted) on_timer();
  });
}

void registry::on_timer() {
  armed_for_.reset();
  if (const auto next = table_.expire(clock::now())) arm(*next);
}

const registry_strand& registry_executor() { return registry::instance().strand(); }

void run_on_registry(const std::function<void()>& f) {
  std::promise<void> done;
  asio::dispatch(registry::instance().strand(), [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

bool is_port_locked(std::uint16_t port) {
  bool locked = false;
  run_on_registry([&] {
    locked = registry::instance().table().is_locked(port, registry::clock::now());
  });
  return locked;
}

std::size_t stored_lock_count() {
  std::size_t n = 0;
  run_on_registry([&] { n = registry::instance().table().size(); });
  return n;
}

}  // namespace portprobe::detail

namespace portprobe {

void release_port(std::uint16_t port) {
  detail::run_on_registry([port] { detail::registry::instance().release(port); });
}

void clear_locked_ports() {
  detail::run_on_registry([] { detail::registry::instance().clear(); });
}

}  // namespace portprobe
