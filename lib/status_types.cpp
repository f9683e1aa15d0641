// lib/status_types.cpp: the plain status types (status_types.hpp).
#include <portprobe/status_types.hpp>

namespace portprobe {

std::string_view to_string(port_status status) noexcept {
  switch (status) {
    case port_status::open:
      return "open";
    case port_status::closed:
      return "closed";
    case port_status::filtered:
      return "filtered";
  }
  return "filtered";
}

}  // namespace portprobe
