// The doctest main of every test program. Before any test runs, it points
// PORTPROBE_LOCK_DIR at a directory of this program's own, so that no test
// shares a lease table with the machine or with another test program (the
// command-line tools a test starts inherit it: they share the test's table, as
// they should). The directory and the table in it are removed at exit.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "netns/namespace.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

int main(int argc, char** argv) {
  std::string dir = (std::filesystem::temp_directory_path() / "portprobe-test-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return 2;
  ::setenv("PORTPROBE_LOCK_DIR", dir.c_str(), 1);
  // Under test/netns/run.sh: whether the namespace is a fresh one of this
  // program's own is seen before any test has opened a socket.
  if (std::getenv("PORTPROBE_OUTER_NETNS") != nullptr) (void)test::isolated_network();
  doctest::Context context(argc, argv);
  const int status = context.run();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return status;
}
