// Oversized request metadata on the real server: a call whose headers are too large is refused,
// and the HTTP/2 connection it came on keeps serving the caller's next calls (once, the next call
// on the same channel failed with "Connection dropped").
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <string>

#include "tests/integration/harness.h"

namespace icr::test {
namespace {

constexpr const char* kOrg = "RX4";

grpc::Status GetPerson(icr::v1::RecordService::Stub& stub, const std::string& token,
                       const std::string& nhs,
                       const std::map<std::string, std::string>& metadata = {}) {
  icr::v1::GetPersonRequest req;
  req.set_nhs_number(nhs);
  icr::v1::Person out;
  return stub.GetPerson(Ctx(token, metadata).get(), req, &out);
}

TEST(OversizedMetadata, IsRefusedWithoutDroppingTheConnection) {
  auto& stack = Stack::Get();
  const std::string token = stack.Token(kOrg, "system");
  const std::string nhs = NextNhsNumber();
  SeedPerson(kOrg, nhs);
  // A channel of its own, so that nothing else shares (or re-opens) its connection.
  auto channel = grpc::CreateChannel(stack.target(), grpc::InsecureChannelCredentials());
  auto stub = icr::v1::RecordService::NewStub(channel);
  ASSERT_TRUE(GetPerson(*stub, token, nhs).ok());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);

  for (size_t size : {size_t{20} << 10, size_t{100} << 10, size_t{512} << 10}) {
    SCOPED_TRACE("metadata value of " + std::to_string(size) + " bytes");
    const grpc::Status big = GetPerson(*stub, token, nhs, {{"x-filler", std::string(size, 'a')}});
    EXPECT_EQ(big.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << big.error_message();
    // The next calls on the same channel are served, on the same connection.
    for (int i = 0; i < 3; ++i) {
      const grpc::Status next = GetPerson(*stub, token, nhs);
      EXPECT_TRUE(next.ok()) << "call " << i << " after the oversized one: "
                             << next.error_code() << " " << next.error_message();
    }
    EXPECT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  }
}

// Metadata below the limit is still accepted: the limit is not set lower than a real client's
// headers (a bearer token, a request id, a user agent).
TEST(OversizedMetadata, OrdinaryLargeHeadersAreAccepted) {
  auto& stack = Stack::Get();
  const std::string token = stack.Token(kOrg, "system");
  const std::string nhs = NextNhsNumber();
  SeedPerson(kOrg, nhs);
  const grpc::Status s =
      GetPerson(*stack.record(), token, nhs, {{"x-filler", std::string(4 << 10, 'a')}});
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
}

}  // namespace
}  // namespace icr::test
