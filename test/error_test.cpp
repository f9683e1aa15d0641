#include <portprobe/error.hpp>

#include <ostream>

#include <doctest/doctest.h>

namespace pp = portprobe;

TEST_CASE("the portprobe error category") {
  const pp::error_code ec = pp::error::no_available_port;  // is_error_code_enum
  CHECK(ec.value() == 1);
  CHECK(std::string(ec.category().name()) == "portprobe");
  CHECK(ec.message() == "no available port");
  CHECK(ec == pp::make_error_code(pp::error::no_available_port));
  CHECK(&ec.category() == &pp::error_category());
  CHECK(ec != std::errc::address_in_use);
  CHECK(pp::error_category().message(99).find("99") != std::string::npos);
}
