// Database outages: the service reaches PostgreSQL through a small TCP proxy inside the test, which
// can be killed (the database is down: every socket closed, connections refused) or frozen (the
// database stops answering: sockets stay open but no byte moves and no connection is accepted).
// Either way calls must fail with UNAVAILABLE from the server within the database timeout (5 s by
// default), writes attempted during the outage must change nothing, and the service must recover
// by itself afterwards, without restarting the Host. A database that answers but is blocked (a
// table locked by another session) is held to the same timeout, and a caller's gRPC deadline ends
// the server's database work at that deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "icr/v1/performance.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/server/host.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

constexpr const char* kOrg = "RX4";

// The value of key in a libpq key=value string ("" when absent).
std::string ConnValue(const std::string& conn, const std::string& key) {
  size_t pos = 0;
  while ((pos = conn.find(key + "=", pos)) != std::string::npos) {
    if (pos == 0 || conn[pos - 1] == ' ') {
      const size_t start = pos + key.size() + 1;
      const size_t end = conn.find(' ', start);
      return conn.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
    pos += key.size();
  }
  return "";
}

// A TCP proxy from 127.0.0.1:<port()> to 127.0.0.1:<upstream>, run by one poll() thread.
// Controls are carried out by that thread; each call returns once it has taken effect.
class TcpProxy {
 public:
  explicit TcpProxy(int upstream_port) : upstream_port_(upstream_port) {
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) std::abort();
    listen_fd_ = Listen(0);
    if (listen_fd_ < 0) std::abort();
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }

  ~TcpProxy() {
    Do(Command::kStop);
    thread_.join();
    close(wake_[0]);
    close(wake_[1]);
  }

  int port() const { return port_; }

  // Stops moving bytes in both directions and stops accepting; sockets stay open.
  void Freeze() { Do(Command::kFreeze); }
  void Resume() { Do(Command::kResume); }
  // Closes every connection and the listener: connecting is refused until Restart.
  void Kill() { Do(Command::kKill); }
  // Listens again on the same port (and unfreezes). False when the port could not be bound.
  bool Restart() {
    Do(Command::kRestart);
    std::lock_guard lock(mu_);
    return listen_fd_ >= 0;
  }

 private:
  enum class Command { kNone, kFreeze, kResume, kKill, kRestart, kStop };

  struct Pipe {
    int client = -1;
    int upstream = -1;
    std::string to_upstream;  // read from client, not yet written upstream
    std::string to_client;
    bool dead = false;
  };

  static void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

  static int Listen(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 64) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  int ConnectUpstream() const {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return -1;
    }
    SetNonBlocking(fd);
    return fd;
  }

  void Do(Command c) {
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return command_ == Command::kNone; });
    command_ = c;
    const char byte = 1;
    (void)!write(wake_[1], &byte, 1);
    done_.wait(lock, [&] { return command_ == Command::kNone; });
  }

  void CloseAll() {
    for (auto& p : pipes_) {
      close(p.client);
      close(p.upstream);
    }
    pipes_.clear();
  }

  // Runs a pending command; false when the loop must stop. Called with mu_ held.
  bool Execute() {
    switch (command_) {
      case Command::kNone:
        return true;
      case Command::kFreeze:
        frozen_ = true;
        break;
      case Command::kResume:
        frozen_ = false;
        break;
      case Command::kKill:
        CloseAll();
        if (listen_fd_ >= 0) close(listen_fd_);
        listen_fd_ = -1;
        frozen_ = false;
        break;
      case Command::kRestart:
        if (listen_fd_ < 0) listen_fd_ = Listen(port_);
        frozen_ = false;
        break;
      case Command::kStop:
        CloseAll();
        if (listen_fd_ >= 0) close(listen_fd_);
        listen_fd_ = -1;
        command_ = Command::kNone;
        done_.notify_all();
        return false;
    }
    command_ = Command::kNone;
    done_.notify_all();
    return true;
  }

  // Moves what can be moved from `from` into `buffer`, then from `buffer` into `to`.
  static void Pump(int from, bool readable, std::string& buffer, int to, bool& dead) {
    if (readable && buffer.empty()) {
      char chunk[65536];
      const ssize_t n = read(from, chunk, sizeof(chunk));
      if (n > 0) {
        buffer.assign(chunk, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        dead = true;
        return;
      }
    }
    while (!buffer.empty()) {
      const ssize_t n = send(to, buffer.data(), buffer.size(), MSG_NOSIGNAL);
      if (n > 0) {
        buffer.erase(0, static_cast<size_t>(n));
      } else {
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) dead = true;
        return;
      }
    }
  }

  void Loop() {
    for (;;) {
      std::vector<pollfd> fds;
      {
        std::lock_guard lock(mu_);
        if (!Execute()) return;
        fds.push_back({wake_[0], POLLIN, 0});
        if (!frozen_) {
          if (listen_fd_ >= 0) fds.push_back({listen_fd_, POLLIN, 0});
          for (const auto& p : pipes_) {
            fds.push_back({p.client, static_cast<short>((p.to_upstream.empty() ? POLLIN : 0) |
                                                         (p.to_client.empty() ? 0 : POLLOUT)),
                           0});
            fds.push_back({p.upstream, static_cast<short>((p.to_client.empty() ? POLLIN : 0) |
                                                           (p.to_upstream.empty() ? 0 : POLLOUT)),
                           0});
          }
        }
      }
      if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) std::abort();
      if (fds[0].revents & POLLIN) {
        char drain[64];
        while (read(wake_[0], drain, sizeof(drain)) > 0) {
        }
      }
      std::lock_guard lock(mu_);
      if (command_ != Command::kNone || frozen_) continue;  // the fds polled may be stale
      size_t i = 1;
      if (listen_fd_ >= 0) {
        const bool acceptable = fds[i++].revents & POLLIN;
        if (acceptable) {
          const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (client >= 0) {
            const int upstream = ConnectUpstream();
            if (upstream < 0) {
              close(client);
            } else {
              // Appended after the existing pipes, whose pollfd entries come first.
              pipes_.push_back(Pipe{client, upstream, "", "", false});
            }
          }
        }
      }
      const size_t polled = (fds.size() - i) / 2;
      for (size_t k = 0; k < polled; ++k, i += 2) {
        Pipe& p = pipes_[k];
        const short in_flags = POLLIN | POLLHUP | POLLERR;
        Pump(p.client, fds[i].revents & in_flags, p.to_upstream, p.upstream, p.dead);
        if (!p.dead) Pump(p.upstream, fds[i + 1].revents & in_flags, p.to_client, p.client, p.dead);
      }
      for (size_t k = 0; k < pipes_.size();) {
        if (pipes_[k].dead) {
          close(pipes_[k].client);
          close(pipes_[k].upstream);
          pipes_.erase(pipes_.begin() + static_cast<long>(k));
        } else {
          ++k;
        }
      }
    }
  }

  const int upstream_port_;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable done_;
  Command command_ = Command::kNone;  // guarded by mu_, like everything below
  bool frozen_ = false;
  int listen_fd_ = -1;
  std::vector<Pipe> pipes_;
};

struct Timed {
  grpc::Status status;
  Clock::duration took;
};

std::string Describe(const grpc::Status& s) {
  return std::to_string(s.error_code()) + " \"" + s.error_message() + "\"";
}

class OutageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* base = std::getenv("ICR_TEST_PG");
    const std::string pg_port = base ? ConnValue(base, "port") : "";
    if (pg_port.empty()) {
      std::cerr << "ICR_TEST_PG must name the cluster's port (port=...)\n";
      return;
    }
    url_ = Stack::NewDatabase("outage");
    const std::string dbname = ConnValue(url_, "dbname");
    proxy_ = new TcpProxy(std::stoi(pg_port));
    db_ = new Database("host=127.0.0.1 port=" + std::to_string(proxy_->port()) +
                           " user=postgres dbname=" + dbname,
                       4);
    HostOptions options;
    options.services = KnownServices();
    auto host = Host::Start(*db_, options);
    if (!host.ok()) {
      std::cerr << "cannot start host: " << host.status() << "\n";
      return;
    }
    host_ = host->release();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->port()),
                                   grpc::InsecureChannelCredentials());
    auto token = Authenticator::CreateToken(*db_, kOrg, Role::kSystem, "outage test");
    if (!token.ok()) {
      std::cerr << "cannot create token: " << token.status() << "\n";
      return;
    }
    token_ = *token;
    nhs_ = NextNhsNumber();
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = MakePerson(nhs_);
    icr::v1::Person out;
    auto s = icr::v1::RecordService::NewStub(channel_)->UpsertPerson(Ctx(token_).get(), req, &out);
    if (!s.ok()) {
      std::cerr << "cannot seed person: " << Describe(s) << "\n";
      nhs_.clear();
    }
  }

  static void TearDownTestSuite() {
    if (proxy_) proxy_->Restart();  // let anything still waiting on the database finish
    delete host_;
    host_ = nullptr;
    delete db_;
    db_ = nullptr;
    delete proxy_;
    proxy_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(host_ && !token_.empty() && !nhs_.empty()) << "suite setup failed (see stderr)";
    proxy_->Resume();
    ASSERT_TRUE(proxy_->Restart());
    auto ready = WaitForRecovery(seconds(10));
    ASSERT_TRUE(ready.status.ok()) << "service not ready before the test: "
                                   << Describe(ready.status);
  }

  // GetPerson for the seeded person with a 30 s deadline, so a hang shows as DEADLINE_EXCEEDED.
  static Timed GetPerson(icr::v1::Person* out = nullptr, seconds deadline = seconds(30)) {
    auto ctx = Ctx(token_);
    ctx->set_deadline(std::chrono::system_clock::now() + deadline);
    icr::v1::GetPersonRequest req;
    req.set_nhs_number(nhs_);
    icr::v1::Person local;
    const auto start = Clock::now();
    grpc::Status s =
        icr::v1::RecordService::NewStub(channel_)->GetPerson(ctx.get(), req, out ? out : &local);
    return {s, Clock::now() - start};
  }

  // Retries GetPerson until it succeeds or `budget` has passed; returns the last attempt.
  static Timed WaitForRecovery(Clock::duration budget, icr::v1::Person* out = nullptr) {
    const auto start = Clock::now();
    Timed last;
    for (;;) {
      last = GetPerson(out, seconds(5));
      if (last.status.ok() || Clock::now() - start > budget) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    last.took = Clock::now() - start;
    return last;
  }

  // UpsertPerson for the seeded person with another family name.
  static Timed RenamePerson(const std::string& family_name) {
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = MakePerson(nhs_);
    req.mutable_person()->set_family_name(family_name);
    auto ctx = Ctx(token_);
    icr::v1::Person out;
    const auto start = Clock::now();
    grpc::Status s = icr::v1::RecordService::NewStub(channel_)->UpsertPerson(ctx.get(), req, &out);
    return {s, Clock::now() - start};
  }

  // Once the service has recovered, the seeded person is as `before`.
  static void ExpectUnchanged(const icr::v1::Person& before) {
    icr::v1::Person after;
    auto recovered = WaitForRecovery(seconds(5), &after);
    ASSERT_TRUE(recovered.status.ok()) << Describe(recovered.status);
    EXPECT_EQ(after.version(), before.version());
    EXPECT_EQ(after.family_name(), before.family_name());
  }

  // The server's own UNAVAILABLE for a lost database (not a transport failure of the channel).
  static void ExpectDatabaseUnavailable(const Timed& t, Clock::duration limit, const char* what) {
    EXPECT_EQ(t.status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << what << ": got " << Describe(t.status) << " after "
        << std::chrono::duration<double>(t.took).count() << " s";
    EXPECT_NE(t.status.error_message().find("database"), std::string::npos)
        << what << ": the UNAVAILABLE should come from the server's database layer, got "
        << Describe(t.status);
    EXPECT_LT(t.took, limit) << what << ": took " << std::chrono::duration<double>(t.took).count()
                             << " s";
  }

  // Takes a lock in a transaction of its own, straight to the database (not through the proxy),
  // and holds it until destroyed.
  class HeldLock {
   public:
    explicit HeldLock(const std::string& sql) : conn_(url_), tx_(conn_) { tx_.exec(sql); }

   private:
    pqxx::connection conn_;
    pqxx::work tx_;
  };

  static inline std::string url_;
  static inline TcpProxy* proxy_ = nullptr;
  static inline Database* db_ = nullptr;
  static inline Host* host_ = nullptr;
  static inline std::shared_ptr<grpc::Channel> channel_;
  static inline std::string token_;
  static inline std::string nhs_;
};

TEST_F(OutageTest, DatabaseDownGivesUnavailableQuicklyAndServiceRecovers) {
  proxy_->Kill();
  // Several calls: the first ones find pooled connections that were cut, later ones have to
  // connect afresh and are refused.
  for (int i = 0; i < 3; ++i) {
    ExpectDatabaseUnavailable(GetPerson(), seconds(8), "GetPerson with the database down");
  }
  ASSERT_TRUE(proxy_->Restart());
  icr::v1::Person person;
  auto recovered = WaitForRecovery(seconds(5), &person);
  EXPECT_TRUE(recovered.status.ok()) << "no recovery within 5 s of the database coming back: "
                                     << Describe(recovered.status);
  EXPECT_EQ(person.nhs_number(), nhs_);
}

TEST_F(OutageTest, WriteDuringOutageChangesNothing) {
  icr::v1::Person before;
  auto first = GetPerson(&before);
  ASSERT_TRUE(first.status.ok()) << Describe(first.status);

  proxy_->Kill();
  ExpectDatabaseUnavailable(RenamePerson("Changedduringoutage"), seconds(8),
                            "UpsertPerson, database down");

  ASSERT_TRUE(proxy_->Restart());
  ExpectUnchanged(before);
}

TEST_F(OutageTest, DatabaseNotAnsweringGivesUnavailableAndServiceRecovers) {
  proxy_->Freeze();
  // The database timeout is 5 s (connect_timeout 3 s): UNAVAILABLE is due within 7 s. The 30 s
  // deadline makes a call that hangs on the database show up as DEADLINE_EXCEEDED.
  // Note that here the peer's kernel still acknowledges every byte and keepalive probe (as with
  // a hung or stopped postgres process), so tcp_user_timeout and keepalives never fire on a
  // pooled connection: only a time limit on the query itself can turn this into UNAVAILABLE.
  ExpectDatabaseUnavailable(GetPerson(), seconds(7), "GetPerson with the database not answering");
  proxy_->Resume();
  auto recovered = WaitForRecovery(seconds(10));
  EXPECT_TRUE(recovered.status.ok()) << "no recovery within 10 s of the database answering again: "
                                     << Describe(recovered.status);
}

TEST_F(OutageTest, BlockedDatabaseGivesUnavailableWithinTheTimeoutAndAWriteChangesNothing) {
  icr::v1::Person before;
  ASSERT_TRUE(GetPerson(&before).status.ok());
  {
    HeldLock lock("LOCK TABLE core.person");  // every read or write of a person blocks
    ExpectDatabaseUnavailable(GetPerson(), seconds(7), "GetPerson with core.person locked");
    ExpectDatabaseUnavailable(RenamePerson("Changedwhileblocked"), seconds(7),
                              "UpsertPerson with core.person locked");
  }
  ExpectUnchanged(before);
}

// A host of its own with one database connection and a 30 s database timeout, so that only the
// caller's deadline can end a call blocked on the database: a caller that gives up after 1 s
// must not keep the connection from the next caller for the rest of the 30 s. (The person's row
// is locked, not the table, so that a new connection can still prepare its statements.)
TEST_F(OutageTest, TheCallersDeadlineEndsItsDatabaseWork) {
  Database db(url_, 1, seconds(30));
  HostOptions options;
  options.services = {"record", "performance"};
  auto host = Host::Start(db, options);
  ASSERT_TRUE(host.ok()) << host.status();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*host)->port()),
                                     grpc::InsecureChannelCredentials());
  auto record = icr::v1::RecordService::NewStub(channel);
  auto performance = icr::v1::PerformanceService::NewStub(channel);
  icr::v1::GetPersonRequest get;
  get.set_nhs_number(nhs_);
  icr::v1::Person person;
  ASSERT_TRUE(record->GetPerson(Ctx(token_).get(), get, &person).ok());

  HeldLock lock("SELECT 1 FROM core.person WHERE nhs_number = '" + nhs_ + "' FOR UPDATE");
  icr::v1::UpsertPersonRequest upsert;
  *upsert.mutable_person() = MakePerson(nhs_);
  upsert.mutable_person()->set_family_name("Changedwhilelocked");
  // A change of demographics by the person's council (a care relationship).
  auto council = Authenticator::CreateToken(db, "E08000035", Role::kSocialWorker, "outage test");
  ASSERT_TRUE(council.ok()) << council.status();
  auto ctx = Ctx(*council);
  ctx->set_deadline(std::chrono::system_clock::now() + seconds(1));
  const grpc::Status blocked = record->UpsertPerson(ctx.get(), upsert, &person);
  EXPECT_EQ(blocked.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << Describe(blocked);

  // ListIndicators does not touch the locked row; it needs the one connection (or a new one).
  auto next = Ctx(token_);
  next->set_deadline(std::chrono::system_clock::now() + seconds(10));
  icr::v1::ListIndicatorsResponse indicators;
  const auto start = Clock::now();
  const grpc::Status s = performance->ListIndicators(next.get(), {}, &indicators);
  const auto took = Clock::now() - start;
  EXPECT_TRUE(s.ok()) << "the next caller: " << Describe(s);
  EXPECT_LT(took, seconds(2)) << "the next caller waited "
                              << std::chrono::duration<double>(took).count() << " s";
}

}  // namespace
}  // namespace icr::test
