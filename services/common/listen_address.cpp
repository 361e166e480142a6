#include "services/common/listen_address.h"

#include <algorithm>
#include <cctype>

namespace icr {

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& listen, std::string_view what) {
  const std::string name(what);
  std::string host, port_text;
  if (!listen.empty() && listen[0] == '[') {  // [::1]:8080
    const size_t close = listen.find("]:");
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(name + " listen address: [host]:port");
    }
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(name + " listen address: host:port");
    }
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  int port = -1;
  if (!port_text.empty() && port_text.size() <= 5 &&
      std::all_of(port_text.begin(), port_text.end(),
                  [](unsigned char c) { return std::isdigit(c); })) {
    port = std::stoi(port_text);
  }
  if (host.empty() || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(name + " listen address '" + listen +
                                      "': expected host:port");
  }
  return ListenAddress{host, port};
}

}  // namespace icr
