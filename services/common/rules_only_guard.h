// Forced into every file of a rules library (icr_rules_library in services/CMakeLists.txt): the
// rules are pure, so naming gRPC or libpqxx, even through an include, is a compile error.
#pragma once
#pragma GCC poison grpc pqxx
