// A model's 8-bit layers stored as SWIS groups (model format v2,
// docs/model-format.md; docs/swis.md "Storage"): each chosen layer is
// decomposed — uniformly at N shifts, or scheduled for a mean N — its groups
// packed with swis::pack_groups, its weights replaced by the groups' values,
// and the storage cost reported against int8. No SystemC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sw/formats/model_file.h"
#include "sw/contract/swis.h"

namespace cimvp {

struct SwisStoreOptions {
    double shifts = 3;           // N (uniform) or the target mean N of the schedule, 1..8
    bool schedule = false;       // schedule filters (always when `shifts` is fractional or double_shift)
    swis::Variant variant = swis::Variant::kSwis;
    bool double_shift = false;   // schedule for double-shift PEs: even N only
    double alpha = 1.0;          // MSE++ weight of the group's summed error
    bool scale_by_mult = true;   // schedule on the error weighed by each filter's multiplier
    int array_cols = 8;          // pe_array.cols: filters that share N when scheduled
};

// The storage of one stored layer.
struct SwisLayerStorageReport {
    std::size_t layer = 0;
    std::string name;
    std::int64_t weights = 0, groups = 0;
    double mean_n = 0;
    int min_n = 0, max_n = 0;
    std::int64_t swis_bits = 0;       // layer_storage_bits
    std::int64_t swis_bytes = 0;      // the packed stream
    std::int64_t int8_bytes = 0;      // the same weights as int8 (one byte each)
    double bits_per_group = 0;        // swis_bits / groups
    double int8_bits_per_group = 0;   // 8 x weights / groups (32 for full groups)
    double ratio = 0;                 // int8 bits / SWIS bits (> 1: SWIS is smaller)
    double mse = 0;                   // mean squared error of the stored weights against the int8 ones
};

// The model with layers[l] stored as SWIS groups for every l with store[l].
// Each stored layer must be able to run on the PE array (8-bit, no column
// multipliers, no ADC tables, no mult_x); throws ModelError naming it
// otherwise, std::invalid_argument for bad options.
NetworkModel store_swis_layers(const NetworkModel& model, const std::vector<bool>& store,
                               const SwisStoreOptions& options, std::vector<SwisLayerStorageReport>* report = nullptr);

// The storage report of a layer that carries SWIS groups (`original`: its int8 weights).
SwisLayerStorageReport swis_storage_report(const NetworkModel& model, std::size_t l,
                                           const std::vector<std::int8_t>& original);

}  // namespace cimvp
