// The published figures `cimvp swis` sets its own beside: the paper's Table 4
// (Li et al., arXiv 2103.01308), shifts S, frames/J and frames/s per mode at two
// accuracy points per network. Data only.
#pragma once

#include <string>

#include "sw/contract/swis_perf.h"

namespace cimvp {

// One accuracy point of a network: per mode (swis::kModes order: SS, DS, C-SS, C-DS,
// Act, Wgt, BitFusion, FXP) the shift or bit count S (NaN: the paper has no such point), and the
// paper's frames/J and frames/s (0: not given).
struct SwisPaperRow {
    const char* accuracy;  // e.g. ">60.2%"
    double s[swis::kModeCount], fpj[swis::kModeCount], fps[swis::kModeCount];
};
struct SwisPaperNetwork {
    const char* name;   // our trace's network name
    const char* paper;  // the network as the paper names it
    SwisPaperRow rows[2];
};

// The paper's Table 4 area of each design, in mm^2 at 28 nm, buffers (144 KB) included, in
// swis::kModes order; every design on an 8 x 8 array (the paper's section 5).
constexpr double kSwisPaperAreaMm2[swis::kModeCount] = {0.54, 0.55, 0.54, 0.55, 0.54, 0.54, 0.57, 0.54};

// The paper's Table 4 entry for `network` (a trace's network name), or null.
const SwisPaperNetwork* swis_paper_table4(const std::string& network);

}  // namespace cimvp
