#include <portprobe/owners.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <utility>

#include "proc_net.hpp"

#if defined(__linux__)
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace portprobe {
namespace detail {

namespace {

// A whole field as an unsigned number in `base`: no sign, no prefix, no rest.
template <typename T>
bool parse_number(std::string_view text, T& value, int base) {
  if (text.empty()) return false;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(text.data(), last, value, base);
  return ec == std::errc() && end == last;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Cuts the next whitespace-separated field off the front of `line`.
std::string_view next_field(std::string_view& line) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  std::size_t i = 0;
  while (i < line.size() && blank(line[i])) ++i;
  std::size_t j = i;
  while (j < line.size() && !blank(line[j])) ++j;
  const std::string_view field = line.substr(i, j - i);
  line.remove_prefix(j);
  return field;
}

// "ADDR:PORT" split in two, and the port read (hex): the port comes first so
// that a line of another port costs no more than that.
bool split_endpoint(std::string_view field, std::string_view& address, std::uint16_t& port) {
  const auto colon = field.find(':');
  if (colon == std::string_view::npos) return false;
  address = field.substr(0, colon);
  return parse_number(field.substr(colon + 1), port, 16);
}

// One 32-bit word of an address, printed by the kernel as a number in host
// byte order, back to its four bytes in network order.
bool word_bytes(std::string_view hex, std::endian byte_order, unsigned char* out) {
  std::uint32_t word = 0;
  if (hex.size() != 8 || !parse_number(hex, word, 16)) return false;
  for (int i = 0; i < 4; ++i) {
    const int shift = byte_order == std::endian::little ? 8 * i : 8 * (3 - i);
    out[i] = static_cast<unsigned char>(word >> shift);
  }
  return true;
}

bool parse_address(std::string_view hex, bool v6, std::endian byte_order,
                   asio::ip::address& address) {
  if (!v6) {
    asio::ip::address_v4::bytes_type bytes{};
    if (!word_bytes(hex, byte_order, bytes.data())) return false;
    address = asio::ip::address_v4(bytes);
    return true;
  }
  if (hex.size() != 32) return false;
  asio::ip::address_v6::bytes_type bytes{};
  for (std::size_t w = 0; w < 4; ++w) {
    if (!word_bytes(hex.substr(8 * w, 8), byte_order, bytes.data() + 4 * w)) return false;
  }
  address = asio::ip::address_v6(bytes);
  return true;
}

}  // namespace

std::string_view protocol_name(proc_net_table table) noexcept {
  switch (table) {
    case proc_net_table::tcp: return "tcp";
    case proc_net_table::tcp6: return "tcp6";
    case proc_net_table::udp: return "udp";
    case proc_net_table::udp6: return "udp6";
  }
  return "";
}

std::string_view socket_state_name(proc_net_table table, unsigned state) noexcept {
  // The kernel's enum of TCP states (include/net/tcp_states.h), from 1.
  static constexpr std::array<std::string_view, 12> tcp_states = {
      "ESTABLISHED", "SYN_SENT", "SYN_RECV",   "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
      "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING",   "NEW_SYN_RECV",
  };
  const bool udp = table == proc_net_table::udp || table == proc_net_table::udp6;
  if (udp && state == 0x07) return "UNCONN";  // TCP_CLOSE: bound, not connected
  if (state >= 1 && state <= tcp_states.size()) return tcp_states[state - 1];
  return "UNKNOWN";
}

std::vector<proc_net_socket> parse_proc_net(std::string_view text, proc_net_table table,
                                            std::uint16_t port, std::endian byte_order) {
  const bool v6 = table == proc_net_table::tcp6 || table == proc_net_table::udp6;
  std::vector<proc_net_socket> sockets;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

    // sl: the slot, "N:". The header line ("sl local_address ...") stops here.
    const std::string_view slot = next_field(line);
    if (slot.size() < 2 || slot.back() != ':' || !all_digits(slot.substr(0, slot.size() - 1))) {
      continue;
    }
    std::string_view local_hex;
    std::string_view remote_hex;
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;
    if (!split_endpoint(next_field(line), local_hex, local_port) || local_port != port) continue;
    if (!split_endpoint(next_field(line), remote_hex, remote_port)) continue;

    proc_net_socket s;
    s.protocol = protocol_name(table);
    s.port = local_port;
    asio::ip::address remote;
    if (!parse_address(local_hex, v6, byte_order, s.address) ||
        !parse_address(remote_hex, v6, byte_order, remote)) {
      continue;
    }
    unsigned state = 0;
    if (!parse_number(next_field(line), state, 16)) continue;
    s.state = socket_state_name(table, state);
    // tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout: present, not needed.
    bool complete = true;
    for (int skip = 0; skip < 5 && complete; ++skip) complete = !next_field(line).empty();
    if (!complete || !parse_number(next_field(line), s.inode, 10)) continue;
    sockets.push_back(std::move(s));
  }
  return sockets;
}

std::uint64_t socket_inode(std::string_view link) noexcept {
  constexpr std::string_view prefix = "socket:[";
  if (link.size() < prefix.size() + 2 || link.substr(0, prefix.size()) != prefix ||
      link.back() != ']') {
    return 0;
  }
  const std::string_view digits = link.substr(prefix.size(), link.size() - prefix.size() - 1);
  std::uint64_t inode = 0;
  if (!all_digits(digits) || !parse_number(digits, inode, 10)) return 0;
  return inode;
}

std::vector<port_owner> join_owners(const std::vector<proc_net_socket>& sockets,
                                    std::vector<socket_holder> holders) {
  const auto key = [](const socket_holder& h) { return std::pair(h.inode, h.pid); };
  std::sort(holders.begin(), holders.end(),
            [&](const socket_holder& a, const socket_holder& b) { return key(a) < key(b); });
  // A process holding the socket through several descriptors (dup, fork of
  // threads sharing the table) is one holder.
  holders.erase(std::unique(holders.begin(), holders.end(),
                            [&](const socket_holder& a, const socket_holder& b) {
                              return key(a) == key(b);
                            }),
                holders.end());

  std::vector<port_owner> owners;
  owners.reserve(sockets.size());
  std::vector<std::uint64_t> seen;  // a socket (inode) listed twice by /proc is one socket
  for (const proc_net_socket& s : sockets) {
    if (s.inode != 0) {
      if (std::find(seen.begin(), seen.end(), s.inode) != seen.end()) continue;
      seen.push_back(s.inode);
    }
    auto first = holders.end();
    auto last = holders.end();
    if (s.inode != 0) {
      first = std::lower_bound(holders.begin(), holders.end(), s.inode,
                               [](const socket_holder& h, std::uint64_t i) { return h.inode < i; });
      last = std::find_if(first, holders.end(),
                          [&](const socket_holder& h) { return h.inode != s.inode; });
    }
    if (first == last) {
      owners.push_back({0, std::string(), s.address, std::string(s.state),
                        std::string(s.protocol)});
      continue;
    }
    for (auto h = first; h != last; ++h) {
      owners.push_back({h->pid, h->command, s.address, std::string(s.state),
                        std::string(s.protocol)});
    }
  }
  return owners;
}

}  // namespace detail

#if defined(__linux__)
namespace {

// The whole of a file (a /proc file reports size 0: read to the end).
error_code read_text(int dir, const char* path, std::string& text) {
  text.clear();
  const int fd = ::openat(dir, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return detail::errno_code(errno);
  std::size_t size = 0;
  text.resize(4096);
  for (;;) {
    if (size == text.size()) text.resize(2 * text.size());
    const ssize_t n = ::read(fd, text.data() + size, text.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const error_code ec = detail::errno_code(errno);
      ::close(fd);
      text.clear();
      return ec;
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(size);
  return {};
}

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// The processes that hold one of the `wanted` inodes (sorted): one pass over
// /proc/[0-9]*/fd/*. What cannot be read is skipped: another user's process
// (EACCES), a process that ended meanwhile (ENOENT, ESRCH).
std::vector<detail::socket_holder> find_holders(const std::vector<std::uint64_t>& wanted) {
  std::vector<detail::socket_holder> holders;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return holders;
  const int proc_fd = ::dirfd(proc);
  std::string comm;
  while (const dirent* entry = ::readdir(proc)) {
    const std::string_view name = entry->d_name;
    int pid = 0;
    if (name.size() > 10 || !detail::all_digits(name) || !detail::parse_number(name, pid, 10)) {
      continue;
    }
    // "PID/fd" and "PID/comm", relative to /proc.
    std::array<char, 32> path{};
    std::memcpy(path.data(), name.data(), name.size());
    std::memcpy(path.data() + name.size(), "/fd", 4);
    const int fd_dir = ::openat(proc_fd, path.data(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_dir < 0) continue;
    DIR* fds = ::fdopendir(fd_dir);
    if (fds == nullptr) {
      ::close(fd_dir);
      continue;
    }
    const std::size_t first = holders.size();
    while (const dirent* fd = ::readdir(fds)) {
      if (fd->d_type != DT_LNK && fd->d_type != DT_UNKNOWN) continue;  // "." and ".."
      std::array<char, 64> link{};
      const ssize_t n = ::readlinkat(fd_dir, fd->d_name, link.data(), link.size());
      if (n <= 0 || static_cast<std::size_t>(n) == link.size()) continue;
      const std::uint64_t inode =
          detail::socket_inode(std::string_view(link.data(), static_cast<std::size_t>(n)));
      if (inode != 0 && std::binary_search(wanted.begin(), wanted.end(), inode)) {
        holders.push_back({inode, pid, std::string()});
      }
    }
    ::closedir(fds);
    if (holders.size() == first) continue;
    std::memcpy(path.data() + name.size(), "/comm", 6);
    if (read_text(proc_fd, path.data(), comm)) {
      holders.resize(first);  // it ended meanwhile: it holds nothing now
      continue;
    }
    const std::string_view command = trim(comm);
    for (std::size_t i = first; i < holders.size(); ++i) holders[i].command = command;
  }
  ::closedir(proc);
  return holders;
}

}  // namespace
#endif

std::vector<port_owner> port_owners(std::uint16_t port, error_code& ec) {
  ec.clear();
#if defined(__linux__)
  using detail::proc_net_table;
  static constexpr std::pair<const char*, proc_net_table> tables[] = {
      {"/proc/net/tcp", proc_net_table::tcp},
      {"/proc/net/tcp6", proc_net_table::tcp6},
      {"/proc/net/udp", proc_net_table::udp},
      {"/proc/net/udp6", proc_net_table::udp6},
  };
  std::vector<detail::proc_net_socket> sockets;
  std::string text;
  for (const auto& [path, table] : tables) {
    if (const error_code read_ec = read_text(AT_FDCWD, path, text)) {
      const bool missing = read_ec == std::errc::no_such_file_or_directory;
      if (table == proc_net_table::tcp) {
        // No /proc/net/tcp: no /proc, or not Linux's.
        ec = missing ? detail::make_errc(std::errc::not_supported) : read_ec;
        return {};
      }
      if (missing) continue;  // that family is off (no tcp6 without IPv6)
      ec = read_ec;
      return {};
    }
    auto found = detail::parse_proc_net(text, table, port);
    sockets.insert(sockets.end(), std::make_move_iterator(found.begin()),
                   std::make_move_iterator(found.end()));
  }

  // Who holds them: one pass over /proc/*/fd, only if a socket has an inode.
  std::vector<std::uint64_t> wanted;
  for (const auto& s : sockets) {
    if (s.inode != 0) wanted.push_back(s.inode);
  }
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::vector<detail::socket_holder> holders;
  if (!wanted.empty()) holders = find_holders(wanted);
  return detail::join_owners(sockets, std::move(holders));
#else
  (void)port;
  ec = detail::make_errc(std::errc::not_supported);
  return {};
#endif
}

}  // namespace portprobe
