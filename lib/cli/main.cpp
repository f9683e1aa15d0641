// portprobe: the command-line tool.
//
// Exit status: 0 when the answer is found (the port is open, the wait
// succeeded), 1 when it is not, 2 for bad usage (with a message on stderr
// naming the bad value). Each command lives in a file of its own; what they
// share is in cli.hpp.
#include "cli.hpp"

#include <string>
#include <vector>

int main(int argc, char** argv) {
  portprobe::cli::tool tool;
  const int status = tool.parse(std::vector<std::string>(argv + 1, argv + argc));
  return status >= 0 ? status : tool.run();
}
