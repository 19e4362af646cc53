// The host driver: runs in the host CPU's thread, owns DRAM and global-buffer allocation,
// writes weights, tables, inputs and command lists to DRAM, starts the
// controller, waits for its interrupt and reads the results back.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hw/address_map.h"
#include "hw/command_format.h"
#include "hw/arch_config.h"
#include "sw/driver/host_cpu.h"
#include "sw/compiler/layer_compiler.h"
#include "sw/contract/layer_mapping.h"
#include "tlm/waveform_recorder.h"

namespace cimvp {

struct DriverError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What one command list cost, read from the controller's counters.
struct CommandListStats {
    std::uint64_t cycles = 0;  // controller PERF_CYCLES
    std::uint32_t commands = 0, tile_runs = 0, dma_commands = 0;
    double sim_ns = 0;  // simulated time from START to the interrupt
};

class Driver {
public:
    Driver(HostCpu& host, const ArchConfig& cfg);

    // Bump allocation in DRAM; release() frees everything (DRAM and global buffer) allocated after `mark`.
    std::uint64_t alloc(std::uint64_t bytes, std::uint64_t align = 64);
    // Bump allocation in the on-chip global buffer; 0 when it has no room (or the platform has none).
    std::uint64_t alloc_on_chip(std::uint64_t bytes, std::uint64_t align = 64);
    // Bytes the global buffer still has free at `align`.
    std::uint64_t on_chip_free(std::uint64_t align = 64) const;
    struct Mark {
        std::uint64_t dram = 0, global_buffer = 0;
    };
    Mark mark() const { return {next_, next_on_chip_}; }
    void release(const Mark& m) {
        next_ = m.dram;
        next_on_chip_ = m.global_buffer;
    }

    // Bus accesses; a non-OK response throws DriverError naming the address.
    void write(std::uint64_t addr, const void* src, std::size_t len);
    void read(std::uint64_t addr, void* dst, std::size_t len);
    std::uint32_t read32(std::uint64_t addr);
    void write32(std::uint64_t addr, std::uint32_t value);

    // Writes the list to DRAM, starts the controller, waits for the IRQ.
    // Throws DriverError with the controller's error code and command index.
    CommandListStats run_commands(const std::vector<Command>& cmds);

    // Runs n input vectors (n x K bytes) through a matrix layer on the tiles;
    // returns the n x M integer accumulators.
    std::vector<std::int64_t> run_matrix_layer(const MatrixLayer& layer, const LayerMapping& map,
                                               const AdcTables& adc, const std::uint8_t* x, int n,
                                               std::uint64_t first_vector = 0, CommandListStats* stats = nullptr);

    // Writes a layer's cell levels, ADC tables and partial multipliers to DRAM.
    TileImages load_tile_images(const MatrixLayer& layer, const LayerMapping& map, const AdcTables& adc);

    const AddressMap& address_map() const { return map_; }
    // Called right before each command list starts (after the host loaded DRAM),
    // e.g. to snapshot event counters so that host loading is not charged.
    void set_start_hook(std::function<void()> hook) { start_hook_ = std::move(hook); }
    // Records `list` high from just before the START write to the interrupt (docs/debugging.md).
    void set_waveforms(tlmx::WaveformRecorder* w, tlmx::WaveformRecorder::Var list) {
        wave_ = w;
        wave_list_ = list;
    }

private:
    HostCpu& host_;
    ArchConfig cfg_;
    AddressMap map_;
    std::uint64_t next_ = kDramBase;
    std::uint64_t next_on_chip_ = kGlobalBufferBase;
    std::function<void()> start_hook_;
    tlmx::WaveformRecorder* wave_ = nullptr;
    tlmx::WaveformRecorder::Var wave_list_ = 0;
};

}  // namespace cimvp
