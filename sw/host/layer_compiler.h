// Compiles a matrix layer laid onto tiles (LayerMapping) into the command list
// the controller runs: program the tiles of each pass, then stream the input
// vectors through them in batches, reduce row tiles, and write results back.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/address_map.h"
#include "hw/command_format.h"
#include "sw/arch_config.h"
#include "sw/layer_mapping.h"

namespace cimvp {

// Where the layer's data sits in DRAM.
struct LayerBuffers {
    std::uint64_t weights = 0;  // per (rt, ct): rows_in(rt) x cols bytes of cell levels, in (rt, ct) order
    std::uint64_t adc = 0;      // per (rt, ct): cols x 16 bytes of ADC table
    std::uint64_t inputs = 0;   // n x K bytes
    std::uint64_t outputs = 0;  // n x M int64
};

struct LayerProgram {
    std::vector<Command> commands;
    int batch = 0;  // vectors per tile run
    std::uint64_t weight_bytes = 0, adc_bytes = 0;
};

// Offsets of tile (rt, ct)'s weights and ADC table inside their regions.
std::uint64_t weight_offset(const LayerMapping& m, int rt, int ct);
std::uint64_t adc_table_offset(const LayerMapping& m, int rt, int ct);
std::uint64_t weight_region_bytes(const LayerMapping& m);
std::uint64_t adc_region_bytes(const LayerMapping& m);

// Largest batch the tiles' buffers hold; throws MappingError if not even one vector fits.
int max_batch(const LayerMapping& m, const ArchConfig& cfg);

LayerProgram compile_layer(const LayerMapping& m, const ArchConfig& cfg, const AddressMap& map,
                           const LayerBuffers& buf, int n, std::uint64_t first_vector);

}  // namespace cimvp
