// One page size rule for every listing: a request's page_size, 50 when unset, at most 500.
#pragma once

#include <algorithm>

#include "icr/v1/common.pb.h"

namespace icr {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

inline int PageSize(const icr::v1::PageRequest& page) {
  return page.page_size() <= 0 ? kDefaultPageSize : std::min(page.page_size(), kMaxPageSize);
}

}  // namespace icr
