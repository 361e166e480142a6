// Graceful shutdown of a real icr-server process under load (ctest label reliability): two
// replicas on one database behind a round_robin client that watches their health (gRFC A17) and
// never retries; one gets SIGTERM. Its readiness turns NOT_SERVING before its listener closes,
// no call fails, and it exits 0. Its --log-format json lines parse and carry request ids.
// ICR_DRAIN_TEST_SECONDS sets the stopped replica's --drain-seconds (default 1): 0 is the
// negative control, run by hand (then about one run in two saw a call CANCELLED);
// ICR_DRAIN_TEST_NO_CLIENT_HEALTH=1 leaves out the client's health checking.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "services/common/auth.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

using Clock = std::chrono::steady_clock;

// An icr-server process on `url`, ports chosen by the system (read back from its log); killed
// when the test leaves it running.
struct Server {
  pid_t pid = 0;
  std::string log;
  int port = 0;
  int health_port = 0;
  Server() = default;
  Server(const Server&) = delete;
  ~Server() {
    if (pid > 0 && kill(pid, SIGKILL) == 0) waitpid(pid, nullptr, 0);
  }
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first number after `marker` in the log, waiting up to 15 s for it; 0 when it never shows.
int PortFromLog(const Server& s, const std::string& marker) {
  const std::regex re(marker + "(\\d+)");
  for (int i = 0; i < 150; ++i) {
    const std::string text = ReadAll(s.log);
    std::smatch m;
    if (std::regex_search(text, m, re)) return std::stoi(m[1]);
    if (waitpid(s.pid, nullptr, WNOHANG) == s.pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "no '" << marker << "' in " << s.log << ":\n" << ReadAll(s.log);
  return 0;
}

void Start(Server& s, const std::string& url, const std::string& name,
           const std::string& drain_seconds, const std::string& log_format) {
  s.log = "/tmp/graceful_drain_" + std::to_string(getpid()) + "_" + name + ".log";
  std::vector<std::string> args = {
      ICR_SERVER,    "--listen",           "127.0.0.1:0", "--services",
      "record",      "--database-url",     url,           "--health-listen",
      "127.0.0.1:0", "--dashboard-listen", "off",         "--fhir-listen",
      "off",         "--drain-seconds",    drain_seconds, "--shutdown-seconds",
      "5",           "--log-format",       log_format};
  s.pid = fork();
  if (s.pid == 0) {
    const int fd = open(s.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // "icr-server listening on 127.0.0.1:0 (port 43123)" in either log format.
  s.port = PortFromLog(s, "listening on [^ ]+ \\(port ");
  s.health_port = PortFromLog(s, "health-only gRPC port \\(plaintext\\) on [0-9.]+:");
}

// Waits up to `within` for the process to end; its exit status, or -1 (then it is killed).
int Wait(Server& s, std::chrono::seconds within) {
  const auto until = Clock::now() + within;
  int status = 0;
  const pid_t pid = s.pid;
  s.pid = 0;
  while (Clock::now() < until) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

bool Ready(const std::shared_ptr<grpc::Channel>& health) {
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("icr.v1.RecordService");
  grpc::health::v1::HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  return grpc::health::v1::Health::NewStub(health)->Check(&ctx, req, &resp).ok() &&
         resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

std::string DrainSeconds() {
  const char* v = std::getenv("ICR_DRAIN_TEST_SECONDS");
  return v && *v ? v : "1";
}

TEST(GracefulDrain, SigtermUnderLoadFailsNoCall) {
  const std::string url = Stack::NewDatabase("drain");
  std::string token;
  {
    Database db(url, 1);
    auto t = Authenticator::CreateToken(db, "RGD", Role::kSystem, "drain test");
    ASSERT_TRUE(t.ok()) << t.status();
    token = *t;
  }
  Server a, b;
  Start(a, url, "a", "1", "text");
  Start(b, url, "b", DrainSeconds(), "json");
  ASSERT_NE(a.port, 0);
  ASSERT_NE(b.port, 0);
  ASSERT_NE(b.health_port, 0);

  grpc::ChannelArguments args;
  const char* no_health = std::getenv("ICR_DRAIN_TEST_NO_CLIENT_HEALTH");
  args.SetServiceConfigJSON(no_health
                                ? R"({"loadBalancingConfig":[{"round_robin":{}}]})"
                                : R"({"loadBalancingConfig":[{"round_robin":{}}],)"
                                  R"("healthCheckConfig":{"serviceName":"icr.v1.RecordService"}})");
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  auto channel = grpc::CreateCustomChannel(
      "ipv4:127.0.0.1:" + std::to_string(a.port) + ",127.0.0.1:" + std::to_string(b.port),
      grpc::InsecureChannelCredentials(), args);
  auto record = icr::v1::RecordService::NewStub(channel);
  icr::v1::UpsertPersonRequest upsert;
  *upsert.mutable_person() = MakePerson(NextNhsNumber());
  icr::v1::Person person;
  ASSERT_TRUE(record->UpsertPerson(Ctx(token).get(), upsert, &person).ok());

  // A steady stream of reads from eight callers, without pauses.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::mutex mu;
  std::map<std::string, int> failures;  // "CODE message" -> count
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      icr::v1::GetPersonRequest req;
      req.set_person_id(person.person_id());
      int n = 0;
      while (!stop) {
        icr::v1::Person got;
        auto ctx = Ctx(
            token, {{"x-request-id", "drain-" + std::to_string(i) + "-" + std::to_string(n++)}});
        const auto status = record->GetPerson(ctx.get(), req, &got);
        if (status.ok()) {
          ++ok;
        } else {
          std::lock_guard lock(mu);
          ++failures[std::to_string(status.error_code()) + " " + status.error_message()];
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));

  // B's readiness and listener, watched while it stops.
  auto b_health = grpc::CreateChannel("127.0.0.1:" + std::to_string(b.health_port),
                                      grpc::InsecureChannelCredentials());
  ASSERT_TRUE(Ready(b_health));
  const auto sent = Clock::now();
  ASSERT_EQ(kill(b.pid, SIGTERM), 0);
  std::optional<Clock::time_point> not_ready, closed;
  bool not_ready_while_open = false;
  while (Clock::now() - sent < std::chrono::seconds(20) && !closed) {
    const bool ready = Ready(b_health);
    const bool open = Accepts(b.port);
    if (!ready && !not_ready) not_ready = Clock::now();
    if (!ready && open) not_ready_while_open = true;
    if (!open) closed = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int b_exit = Wait(b, std::chrono::seconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // A alone carries on
  stop = true;
  for (auto& t : callers) t.join();

  ASSERT_TRUE(not_ready.has_value()) << "B never reported NOT_SERVING";
  ASSERT_TRUE(closed.has_value()) << "B's port never closed";
  EXPECT_TRUE(not_ready_while_open) << "readiness never said NOT_SERVING while B still listened";
  EXPECT_EQ(b_exit, 0) << ReadAll(b.log);
  std::string failed;
  int failed_calls = 0;
  for (const auto& [what, n] : failures) {
    failed += std::to_string(n) + " x " + what + "\n";
    failed_calls += n;
  }
  std::cout << "calls: " << ok << " ok, " << failed_calls << " failed; B not ready after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(*not_ready - sent).count()
            << " ms, its port closed after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(*closed - sent).count()
            << " ms (--drain-seconds " << DrainSeconds() << ")\n"
            << failed;
  EXPECT_EQ(failed_calls, 0) << failed;
  EXPECT_GT(ok, 100);

  // B's log: every line one JSON object; B served some of the calls, each with its request id;
  // the shutdown's steps are there, in order.
  std::istringstream lines(ReadAll(b.log));
  std::string line;
  int served = 0;
  std::vector<std::string> steps;
  while (std::getline(lines, line)) {
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    if (j.value("rpc.method", "") == "GetPerson") {
      ++served;
      EXPECT_EQ(j.value("rpc.system", ""), "grpc") << line;
      EXPECT_EQ(j.value("rpc.grpc.status_code", -1), 0) << line;
      EXPECT_TRUE(j.contains("duration_ms")) << line;
      EXPECT_TRUE(j.value("request_id", "").starts_with("drain-")) << line;
    }
    const std::string msg = j.value("msg", "");
    if (msg.starts_with("shut")) steps.push_back(msg);
  }
  EXPECT_GT(served, 10) << "round_robin sent B (almost) nothing";
  ASSERT_EQ(steps.size(), 4u) << ReadAll(b.log);
  EXPECT_TRUE(steps[0].starts_with("shutting down (SIGTERM)"));
  EXPECT_TRUE(steps[1].starts_with("shutdown: readiness NOT_SERVING"));
  EXPECT_TRUE(steps[2].starts_with("shutdown: stopping the gRPC server"));
  EXPECT_EQ(steps[3], "shutdown: done");

  kill(a.pid, SIGTERM);
  EXPECT_EQ(Wait(a, std::chrono::seconds(20)), 0);
  if (!HasFailure()) {
    unlink(a.log.c_str());
    unlink(b.log.c_str());
  }
}

TEST(GracefulDrain, UnknownLogFormatRefused) {
  FILE* p = popen((std::string(ICR_SERVER) +
                   " --database-url postgresql://nowhere/x --log-format yaml 2>&1")
                      .c_str(),
                  "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 2) << out;
  EXPECT_NE(out.find("--log-format"), std::string::npos) << out;
}

}  // namespace
}  // namespace icr::test
