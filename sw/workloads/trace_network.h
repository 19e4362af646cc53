// A network trace (sw/formats/trace_file.h) as the platform runs it: every layer with
// weights becomes one or more one-layer network models (sw/formats/model_file.h) that
// the C++ reference and the driver run as they run a shipped model, with the
// weights and inputs drawn from the trace's data record. Depthwise layers are
// split into channel blocks run as block-diagonal convolutions; pool and add
// layers run as tensor-op jobs on the post-processing unit (a pool whose window
// is above 8 on the host). docs/trace-format.md ("Running a trace") has the rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "sw/formats/model_file.h"
#include "sw/formats/trace_file.h"

namespace cimvp {

// Where the layers with weights run: as each layer's `map=` says, or all on one engine.
enum class TraceMapping { kTrace, kCrossbar, kPe };
// Parses "trace", "crossbar" or "pe"; throws std::invalid_argument naming --map.
TraceMapping parse_trace_mapping(const std::string& s);
// "trace", "crossbar" or "pe".
const char* trace_mapping_name(TraceMapping m);

// Accumulator standard deviations that the requantization maps to full scale (docs/trace-format.md).
constexpr double kTraceRequantSigmas = 4.0;

// One platform run of a trace layer: the whole layer, or one channel block of a depthwise layer.
struct TraceStage {
    std::size_t layer = 0;       // index in the trace
    int first_channel = 0;       // the block's channels of the layer input (all for non-depthwise)
    int channels = 0;
    bool on_pe = false;          // the SWIS PE array instead of the crossbar tiles
    bool logits = false;         // the classifier: the integer accumulators are the output
};

struct TraceWorkload {
    NetworkTrace trace;
    std::vector<TraceStage> stages;                // in execution order
    std::vector<std::vector<std::size_t>> layer_stages;  // per trace layer: its stages (none for pool, add)

    int frac_bits = 8;  // adc.frac_bits of the config it was built for
    // Per trace layer with weights: its requantization shift (trace_requant_shift); kNoShift where the
    // workload was built without it.
    std::vector<int> layer_shift;
    static constexpr int kNoShift = -1;

    // The one-layer model of a stage without its weights, biases, multipliers and shift: its shape.
    NetworkModel stage_shape(std::size_t stage) const;
    // The one-layer model of a stage, its weights drawn from the data record. Throws std::logic_error
    // when the layer's shift was not computed (build_trace_workload's shifts_of).
    NetworkModel stage_model(std::size_t stage) const;
    // The crossbar tiles a stage holds with all its weights programmed at once (one pass), laid out by
    // LayerMapping from its shape with cfg's crossbar, whatever cfg.platform.tiles; 0 on the PE array.
    // Throws MappingError when the crossbar cannot hold the layer's weight slices.
    int stage_tiles(std::size_t stage, const ArchConfig& cfg) const;
    // Input bytes of one stage for one image (the stage's channels of the layer input, CHW).
    std::vector<std::uint8_t> stage_input(std::size_t stage, std::uint64_t image) const;
    // MACs of one image that a stage computes for the network: the block's own
    // channels of a depthwise layer, not the zeros of its block-diagonal matrix.
    std::int64_t stage_macs(std::size_t stage) const;
    // The MACs of one image of trace layer l, summed over its stages (0 for pool and add).
    std::int64_t layer_macs(std::size_t l) const;
};

// Plans the stages of every layer (weights are drawn by stage_model) and computes the
// requantization shift of the layers `shifts_of` selects (all when it is empty), which draws
// every weight of the layer: a process that runs some of the layers (docs/scale.md) draws only
// theirs. Throws TraceError naming the file, line and field when a layer cannot run on the
// engine it maps to.
TraceWorkload build_trace_workload(const NetworkTrace& trace, const ArchConfig& cfg, TraceMapping mapping,
                                   const std::vector<bool>& shifts_of = {});

// A weights-resident chip for a trace (docs/trace-format.md, "Weights-resident runs"): every crossbar
// stage (each depthwise block too) on its own range of tiles, in execution order from tile 0.
struct ResidentTiles {
    std::vector<int> stage_tiles;  // per stage: TraceWorkload::stage_tiles (0 on the PE array)
    std::vector<int> first_tile;   // per stage: the first tile of its range
    std::vector<int> layer_tiles;  // per trace layer: its stages' tiles (0 for PE-array, pool and add layers)
    std::int64_t total = 0;        // the chip's tiles: the sum over the stages
};
// Throws TraceError naming the trace line of a layer the crossbar cannot hold.
ResidentTiles plan_resident_tiles(const TraceWorkload& work, const ArchConfig& cfg);
// Throws ConfigError naming cfg's file, platform.tiles, the tiles needed and the trace when the
// config has fewer tiles than tiles.total.
void check_resident_tiles(const ResidentTiles& tiles, const ArchConfig& cfg, const std::string& trace_path);

// Channels per block of a depthwise layer with a k x k kernel: as many whole
// kernels as one crossbar's rows hold (at least 1).
int depthwise_block_channels(int kernel, const ArchConfig& cfg);

// Requantization shift of a layer: the smallest s >= 0 with
// kTraceRequantSigmas * std(acc) / 2^s <= 2^a_out_bits - 1, std(acc) from the
// drawn weights ([M][K]) and the data record's activation distribution.
int trace_requant_shift(const std::vector<std::int8_t>& weights, int M, const TraceDistribution& act, int a_bits,
                        int a_out_bits);

// The int8 draw narrowed to w_bits (round half away from zero of w / 2^(8 - w_bits), clipped;
// binary: +1 for w >= 0, else -1).
std::vector<std::int8_t> narrow_trace_weights(const std::vector<std::int8_t>& w, int w_bits, bool binary);

// Windows up to this size and stride run on the post-processing unit (TensorOpDescriptor).
constexpr int kTracePpuMaxWindow = 8;
// True when a pool or add layer runs on the post-processing unit: every add, a pool whose
// kernel and stride are at most kTracePpuMaxWindow; else it runs on the host.
bool host_layer_on_ppu(const TraceLayer& L);
// The drawn input of a pool or add layer for one image: a pool's C x H x W map, an add's two
// operands back to back (what run_host_layer reads).
std::vector<std::uint8_t> host_layer_input(const NetworkTrace& trace, std::size_t layer, std::uint64_t image);

// A pool or add layer of one image computed on the host (the reference of the post-processing
// unit's jobs, and the layer itself where it runs on the host): its output bytes (CHW) and the
// element operations it took (window elements visited, or additions).
struct HostLayerResult {
    std::vector<std::uint8_t> output;
    std::uint64_t ops = 0;
};
HostLayerResult run_host_layer(const NetworkTrace& trace, std::size_t layer, std::uint64_t image);

}  // namespace cimvp
