// icrctl s117 import and careplan import refuse what they cannot read before any call: a file
// that is not there, a header with an unknown column, a row whose cell does not parse (REFUSED,
// naming the column, exit 3). icrctl runs as a subprocess pointed at a port nothing listens on,
// so a row sent would fail the command instead.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

struct Ran {
  std::string output;
  int exit_code = -1;
};

Ran Icrctl(const std::string& args) {
  const std::string cmd =
      std::string(ICRCTL) + " --server 127.0.0.1:1 --token unused " + args + " 2>&1";
  Ran run;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof buf, p)) run.output += buf;
  const int status = p ? pclose(p) : -1;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string File(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(IcrctlImport, RowsThatDoNotParseAreRefusedNamingTheColumnAndNotSent) {
  const auto path = File("register.csv",
                         "Source Ref,NHS Number,Qualifying Section,Detention Start Date,Council "
                         "Code,ICB Code,Services\r\n"
                         "R1,943 476 5919,S3,2024-01-01,E08000012,QYG,\"HOME_CARE|Acme|lots|JOINT||"
                         "2024-02-01|\"\r\n"
                         "R2,943 476 5919,S2,2024-01-01,E08000012,QYG,\r\n");
  const Ran run = Icrctl("s117 import " + path + " --dry-run");
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_NE(run.output.find("row 2     REFUSED   services[0].weekly_cost: not an amount"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("row 3     REFUSED   qualifying_section: not a qualifying section"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("2 rows: 0 stored, 0 duplicate, 2 refused, 0 valid"), std::string::npos)
      << run.output;

  const Ran json = Icrctl("--json careplan import " +
                          File("plans.csv", "source_ref,nhs_number,types\nCP-1,9434765919,CPA\n"));
  EXPECT_EQ(json.exit_code, 3) << json.output;
  EXPECT_NE(json.output.find(R"({"row":2,"outcome":"REFUSED","code":3,"field":"types")"),
            std::string::npos)
      << json.output;
}

TEST(IcrctlImport, AFileOrHeaderThatCannotBeReadSendsNothing) {
  Ran run = Icrctl("s117 import " + File("colour.csv", "source_ref,colour\nR1,blue\n"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("header row: colour: not a column of this layout"), std::string::npos)
      << run.output;
  run = Icrctl("careplan import " + File("quote.csv", "source_ref,nhs_number,types\n\"CP-1\n"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("line 2: a quoted cell is never closed"), std::string::npos)
      << run.output;
  run = Icrctl("s117 import " + ::testing::TempDir() + "absent.csv");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("cannot read"), std::string::npos) << run.output;
}

TEST(IcrctlImport, ARowSentToNoServerFailsTheCommand) {
  const Ran run = Icrctl(
      "s117 import " + File("ok.csv",
                            "source_ref,nhs_number,qualifying_section,detention_start_date,"
                            "council_code,icb_code\nR1,9434765919,S3,2024-01-01,E08000012,QYG\n"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("icrctl: UNAVAILABLE"), std::string::npos) << run.output;
}

}  // namespace
