// The whole platform with the host CPU and the driver: every kind of bad
// command list ends in the controller's error code and command index, an
// error interrupt and a DriverError naming them, never a crash; the platform
// recovers and runs the next list right; failing accesses show in the
// transaction log; a host access to an unmapped address gets an address
// error; a layer run in three weight passes equals the C++ reference; and the
// energy report covers every component the layer used; no error path breaks a
// rule of the TLM-2.0 base protocol; an RTL twin's contract broken in the
// controller's process ends the run with the RTL's error, as thrown. Each TEST
// elaborates its own platform and runs in its own process (ctest).
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

// The Verilated ADC's pins (for an adapter's fault) before <systemc>: this is not a SystemC build
// of the model, and its header declares the time function of one.
#include "Vsar_adc.h"

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include "hw/adc_converter.h"
#include "hw/address_map.h"
#include "hw/command_format.h"
#include "hw/controller.h"
#include "hw/dma.h"
#include "hw/platform.h"
#include "hw/tile_registers.h"
#include "hw/arch_config.h"
#include "sw/driver/driver.h"
#include "sw/driver/host_cpu.h"
#include "sw/app/layer_job.h"
#include "sw/contract/layer_mapping.h"
#include "rtl/rtl_adc_converter.h"
#include "rtl/rtl_contract.h"
#include "sw/reference/reference.h"
#include "sw/system/system.h"
#include "testbench/platform_bench.h"
#include "testbench/sc_test_support.h"

namespace {

using namespace cimvp;
namespace creg = controller_regs;
using sc_core::sc_time;

constexpr std::uint64_t kKiB = 1024;
// Between the end of DRAM and the controller's MMIO block: nothing is mapped there.
constexpr std::uint64_t kHole = 0x3000'0000;

// Small and fast: 16 x 16 macros, 2 tiles, 1 MiB of DRAM; a protocol checker on every router link,
// so that the error paths keep to the TLM-2.0 base protocol too (a violation fails the test).
ArchConfig platform_config() {
    ArchConfig cfg;
    cfg.platform.check_protocol = true;
    cfg.crossbar.rows = 16;
    cfg.crossbar.cols = 16;
    cfg.crossbar.cell_bits = 2;
    cfg.platform.tiles = 2;
    cfg.platform.dram.size_bytes = 1024 * kKiB;
    cfg.platform.input_buffer.size_bytes = 256;
    cfg.platform.output_buffer.size_bytes = 1 * kKiB;
    return cfg;
}

using cimvp::test::PlatformBench;

// What the controller shows after a list, read the way a driver polling it would.
struct Outcome {
    bool irq_in_time = false, irq_line = false, irq_line_after_ack = true;
    std::uint32_t status = 0, error = 0, error_index = 0, irq_status = 0, perf_commands = 0;
};

// Loads the list into DRAM, starts the controller and waits for its interrupt, without
// the driver's acknowledge, so the test sees IRQ_STATUS and the line as the controller left them.
Outcome start_and_wait(HostCpu& cpu, Driver& d, PlatformBench& b, const std::vector<Command>& cmds) {
    const Driver::Mark mark = d.mark();
    const std::uint64_t base = d.alloc(cmds.size() * sizeof(Command), sizeof(Command));
    d.write(base, cmds.data(), cmds.size() * sizeof(Command));
    const std::uint64_t c = kControllerBase;
    d.write32(c + creg::kCmdBaseLo, static_cast<std::uint32_t>(base));
    d.write32(c + creg::kCmdBaseHi, static_cast<std::uint32_t>(base >> 32));
    d.write32(c + creg::kCmdCount, static_cast<std::uint32_t>(cmds.size()));
    d.write32(c + creg::kIrqEnable, creg::kIrqDone | creg::kIrqError);
    d.write32(c + creg::kCtrl, creg::kCtrlStart);
    Outcome o;
    o.irq_in_time = cpu.wait_for_irq(sc_time(1, sc_core::SC_MS));
    o.irq_line = b.platform.irq.read();
    o.status = d.read32(c + creg::kStatus);
    o.error = d.read32(c + creg::kError);
    o.error_index = d.read32(c + creg::kErrorIndex);
    o.irq_status = d.read32(c + creg::kIrqStatus);
    o.perf_commands = d.read32(c + creg::kPerfCommands);
    d.write32(c + creg::kIrqStatus, o.irq_status);  // acknowledge
    cpu.bus().sync();
    sc_core::wait(sc_time(1, sc_core::SC_NS));  // let the line follow the register
    o.irq_line_after_ack = b.platform.irq.read();
    d.release(mark);
    return o;
}

// A small layer that needs both tiles and two passes; lossless, so it must equal the integer product.
struct SmallLayer {
    MatrixLayer layer;
    LayerMapping map;
    AdcTables adc;
    std::vector<std::uint8_t> x;
    int n = 3;
};

SmallLayer small_layer(const ArchConfig& cfg) {
    LayerJobSpec spec;
    spec.K = 20;
    spec.M = 10;
    spec.a_bits = 4;
    spec.w_bits = 4;
    spec.vectors = 3;
    spec.seed = 11;
    SmallLayer s;
    s.layer = random_layer(spec);
    s.map = LayerMapping::make(s.layer, cfg);
    s.adc = AdcTables::unit(s.map, cfg.adc.bits, cfg.adc.frac_bits);
    s.x = random_inputs(spec, s.layer.K);
    return s;
}

// ---------------------------------------------------------------- bad command lists

struct BadList {
    std::string name;
    std::function<std::vector<Command>(const AddressMap&, const ArchConfig&)> make;
    ControllerError code;
    std::uint32_t index;
    // Warnings of the blocks that failed besides the controller's (tlm/error_report.h), per run of the list.
    std::vector<std::pair<std::string, int>> reports;
};

std::vector<BadList> bad_lists() {
    const auto dma_cmd = [](std::uint64_t src, std::uint64_t dst, std::uint32_t bytes) {
        DmaDescriptor d;
        d.src = src;
        d.dst = dst;
        d.row_bytes = bytes;
        d.rows = 1;
        d.src_stride = bytes;
        d.dst_stride = bytes;
        return make_dma(d);
    };
    return {
        {"TileRunOnBadlyConfiguredTile",
         [](const AddressMap& m, const ArchConfig& cfg) {
             const std::uint64_t r = m.tile_regs(0);
             return std::vector<Command>{make_reg_write(r + tile_reg::kOuts, 1),
                                         make_reg_write(r + tile_reg::kRows,
                                                        static_cast<std::uint32_t>(cfg.crossbar.rows + 1)),
                                         make_fence(), make_tile_run(r, 1, 0), Command{}};
         },
         ControllerError::kTile, 3, {{CimTile::kReportId, 1}}},
        {"TileRunOnTileThatDoesNotExist",
         [](const AddressMap& m, const ArchConfig& cfg) {
             return std::vector<Command>{make_fence(), make_tile_run(m.tile_regs(cfg.platform.tiles), 1, 0), Command{}};
         },
         ControllerError::kTile, 1, {{tlmx::Router::kReportId, 1}}},
        {"DmaFromUnmappedSourceOutsideDram",
         [dma_cmd](const AddressMap& m, const ArchConfig&) {
             return std::vector<Command>{make_fence(), dma_cmd(kHole, m.tile_input(0), 16), Command{}};
         },
         ControllerError::kDma, 1, {{Dma::kReportId, 1}, {tlmx::Router::kReportId, 1}}},
        {"DmaFromSourceRunningPastTheEndOfDram",
         [dma_cmd](const AddressMap& m, const ArchConfig&) {
             return std::vector<Command>{dma_cmd(m.dram_size() - 8, m.tile_input(0), 16), Command{}};
         },
         ControllerError::kDma, 0, {{Dma::kReportId, 1}, {tlmx::Router::kReportId, 1}}},
        {"DmaToUnmappedDestination",
         [dma_cmd](const AddressMap&, const ArchConfig&) {
             return std::vector<Command>{make_fence(), make_fence(), dma_cmd(0, kHole, 16), Command{}};
         },
         ControllerError::kDma, 2, {{Dma::kReportId, 1}, {tlmx::Router::kReportId, 1}}},
        {"RegWriteToUnmappedAddress",
         [](const AddressMap&, const ArchConfig&) {
             return std::vector<Command>{make_reg_write(kHole, 1), Command{}};
         },
         ControllerError::kRegWrite, 0, {{tlmx::Router::kReportId, 1}}},
        {"RegWriteToReadOnlyTileRegister",
         [](const AddressMap& m, const ArchConfig&) {
             return std::vector<Command>{make_fence(), make_reg_write(m.tile_regs(1) + tile_reg::kId, 1), Command{}};
         },
         ControllerError::kRegWrite, 1, {{CimTile::kReportId, 1}}},
        {"UnknownOpcode",
         [](const AddressMap&, const ArchConfig&) {
             Command bad;
             bad.opcode = 0xFFFF;  // 7 is kPeRun
             return std::vector<Command>{make_fence(), make_fence(), make_fence(), bad, Command{}};
         },
         ControllerError::kBadOpcode, 3, {}},
    };
}

void PrintTo(const BadList& l, std::ostream* os) { *os << l.name; }

class PlatformBadList : public ::testing::TestWithParam<BadList> {};

TEST_P(PlatformBadList, FailsWithCodeAndIndexRaisesErrorIrqThrowsDriverErrorAndRecovers) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const BadList& bad = GetParam();
    // The list runs twice (started by hand, then by the driver): every failing block reports each time.
    std::vector<std::pair<std::string, int>> reports{{Controller::kReportId, 2}};
    for (const auto& [type, n] : bad.reports) reports.emplace_back(type, 2 * n);
    const cimvp::test::ExpectScWarnings expect_reports(reports);
    PlatformBench b(platform_config());
    const std::vector<Command> cmds = bad.make(b.platform.address_map(), b.cfg);
    const SmallLayer L = small_layer(b.cfg);
    ASSERT_GE(L.map.passes, 2);
    Outcome o;
    std::string message;
    bool threw = false;
    std::uint32_t error_after_throw = 0, index_after_throw = 0;
    std::vector<std::int64_t> recovered;
    CommandListStats recovered_stats;
    b.run([&](HostCpu& cpu, Driver& d) {
        o = start_and_wait(cpu, d, b, cmds);
        try {
            d.run_commands(cmds);
        } catch (const DriverError& e) {
            threw = true;
            message = e.what();
        }
        error_after_throw = d.read32(kControllerBase + creg::kError);
        index_after_throw = d.read32(kControllerBase + creg::kErrorIndex);
        recovered = d.run_matrix_layer(L.layer, L.map, L.adc, L.x.data(), L.n, 0, &recovered_stats);
    });
    const auto code = static_cast<std::uint32_t>(bad.code);
    EXPECT_TRUE(o.irq_in_time);
    EXPECT_TRUE(o.irq_line);
    EXPECT_EQ(o.status, creg::kStatusError) << "ERROR only: not BUSY, not DONE";
    EXPECT_EQ(o.error, code);
    EXPECT_EQ(o.error_index, bad.index);
    EXPECT_EQ(o.irq_status, creg::kIrqError);
    EXPECT_EQ(o.perf_commands, bad.index) << "the commands before the failing one completed";
    EXPECT_FALSE(o.irq_line_after_ack);

    EXPECT_TRUE(threw);
    EXPECT_NE(message.find("controller error " + std::to_string(code) + " at command " + std::to_string(bad.index)),
              std::string::npos)
        << message;
    EXPECT_EQ(error_after_throw, code);
    EXPECT_EQ(index_after_throw, bad.index);

    // Recovery: the next list runs right.
    EXPECT_EQ(recovered, ReferenceLayer(L.layer, L.map, L.adc, b.cfg).run(L.x.data(), L.n));
    EXPECT_EQ(recovered, integer_matmul(L.layer, L.x.data(), L.n));
    EXPECT_EQ(recovered_stats.tile_runs, static_cast<std::uint32_t>(L.map.row_tiles * L.map.col_tiles));
}

INSTANTIATE_TEST_SUITE_P(Kinds, PlatformBadList, ::testing::ValuesIn(bad_lists()),
                         [](const ::testing::TestParamInfo<BadList>& i) { return i.param.name; });

TEST(PlatformErrors, BadTileConfigLeavesTheTileInErrorWithBadConfig) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 1}, {"/cimvp/tile", 1}});
    PlatformBench b(platform_config());
    const auto cmds = bad_lists()[0].make(b.platform.address_map(), b.cfg);
    std::uint32_t tile_status = 0, tile_error = 0, tile_runs = 0;
    Outcome o;
    b.run([&](HostCpu& cpu, Driver& d) {
        o = start_and_wait(cpu, d, b, cmds);
        const std::uint64_t r = b.platform.address_map().tile_regs(0);
        tile_status = d.read32(r + tile_reg::kStatus);
        tile_error = d.read32(r + tile_reg::kError);
        tile_runs = d.read32(kControllerBase + creg::kPerfTileRuns);
    });
    EXPECT_EQ(o.error, static_cast<std::uint32_t>(ControllerError::kTile));
    EXPECT_EQ(tile_status, tile_reg::kStatusError);
    EXPECT_EQ(tile_error, static_cast<std::uint32_t>(TileError::kBadConfig));
    EXPECT_EQ(tile_runs, 0u);
    EXPECT_EQ(b.platform.tiles[0]->macro.counters().reads, 0u);
}

// ---------------------------------------------------------------- bus errors seen from outside

TEST(PlatformErrors, TransactionLogRecordsTheFailingAccessesWithAddressError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 2}, {"/cimvp/dma", 1}, {"/cimvp/router", 3}});
    PlatformBench b(platform_config());
    b.platform.log.enable(true);
    b.platform.log.keep_records(true);
    const auto lists = bad_lists();
    const auto find_list = [&](const std::string& n) {
        for (const auto& l : lists)
            if (l.name == n) return l.make(b.platform.address_map(), b.cfg);
        ADD_FAILURE() << n;
        return std::vector<Command>{};
    };
    b.run([&](HostCpu& cpu, Driver& d) {
        start_and_wait(cpu, d, b, find_list("RegWriteToUnmappedAddress"));
        start_and_wait(cpu, d, b, find_list("DmaFromUnmappedSourceOutsideDram"));
        std::uint32_t v = 0;
        EXPECT_EQ(cpu.bus().read32(kHole + 0x40, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    });
    const auto& recs = b.platform.log.records();
    const auto count = [&](const std::string& initiator, tlm::tlm_command cmd, std::uint64_t addr) {
        int n = 0;
        for (const auto& r : recs)
            if (r.initiator == initiator && r.command == cmd && r.address == addr) {
                ++n;
                EXPECT_EQ(r.target, "<unmapped>");
                EXPECT_EQ(r.response, tlm::TLM_ADDRESS_ERROR_RESPONSE);
                EXPECT_NE(tlmx::TransactionLog::format(r).find("ADDRESS_ERROR"), std::string::npos);
            }
        return n;
    };
    EXPECT_EQ(count("controller", tlm::TLM_WRITE_COMMAND, kHole), 1);
    EXPECT_EQ(count("dma", tlm::TLM_READ_COMMAND, kHole), 1);
    EXPECT_EQ(count("host", tlm::TLM_READ_COMMAND, kHole + 0x40), 1);
    int errors = 0;
    for (const auto& r : recs) errors += r.response != tlm::TLM_OK_RESPONSE;
    EXPECT_EQ(errors, 3) << "nothing else failed";
}

TEST(PlatformErrors, TransactionLogIsEmptyWhenDisabled) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 1}, {"/cimvp/router", 1}});
    PlatformBench b(platform_config());
    b.platform.log.keep_records(true);  // but not enabled
    b.run([&](HostCpu& cpu, Driver& d) {
        start_and_wait(cpu, d, b, {make_reg_write(kHole, 1), Command{}});
    });
    EXPECT_TRUE(b.platform.log.records().empty());
}

TEST(PlatformErrors, HostAccessToUnmappedAddressIsAnAddressErrorAndTheDriverNamesIt) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/router", 7}});
    PlatformBench b(platform_config());
    const AddressMap& m = b.platform.address_map();
    const TileWindows& w = m.tile();
    std::vector<std::pair<std::string, tlm::tlm_response_status>> got;
    std::string driver_message;
    std::uint32_t id_after = 0;
    b.run([&](HostCpu& cpu, Driver& d) {
        std::uint32_t v = 0;
        std::uint8_t buf[8] = {};
        got.emplace_back("read in the hole", cpu.bus().read32(kHole, v));
        got.emplace_back("write in the hole", cpu.bus().write32(kHole, 1));
        got.emplace_back("read past the last tile", cpu.bus().read32(m.tile_regs(b.cfg.platform.tiles), v));
        got.emplace_back("read between tile windows",
                         cpu.bus().read(m.tile_crossbar(0) + w.crossbar_size, buf, 1));
        got.emplace_back("read straddling the end of DRAM", cpu.bus().read(m.dram_size() - 4, buf, 8));
        got.emplace_back("read past the last MMIO block", cpu.bus().read32(kPeArrayBase + kMmioWindow, v));
        try {
            d.read32(kHole);
        } catch (const DriverError& e) {
            driver_message = e.what();
        }
        id_after = d.read32(kControllerBase + creg::kId);  // the bus still works
    });
    for (const auto& [what, status] : got) EXPECT_EQ(status, tlm::TLM_ADDRESS_ERROR_RESPONSE) << what;
    EXPECT_NE(driver_message.find("0x30000000"), std::string::npos) << driver_message;
    EXPECT_EQ(id_after, creg::kIdValue);
}

// ---------------------------------------------------------------- an RTL twin's contract

// A fault of an ADC adapter: its samples reach the RTL's pins with step 0.
class StepZeroConverter : public AdcConverter {
public:
    explicit StepZeroConverter(RtlAdcConverter& rtl) : rtl_(rtl) {}
    void convert(const std::int64_t*, const numerics::AdcColumn*, int, int bits, int*, std::int64_t*) override {
        Vsar_adc& m = rtl_.pins();
        m.bits = static_cast<std::uint8_t>(bits);
        m.in_step = 0;
        m.out_ready = 1;
        m.in_valid = 1;
        rtl_.clock();
    }

private:
    RtlAdcConverter& rtl_;
};

// The RTL's error is thrown in the controller's thread (the tiles' conversions run in it): SystemC
// stops the simulation and reports it once as the process's uncaught exception, and System::run
// rethrows the error itself, so that cimvp prints its one line and exits with 2 (never SIGABRT).
TEST(PlatformErrors, AnRtlContractBrokenInTheControllersProcessEndsTheRunWithTheRtlError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::CaptureScErrors uncaught(sc_core::SC_ID_SIMULATION_UNCAUGHT_EXCEPTION_, /*keep_actions=*/true);
    SystemOptions options;
    options.rtl = true;
    PlatformBench b(platform_config(), options);
    StepZeroConverter faulty(*b.system.rtl_adc());
    for (auto& t : b.platform.tiles) t->adc.set_converter(&faulty);
    const SmallLayer L = small_layer(b.cfg);
    bool went_on = false;
    std::string what;
    try {
        b.system.run([&](HostCpu& cpu) {
            Driver d(cpu, b.cfg);
            d.run_matrix_layer(L.layer, L.map, L.adc, L.x.data(), L.n);
            went_on = true;
        });
        ADD_FAILURE() << "the run ended normally";
    } catch (const RtlContractError& e) {
        EXPECT_EQ(e.block(), "sar_adc");
        EXPECT_EQ(e.rule(), "sar_adc: step 0 (must be > 0)");
        what = e.what();
    }
    EXPECT_FALSE(went_on) << "the host's program stops with the simulation";
    EXPECT_NE(what.find("the RTL ADC converter, driven on its pins, after "), std::string::npos) << what;
    EXPECT_NE(what.find(" in system.platform.controller.thread"), std::string::npos) << "the process: " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    ASSERT_EQ(uncaught.texts().size(), 1u);
    EXPECT_EQ(uncaught.texts()[0], what) << "SystemC's report keeps the text only";
}

// ---------------------------------------------------------------- state left in the tiles

// A layer with column multipliers programs the tiles' partial multipliers; the
// next layer on the same tiles has none and must get plain partials (x 1), as
// emit_program_pass's comment promises ("or back to 1 after whatever ran on
// this tile before").
TEST(PlatformLayer, ColumnMultipliersOfOneLayerDoNotLeakIntoTheNextLayer) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    PlatformBench b(platform_config());
    const SmallLayer L = small_layer(b.cfg);
    MatrixLayer with = L.layer;
    with.col_mult.resize(static_cast<std::size_t>(L.map.row_tiles) * L.map.M);
    for (std::size_t i = 0; i < with.col_mult.size(); ++i) with.col_mult[i] = static_cast<std::int32_t>(i % 5) + 2;
    const LayerMapping mw = LayerMapping::make(with, b.cfg);
    std::vector<std::int64_t> got_with, got_plain, got_with_again;
    b.run([&](HostCpu&, Driver& d) {
        got_with = d.run_matrix_layer(with, mw, L.adc, L.x.data(), L.n);
        got_plain = d.run_matrix_layer(L.layer, L.map, L.adc, L.x.data(), L.n);
        got_with_again = d.run_matrix_layer(with, mw, L.adc, L.x.data(), L.n);
    });
    const auto ref_with = ReferenceLayer(with, mw, L.adc, b.cfg).run(L.x.data(), L.n);
    ASSERT_NE(ref_with, integer_matmul(L.layer, L.x.data(), L.n)) << "the multipliers must matter";
    EXPECT_EQ(got_with, ref_with);
    EXPECT_EQ(got_plain, integer_matmul(L.layer, L.x.data(), L.n))
        << "the first layer's partial multipliers are still in the tiles";
    EXPECT_EQ(got_with_again, ref_with);
}

// ---------------------------------------------------------------- a layer in three passes

ArchConfig three_pass_config() {
    ArchConfig cfg = platform_config();
    cfg.crossbar.rows = 16;
    cfg.crossbar.cols = 16;
    cfg.crossbar.cell_bits = 2;
    cfg.platform.tiles = 2;
    return cfg;
}

LayerJobSpec three_pass_spec() {
    LayerJobSpec s;
    s.K = 20;        // 2 row tiles of 16 rows
    s.M = 24;        // 4-bit weights in 2-bit cells: 2 slices, 8 outputs per tile -> 3 column tiles
    s.a_bits = 4;
    s.w_bits = 4;
    s.vectors = 20;  // 16 per batch (input buffer 256 / 16 rows): 2 batches
    s.seed = 5;
    return s;
}

TEST(PlatformLayer, ThreePassesOnTwoTilesEqualTheReferenceAndTheIntegerProduct) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const ArchConfig cfg = three_pass_config();
    const LayerJobResult r = run_layer_job(cfg, three_pass_spec());
    ASSERT_EQ(r.map.row_tiles, 2);
    ASSERT_EQ(r.map.col_tiles, 3);
    ASSERT_LT(cfg.platform.tiles, r.map.row_tiles * r.map.col_tiles);
    ASSERT_EQ(r.map.passes, 3);
    ASSERT_TRUE(r.adc_lossless);
    ASSERT_EQ(r.platform.size(), static_cast<std::size_t>(20 * 24));
    EXPECT_EQ(r.platform, r.reference);
    EXPECT_EQ(r.platform, r.exact);
    EXPECT_EQ(r.tile_runs, 2u * 3u * 2u);  // row tiles x column tiles x batches
    EXPECT_GT(r.cycles, 0u);
}

TEST(PlatformLayer, ThreePassesWithALossyColumnWiseAdcEqualTheReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg = three_pass_config();
    cfg.adc.bits = 3;
    cfg.adc.step_mode = AdcStepMode::kColumn;
    const LayerJobResult r = run_layer_job(cfg, three_pass_spec());
    ASSERT_EQ(r.map.passes, 3);
    ASSERT_FALSE(r.adc_lossless);
    EXPECT_NE(r.reference, r.exact) << "the ADC must lose something, or this is the lossless test again";
    EXPECT_EQ(r.platform, r.reference);
}

TEST(PlatformLayer, EnergyCoversEveryComponentTheLayerUsedAndNoPe) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const LayerJobResult r = run_layer_job(three_pass_config(), three_pass_spec());
    const EnergyBreakdown& e = r.energy;
    EXPECT_GT(e.crossbar, 0.0);
    EXPECT_GT(e.adc, 0.0);
    EXPECT_GT(e.shift_add, 0.0);
    EXPECT_GT(e.buffers, 0.0);
    EXPECT_GT(e.dma, 0.0);
    EXPECT_GT(e.dram, 0.0);
    EXPECT_EQ(e.pe, 0.0);
    EXPECT_DOUBLE_EQ(e.total(), e.crossbar + e.adc + e.shift_add + e.buffers + e.dma + e.dram);
    // The ADC converted every active column of every read: vectors x row tiles x steps x (M x slices) columns.
    const ArchConfig cfg = three_pass_config();
    const double conversions = 20.0 * 2 * 4 * (24 * 2);
    EXPECT_DOUBLE_EQ(e.adc, conversions * cfg.adc.pj_per_conversion);
}

}  // namespace
