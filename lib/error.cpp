#include <portprobe/error.hpp>

namespace portprobe {
namespace {

class category final : public std::error_category {
 public:
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

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace portprobe
