#include "hw/cim_tile.h"

#include "hw/address_map.h"
#include "hw/energy_report.h"
#include "sw/contract/crossbar_array.h"
#include "sw/contract/numerics.h"
#include "tlm/error_report.h"

namespace cimvp {

using tlmx::Access;
using tlmx::CimReadContext;
using tlmx::RegisterSpec;

namespace {
constexpr int kMaxActivationBits = 8;

const char* error_name(TileError e) {
    switch (e) {
        case TileError::kNone: return "none";
        case TileError::kBadConfig: return "bad config";
        case TileError::kInputOverflow: return "input overflow";
        case TileError::kOutputOverflow: return "output overflow";
        case TileError::kDatapath: return "datapath";
        case TileError::kInputRange: return "input range";
    }
    return "?";
}

// With ping-pong the buffer holds two banks of input_buffer.size_bytes each.
MemoryConfig input_memory(const PlatformConfig& p) {
    MemoryConfig m = p.input_buffer;
    if (p.ping_pong) m.size_bytes *= 2;
    return m;
}
}

CimTile::CimTile(sc_core::sc_module_name name, const ArchConfig& cfg, int index, std::uint64_t input_buffer_address)
    : sc_module(name),
      regs_socket("regs_socket"),
      bus_socket("bus_socket"),
      macro_socket("macro_socket"),
      macro("macro", cfg.crossbar, cfg.nonideal, cfg.adc.frac_bits, static_cast<std::uint64_t>(index)),
      adc("adc", cfg.adc, cfg.crossbar.cols),
      accumulator("accumulator", cfg.digital, cfg.platform.output_buffer, cfg.crossbar.cols, cfg.adc.frac_bits),
      input_buffer("input_buffer", input_memory(cfg.platform)),
      cfg_(cfg),
      index_(index),
      input_address_(input_buffer_address),
      planes_(static_cast<std::size_t>(kMaxActivationBits) * CrossbarArray::words_for(cfg.crossbar.rows)) {
    regs_socket.register_b_transport(this, &CimTile::regs_access);
    regs_socket.register_transport_dbg(this, &CimTile::regs_dbg);
    macro_socket.bind(macro.read_socket);
    macro.adc_socket.bind(adc.in_socket);
    adc.out_socket.bind(accumulator.in_socket);
    macro_tx_.set_extension(&ext_);

    using namespace tile_reg;
    regs_.set_report(kReportId, this->name());
    const auto geometry = static_cast<std::uint32_t>(cfg.crossbar.rows) |
                          (static_cast<std::uint32_t>(cfg.crossbar.cols) << 16);
    regs_.add({"ID", kId, Access::kReadOnly, kIdValue});
    regs_.add({"CTRL", kCtrl, Access::kWriteOnly, 0, kCtrlStart},
              {}, [this](std::uint32_t v) { start_pending_ = (v & kCtrlStart) != 0; });
    regs_.add({"STATUS", kStatus, Access::kReadOnly, 0, kStatusDone | kStatusError});
    regs_.add({"ERROR", kError, Access::kReadOnly, 0});
    regs_.add({"GEOMETRY", kGeometry, Access::kReadOnly, geometry});
    regs_.add({"CELL_BITS", kCellBits, Access::kReadOnly, static_cast<std::uint32_t>(cfg.crossbar.cell_bits)});
    regs_.add({"ROWS", kRows, Access::kReadWrite, 0, 0xffff});
    regs_.add({"OUTS", kOuts, Access::kReadWrite, 0, 0xffff});
    regs_.add({"SLICES", kSlices, Access::kReadWrite, 1, 0xff});
    regs_.add({"A_BITS", kABits, Access::kReadWrite, 8, 0xff});
    regs_.add({"DAC_BITS", kDacBits, Access::kReadWrite, static_cast<std::uint32_t>(cfg.crossbar.dac_bits), 0xff});
    regs_.add({"WEIGHT_SCALE", kWeightScale, Access::kReadWrite, 1, 0xff});
    regs_.add({"OFFSET", kOffset, Access::kReadWrite, 0, 0xffff});
    regs_.add({"VECTORS", kVectors, Access::kReadWrite, 0});
    regs_.add({"VECTOR_BASE", kVectorBase, Access::kReadWrite, 0});
    regs_.add({"PERF_READS", kPerfReads, Access::kReadOnly, 0}, [this](std::uint32_t) {
        return static_cast<std::uint32_t>(reads_);
    });
    regs_.add({"PERF_RUNS", kPerfRuns, Access::kReadOnly, 0}, [this](std::uint32_t) {
        return static_cast<std::uint32_t>(runs_);
    });
    regs_.add({"TILE_INDEX", kTileIndex, Access::kReadOnly, static_cast<std::uint32_t>(index)});
    regs_.add({"FLAGS", kFlags, Access::kReadWrite, 0, kFlagEmitSum | kFlagDifferential});
    regs_.add({"IN_BANK", kInBank, Access::kReadWrite, 0, 1});
    regs_.set_access_latency(sc_core::sc_time(cfg.digital.clock_ns, sc_core::SC_NS));
}

void CimTile::attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope) {
    wave_ = &w;
    wave_busy_ = w.declare(scope, "busy", 1);
    wave_vectors_ = w.declare(scope, "vectors", 32);
}

void CimTile::regs_access(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    start_pending_ = false;
    regs_.transport(t, delay);
    if (start_pending_ && t.is_response_ok()) {
        start_pending_ = false;
        const sc_core::sc_time started = sc_core::sc_time_stamp() + delay;
        run(delay);  // loosely timed: the run's latency is annotated on the START write
        if (wave_) {
            wave_->change(wave_busy_, started, 1);
            wave_->change(wave_vectors_, started, regs_.get(tile_reg::kVectors));
            wave_->change(wave_busy_, sc_core::sc_time_stamp() + delay, 0);
        }
    }
}

unsigned CimTile::regs_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }

TileError CimTile::check_config() const {
    using namespace tile_reg;
    const auto rows = regs_.get(kRows), outs = regs_.get(kOuts), slices = regs_.get(kSlices);
    const auto a_bits = regs_.get(kABits), dac_bits = regs_.get(kDacBits);
    const auto vectors = static_cast<std::uint64_t>(regs_.get(kVectors));
    const auto cols_per_out = static_cast<std::uint32_t>(
        numerics::cols_per_output(static_cast<int>(slices), (regs_.get(kFlags) & kFlagDifferential) != 0));
    if (rows < 1 || rows > static_cast<std::uint32_t>(cfg_.crossbar.rows) || outs < 1 || slices < 1 ||
        outs * cols_per_out > static_cast<std::uint32_t>(cfg_.crossbar.cols) || a_bits < 1 ||
        a_bits > static_cast<std::uint32_t>(kMaxActivationBits) || dac_bits < 1 || dac_bits > a_bits ||
        regs_.get(kWeightScale) < 1)
        return TileError::kBadConfig;
    // Bank 1 exists only with ping-pong; a run reads one bank.
    const std::uint64_t banks = cfg_.platform.ping_pong ? 2 : 1;
    if (regs_.get(kInBank) >= banks) return TileError::kBadConfig;
    if (vectors * rows > input_buffer.size() / banks) return TileError::kInputOverflow;
    const std::uint64_t stride = outs + ((regs_.get(kFlags) & kFlagEmitSum) ? 1 : 0);
    if (vectors * stride > accumulator.buffer_size() / kAccEntryBytes) return TileError::kOutputOverflow;
    return TileError::kNone;
}

void CimTile::finish(TileError e) {
    using namespace tile_reg;
    regs_.set(kError, static_cast<std::uint32_t>(e));
    regs_.set(kStatus, e == TileError::kNone ? kStatusDone : kStatusError);
    busy_ = false;
    if (e != TileError::kNone)
        tlmx::report_job_error(kReportId, name(), "run " + std::to_string(runs_), static_cast<std::uint32_t>(e),
                               error_name(e));
}

void CimTile::run(sc_core::sc_time& delay) {
    using namespace tile_reg;
    busy_ = true;
    ++runs_;
    const TileError bad = check_config();
    if (bad != TileError::kNone) return finish(bad);

    const int rows = static_cast<int>(regs_.get(kRows));
    const int a_bits = static_cast<int>(regs_.get(kABits));
    const int dac_bits = static_cast<int>(regs_.get(kDacBits));
    const int words = CrossbarArray::words_for(cfg_.crossbar.rows);
    const std::uint32_t vectors = regs_.get(kVectors);
    CimReadContext& ctx = ext_.ctx;
    ctx.rows = rows;
    ctx.outs = static_cast<int>(regs_.get(kOuts));
    ctx.slices = static_cast<int>(regs_.get(kSlices));
    ctx.differential = (regs_.get(kFlags) & kFlagDifferential) != 0;
    ctx.cols = ctx.outs * numerics::cols_per_output(ctx.slices, ctx.differential);
    ctx.dac_bits = dac_bits;
    ctx.cell_bits = cfg_.crossbar.cell_bits;
    ctx.weight_scale = regs_.get(kWeightScale);
    ctx.offset = regs_.get(kOffset);
    ctx.emit_sum = (regs_.get(kFlags) & kFlagEmitSum) != 0;
    const int steps = (a_bits + dac_bits - 1) / dac_bits;
    ctx.steps = steps;
    ctx.a_bits = a_bits;

    inputs_.resize(static_cast<std::size_t>(rows));
    const std::uint64_t bank = static_cast<std::uint64_t>(regs_.get(kInBank)) * cfg_.platform.input_buffer.size_bytes;
    for (std::uint32_t v = 0; v < vectors; ++v) {
        bus_tx_.set_command(tlm::TLM_READ_COMMAND);
        bus_tx_.set_address(input_address_ + bank + static_cast<std::uint64_t>(v) * rows);
        bus_tx_.set_data_ptr(inputs_.data());
        bus_tx_.set_data_length(static_cast<unsigned>(rows));
        bus_tx_.set_streaming_width(static_cast<unsigned>(rows));
        bus_tx_.set_byte_enable_ptr(nullptr);
        bus_tx_.set_dmi_allowed(false);
        bus_tx_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        bus_socket->b_transport(bus_tx_, delay);
        if (!bus_tx_.is_response_ok()) return finish(TileError::kInputOverflow);

        CrossbarArray::pack_planes(inputs_.data(), rows, 0, a_bits, words, planes_.data());
        std::int64_t input_sum = 0;
        int any = 0;
        for (int r = 0; r < rows; ++r) {
            input_sum += inputs_[r];
            any |= inputs_[r];
        }
        // Bits above A_BITS would be dropped by the reads but counted by the offset removal.
        if (any >> a_bits) return finish(TileError::kInputRange);
        ctx.input_sum = input_sum;
        ctx.vector_index = static_cast<std::uint64_t>(regs_.get(kVectorBase)) + v;
        ctx.out_slot = v;
        // One transaction: every bit-serial read of the vector, then the finish.
        macro_tx_.set_command(tlm::TLM_WRITE_COMMAND);
        macro_tx_.set_address(0);
        macro_tx_.set_data_ptr(reinterpret_cast<unsigned char*>(planes_.data()));
        macro_tx_.set_data_length(static_cast<unsigned>(a_bits * words * 8));
        macro_tx_.set_streaming_width(macro_tx_.get_data_length());
        macro_tx_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        macro_socket->b_transport(macro_tx_, delay);
        if (!macro_tx_.is_response_ok()) return finish(TileError::kDatapath);
        reads_ += static_cast<std::uint64_t>(steps);
    }
    finish(TileError::kNone);
}

void CimTile::meter(EnergyMeter& m) const {
    macro.meter(m);
    adc.meter(m);
    accumulator.meter(m);
    input_buffer.meter(m, &EnergyBreakdown::buffers);
}

void CimTile::reset_counters() {
    reads_ = 0;
    runs_ = 0;
    macro.reset_counters();
    adc.reset_counters();
    accumulator.reset_counters();
    input_buffer.reset_counters();
}

}  // namespace cimvp
