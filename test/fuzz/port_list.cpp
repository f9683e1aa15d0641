// test/fuzz/port_list.cpp: parse_port_list() on any text. Bad text is
// std::invalid_argument or std::out_of_range, nothing else; a list it returns
// holds ports 1-65535, as many as size() says, each one contains() finds.
#include <portprobe/ports.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace pp = portprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return -1;  // the grammar needs no more; keeps each run fast
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pp::port_list list;
  try {
    list = pp::parse_port_list(text);
  } catch (const std::invalid_argument&) {
    return 0;
  } catch (const std::out_of_range&) {
    return 0;
  }
  std::size_t n = 0;
  for (const std::uint16_t port : list) {
    if (port == 0 || !list.contains(port)) std::abort();
    if (++n > 65535 * 64) std::abort();  // bounded: a list repeats ports at most per item
  }
  if (n != list.size()) std::abort();
  if (list.empty() != (n == 0)) std::abort();
  if (list.contains(0) || list.contains(65536)) std::abort();
  return 0;
}
