// test/fuzz/proc_net.cpp: the /proc/net parser on any text. Input: one byte
// for the table and the byte order, two for the port, then the file's text.
// Every socket it returns has that port and the table's protocol; the fd-link
// reader and the state names take any input.
#include "proc_net.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace detail = portprobe::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3 || size > 1 << 16) return -1;
  const auto table = static_cast<detail::proc_net_table>(data[0] & 3);
  const std::endian order = (data[0] & 4) != 0 ? std::endian::big : std::endian::little;
  const auto port = static_cast<std::uint16_t>(data[1] << 8 | data[2]);
  const std::string_view text(reinterpret_cast<const char*>(data + 3), size - 3);
  for (const detail::proc_net_socket& s : detail::parse_proc_net(text, table, port, order)) {
    if (s.port != port || s.protocol != detail::protocol_name(table)) std::abort();
    if (s.state.empty()) std::abort();
    if (table == detail::proc_net_table::tcp || table == detail::proc_net_table::udp) {
      if (!s.address.is_v4()) std::abort();
    } else if (!s.address.is_v6()) {
      std::abort();
    }
  }
  (void)detail::socket_inode(text);
  (void)detail::socket_state_name(table, data[1]);
  return 0;
}
