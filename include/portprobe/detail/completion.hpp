// portprobe/detail/completion.hpp: a type-erased, move-only, one-shot void()
// callable. The engines compiled in lib/ take their completion as one of these,
// so that they are compiled once, not once per completion handler type.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace portprobe::detail {

class one_shot {
 public:
  one_shot() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, one_shot>>>
  explicit one_shot(F&& f) : call_(std::make_unique<holder<std::decay_t<F>>>(std::forward<F>(f))) {}

  /// Calls the callable once; the one_shot is empty after.
  void operator()() {
    std::unique_ptr<base> c = std::move(call_);
    c->invoke();
  }

 private:
  struct base {
    virtual ~base() = default;
    virtual void invoke() = 0;
  };
  template <typename F>
  struct holder final : base {
    explicit holder(F&& f) : fn(std::move(f)) {}
    explicit holder(const F& f) : fn(f) {}
    void invoke() override { fn(); }
    F fn;
  };
  std::unique_ptr<base> call_;
};

}  // namespace portprobe::detail
