#include "sw/driver/driver.h"

#include <sstream>

#include "hw/controller.h"

namespace cimvp {

namespace {
// Longest the driver waits for the controller before it calls the run hung.
// A watchdog for a controller that never finishes, not a budget: a list of the slowest in-range events
// (hw/arch_config.h config_limits) runs far longer than 10 s of simulated time, so the wait is long
// (waiting costs no host time when nothing is scheduled).
const sc_core::sc_time kIrqTimeout(1e6, sc_core::SC_SEC);

std::string hex(std::uint64_t v) {
    std::ostringstream os;
    os << "0x" << std::hex << v;
    return os.str();
}
}  // namespace

Driver::Driver(HostCpu& host, const ArchConfig& cfg) : host_(host), cfg_(cfg), map_(cfg) {}

std::uint64_t Driver::alloc(std::uint64_t bytes, std::uint64_t align) {
    const std::uint64_t at = align_up(next_, align);
    if (at + bytes > kDramBase + map_.dram_size())
        throw DriverError("DRAM exhausted: need " + std::to_string(bytes) + " bytes at " + hex(at) + ", DRAM is " +
                          std::to_string(map_.dram_size()) + " bytes (platform.dram.size_bytes)");
    next_ = at + bytes;
    return at;
}

std::uint64_t Driver::on_chip_free(std::uint64_t align) const {
    const std::uint64_t at = align_up(next_on_chip_, align);
    const std::uint64_t end = kGlobalBufferBase + map_.global_buffer_size();
    return at < end ? end - at : 0;
}

std::uint64_t Driver::alloc_on_chip(std::uint64_t bytes, std::uint64_t align) {
    if (bytes == 0 || bytes > on_chip_free(align)) return 0;
    const std::uint64_t at = align_up(next_on_chip_, align);
    next_on_chip_ = at + bytes;
    return at;
}

void Driver::write(std::uint64_t addr, const void* src, std::size_t len) {
    const auto r = host_.bus().write(addr, src, len);
    if (r != tlm::TLM_OK_RESPONSE)
        throw DriverError("bus write of " + std::to_string(len) + " bytes at " + hex(addr) + " failed");
}

void Driver::read(std::uint64_t addr, void* dst, std::size_t len) {
    const auto r = host_.bus().read(addr, dst, len);
    if (r != tlm::TLM_OK_RESPONSE)
        throw DriverError("bus read of " + std::to_string(len) + " bytes at " + hex(addr) + " failed");
}

std::uint32_t Driver::read32(std::uint64_t addr) {
    std::uint32_t v = 0;
    if (host_.bus().read32(addr, v) != tlm::TLM_OK_RESPONSE) throw DriverError("register read at " + hex(addr) + " failed");
    return v;
}

void Driver::write32(std::uint64_t addr, std::uint32_t value) {
    if (host_.bus().write32(addr, value) != tlm::TLM_OK_RESPONSE)
        throw DriverError("register write at " + hex(addr) + " failed");
}

TileImages Driver::load_tile_images(const MatrixLayer& layer, const LayerMapping& map, const AdcTables& adc) {
    TileImages img;
    img.weights = alloc(weight_region_bytes(map));
    img.adc = alloc(adc_region_bytes(map));
    // Always a table (ones without column multipliers): a tile must not keep the previous layer's.
    img.scale = alloc(scale_region_bytes(map));
    for (int rt = 0; rt < map.row_tiles; ++rt)
        for (int ct = 0; ct < map.col_tiles; ++ct) {
            const auto lv = map.tile_levels(layer, rt, ct);
            write(img.weights + weight_offset(map, rt, ct), lv.data(), lv.size());
            write(img.adc + adc_table_offset(map, rt, ct), adc.tile(rt, ct), map.cols * kAdcEntryBytes);
            const auto s = scale_table(layer, map, rt, ct);
            write(img.scale + scale_table_offset(map, rt, ct), s.data(), s.size() * sizeof(std::int64_t));
        }
    return img;
}

CommandListStats Driver::run_commands(const std::vector<Command>& cmds) {
    namespace reg = controller_regs;
    const Mark m = mark();
    const std::uint64_t base = alloc(cmds.size() * sizeof(Command), sizeof(Command));
    write(base, cmds.data(), cmds.size() * sizeof(Command));
    const std::uint64_t c = kControllerBase;
    write32(c + reg::kCmdBaseLo, static_cast<std::uint32_t>(base));
    write32(c + reg::kCmdBaseHi, static_cast<std::uint32_t>(base >> 32));
    write32(c + reg::kCmdCount, static_cast<std::uint32_t>(cmds.size()));
    write32(c + reg::kIrqEnable, reg::kIrqDone | reg::kIrqError);
    if (start_hook_) start_hook_();
    const sc_core::sc_time started = host_.now();
    if (wave_) wave_->change(wave_list_, started, 1);
    write32(c + reg::kCtrl, reg::kCtrlStart);
    if (!host_.wait_for_irq(kIrqTimeout))
        throw DriverError("controller did not raise its interrupt within " + kIrqTimeout.to_string() +
                          " of simulated time (status " + std::to_string(read32(c + reg::kStatus)) +
                          ", docs/registers.md): the platform hangs");
    if (wave_) wave_->change(wave_list_, host_.now(), 0);
    CommandListStats s;
    s.sim_ns = (host_.now() - started).to_seconds() * 1e9;
    const std::uint32_t status = read32(c + reg::kStatus);
    const std::uint32_t irq = read32(c + reg::kIrqStatus);
    write32(c + reg::kIrqStatus, irq);  // acknowledge
    release(m);
    if (status & reg::kStatusError) {
        throw DriverError("controller error " + std::to_string(read32(c + reg::kError)) + " at command " +
                          std::to_string(read32(c + reg::kErrorIndex)) + " of " + std::to_string(cmds.size()) +
                          " (codes: docs/registers.md)");
    }
    s.cycles = read32(c + reg::kPerfCyclesLo) | (static_cast<std::uint64_t>(read32(c + reg::kPerfCyclesHi)) << 32);
    s.commands = read32(c + reg::kPerfCommands);
    s.tile_runs = read32(c + reg::kPerfTileRuns);
    s.dma_commands = read32(c + reg::kPerfDmaCommands);
    return s;
}

std::vector<std::int64_t> Driver::run_matrix_layer(const MatrixLayer& layer, const LayerMapping& map,
                                                   const AdcTables& adc, const std::uint8_t* x, int n,
                                                   std::uint64_t first_vector, CommandListStats* stats) {
    const Mark m = mark();
    LayerBuffers buf;
    buf.tiles = load_tile_images(layer, map, adc);
    buf.inputs = alloc(static_cast<std::uint64_t>(n) * map.K);
    buf.outputs = alloc(static_cast<std::uint64_t>(n) * map.M * kAccEntryBytes);
    write(buf.inputs, x, static_cast<std::size_t>(n) * map.K);
    const LayerProgram prog = compile_layer(map, cfg_, map_, buf, n, first_vector);
    const CommandListStats s = run_commands(prog.commands);
    if (stats) *stats = s;
    std::vector<std::int64_t> out(static_cast<std::size_t>(n) * map.M);
    read(buf.outputs, out.data(), out.size() * sizeof(std::int64_t));
    release(m);
    return out;
}

}  // namespace cimvp
