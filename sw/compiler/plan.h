// The execution plan of a network on one machine: everything the compiler
// (sw/compiler/network_compiler.h) decided, as plain data. The runner
// (sw/driver/network_runner.h) executes it on the platform and the C++
// reference (sw/reference/network_reference.h) evaluates it, so both run the
// very same tiles, ADC tables, SWIS groups and buffer placement.
//
// Not in the plan: DRAM and global-buffer addresses (the driver allocates them
// when the runner loads the plan) and the command lists, which the runner
// emits per batch with sw/compiler/layer_compiler.h because they depend on the
// images of the batch (their count, the read-noise numbering of the first one)
// and on those addresses.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/arch_config.h"
#include "sw/contract/layer_mapping.h"
#include "sw/contract/swis.h"
#include "sw/formats/model_file.h"

namespace cimvp {

// How a network is to be mapped: which layers run on the SWIS PE array instead of
// the crossbar tiles, and with how many shared shifts their 8-bit weights are
// decomposed (8 reproduces every int8 weight exactly).
struct NetworkOptions {
    std::vector<bool> on_pe;  // per layer; empty: every layer on the crossbars
    int swis_shifts = 8;
    swis::Variant variant = swis::Variant::kSwis;
    bool double_shift = true;  // PE form: double shift (two positions per cycle) or single
    // ADC calibration looks at most at this many input vectors, evenly spaced over
    // the calibration images' vectors (0: all of them).
    int calibration_vectors = 0;
    // Images per command list: what the buffer placement is planned for.
    int batch = 64;
    // The first tile of the crossbar layers (assign_tiles): 0, or the range a weights-resident
    // trace gives one of its stages so that every stage keeps its own tiles (docs/trace-format.md).
    int first_tile = 0;

    bool pe(std::size_t l) const { return l < on_pe.size() && on_pe[l]; }
    // The default mapping: BWMA keeps its 8-bit first and last layers on the PE array,
    // and every layer stored as SWIS groups (format v2) runs there. A stored layer on
    // the PE array runs its stored groups; swis_shifts and variant apply to the others.
    static NetworkOptions defaults_for(const NetworkModel& model);
};

// A layer on the SWIS PE array: its weight groups, decomposed once.
struct PeLayerPlan {
    // [filter][ky][kx][channel group]: the groups stored in the model file (format v2), the
    // weights decomposed with options.swis_shifts shifts, or (8 shifts) every int8 weight exactly.
    swis::DecomposedLayer groups;
    std::vector<std::int8_t> weights;  // groups.weights(): what the array computes with, [filter][K]
    // The array runs filters in index order, pe_array.cols at a time; a tile of filters runs at
    // the largest N among them (a group with fewer shifts has no mask bits above its own N).
    std::vector<std::uint8_t> n_table;
    bool double_shift = true;
};

// Where a layer's accumulators, input sums and (PE array) im2col staging live, and how many
// images of a batch one step of its command list runs (docs/architecture.md, "Global buffer").
struct LayerPlacement {
    bool scratch_on_chip = false;  // in the global buffer's scratch region, else in DRAM
    int images_per_step = 0;       // the batch, or as many as the global buffer holds
    int steps = 0;                 // steps per full batch
};

// One block of a grouped conv (docs/numerics.md, "Graph networks"): a matrix layer of its own on
// its own tiles, with its own ADC tables and chunk.
struct BlockPlan {
    ConvBlock block;                // its groups and channels
    MatrixLayer matrix;             // block-diagonal weights, K_b x M_b
    LayerMapping mapping;
    AdcTables adc;
    bool adc_recalibrated = false;
    int chunk = 0;
};

struct LayerPlan {
    bool on_pe = false;
    bool tensor = false;            // an add, concat or pool node: TensorOp jobs on the post-processing unit
    std::vector<BlockPlan> blocks;  // a grouped conv (groups > 1): its blocks; matrix, mapping, adc unused
    MatrixLayer matrix;             // the layer's K x M weights (crossbar layers)
    LayerMapping mapping;           // crossbar: the tiles it occupies; default on the PE array
    AdcTables adc;                  // crossbar: the tables its tiles convert with
    bool adc_recalibrated = false;  // the tables are not the model's own
    int chunk = 0;                  // crossbar: input vectors per tile run that the tile buffers hold
    PeLayerPlan pe;                 // PE array only
    LayerPlacement placement;
    // Post-processing and pooling: the model layer's bias, mult, mult_x, shift and pool fields.
};

struct ExecutionPlan {
    NetworkModel model;
    ArchConfig cfg;
    NetworkOptions options;  // what it was compiled with (on_pe sized to the layers)
    std::vector<LayerPlan> layers;
    // Every crossbar layer's tiles are programmed once, before the first batch (assign_tiles).
    bool resident = false;
    // Buffer placement for batches of options.batch images. The batch's images arrive in DRAM;
    // the hidden activations and logits go to the global buffer when activations_on_chip; the
    // scratch region of the layers with scratch_on_chip follows them there.
    bool activations_on_chip = false;
    // The tensors of a batch: tensor t (0 = the images, j = node j - 1's output) lives in
    // buffers[tensor_buffer[t]]. Buffer 0 holds the images (DRAM). A chain has one buffer per
    // tensor; in a graph a buffer is reused once every consumer of its tensor has run.
    struct TensorBuffer {
        std::uint64_t bytes = 0;
        bool on_chip = false;
    };
    std::vector<TensorBuffer> buffers;
    std::vector<int> tensor_buffer;
    // Where the logits go: the last node's buffer, or (a plan whose last layer is hidden) a buffer
    // of their own after the others.
    int logits_buffer = 0;
    std::uint64_t scratch_region_bytes = 0;  // the on-chip scratch region (0: none)
    std::uint64_t dram_scratch_bytes = 0;    // the DRAM scratch the other layers share (0: none)

    int batch() const { return options.batch; }
    std::size_t size() const { return layers.size(); }
    const NetworkLayer& layer(std::size_t l) const { return model.layers[l]; }
};

// Where a plan's hidden tensors and logits live (buffers 1.., the images' buffer 0 not counted).
struct TensorPlacement {
    std::uint64_t bytes_on_chip = 0, bytes_dram = 0;
    int buffers_on_chip = 0, buffers = 0;
};
TensorPlacement tensor_placement(const ExecutionPlan& plan);

// Bytes of a layer's scratch for `images` images: int64 accumulators and input sums, and (PE
// array) its im2col vectors, each rounded up to 64 bytes. A grouped conv (its blocks given): the
// largest block's accumulators and input sums and the gathered input channels of its images.
// A tensor node has none.
std::uint64_t scratch_bytes_for(const NetworkLayer& L, bool on_pe, int images, const std::vector<BlockPlan>& blocks = {});
// Bytes of the hidden activations of a batch after each ReLU layer, then of the logits, unrounded.
std::vector<std::uint64_t> activation_buffer_bytes(const NetworkModel& model, int batch);
// Every buffer the runner lays out starts on this boundary.
inline constexpr std::uint64_t kPlanAlign = 64;

}  // namespace cimvp
