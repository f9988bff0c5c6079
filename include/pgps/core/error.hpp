// The one exception type of pgps and the helpers that build its messages.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgps {

// Thrown for every invalid argument or corrupt input. Messages say what was wrong, which value
// was given and what is allowed, so a user can fix the call without reading the source.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;

  // The message without its leading "pgps: ", for wrapping it in more context.
  std::string_view reason() const noexcept {
    constexpr std::string_view prefix = "pgps: ";
    std::string_view message = what();
    if (message.starts_with(prefix)) message.remove_prefix(prefix.size());
    return message;
  }
};

namespace detail {
template <class... Parts>
[[nodiscard]] std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw error(detail::concat("pgps: ", parts...));
}

// Validation at construction time; hot paths never call this.
template <class... Parts>
void require(bool condition, const Parts&... parts) {
  if (!condition) fail(parts...);
}

}  // namespace pgps
