#include "services/common/http_listen.h"

#include <algorithm>
#include <chrono>

namespace icr {

absl::StatusOr<int> BindHttp(httplib::Server& server, const std::string& listen,
                             std::string_view what) {
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
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (port == 0) {
    port = server.bind_to_any_port(host);
    if (port < 0) port = 0;
  } else if (!server.bind_to_port(host, port)) {
    port = 0;
  }
  if (port == 0) return absl::UnavailableError(name + ": cannot listen on " + listen);
  return port;
}

std::thread ServeHttp(httplib::Server& server) {
  std::thread thread([&server] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return thread;
}

}  // namespace icr
