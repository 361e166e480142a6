// Migration 0015 (relationships as data) keeps every relationship an existing store has: a store
// at migration 0014 holding each kind the old core.can_see knew (council and ICB of residence,
// "recorded something", open and closed referrals, stays and key workers, an S117 entitlement's
// responsible bodies, a care plan role) answers core.can_see for every person and organisation
// the same before and after it is migrated.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>

#include "services/common/migrations.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

std::string EmptyDatabase() {
  const std::string name = "relmig_" + std::to_string(getpid());
  const char* base = std::getenv("ICR_TEST_PG");
  pqxx::connection admin(std::string(base) + " dbname=postgres");
  pqxx::nontransaction tx(admin);
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name));
  tx.exec("CREATE DATABASE " + tx.quote_name(name));
  return std::string(base) + " dbname=" + name;
}

// The answer of core.can_see for every person and every organisation that appears anywhere.
std::string EveryAnswer(pqxx::connection& c) {
  pqxx::work tx(c);
  auto r = tx.exec(
      "SELECT string_agg(p.nhs_number || ':' || o.code || '=' || core.can_see(p.person_id, "
      "o.code)::text, ',' ORDER BY p.nhs_number, o.code) FROM core.person p, "
      "(SELECT code FROM core.organisation WHERE code IN ('RGD', 'RX4', 'RXV', 'E08000035', "
      "'E08000021', 'QWO', 'QHM', 'E09000007')) o");
  return r[0][0].c_str();
}

TEST(RelationshipMigration, AStoreKeepsEveryRelationshipItHad) {
  Stack::Get();  // fails clearly without ICR_TEST_PG
  const std::string url = EmptyDatabase();
  pqxx::connection c(url);
  {
    pqxx::work tx(c);
    tx.exec("CREATE SCHEMA IF NOT EXISTS core; CREATE TABLE IF NOT EXISTS core.schema_migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    for (const auto& m : EmbeddedMigrations()) {
      if (std::string(m.name) >= "0015") break;
      tx.exec(m.sql);
      tx.exec("INSERT INTO core.schema_migrations (name) VALUES (" + tx.quote(m.name) + ")");
    }
    // Six people in Leeds (E08000035, QWO), each with one relationship of another kind.
    for (int i = 1; i <= 7; ++i) {
      tx.exec("INSERT INTO core.person (nhs_number, family_name, date_of_birth, council_code, "
              "icb_code) VALUES ('99900000" + std::to_string(10 + i) +
              "', 'P', '1970-01-01', 'E08000035', 'QWO')");
    }
    const std::string p = "(SELECT person_id FROM core.person WHERE nhs_number = '99900000";
    tx.exec("INSERT INTO core.person_relationship (person_id, org_code) VALUES (" + p +
            "11'), 'RX4')");
    tx.exec("INSERT INTO core.referral (person_id, source_org, referral_id, provider_code, "
            "team_type, service_area, received_date) VALUES (" + p +
            "12'), 'RGD', 'R1', 'RXV', 'C02', 'adult_mh', '2025-01-01'), (" + p +
            "13'), 'RGD', 'R2', 'RX4', 'C02', 'adult_mh', '2025-01-01')");
    tx.exec("UPDATE core.referral SET closed_date = '2025-06-01' WHERE referral_id = 'R2'");
    tx.exec("INSERT INTO core.hospital_spell (person_id, source_org, spell_id, provider_code, "
            "admitted_at, bed_type) VALUES (" + p + "14'), 'RGD', 'S1', 'RX4', now(), '200')");
    tx.exec("INSERT INTO core.key_worker (person_id, source_org, assignment_id, worker_name, "
            "worker_role, worker_org_code, start_date) VALUES (" + p +
            "15'), 'RGD', 'K1', 'Alex', 'CPN', 'RXV', '2025-01-01')");
    tx.exec("INSERT INTO s117.episode (person_id, state, qualifying_section, legal_status_code, "
            "detention_start_date, detaining_provider_code, responsible_council_code, "
            "responsible_icb_code) VALUES (" + p +
            "16'), 'PLANNED', 's3', '03', '2025-01-01', 'RGD', 'E09000007', 'QHM')");
    tx.exec("INSERT INTO careplan.plan (person_id, status, created_by_org) VALUES (" + p +
            "17'), 'DRAFT', 'RGD')");
    tx.exec("INSERT INTO careplan.plan_org (person_id, org_code, plan_id) SELECT person_id, "
            "'E08000021', plan_id FROM careplan.plan");
    tx.commit();
  }
  const std::string before = EveryAnswer(c);
  // Each kind is there: an answer that is not the default of the council and ICB.
  for (const std::string& seen :
       {"9990000011:RX4=true", "9990000012:RXV=true", "9990000013:RX4=false",
        "9990000014:RX4=true", "9990000015:RXV=true", "9990000016:E09000007=true",
        "9990000016:QHM=true", "9990000017:E08000021=true", "9990000011:E08000035=true"}) {
    EXPECT_NE(before.find(seen), std::string::npos) << seen << " in " << before;
  }
  auto applied = ApplyMigrations(url);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_FALSE(applied->empty());
  EXPECT_EQ(EveryAnswer(c), before);
}

}  // namespace
}  // namespace icr::test
