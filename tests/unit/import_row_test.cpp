#include "services/common/import_row.h"

#include <gtest/gtest.h>

#include "services/common/status.h"

namespace icr {
namespace {

using Result = icr::v1::ImportRowResult;

TEST(ImportRow, OutcomesFromWhatTheRowReturned) {
  auto stored = ImportRowResultOf(7, absl::OkStatus(), false, "id-1");
  EXPECT_EQ(stored.row(), 7);
  EXPECT_EQ(stored.outcome(), Result::STORED);
  EXPECT_EQ(stored.id(), "id-1");
  EXPECT_EQ(ImportRowResultOf(7, absl::OkStatus(), true, "id-1").outcome(), Result::DUPLICATE);
  auto valid = ImportRowResultOf(7, DryRunRollback(), false, "id-2");
  EXPECT_EQ(valid.outcome(), Result::VALID);
  EXPECT_EQ(valid.id(), "");  // a dry run stored nothing
  EXPECT_EQ(ImportRowResultOf(7, DryRunRollback(), true, "id-1").outcome(), Result::DUPLICATE);
  // Another cancellation is not a dry run's rollback.
  auto cancelled = ImportRowResultOf(7, absl::CancelledError("client went away"), false, "");
  EXPECT_EQ(cancelled.outcome(), Result::REFUSED);
  auto refused = ImportRowResultOf(8, RefusedField("source_ref", "already imported"), false, "p");
  EXPECT_EQ(refused.outcome(), Result::REFUSED);
  EXPECT_EQ(refused.code(), 9);  // FAILED_PRECONDITION
  EXPECT_EQ(refused.field(), "source_ref");
  EXPECT_EQ(refused.message(), "source_ref: already imported");
  EXPECT_EQ(refused.id(), "p");
}

TEST(ImportRow, FieldsAreRenamedByPrefix) {
  const auto s = InvalidField("review.next_review_date", "after the review");
  EXPECT_EQ(RenameField(s, "review.", "reviews[2].").message(),
            "reviews[2].next_review_date: after the review");
  EXPECT_EQ(RenameField(s, "", "services[1].").message(),
            "services[1].review.next_review_date: after the review");
  EXPECT_EQ(RenameField(s, "decision.", "x").message(), s.message());  // not its prefix
  EXPECT_TRUE(RenameField(absl::OkStatus(), "", "x").ok());
  EXPECT_EQ(FieldOf(s), "review.next_review_date");
  EXPECT_EQ(FieldOf(absl::InternalError("no field here")), "");
}

}  // namespace
}  // namespace icr
