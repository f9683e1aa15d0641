#include <portprobe/error.hpp>

namespace portprobe {
namespace {

class category final : public error_category_type {
 public:
#if PORTPROBE_BOOST_ASIO
  // Equal by this id across shared objects, as Boost.System's own categories are.
  constexpr category() noexcept : error_category_type(0x70f7c0be0c5e11edULL) {}
#endif
  const char* name() const noexcept override { return "portprobe"; }
  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
      case error::no_available_port:
        return "no available port";
    }
    return "unknown portprobe error " + std::to_string(value);
  }
};

}  // namespace

const error_category_type& error_category() noexcept {
  static const category instance;
  return instance;
}

error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace portprobe
