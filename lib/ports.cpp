#include <portprobe/ports.hpp>

#include <algorithm>
#include <charconv>

namespace portprobe {

port_range port_numbers(int from, int to) {
  if (from < min_port || from > max_port) {
    throw std::out_of_range("'from' must be between 1024 and 65535");
  }
  if (to < min_port || to > max_port) {
    throw std::out_of_range("'to' must be between 1024 and 65535");
  }
  if (to < from) {
    throw std::invalid_argument("`to` must be greater than or equal to `from`");
  }
  return port_range(static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(to) + 1);
}

std::string port_list::out_of_range_message(const std::string& value) {
  return "port " + value + " is out of range: ports are 1-65535";
}

void port_list::append(std::uint16_t port) {
  if (!runs_.empty() && runs_.back().last != max_port && runs_.back().last + 1 == port) {
    runs_.back().last = port;
  } else {
    runs_.push_back({port, port});
  }
  ++size_;
}

bool port_list::contains(std::uint32_t port) const noexcept {
  return std::any_of(runs_.begin(), runs_.end(),
                     [port](const run& r) { return port >= r.first && port <= r.last; });
}

namespace {

std::string_view trim(std::string_view s) {
  const auto not_space = [](char c) { return c != ' ' && c != '\t'; };
  while (!s.empty() && !not_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && !not_space(s.back())) s.remove_suffix(1);
  return s;
}

// One port of the grammar: decimal digits only, 1-65535.
std::uint16_t parse_port(std::string_view text, std::string_view item) {
  text = trim(text);
  unsigned long value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (text.empty() || end != last || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    throw std::invalid_argument("invalid port '" + std::string(text) + "' in '" +
                                std::string(item) + "': not a number");
  }
  if (ec == std::errc::result_out_of_range || value < 1 || value > max_port) {
    throw std::invalid_argument("invalid port '" + std::string(text) +
                                "': ports are 1-65535");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

port_list parse_port_list(std::string_view text) {
  port_list result;
  if (trim(text).empty()) throw std::invalid_argument("empty port list");
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = trim(text.substr(start, comma - start));
    if (item.empty()) {
      throw std::invalid_argument("empty item in port list '" + std::string(text) + "'");
    }
    const std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      result.push_back(parse_port(item, item));
    } else {
      if (item.find('-', dash + 1) != std::string_view::npos) {
        throw std::invalid_argument("invalid port range '" + std::string(item) +
                                    "': expected FROM-TO");
      }
      const std::uint16_t from = parse_port(item.substr(0, dash), item);
      const std::uint16_t to = parse_port(item.substr(dash + 1), item);
      if (to < from) {
        throw std::invalid_argument("invalid port range '" + std::string(item) +
                                    "': the end is below the start");
      }
      for (std::uint32_t p = from; p <= to; ++p) result.push_back(p);
    }
    start = comma + 1;
  }
  return result;
}

}  // namespace portprobe
