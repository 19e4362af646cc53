// Runs an execution plan (sw/compiler/plan.h) on the platform through the
// driver: allocates the buffers where the plan places them (accumulators and
// activations in the on-chip global buffer, else DRAM), writes the tiles'
// images, the PE array's weight records and the post-processing parameters,
// programs the tiles, and per batch of images emits and runs one command list
// per layer (sw/compiler/layer_compiler.h) — im2col gathers by DMA, tile runs,
// row-tile reduction, post-processing into the next layer's activations or the
// logits, in the plan's steps; a grouped conv block by block (its input
// channels gathered by DMA, its output channels written as a slice); a graph's
// add, concat and pool nodes as TensorOp jobs on the post-processing unit.
// Runs in the host CPU's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "hw/energy_report.h"
#include "sw/driver/driver.h"
#include "sw/compiler/layer_compiler.h"
#include "sw/compiler/plan.h"

namespace cimvp {

struct RunStats {
    double sim_ns = 0;
    std::uint64_t cycles = 0;
    std::uint64_t commands = 0;
    EnergyBreakdown energy;

    RunStats& operator+=(const RunStats& o) {
        sim_ns += o.sim_ns;
        cycles += o.cycles;
        commands += o.commands;
        energy += o.energy;
        return *this;
    }
};

// Reads the platform's energy meter (Platform::energy_meter).
using EnergyProbe = std::function<EnergyMeter()>;

// Runs one command list and measures it: simulated time, cycles, commands, and the energy of the
// events `probe` counts from the moment the controller starts (the host writing the list is not
// counted). Each figure depends only on the list, not on what the platform ran before it.
RunStats run_measured(Driver& driver, const std::vector<Command>& cmds, const EnergyProbe& probe);

class NetworkRunner {
public:
    // Whether the plan's tiles are still to be programmed (their images are written to DRAM for
    // program() or the layers' lists), or already hold its weights: a resident plan whose tiles an
    // earlier runner on the same plan programmed (a weights-resident trace programs every stage
    // before its first image, docs/trace-format.md). Nothing then reprograms them.
    enum class Tiles { kToProgram, kProgrammed };

    // Allocates memory and writes the weights, tables and parameters; plan.batch() images per command
    // list. Keeps a reference to the plan, which must outlive it. Throws DriverError when the memory
    // the driver has left cannot hold what the plan places there, std::logic_error for kProgrammed
    // tiles of a plan that is not resident.
    NetworkRunner(Driver& driver, const ExecutionPlan& plan, EnergyProbe probe, Tiles tiles = Tiles::kToProgram);
    // A temporary plan would not outlive it.
    NetworkRunner(Driver&, ExecutionPlan&&, EnergyProbe, Tiles = Tiles::kToProgram) = delete;

    // Programs every layer's tiles once when they are resident (no-op otherwise, and with kProgrammed).
    void program();
    // Logits (n x num_classes) of n <= batch images (n x image_bytes); first_image keys the read noise.
    std::vector<std::int64_t> run_batch(const std::uint8_t* images, int n, std::uint64_t first_image);

    // The last layer's output activations (n x its pooled output bytes) after run_batch, when it is hidden (ReLU).
    std::vector<std::uint8_t> hidden_output(int n);

    // Per layer: over every run_batch so far, and of the last run_batch alone.
    const std::vector<RunStats>& layer_stats() const { return layers_; }
    const std::vector<RunStats>& batch_stats() const { return last_batch_; }
    const RunStats& programming() const { return programming_; }
    int batch() const { return batch_; }
    const ExecutionPlan& plan() const { return plan_; }
    // Called when the host begins a layer's list (just before the driver writes it; begin = true)
    // and when the list has finished: layer index, first image of the batch, images in it.
    using LayerHook = std::function<void(std::size_t layer, std::uint64_t first_image, int images, bool begin)>;
    void set_layer_hook(LayerHook hook) { layer_hook_ = std::move(hook); }

private:
    std::vector<Command> layer_commands(std::size_t l, int n, std::uint64_t first_image);
    std::vector<Command> tensor_commands(std::size_t l, int n);
    void emit_blocks(std::vector<Command>& cmds, std::size_t l, int k, int step, std::uint64_t first_vector,
                     std::uint64_t src, std::uint64_t dst);
    // Post-processing parameters (bias int64[M], mult int32[M], mult_x int32[M]) of outputs [m0, m0 + M).
    std::uint64_t load_params(const NetworkLayer& L, int m0, int M);
    RunStats run(const std::vector<Command>& cmds);

    Driver& driver_;
    const ExecutionPlan& plan_;
    int batch_;
    EnergyProbe probe_;
    // A PE-array layer's data: weight records, one descriptor + N table per step of the batch.
    struct PeLayer {
        std::uint64_t records = 0, descriptor = 0;
        std::vector<std::uint8_t> n_table;
        std::uint64_t descriptor_stride() const { return align_up(sizeof(PeArrayDescriptor) + n_table.size(), 64); }
    };
    PeLayer load_pe_layer(std::size_t l);
    // The addresses of a layer's scratch, where the plan places it (docs/architecture.md).
    struct Scratch {
        std::uint64_t acc = 0, sx = 0, staging = 0;
    };
    void alloc_activations();
    void alloc_scratch();

    bool programmed_ = false;  // Tiles::kProgrammed: no tile images in DRAM
    std::vector<TileImages> tiles_;
    std::vector<std::vector<TileImages>> block_tiles_;      // per layer: a grouped conv's blocks
    std::vector<std::vector<std::uint64_t>> block_params_;  // per layer: a grouped conv's blocks' parameters
    std::vector<PeLayer> pe_;
    std::vector<Scratch> scratch_;
    // act_: per tensor (0 = the images, j = node j - 1's output) its buffer's address.
    std::vector<std::uint64_t> params_, act_, ppu_desc_, tensor_desc_;
    std::uint64_t logits_ = 0;
    std::vector<RunStats> layers_, last_batch_;
    RunStats programming_;
    LayerHook layer_hook_;
};

}  // namespace cimvp
