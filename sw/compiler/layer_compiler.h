// Compiles matrix layers laid onto tiles (LayerMapping) into the command
// lists the controller runs: program the tiles of a pass (weights, ADC tables,
// partial multipliers, registers), then stream chunks of input vectors through
// them, reduce row tiles into row tile 0, and write accumulators back.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "hw/address_map.h"
#include "hw/command_format.h"
#include "hw/arch_config.h"
#include "sw/contract/layer_mapping.h"

namespace cimvp {

// Where a layer's programming data sits in DRAM, per (rt, ct) in (rt, ct) order.
struct TileImages {
    std::uint64_t weights = 0;  // rows_in(rt) x cols bytes of cell levels
    std::uint64_t adc = 0;      // cols x 16 bytes of ADC table
    std::uint64_t scale = 0;    // cols x int64 partial multipliers (1 where the layer has none)
};

std::uint64_t weight_offset(const LayerMapping& m, int rt, int ct);
std::uint64_t adc_table_offset(const LayerMapping& m, int rt, int ct);
std::uint64_t scale_table_offset(const LayerMapping& m, int rt, int ct);
std::uint64_t weight_region_bytes(const LayerMapping& m);
std::uint64_t adc_region_bytes(const LayerMapping& m);
std::uint64_t scale_region_bytes(const LayerMapping& m);
// The scale table of tile (rt, ct): col_mult of its outputs, 1 elsewhere.
std::vector<std::int64_t> scale_table(const MatrixLayer& layer, const LayerMapping& m, int rt, int ct);

// Vectors per tile run that the buffers hold (emit_sum adds one entry per vector).
// Throws MappingError if not even one vector fits.
int max_chunk(const LayerMapping& m, const ArchConfig& cfg, bool emit_sum);

// The command that fills a tile's input buffer at `dst` with rows of row tile
// rt of vectors [v0, v0 + n).
using InputCommand = std::function<Command(int rt, std::uint64_t dst, int v0, int n)>;

// Programs the tiles of one pass.
void emit_program_pass(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map,
                       const TileImages& img, int pass, bool emit_sum);
// Runs vectors [v0, v0 + n) of a pass: inputs, tile runs, fence, row-tile
// reduction, accumulators to acc (int64 [v][M]) and, with emit_sum, input
// sums to sx (int64 [v]). first_vector numbers v0 for the read-noise draws.
void emit_chunk(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map, int pass, int v0, int n,
                std::uint64_t first_vector, const InputCommand& input, std::uint64_t acc, std::uint64_t sx,
                bool emit_sum);

// The fence and the reduction of emit_chunk alone (the tiles' runs already issued).
void emit_reduction(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map, int pass, int v0, int n,
                    std::uint64_t acc, std::uint64_t sx, bool emit_sum);
// Every chunk of `chunk` vectors of [0, vectors) of a pass. With one input bank,
// emit_chunk per chunk. With two (platform.ping_pong), a pipeline: chunk i's
// tiles run from bank i % 2 (an IN_BANK write before each kTileRun) while the
// DMA fills bank (i + 1) % 2 with chunk i + 1, then chunk i's fence and reduction.
void emit_chunks(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map, int pass, int vectors,
                 int chunk, std::uint64_t first_vector, const InputCommand& input, std::uint64_t acc,
                 std::uint64_t sx, bool emit_sum);

// A single matrix layer over n vectors of K bytes in DRAM (cimvp layer).
struct LayerBuffers {
    TileImages tiles;
    std::uint64_t inputs = 0;   // n x K bytes
    std::uint64_t outputs = 0;  // n x M int64
};
struct LayerProgram {
    std::vector<Command> commands;
    int chunk = 0;  // vectors per tile run
};
LayerProgram compile_layer(const LayerMapping& m, const ArchConfig& cfg, const AddressMap& map,
                           const LayerBuffers& buf, int n, std::uint64_t first_vector);

}  // namespace cimvp
