// lib/cli/common.cpp: what the commands share (see cli.hpp).
#include "cli.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <limits>

#include <asio/error.hpp>

namespace portprobe::cli {

void add_port_argument(CLI::App& cmd, std::string& port) {
  cmd.add_option("PORT", port, "The port, 1-65535")->required()->type_name("");
}

void add_ports_argument(CLI::App& cmd, std::vector<std::string>& ports) {
  cmd.add_option("PORTS", ports,
                 "Ports: 3000, 3000-3100 or 3000,3005,4000-4010 (several are joined, in order)")
      ->required()
      ->type_name("");
}

port_list parse_ports(const std::vector<std::string>& items) {
  std::vector<std::uint16_t> ports;
  for (const auto& item : items) {
    try {
      for (std::uint16_t p : parse_port_list(item)) ports.push_back(p);
    } catch (const std::invalid_argument& e) {
      throw usage_error(e.what());
    }
  }
  return port_list(ports);
}

std::uint16_t parse_port(const std::string& text) {
  if (text.find_first_not_of(" \t") == std::string::npos) {
    throw usage_error("invalid PORT '" + text + "': empty");
  }
  const port_list list = parse_ports({text});
  if (list.size() != 1 || text.find_first_of(",-") != std::string::npos) {
    throw usage_error("invalid PORT '" + text + "': one port expected (1-65535), not a list");
  }
  return *list.begin();
}

long long parse_number(std::string_view option, const std::string& text, long long min,
                       long long max, std::string_view unit) {
  long long value = 0;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(text.data(), last, value);
  if (text.empty() || ec != std::errc() || end != last || value < min || value > max) {
    throw usage_error("invalid " + std::string(option) + " '" + text +
                      "': expected a whole number" + std::string(unit) + " from " +
                      std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

std::chrono::milliseconds parse_millis(std::string_view option, const std::string& text,
                                       long long min) {
  // At most 2^31 - 1 ms (24.8 days): far from any clock's overflow.
  constexpr long long max_ms = std::numeric_limits<std::int32_t>::max();
  const auto bad = [&](const std::string& why) {
    return usage_error("invalid " + std::string(option) + " '" + text + "': " + why);
  };
  // A whole number, then a unit: none (milliseconds), ms, s, m or h.
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view unit = std::string_view(text).substr(digits);
  long long per = 0;
  if (unit.empty() || unit == "ms") {
    per = 1;
  } else if (unit == "s") {
    per = 1000;
  } else if (unit == "m") {
    per = 60'000;
  } else if (unit == "h") {
    per = 3'600'000;
  }
  const std::string expected = "expected a duration from " + std::to_string(min) +
                               " ms to 24 days: 500ms, 30s, 2m, 1h or a whole number of"
                               " milliseconds";
  if (digits == 0 || per == 0) throw bad(expected);
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (ec != std::errc() || end != text.data() + digits || value > max_ms / per ||
      value * per < min || value * per > max_ms) {
    throw bad(expected);
  }
  return std::chrono::milliseconds(value * per);
}

void probe_target::add_to(CLI::App& cmd, std::string default_timeout,
                          const std::string& timeout_help) {
  cmd.add_option("--host", host, "IPv4/IPv6 address or host name to probe")
      ->type_name("H")
      ->capture_default_str();
  timeout = std::move(default_timeout);
  cmd.add_option("--timeout", timeout, timeout_help + " (500ms, 30s, 2m; a bare number: ms)")
      ->type_name("T")
      ->capture_default_str();
}

check_options probe_target::probe_options() const {
  check_options options;
  options.host = host;
  options.timeout = timeout_value();
  return options;
}

bool is_resolve_error(const std::error_code& ec) {
  return ec.category() == asio::error::get_netdb_category() ||
         ec.category() == asio::error::get_addrinfo_category();
}

void probe_target::fail(const std::error_code& ec) const {
  if (is_resolve_error(ec)) {
    throw usage_error("invalid --host '" + host + "': the name does not resolve (" + ec.message() +
                      ")");
  }
  throw std::system_error(ec);
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << '\n';
  }
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static const char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + '"';
}

}  // namespace portprobe::cli
