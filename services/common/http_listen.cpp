#include "services/common/http_listen.h"

#include <chrono>

#include "services/common/listen_address.h"
#include "services/common/status.h"

namespace icr {

absl::StatusOr<int> BindHttp(httplib::Server& server, const std::string& listen,
                             std::string_view what) {
  ASSIGN_OR_RETURN(const ListenAddress address, ParseListenAddress(listen, what));
  int port = address.port;
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (port == 0) {
    port = server.bind_to_any_port(address.host);
    if (port < 0) port = 0;
  } else if (!server.bind_to_port(address.host, port)) {
    port = 0;
  }
  if (port == 0) return absl::UnavailableError(std::string(what) + ": cannot listen on " + listen);
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
