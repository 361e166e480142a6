// One CSV field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break,
// its quotes doubled. Used by every CSV export (indicators, the S117 register).
#pragma once

#include <string>

namespace icr {

std::string CsvField(const std::string& s);

}  // namespace icr
