#include "lease_table.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace portprobe::detail {

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "the lease table needs lock-free 64-bit atomics");

namespace {

std::atomic_ref<std::uint64_t> slot(std::uint64_t* words, std::uint16_t port) noexcept {
  return std::atomic_ref<std::uint64_t>(words[port]);
}

// A compare-and-swap that fails spuriously only under contention: retried a
// bounded number of times, re-reading the word.
constexpr int claim_attempts = 8;

}  // namespace

std::optional<std::uint64_t> lease_slots::claim(std::uint16_t port, std::uint64_t now_ms,
                                                std::uint64_t duration_ms,
                                                std::uint32_t tag) noexcept {
  auto s = slot(words_, port);
  const std::uint64_t ours = lease_word::make(lease_word::deadline(now_ms, duration_ms), tag);
  std::uint64_t seen = s.load(std::memory_order_acquire);
  for (int i = 0; i < claim_attempts; ++i) {
    if (lease_word::held(seen, now_ms)) return std::nullopt;
    if (s.compare_exchange_weak(seen, ours, std::memory_order_acq_rel,
                                std::memory_order_acquire)) {
      return ours;
    }
  }
  return std::nullopt;  // other processes keep changing it: treat as held
}

bool lease_slots::release(std::uint16_t port, std::uint64_t word) noexcept {
  std::uint64_t expected = word;
  return slot(words_, port).compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

bool lease_slots::renew(std::uint16_t port, std::uint64_t old_word,
                        std::uint64_t new_word) noexcept {
  std::uint64_t expected = old_word;
  return slot(words_, port).compare_exchange_strong(expected, new_word,
                                                    std::memory_order_acq_rel);
}

std::uint64_t lease_slots::load(std::uint16_t port) const noexcept {
  return slot(words_, port).load(std::memory_order_acquire);
}

std::uint64_t boot_time_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000 +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
}

namespace {

constexpr std::uint64_t table_magic = 0x3165736165'6c7070ULL;  // "pplease1", little-endian
constexpr std::uint32_t table_version = 1;
constexpr std::size_t boot_id_size = 36;

// The header page, written once before the file is published.
struct header {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t slot_count;
  char boot_id[boot_id_size];
};
static_assert(sizeof(header) <= lease_table_file::header_size);

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool read_boot_id(char (&out)[boot_id_size]) {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  if (!(in >> id) || id.size() != boot_id_size) return false;
  std::memcpy(out, id.data(), boot_id_size);
  return true;
}

// Allocates every block of the file (so that touching a page never raises
// SIGBUS on a full tmpfs): fallocate, or writing zeros where it is not supported.
bool allocate(int fd, std::string& why) {
  if (::fallocate(fd, 0, 0, static_cast<off_t>(lease_table_file::file_size)) == 0) return true;
  if (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS) {
    why = errno_text("cannot allocate the lease table");
    return false;
  }
  static const char zeros[4096] = {};
  for (std::size_t off = 0; off < lease_table_file::file_size; off += sizeof zeros) {
    if (::pwrite(fd, zeros, sizeof zeros, static_cast<off_t>(off)) != sizeof zeros) {
      why = errno_text("cannot allocate the lease table");
      return false;
    }
  }
  return true;
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

// Creates the table as an unnamed file (O_TMPFILE), fully allocated, with its
// header, then links it under its name: other processes see either no file or
// a complete one. Returns the open descriptor, -1 with `why` on failure, or -2
// when another process published the file first (open that one).
int create_table(int dirfd, const std::string& name, std::string& why) {
  fd_guard tmp{::openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)};
  if (tmp.fd < 0) {
    why = errno_text("cannot create the lease table");
    return -1;
  }
  if (::fchmod(tmp.fd, 0600) != 0 || !allocate(tmp.fd, why)) {
    if (why.empty()) why = errno_text("cannot create the lease table");
    return -1;
  }
  header h{};
  h.magic = table_magic;
  h.version = table_version;
  h.slot_count = lease_slots::count;
  if (!read_boot_id(h.boot_id)) {
    why = "cannot read /proc/sys/kernel/random/boot_id";
    return -1;
  }
  if (::pwrite(tmp.fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) {
    why = errno_text("cannot write the lease table");
    return -1;
  }
  const std::string proc = "/proc/self/fd/" + std::to_string(tmp.fd);
  if (::linkat(AT_FDCWD, proc.c_str(), dirfd, name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    if (errno == EEXIST) return -2;
    why = errno_text("cannot publish the lease table");
    return -1;
  }
  return tmp.release();
}

}  // namespace

lease_table_location default_lease_table_location(std::string& why) {
  lease_table_location where;
  const char* dir = std::getenv("PORTPROBE_LOCK_DIR");
  where.directory = dir != nullptr && *dir != '\0' ? dir : "/dev/shm";
  struct stat ns {};
  if (::stat("/proc/self/ns/net", &ns) != 0) {
    why = errno_text("cannot read /proc/self/ns/net");
    return where;
  }
  where.file_name = "portprobe-v1-u" + std::to_string(::geteuid()) + "-n" +
                    std::to_string(static_cast<unsigned long long>(ns.st_ino));
  return where;
}

std::unique_ptr<lease_table_file> lease_table_file::open(const lease_table_location& where,
                                                         std::string& why) {
  if (where.file_name.empty()) {
    if (why.empty()) why = "no lease table name";
    return nullptr;
  }
  fd_guard dir{::open(where.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd < 0) {
    why = errno_text(where.directory);
    return nullptr;
  }
  fd_guard file{-1};
  for (int attempt = 0; attempt < 2 && file.fd < 0; ++attempt) {
    file.fd = ::openat(dir.fd, where.file_name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (file.fd >= 0) break;
    if (errno != ENOENT) {
      why = errno == ELOOP ? where.path() + ": a symbolic link" : errno_text(where.path());
      return nullptr;
    }
    const int created = create_table(dir.fd, where.file_name, why);
    if (created == -1) return nullptr;
    file.fd = created;  // -2: published by another process meanwhile; open it
  }
  if (file.fd < 0) {
    why = where.path() + ": appeared and vanished";
    return nullptr;
  }

  struct stat st {};
  if (::fstat(file.fd, &st) != 0) {
    why = errno_text(where.path());
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) {
    why = where.path() + ": not a regular file";
  } else if (st.st_uid != ::geteuid()) {
    why = where.path() + ": owned by uid " + std::to_string(st.st_uid) + ", not by this user";
  } else if ((st.st_mode & 077) != 0) {
    why = where.path() + ": readable or writable by others (mode must be 0600)";
  } else if (st.st_nlink != 1) {
    why = where.path() + ": has " + std::to_string(st.st_nlink) + " links";
  } else if (static_cast<std::size_t>(st.st_size) != file_size) {
    why = where.path() + ": of size " + std::to_string(st.st_size) + ", not " +
          std::to_string(file_size);
  }
  if (!why.empty()) return nullptr;

  // The header first, read (not mapped: nothing is written to a file refused).
  header h{};
  char boot_id[boot_id_size];
  if (::pread(file.fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) {
    why = errno_text(where.path());
    return nullptr;
  }
  if (!read_boot_id(boot_id)) {
    why = where.path() + ": cannot read this boot's id";
    return nullptr;
  }
  const std::string problem =
      lease_table_header_problem(&h, sizeof h, std::string_view(boot_id, boot_id_size));
  if (!problem.empty()) {
    why = where.path() + ": " + problem;
    return nullptr;
  }
  // Every block allocated, so that no page of the mapping can raise SIGBUS on
  // a full filesystem: our own files are (fallocate is then a no-op, writing
  // nothing); where fallocate is not supported, the blocks are counted instead.
  if (::fallocate(file.fd, 0, 0, static_cast<off_t>(file_size)) != 0) {
    if (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS) {
      why = errno_text(where.path());
      return nullptr;
    }
    if (static_cast<std::size_t>(st.st_blocks) * 512 < file_size) {
      why = where.path() + ": not fully allocated (a full filesystem could fault it)";
      return nullptr;
    }
  }
  void* base = ::mmap(nullptr, file_size, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd, 0);
  if (base == MAP_FAILED) {
    why = errno_text("cannot map " + where.path());
    return nullptr;
  }
  auto* words = reinterpret_cast<std::uint64_t*>(static_cast<char*>(base) + header_size);
  return std::unique_ptr<lease_table_file>(new lease_table_file(base, words, where.path()));
}

std::string lease_table_header_problem(const void* page, std::size_t size,
                                      std::string_view boot_id) {
  header h{};
  if (size < sizeof h) return "a header of " + std::to_string(size) + " bytes, not " + std::to_string(sizeof h);
  std::memcpy(&h, page, sizeof h);
  if (h.magic != table_magic || h.version != table_version || h.slot_count != lease_slots::count) {
    return "not a portprobe lease table of this version";
  }
  if (boot_id.size() != boot_id_size || std::memcmp(boot_id.data(), h.boot_id, boot_id_size) != 0) {
    return "made before the last boot (remove it)";
  }
  return {};
}

lease_table_file::~lease_table_file() { ::munmap(base_, file_size); }

}  // namespace portprobe::detail
