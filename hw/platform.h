// The accelerator: DRAM, the global buffer, controller, DMA, post-processing
// unit, SWIS PE array and the CIM tiles behind one router,
// built from the configuration with the address map of hw/address_map.h.
// Initiators outside the platform (the host CPU) attach to the router.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "hw/address_map.h"
#include "hw/cim_tile.h"
#include "hw/controller.h"
#include "hw/dma.h"
#include "hw/energy_report.h"
#include "hw/memory.h"
#include "hw/post_processing_unit.h"
#include "hw/swis_pe_array.h"
#include "hw/arch_config.h"
#include "tlm/router.h"
#include "tlm/transaction_log.h"
#include "tlm/waveform_recorder.h"

namespace cimvp {

// Which signals Platform::attach_waveforms records.
struct WaveformSignals {
    int tiles = 0;       // busy lines of tiles 0 .. tiles-1
    int adc_tile = 0;    // the tile whose ADC column is recorded
    int adc_column = 0;  // that column
};

class Platform : public sc_core::sc_module {
    // First member: every initiator's quantum keeper reads the global quantum when it is constructed.
    struct QuantumSetup {
        explicit QuantumSetup(double ns) { tlmx::configure_global_quantum(sc_core::sc_time(ns, sc_core::SC_NS)); }
    } quantum_setup_;

public:
    tlmx::Router router;
    Memory dram;
    std::unique_ptr<Memory> global_buffer;  // on-chip SRAM; null when platform.global_buffer.size_bytes is 0
    Controller controller;
    Dma dma;
    PostProcessingUnit ppu;
    SwisPeArray pe_array;
    std::vector<std::unique_ptr<CimTile>> tiles;
    sc_core::sc_signal<bool> irq;
    tlmx::TransactionLog log;

    Platform(sc_core::sc_module_name name, const ArchConfig& cfg);
    Platform(const Platform&) = delete;
    Platform& operator=(const Platform&) = delete;

    const ArchConfig& config() const { return cfg_; }
    const AddressMap& address_map() const { return map_; }
    // Every block's event counts and their costs; the energy of a span of work is
    // energy_meter().since(a meter read before it).energy().
    EnergyMeter energy_meter() const;
    // Energy of every block from its event counts, by component.
    EnergyBreakdown energy() const { return energy_meter().energy(); }
    void reset_counters();
    // Declares the blocks' signals under "<basename()>" (docs/debugging.md) and records them from now on.
    void attach_waveforms(tlmx::WaveformRecorder& w, const WaveformSignals& s);

private:
    ArchConfig cfg_;
    AddressMap map_;
};

}  // namespace cimvp
