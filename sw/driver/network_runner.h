// Runs a network (a model's layers, as the C++ reference laid them onto the
// tiles) on the platform through the driver: memory layout (accumulators and
// activations in the on-chip global buffer where they fit, else DRAM), tile
// programming, and per batch of images one command list per layer — im2col
// gathers by DMA, tile runs, row-tile reduction, post-processing into the next
// layer's activations or the logits, in steps of as many images as the
// accumulators' room holds. Runs in the host CPU's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "hw/energy_report.h"
#include "sw/driver/driver.h"
#include "sw/compiler/layer_compiler.h"
#include "sw/reference/network_reference.h"

namespace cimvp {

struct RunStats {
    double sim_ns = 0;
    std::uint64_t cycles = 0;
    std::uint64_t commands = 0;
    EnergyBreakdown energy;
};

class NetworkRunner {
public:
    using EnergyProbe = std::function<EnergyBreakdown()>;

    // Allocates memory and writes the weights, tables and parameters. `batch` images per command list.
    NetworkRunner(Driver& driver, const NetworkReference& net, const ArchConfig& cfg, int batch, EnergyProbe probe);

    // Programs every layer's tiles once when they are resident (no-op otherwise).
    void program();
    // Logits (n x num_classes) of n <= batch images (n x image_bytes); first_image keys the read noise.
    std::vector<std::int64_t> run_batch(const std::uint8_t* images, int n, std::uint64_t first_image);

    // The last layer's output activations (n x its pooled output bytes) after run_batch, when it is hidden (ReLU).
    std::vector<std::uint8_t> hidden_output(int n);

    const std::vector<RunStats>& layer_stats() const { return layers_; }
    const RunStats& programming() const { return programming_; }
    int batch() const { return batch_; }
    // Where the runner put a layer's accumulators, input sums and staging, and the images of
    // the batch one step runs (the batch when in DRAM); whether the activations are on chip.
    bool scratch_on_chip(std::size_t l) const { return place_[l].on_chip; }
    int images_per_step(std::size_t l) const { return place_[l].images; }
    bool activations_on_chip() const { return activations_on_chip_; }
    // Called when the host begins a layer's list (just before the driver writes it; begin = true)
    // and when the list has finished: layer index, first image of the batch, images in it.
    using LayerHook = std::function<void(std::size_t layer, std::uint64_t first_image, int images, bool begin)>;
    void set_layer_hook(LayerHook hook) { layer_hook_ = std::move(hook); }

private:
    std::vector<Command> layer_commands(std::size_t l, int n, std::uint64_t first_image);
    RunStats run(const std::vector<Command>& cmds);

    Driver& driver_;
    const NetworkReference& net_;
    ArchConfig cfg_;
    int batch_;
    EnergyProbe probe_;
    // A PE-array layer's data: weight records, one descriptor + N table per step of the batch.
    struct PeLayer {
        std::uint64_t records = 0, descriptor = 0;
        std::vector<std::uint8_t> n_table;
        std::uint64_t descriptor_stride() const { return align_up(sizeof(PeArrayDescriptor) + n_table.size(), 64); }
    };
    PeLayer load_pe_layer(std::size_t l);
    // Where a layer's scratch lives and how many images of the batch one step runs (docs/architecture.md).
    struct Placement {
        int images = 0;  // per step: the batch, or as many as the global buffer holds
        bool on_chip = false;
        std::uint64_t acc = 0, sx = 0, staging = 0;
    };
    std::uint64_t scratch_bytes(std::size_t l, int images) const;
    void place_scratch();
    void place_activations();

    std::vector<TileImages> tiles_;
    std::vector<PeLayer> pe_;
    std::vector<Placement> place_;
    std::vector<std::uint64_t> params_, act_, ppu_desc_;
    std::uint64_t logits_ = 0;
    bool activations_on_chip_ = false;
    std::vector<RunStats> layers_;
    RunStats programming_;
    LayerHook layer_hook_;
};

}  // namespace cimvp
