// test/fuzz/lease_table.cpp: what a process reads of a lease table another
// wrote, from any bytes. Input: a header page (its first 4096 bytes at most,
// the rest zeros), then records of 11 bytes: a kind, a port (2 bytes), a value
// (8 bytes, little-endian). An even kind writes the value into the port's
// slot (slot 0, no port, is the clock: now); an odd one claims the port for
// the value's low 24 bits of milliseconds under its next 24 bits as tag. The
// header check says yes or why not; a claim that succeeds is the slot's word
// and its release frees the slot, one refused changes nothing; the leases
// decode into ports 1-65535, pids within the tag's bits, times left that are
// positive.
#include "lease_table.hpp"
#include "registry.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace detail = portprobe::detail;
namespace word = portprobe::detail::lease_word;

namespace {
constexpr std::string_view boot_id = "00000000-1111-2222-3333-444444444444";  // the corpus's
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t page = detail::lease_table_file::header_size;
  if (size > page + 11 * 4096) return -1;
  const std::size_t head = std::min(size, page);
  std::vector<unsigned char> header(page, 0);
  std::memcpy(header.data(), data, head);
  const std::string problem = detail::lease_table_header_problem(header.data(), head, boot_id);
  // Told apart here from the bytes: "pplease1", version 1, 65,536 slots, this boot's id.
  std::uint32_t version = 0, slot_count = 0;
  std::memcpy(&version, header.data() + 8, 4);
  std::memcpy(&slot_count, header.data() + 12, 4);
  const bool valid = head >= 56 /* sizeof the header struct */ && std::memcmp(header.data(), "pplease1", 8) == 0 &&
                     version == 1 && slot_count == detail::lease_slots::count &&
                     std::memcmp(header.data() + 16, boot_id.data(), boot_id.size()) == 0;
  if (problem.empty() != valid) std::abort();

  std::vector<std::uint64_t> words(detail::lease_slots::count, 0);
  detail::lease_slots slots(words.data());
  for (std::size_t at = head; at + 11 <= size; at += 11) {
    const std::uint8_t kind = data[at];
    const auto port = static_cast<std::uint16_t>(data[at + 1] | data[at + 2] << 8);
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = value << 8 | data[at + 3 + i];
    if (kind % 2 == 0) {
      words[port] = value;
      continue;
    }
    const std::uint64_t now = words[0] % (word::max_expiry + 2);
    const std::uint64_t duration = value & 0xFFFFFF;
    const auto tag = static_cast<std::uint32_t>(value >> 24 & 0xFFFFFF);
    const std::uint64_t before = slots.load(port);
    const auto claimed = slots.claim(port, now, duration, tag);
    if (claimed) {
      if (port != 0 && word::held(before, now)) std::abort();  // taken from a live lease
      if (slots.load(port) != *claimed) std::abort();
      if (word::tag(*claimed) != (tag & word::tag_mask)) std::abort();
      if (kind % 4 == 1) {  // released again (else kept, for the decoding below)
        if (!slots.release(port, *claimed) || slots.load(port) != 0) std::abort();
      }
    } else if (slots.load(port) != before) {
      std::abort();  // a refused claim changes nothing
    }
  }
  const std::uint64_t now = words[0] % (word::max_expiry + 2);
  for (const portprobe::port_lease& l : detail::held_leases(slots, now)) {
    if (l.port == 0) std::abort();
    if (l.pid < 0 || static_cast<std::uint32_t>(l.pid) > word::pid_mask) std::abort();
    if (l.remaining.count() <= 0) std::abort();
    if (!word::held(slots.load(l.port), now)) std::abort();
  }
  return 0;
}
