#include <portprobe/ports.hpp>

#include <array>
#include <list>
#include <ranges>
#include <span>
#include <vector>

#include <doctest/doctest.h>

namespace pp = portprobe;

namespace {
std::vector<int> to_vector(const auto& range) {
  std::vector<int> v;
  for (auto p : range) v.push_back(p);
  return v;
}

template <typename E>
std::string message_of(auto&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no exception>";
}
}  // namespace

TEST_CASE("port_numbers: an inclusive, ascending, lazy range") {
  const pp::port_range r = pp::port_numbers(3000, 3003);
  CHECK(r.size() == 4);
  CHECK(to_vector(r) == std::vector<int>{3000, 3001, 3002, 3003});
  CHECK(std::ranges::distance(r) == 4);
  CHECK(r.contains(3003));
  CHECK_FALSE(r.contains(3004));
  static_assert(std::ranges::forward_range<pp::port_range>);
  static_assert(std::same_as<std::ranges::range_value_t<pp::port_range>, std::uint16_t>);
}

TEST_CASE("port_numbers: the bounds 1024 and 65535 are included") {
  CHECK(to_vector(pp::port_numbers(1024, 1024)) == std::vector<int>{1024});
  CHECK(to_vector(pp::port_numbers(65534, 65535)) == std::vector<int>{65534, 65535});
  CHECK(pp::port_numbers(1024, 65535).size() == 64512);
  CHECK(pp::min_port == 1024);
  CHECK(pp::max_port == 65535);
}

TEST_CASE("port_numbers: get-port's errors and messages") {
  CHECK_THROWS_AS((void)pp::port_numbers(1023, 2000), std::out_of_range);
  CHECK(message_of<std::out_of_range>([] { (void)pp::port_numbers(1023, 2000); }) ==
        "'from' must be between 1024 and 65535");
  CHECK(message_of<std::out_of_range>([] { (void)pp::port_numbers(65536, 65536); }) ==
        "'from' must be between 1024 and 65535");
  CHECK(message_of<std::out_of_range>([] { (void)pp::port_numbers(2000, 65536); }) ==
        "'to' must be between 1024 and 65535");
  CHECK(message_of<std::out_of_range>([] { (void)pp::port_numbers(2000, 1000); }) ==
        "'to' must be between 1024 and 65535");
  CHECK(message_of<std::invalid_argument>([] { (void)pp::port_numbers(2001, 2000); }) ==
        "`to` must be greater than or equal to `from`");
  CHECK_THROWS_AS((void)pp::port_numbers(-1, 2000), std::out_of_range);
}

TEST_CASE("port_list: empty, one port, a braced list, a range, any integral range") {
  CHECK(pp::port_list().empty());
  pp::port_list one = 3000;
  CHECK(to_vector(one) == std::vector<int>{3000});
  pp::port_list braced = {3001, 3000, 3001};
  CHECK(to_vector(braced) == std::vector<int>{3001, 3000, 3001});  // order and duplicates kept
  pp::port_list range = pp::port_numbers(4000, 4002);
  CHECK(to_vector(range) == std::vector<int>{4000, 4001, 4002});
  CHECK(range.size() == 3);
  const std::vector<int> v{5, 7, 6};
  CHECK(to_vector(pp::port_list(v)) == v);
  const std::array<unsigned short, 2> a{80, 443};
  CHECK(to_vector(pp::port_list(a)) == std::vector<int>{80, 443});
  const std::list<long> l{9000, 9001};
  CHECK(to_vector(pp::port_list(l)) == std::vector<int>{9000, 9001});
  const std::span<const int> span(v);
  CHECK(to_vector(pp::port_list(span.subspan(1))) == std::vector<int>{7, 6});
}

TEST_CASE("port_list: a whole range is stored compactly and iterates lazily") {
  const pp::port_list all = pp::port_numbers(1024, 65535);
  CHECK(all.size() == 64512);
  CHECK(all.contains(1024));
  CHECK(all.contains(65535));
  CHECK_FALSE(all.contains(1023));
  std::size_t n = 0;
  std::uint32_t last = 0;
  bool ascending = true;
  for (std::uint16_t p : all) {
    ascending = ascending && p > last;
    last = p;
    ++n;
  }
  CHECK(ascending);
  CHECK(n == all.size());
  CHECK(last == 65535);
  CHECK(pp::port_list(pp::port_numbers(3000, 3002)) == pp::port_list{3000, 3001, 3002});
}

TEST_CASE("port_list: 0 and values out of 1-65535 throw std::out_of_range naming the value") {
  CHECK_THROWS_AS(pp::port_list(0), std::out_of_range);
  CHECK(message_of<std::out_of_range>([] { pp::port_list l(70000); }).find("70000") !=
        std::string::npos);
  CHECK(message_of<std::out_of_range>([] { pp::port_list l{3000, -1}; }).find("-1") !=
        std::string::npos);
  CHECK_THROWS_AS(pp::port_list(std::vector<int>{1, 65536}), std::out_of_range);
  CHECK_NOTHROW(pp::port_list{1, 65535});
}

TEST_CASE("parse_port_list: the command line's grammar") {
  CHECK(to_vector(pp::parse_port_list("3000")) == std::vector<int>{3000});
  CHECK(to_vector(pp::parse_port_list("3000-3002")) == std::vector<int>{3000, 3001, 3002});
  CHECK(to_vector(pp::parse_port_list("3000,3005,4000-4002")) ==
        std::vector<int>{3000, 3005, 4000, 4001, 4002});
  CHECK(to_vector(pp::parse_port_list(" 80 , 443 ")) == std::vector<int>{80, 443});
  CHECK(pp::parse_port_list("1-65535").size() == 65535);
}

TEST_CASE("parse_port_list: bad input throws std::invalid_argument naming the value") {
  const auto error_of = [](const char* text) {
    return message_of<std::invalid_argument>([&] { (void)pp::parse_port_list(text); });
  };
  CHECK(error_of("70000").find("70000") != std::string::npos);
  CHECK(error_of("0").find("'0'") != std::string::npos);
  CHECK(error_of("abc").find("abc") != std::string::npos);
  CHECK(error_of("5000-4000").find("5000-4000") != std::string::npos);
  CHECK(error_of("1-2-3").find("1-2-3") != std::string::npos);
  CHECK(error_of("3000,,3001").find("3000,,3001") != std::string::npos);
  CHECK(error_of("-5").find("-5") != std::string::npos);
  CHECK(error_of("3000x").find("3000x") != std::string::npos);
  CHECK(error_of("99999999999999999999").find("99999999999999999999") != std::string::npos);
  CHECK(error_of("") == "empty port list");
  CHECK(error_of(" ") == "empty port list");
}
