#include "hw/platform.h"

#include <algorithm>
#include <stdexcept>

namespace cimvp {

Platform::Platform(sc_core::sc_module_name name, const ArchConfig& cfg)
    : sc_module(name),
      quantum_setup_(cfg.platform.quantum_ns),
      router("router", cfg.platform.check_protocol),
      dram("dram", cfg.platform.dram),
      controller("controller", cfg.digital, kDmaBase),
      dma("dma", cfg.dma),
      ppu("ppu", cfg.digital, cfg.dma.bytes_per_ns),
      pe_array("pe_array", cfg.pe_array, cfg.digital),
      irq("irq"),
      cfg_(cfg),
      map_(cfg) {
    router.set_log(&log);
    router.map("dram", kDramBase, map_.dram_size(), dram.socket);
    if (map_.global_buffer_size() > 0) {
        global_buffer = std::make_unique<Memory>("global_buffer", cfg.platform.global_buffer);
        router.map("global_buffer", kGlobalBufferBase, map_.global_buffer_size(), global_buffer->socket);
    }
    router.map("controller", kControllerBase, kMmioWindow, controller.regs_socket);
    router.map("dma", kDmaBase, kMmioWindow, dma.regs_socket);
    router.attach("controller", controller.bus_socket);
    router.map("ppu", kPostProcessBase, kMmioWindow, ppu.regs_socket);
    router.attach("dma", dma.bus_socket);
    router.attach("ppu", ppu.bus_socket);
    router.map("pe_array", kPeArrayBase, kMmioWindow, pe_array.regs_socket);
    router.map("pe_array.buffers", kPeArrayBufferBase, pe_array.windows().size, pe_array.buffer_socket);
    router.attach("pe_array", pe_array.bus_socket);
    controller.irq.bind(irq);

    const TileWindows& w = map_.tile();
    tiles.reserve(static_cast<std::size_t>(cfg.platform.tiles));
    for (int i = 0; i < cfg.platform.tiles; ++i) {
        const std::string n = "tile" + std::to_string(i);
        tiles.push_back(std::make_unique<CimTile>(n.c_str(), cfg, i, map_.tile_input(i)));
        CimTile& t = *tiles.back();
        router.map(n + ".regs", map_.tile_regs(i), kMmioWindow, t.regs_socket);
        router.map(n + ".crossbar", map_.tile_crossbar(i), w.crossbar_size, t.macro.prog_socket);
        router.map(n + ".adc", map_.tile_adc(i), w.adc_size, t.adc.table_socket);
        router.map(n + ".input", map_.tile_input(i), w.input_size, t.input_buffer.socket);
        router.map(n + ".output", map_.tile_output(i), w.output_window, t.accumulator.bus_socket);
        router.attach(n, t.bus_socket);
    }
}

EnergyMeter Platform::energy_meter() const {
    EnergyMeter m;
    dram.meter(m, &EnergyBreakdown::dram);
    if (global_buffer) global_buffer->meter(m, &EnergyBreakdown::buffers);
    dma.meter(m);
    ppu.meter(m);
    pe_array.meter(m);
    for (const auto& t : tiles) t->meter(m);
    return m;
}

void Platform::attach_waveforms(tlmx::WaveformRecorder& w, const WaveformSignals& s) {
    if (s.adc_tile < 0 || s.adc_tile >= static_cast<int>(tiles.size()))
        throw std::invalid_argument(std::string(name()) + ": waveform tile " + std::to_string(s.adc_tile) +
                                    ", expected 0.." + std::to_string(tiles.size() - 1));
    const std::string root = basename();  // scopes are relative to the system top: "platform", not "system.platform"
    controller.attach_waveforms(w, root + ".controller");
    dma.attach_waveforms(w, root + ".dma");
    ppu.attach_waveforms(w, root + ".ppu");
    pe_array.attach_waveforms(w, root + ".pe_array");
    for (int i = 0; i < std::min<int>(s.tiles, static_cast<int>(tiles.size())); ++i)
        tiles[static_cast<std::size_t>(i)]->attach_waveforms(w, root + "." + tiles[static_cast<std::size_t>(i)]->basename());
    CimTile& t = *tiles[static_cast<std::size_t>(s.adc_tile)];
    t.adc.attach_waveforms(w, root + "." + t.basename() + ".adc", s.adc_column);
}

void Platform::reset_counters() {
    dram.reset_counters();
    if (global_buffer) global_buffer->reset_counters();
    dma.reset_counters();
    ppu.reset_counters();
    pe_array.reset_counters();
    for (auto& t : tiles) t->reset_counters();
}

}  // namespace cimvp
