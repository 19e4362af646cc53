// CIM tile: the crossbar programming window, a run on hand-computed data, the
// ADC bank's per-column table against the C++ reference, the shift-add
// accumulate alias, the tile registers and their error codes, the annotated
// latency of a run and the event counts. One tile behind a router, driven by a
// test initiator; each TEST elaborates its own bench and runs in its own
// process (ctest).
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "hw/address_map.h"
#include "hw/cim_tile.h"
#include "hw/tile_registers.h"
#include "rtl/rtl_adc_converter.h"
#include "hw/arch_config.h"
#include "sw/contract/layer_mapping.h"
#include "sw/contract/numerics.h"
#include "sw/reference/reference.h"
#include "testbench/sc_test_support.h"
#include "tlm/cim_read_extension.h"
#include "tlm/router.h"

namespace {

using namespace cimvp;
using sc_core::sc_time;
using sc_core::SC_NS;

sc_time ns(double v) { return sc_time(v, SC_NS); }
std::uint32_t code(TileError e) { return static_cast<std::uint32_t>(e); }

// Geometry and costs chosen so that every latency is a whole number of picoseconds.
constexpr int kXbarRows = 8;
constexpr int kXbarCols = 8;
constexpr std::uint64_t kInputBytes = 64;    // 8 vectors of 8 rows
constexpr std::uint64_t kOutputBytes = 256;  // 32 int64 entries

ArchConfig tile_config(int cell_bits = 1, int dac_bits = 1) {
    ArchConfig cfg;
    cfg.crossbar.rows = kXbarRows;
    cfg.crossbar.cols = kXbarCols;
    cfg.crossbar.cell_bits = cell_bits;
    cfg.crossbar.dac_bits = dac_bits;
    cfg.crossbar.read_ns = 100;
    cfg.crossbar.write_ns_per_row = 50;
    cfg.crossbar.read_pj_per_cell = 0.5;
    cfg.crossbar.read_pj_per_column = 0.75;
    cfg.crossbar.write_pj_per_cell = 2.0;
    cfg.adc.bits = 8;
    cfg.adc.adcs_per_macro = 3;
    cfg.adc.cycle_ns = 2;
    cfg.adc.frac_bits = 8;
    cfg.adc.pj_per_conversion = 1.5;
    cfg.digital.clock_ns = 1;
    cfg.digital.shift_add_pj = 0.25;
    cfg.platform.tiles = 1;
    cfg.platform.dram.size_bytes = 4096;
    cfg.platform.input_buffer.size_bytes = kInputBytes;
    cfg.platform.input_buffer.latency_ns = 1;
    cfg.platform.input_buffer.bytes_per_ns = 4;
    cfg.platform.output_buffer.size_bytes = kOutputBytes;
    cfg.platform.output_buffer.latency_ns = 1;
    cfg.platform.output_buffer.bytes_per_ns = 8;
    return cfg;
}

struct Result {
    tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
    sc_time delay;
    bool ok() const { return status == tlm::TLM_OK_RESPONSE; }
};

// The bus master of the bench: runs the test body in its thread, then stops the simulation.
// Every access is one raw b_transport starting from a zero delay, so the test sees
// exactly what the targets annotated.
class TestInitiator : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<TestInitiator> socket;
    std::function<void(TestInitiator&)> body;
    bool finished = false;

    SC_HAS_PROCESS(TestInitiator);
    explicit TestInitiator(sc_core::sc_module_name n) : sc_core::sc_module(n), socket("socket") { SC_THREAD(thread); }

    Result access(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len, unsigned width = 0) {
        tlm::tlm_generic_payload t;
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(static_cast<unsigned char*>(data));
        t.set_data_length(len);
        t.set_streaming_width(width ? width : len);
        t.set_byte_enable_ptr(nullptr);
        t.set_dmi_allowed(false);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        Result r;
        socket->b_transport(t, r.delay);
        r.status = t.get_response_status();
        return r;
    }
    Result write(std::uint64_t addr, const void* src, unsigned len) {
        return access(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(src), len);
    }
    Result read(std::uint64_t addr, void* dst, unsigned len) { return access(tlm::TLM_READ_COMMAND, addr, dst, len); }
    Result write32(std::uint64_t addr, std::uint32_t v) { return write(addr, &v, 4); }  // little-endian host
    std::uint32_t rd32(std::uint64_t addr) {
        std::uint32_t v = 0xdeadbeef;
        const Result r = read(addr, &v, 4);
        EXPECT_TRUE(r.ok()) << "read at 0x" << std::hex << addr << " -> " << r.status;
        return v;
    }
    void wr32(std::uint64_t addr, std::uint32_t v) {
        const Result r = write32(addr, v);
        EXPECT_TRUE(r.ok()) << "write at 0x" << std::hex << addr << " -> " << r.status;
    }

private:
    void thread() {
        if (body) body(*this);
        finished = true;
        sc_core::sc_stop();
    }
};

// One tile behind a router with the platform's address map. Each window is mapped
// over its whole slot of the map (up to the next window), not just its size, so an
// access past the end reaches the model and tests the model's own range check.
struct TileBench {
    ArchConfig cfg;
    AddressMap map;
    tlmx::Router router;
    CimTile tile;
    TestInitiator host;

    explicit TileBench(const ArchConfig& c)
        : cfg(c), map(c), router("router"), tile("tile0", c, 0, map.tile_input(0)), host("host") {
        const TileWindows& w = map.tile();
        router.map("tile0.regs", regs(0), kMmioWindow, tile.regs_socket);
        router.map("tile0.crossbar", xbar(), w.adc - w.crossbar, tile.macro.prog_socket);
        router.map("tile0.adc", adc(), w.input - w.adc, tile.adc.table_socket);
        router.map("tile0.input", input(), w.input_size, tile.input_buffer.socket);
        router.map("tile0.output", output(), w.stride - w.output, tile.accumulator.bus_socket);
        router.attach("tile0", tile.bus_socket);
        router.attach("host", host.socket);
    }

    std::uint64_t regs(std::uint32_t off) const { return map.tile_regs(0) + off; }
    std::uint64_t xbar() const { return map.tile_crossbar(0); }
    std::uint64_t adc() const { return map.tile_adc(0); }
    std::uint64_t input() const { return map.tile_input(0); }
    std::uint64_t output() const { return map.tile_output(0); }
    std::uint64_t output_acc() const { return map.tile_output_accumulate(0); }

    // Runs the body in the initiator's thread; true when it ran to the end.
    bool run(std::function<void(TestInitiator&)> body) {
        host.body = std::move(body);
        sc_core::sc_start();
        return host.finished && sc_core::sc_get_status() == sc_core::SC_STOPPED;
    }
};

struct RunSetup {
    std::uint32_t rows = kXbarRows, outs = kXbarCols, slices = 1, a_bits = 8, dac_bits = 1;
    std::uint32_t weight_scale = 1, offset = 0, vectors = 1, vector_base = 0;
};

void configure(TileBench& b, TestInitiator& h, const RunSetup& s) {
    namespace r = tile_reg;
    h.wr32(b.regs(r::kRows), s.rows);
    h.wr32(b.regs(r::kOuts), s.outs);
    h.wr32(b.regs(r::kSlices), s.slices);
    h.wr32(b.regs(r::kABits), s.a_bits);
    h.wr32(b.regs(r::kDacBits), s.dac_bits);
    h.wr32(b.regs(r::kWeightScale), s.weight_scale);
    h.wr32(b.regs(r::kOffset), s.offset);
    h.wr32(b.regs(r::kVectors), s.vectors);
    h.wr32(b.regs(r::kVectorBase), s.vector_base);
}

Result start(TileBench& b, TestInitiator& h) { return h.write32(b.regs(tile_reg::kCtrl), tile_reg::kCtrlStart); }

std::vector<std::int64_t> read_outputs(TileBench& b, TestInitiator& h, std::size_t n) {
    std::vector<std::int64_t> out(n, 0x5a5a5a5a);
    const Result r = h.read(b.output(), out.data(), static_cast<unsigned>(n * sizeof(std::int64_t)));
    EXPECT_TRUE(r.ok()) << r.status;
    return out;
}

// Writes rows x kXbarCols levels at row 0 of the crossbar.
void program_levels(TileBench& b, TestInitiator& h, const std::vector<std::uint8_t>& levels) {
    const Result r = h.write(b.xbar(), levels.data(), static_cast<unsigned>(levels.size()));
    EXPECT_TRUE(r.ok()) << r.status;
}

// ---------------------------------------------------------------- crossbar window

TEST(CimTileCrossbar, ProgrammedLevelsReadBackOverTheBusAndInTheArray) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    TileBench b(tile_config(2));
    std::vector<std::uint8_t> levels(kXbarRows * kXbarCols), back(kXbarRows * kXbarCols, 0xff);
    for (std::size_t i = 0; i < levels.size(); ++i) levels[i] = static_cast<std::uint8_t>((i * 7 + i / 5) % 4);
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        EXPECT_TRUE(h.write(b.xbar(), levels.data(), kXbarRows * kXbarCols).ok());
        EXPECT_TRUE(h.read(b.xbar(), back.data(), kXbarRows * kXbarCols).ok());
        // A read starting mid-row spans rows.
        std::uint8_t part[5] = {};
        EXPECT_TRUE(h.read(b.xbar() + kXbarCols - 2, part, 5).ok());
        for (int i = 0; i < 5; ++i) EXPECT_EQ(part[i], levels[kXbarCols - 2 + i]) << i;
    }));
    EXPECT_EQ(back, levels);
    for (int r = 0; r < kXbarRows; ++r)
        for (int c = 0; c < kXbarCols; ++c) EXPECT_EQ(b.tile.macro.array().level(r, c), levels[r * kXbarCols + c]) << r << "," << c;
}

TEST(CimTileCrossbar, LevelAtOrAboveTwoToTheCellBitsIsAGenericErrorAndProgramsNothing) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/crossbar", 2}});
    TileBench b(tile_config(1));
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        const std::uint8_t ones[4] = {1, 1, 1, 1};
        EXPECT_TRUE(h.write(b.xbar(), ones, 4).ok());
        const std::uint8_t bad[4] = {0, 0, 2, 0};  // 2 needs two bits; cell_bits is 1
        const Result r = h.write(b.xbar(), bad, 4);
        EXPECT_EQ(r.status, tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(r.delay, sc_core::SC_ZERO_TIME);
        const std::uint8_t max_level[1] = {255};
        EXPECT_EQ(h.write(b.xbar() + 9, max_level, 1).status, tlm::TLM_GENERIC_ERROR_RESPONSE);
    }));
    // The refused writes left the earlier cells alone and were not counted.
    for (int c = 0; c < 4; ++c) EXPECT_EQ(b.tile.macro.array().level(0, c), 1) << c;
    EXPECT_EQ(b.tile.macro.array().level(1, 1), 0);
    EXPECT_EQ(b.tile.macro.counters().cells_programmed, 4u);
    EXPECT_EQ(b.tile.macro.counters().rows_programmed, 1u);
}

TEST(CimTileCrossbar, AccessPastRowsTimesColsIsAnAddressError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/crossbar", 4}});
    TileBench b(tile_config(2));
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        std::uint8_t buf[16] = {};
        const std::uint64_t end = b.xbar() + kXbarRows * kXbarCols;
        EXPECT_EQ(h.write(end, buf, 1).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(h.read(end, buf, 1).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(h.write(end - 4, buf, 8).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);  // straddles the end
        EXPECT_EQ(h.read(end - 4, buf, 8).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_TRUE(h.write(end - 4, buf, 4).ok());  // the last four cells are fine
    }));
    EXPECT_EQ(b.tile.macro.counters().cells_programmed, 4u);
}

TEST(CimTileCrossbar, ProgrammingTakesWriteTimePerRowTouchedAndEnergyCountsCells) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const ArchConfig cfg = tile_config(2);
    TileBench b(cfg);
    std::vector<Result> r;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        std::vector<std::uint8_t> lv(3 * kXbarCols, 3);
        r.push_back(h.write(b.xbar(), lv.data(), kXbarCols));               // one whole row
        r.push_back(h.write(b.xbar() + kXbarCols + 3, lv.data(), 2));       // two cells of one row
        r.push_back(h.write(b.xbar() + 2 * kXbarCols - 2, lv.data(), kXbarCols + 4));  // end of row 1, row 2, start of row 3
        r.push_back(h.write(b.xbar() + 4 * kXbarCols, lv.data(), 3 * kXbarCols));      // three whole rows
    }));
    ASSERT_EQ(r.size(), 4u);
    const double w = cfg.crossbar.write_ns_per_row;
    EXPECT_EQ(r[0].delay, ns(1 * w));
    EXPECT_EQ(r[1].delay, ns(1 * w));
    EXPECT_EQ(r[2].delay, ns(3 * w));
    EXPECT_EQ(r[3].delay, ns(3 * w));
    for (const auto& x : r) EXPECT_TRUE(x.ok());
    const std::uint64_t cells = kXbarCols + 2 + (kXbarCols + 4) + 3 * kXbarCols;
    EXPECT_EQ(b.tile.macro.counters().cells_programmed, cells);
    EXPECT_EQ(b.tile.macro.counters().rows_programmed, 8u);
    EXPECT_EQ(b.tile.macro.counters().reads, 0u);
    EXPECT_DOUBLE_EQ(b.tile.macro.energy_pj(), cells * cfg.crossbar.write_pj_per_cell);
    EnergyMeter m;
    b.tile.meter(m);
    const EnergyBreakdown e = m.energy();
    EXPECT_DOUBLE_EQ(e.crossbar, cells * cfg.crossbar.write_pj_per_cell);
}

// ---------------------------------------------------------------- runs on hand-computed data

// Two input vectors of 4 rows, 3-bit activations (dac_bits 2 then takes a 2-bit and a 1-bit step).
const std::vector<std::uint8_t> kX = {5, 3, 7, 0, /**/ 1, 2, 4, 6};
constexpr int kHandRows = 4;

class CimTileHandRun : public ::testing::TestWithParam<std::tuple<int, int>> {};

// Raw levels, one column per output (slices 1, no offset): out[v][c] = sum_r x[v][r] * level[r][c].
TEST_P(CimTileHandRun, RawLevelsGiveTheIntegerDotProductsAtSlotTimesOuts) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    // Not a structured binding: the lambdas below capture them (C++20; clang refuses it in C++17).
    const int cell_bits = std::get<0>(GetParam()), dac_bits = std::get<1>(GetParam());
    TileBench b(tile_config(cell_bits, dac_bits));
    // 4 rows x 8 columns; only the first 4 columns are outputs, the rest must not matter.
    const std::vector<std::uint8_t> levels1 = {1, 0, 1, 1, 1, 1, 1, 1,
                                               0, 1, 1, 0, 1, 1, 1, 1,
                                               1, 1, 0, 1, 1, 1, 1, 1,
                                               1, 0, 0, 1, 1, 1, 1, 1};
    const std::vector<std::uint8_t> levels2 = {3, 0, 2, 1, 3, 3, 3, 3,
                                               1, 2, 3, 0, 3, 3, 3, 3,
                                               0, 1, 1, 3, 3, 3, 3, 3,
                                               2, 3, 0, 1, 3, 3, 3, 3};
    // By hand: v0 = {5,3,7,0}, v1 = {1,2,4,6}.
    const std::vector<std::int64_t> want1 = {12, 10, 8, 12, /**/ 11, 6, 3, 11};
    const std::vector<std::int64_t> want2 = {18, 13, 26, 26, /**/ 17, 26, 12, 19};
    std::vector<std::int64_t> got;
    std::uint32_t status = 0, error = 99, perf_reads = 0;
    Result run;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        program_levels(b, h, cell_bits == 1 ? levels1 : levels2);
        EXPECT_TRUE(h.write(b.input(), kX.data(), static_cast<unsigned>(kX.size())).ok());
        RunSetup s;
        s.rows = kHandRows;
        s.outs = 4;
        s.a_bits = 3;
        s.dac_bits = static_cast<std::uint32_t>(dac_bits);
        s.vectors = 2;
        configure(b, h, s);
        run = start(b, h);
        status = h.rd32(b.regs(tile_reg::kStatus));
        error = h.rd32(b.regs(tile_reg::kError));
        perf_reads = h.rd32(b.regs(tile_reg::kPerfReads));
        got = read_outputs(b, h, 8);
    }));
    EXPECT_TRUE(run.ok());
    EXPECT_EQ(status, tile_reg::kStatusDone);
    EXPECT_EQ(error, code(TileError::kNone));
    EXPECT_EQ(perf_reads, 2u * (dac_bits == 1 ? 3u : 2u));
    EXPECT_EQ(got, cell_bits == 1 ? want1 : want2);
    // The same entries straight from the accumulator's buffer: vector v, output o at v * outs + o.
    const std::vector<std::int64_t>& want = cell_bits == 1 ? want1 : want2;
    for (int v = 0; v < 2; ++v)
        for (int o = 0; o < 4; ++o) EXPECT_EQ(b.tile.accumulator.buffer()[v * 4 + o], want[v * 4 + o]) << v << "," << o;
}

// Signed 4-bit weights, offset-encoded and sliced over cell_bits columns per output
// (4 slices of 1-bit cells, 2 of 2-bit cells): the tile removes the offset exactly.
TEST_P(CimTileHandRun, SlicedSignedWeightsGiveTheSignedDotProducts) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const auto [cell_bits, dac_bits] = GetParam();
    const ArchConfig cfg = tile_config(cell_bits, dac_bits);
    MatrixLayer layer;
    layer.K = kHandRows;
    layer.M = 2;
    layer.a_bits = 3;
    layer.w_bits = 4;
    layer.weights = {3, -8, /**/ -1, 7, /**/ 0, -3, /**/ 5, 2};
    const LayerMapping m = LayerMapping::make(layer, cfg);
    ASSERT_EQ(m.slices, 4 / cell_bits);
    ASSERT_EQ(m.row_tiles, 1);
    ASSERT_EQ(m.col_tiles, 1);
    // By hand: v0 = {5,3,7,0}: 15-3+0+0, -40+21-21+0; v1 = {1,2,4,6}: 3-2+0+30, -8+14-12+12.
    const std::vector<std::int64_t> want = {12, -40, /**/ 31, 6};
    TileBench b(cfg);
    std::vector<std::int64_t> got;
    std::uint32_t status = 0;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        program_levels(b, h, m.tile_levels(layer, 0, 0));
        EXPECT_TRUE(h.write(b.input(), kX.data(), static_cast<unsigned>(kX.size())).ok());
        RunSetup s;
        s.rows = kHandRows;
        s.outs = 2;
        s.slices = static_cast<std::uint32_t>(m.slices);
        s.a_bits = 3;
        s.dac_bits = static_cast<std::uint32_t>(m.dac_bits);
        s.offset = static_cast<std::uint32_t>(m.offset);
        s.vectors = 2;
        configure(b, h, s);
        EXPECT_TRUE(start(b, h).ok());
        status = h.rd32(b.regs(tile_reg::kStatus));
        got = read_outputs(b, h, 4);
    }));
    EXPECT_EQ(status, tile_reg::kStatusDone);
    EXPECT_EQ(got, want);
    EXPECT_EQ(integer_matmul(layer, kX.data(), 2), want);  // the literal is right
}

// The same weights in differential column pairs (FLAGS.DIFFERENTIAL): |w| in the positive group
// when w > 0, in the negative group when w < 0; the tile subtracts the negative group, no offset.
TEST_P(CimTileHandRun, DifferentialColumnPairsGiveTheSignedDotProducts) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const auto [cell_bits, dac_bits] = GetParam();
    ArchConfig cfg = tile_config(cell_bits, dac_bits);
    cfg.crossbar.mapping = CellMapping::kDifferential;
    const int outs = cell_bits == 1 ? 1 : 2;  // 2 x 4 one-bit columns, or 2 x 2 two-bit columns, per output
    const std::vector<std::int8_t> w = {3, -8, /**/ -1, 7, /**/ 0, -3, /**/ 5, 2};
    const std::vector<std::int64_t> products = {12, -40, /**/ 31, 6};  // by hand, above
    MatrixLayer layer;
    layer.K = kHandRows;
    layer.M = outs;
    layer.a_bits = 3;
    layer.w_bits = 4;
    std::vector<std::int64_t> want;
    for (int k = 0; k < kHandRows; ++k)
        for (int m = 0; m < outs; ++m) layer.weights.push_back(w[static_cast<std::size_t>(k) * 2 + m]);
    for (int v = 0; v < 2; ++v)
        for (int m = 0; m < outs; ++m) want.push_back(products[static_cast<std::size_t>(v) * 2 + m]);
    const LayerMapping m = LayerMapping::make(layer, cfg);
    ASSERT_EQ(m.cols_per_out, 2 * 4 / cell_bits);
    ASSERT_EQ(m.cols_in(0), kXbarCols);
    ASSERT_EQ(m.offset, 0);
    TileBench b(cfg);
    std::vector<std::int64_t> got, without_flag;
    std::uint32_t status = 0;
    std::uint64_t conversions = 0;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        program_levels(b, h, m.tile_levels(layer, 0, 0));
        EXPECT_TRUE(h.write(b.input(), kX.data(), static_cast<unsigned>(kX.size())).ok());
        RunSetup s;
        s.rows = kHandRows;
        s.outs = static_cast<std::uint32_t>(outs);
        s.slices = static_cast<std::uint32_t>(m.slices);
        s.a_bits = 3;
        s.dac_bits = static_cast<std::uint32_t>(m.dac_bits);
        s.offset = static_cast<std::uint32_t>(m.offset);
        s.weight_scale = static_cast<std::uint32_t>(m.weight_scale);
        s.vectors = 2;
        configure(b, h, s);
        h.wr32(b.regs(tile_reg::kFlags), tile_reg::kFlagDifferential);
        EXPECT_TRUE(start(b, h).ok());
        status = h.rd32(b.regs(tile_reg::kStatus));
        got = read_outputs(b, h, want.size());
        conversions = b.tile.adc.counters().conversions;
        h.wr32(b.regs(tile_reg::kFlags), 0);  // the same cells read as offset-encoded slices
        EXPECT_TRUE(start(b, h).ok());
        without_flag = read_outputs(b, h, want.size());
    }));
    EXPECT_EQ(status, tile_reg::kStatusDone);
    EXPECT_EQ(got, want);
    EXPECT_NE(without_flag, want);
    // Every column of both groups went through the ADC: vectors x reads x outputs x 2S.
    const std::uint64_t reads = static_cast<std::uint64_t>((3 + m.dac_bits - 1) / m.dac_bits);
    EXPECT_EQ(conversions, 2u * reads * static_cast<std::uint64_t>(outs * m.cols_per_out));
}

INSTANTIATE_TEST_SUITE_P(CellAndDacBits, CimTileHandRun,
                         ::testing::Combine(::testing::Values(1, 2), ::testing::Values(1, 2)),
                         [](const ::testing::TestParamInfo<std::tuple<int, int>>& i) {
                             return "cell" + std::to_string(std::get<0>(i.param)) + "_dac" +
                                    std::to_string(std::get<1>(i.param));
                         });

// ---------------------------------------------------------------- ADC bank

// A layer filling the tile: K = 8 rows, M = 4 outputs of 2 slices (4-bit weights, 2-bit cells).
struct AdcCase {
    ArchConfig cfg;
    MatrixLayer layer;
    LayerMapping map;
    std::vector<std::uint8_t> x;
    int n = 5;
};

AdcCase adc_case(int adc_bits) {
    AdcCase c;
    c.cfg = tile_config(2, 1);
    c.cfg.adc.bits = adc_bits;
    std::mt19937 rng(7);
    c.layer.K = kXbarRows;
    c.layer.M = 4;
    c.layer.a_bits = 4;
    c.layer.w_bits = 4;
    c.layer.weights.resize(static_cast<std::size_t>(c.layer.K) * c.layer.M);
    for (auto& w : c.layer.weights) w = static_cast<std::int8_t>(static_cast<int>(rng() % 16) - 8);
    c.map = LayerMapping::make(c.layer, c.cfg);
    c.x.resize(static_cast<std::size_t>(c.n) * c.layer.K);
    for (auto& v : c.x) v = static_cast<std::uint8_t>(rng() % 16);
    return c;
}

// Per-column step and base, in fixed point (frac_bits 8): uneven steps, negative and positive bases.
AdcTables adc_table(const LayerMapping& m, int bits) {
    AdcTables t = AdcTables::unit(m, bits, 8);
    const std::int64_t steps[kXbarCols] = {256, 384, 512, 640, 300, 700, 256, 1000};
    const std::int64_t bases[kXbarCols] = {0, 128, -256, 512, 0, 1024, 2048, 100};
    for (int c = 0; c < kXbarCols; ++c) t.tile(0, 0)[c] = numerics::AdcColumn{steps[c], bases[c]};
    return t;
}

void write_table(TileBench& b, TestInitiator& h, const numerics::AdcColumn* cols) {
    EXPECT_TRUE(h.write(b.adc(), cols, kXbarCols * static_cast<unsigned>(kAdcEntryBytes)).ok());
}

void run_layer(TileBench& b, TestInitiator& h, const AdcCase& c) {
    program_levels(b, h, c.map.tile_levels(c.layer, 0, 0));
    EXPECT_TRUE(h.write(b.input(), c.x.data(), static_cast<unsigned>(c.x.size())).ok());
    RunSetup s;
    s.rows = static_cast<std::uint32_t>(c.map.rows_in(0));
    s.outs = static_cast<std::uint32_t>(c.map.outs_in(0));
    s.slices = static_cast<std::uint32_t>(c.map.slices);
    s.a_bits = static_cast<std::uint32_t>(c.map.a_bits);
    s.dac_bits = static_cast<std::uint32_t>(c.map.dac_bits);
    s.offset = static_cast<std::uint32_t>(c.map.offset);
    s.weight_scale = static_cast<std::uint32_t>(c.map.weight_scale);
    s.vectors = static_cast<std::uint32_t>(c.n);
    configure(b, h, s);
}

TEST(CimTileAdc, PerColumnStepAndBaseGiveExactlyTheReferenceResult) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const AdcCase c = adc_case(3);  // 3-bit ADC: lossy, max psum 8 * 3 = 24
    ASSERT_FALSE(adc_is_lossless(c.map, c.cfg));
    const AdcTables table = adc_table(c.map, 3);
    const auto ref = ReferenceLayer(c.layer, c.map, table, c.cfg).run(c.x.data(), c.n);
    const auto exact = integer_matmul(c.layer, c.x.data(), c.n);
    ASSERT_NE(ref, exact) << "the table must change the result, or this test proves nothing";

    TileBench b(c.cfg);
    std::vector<std::int64_t> got;
    std::vector<numerics::AdcColumn> back(kXbarCols);
    std::uint32_t status = 0;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        write_table(b, h, table.tile(0, 0));
        EXPECT_TRUE(h.read(b.adc(), back.data(), kXbarCols * static_cast<unsigned>(kAdcEntryBytes)).ok());
        run_layer(b, h, c);
        EXPECT_TRUE(start(b, h).ok());
        status = h.rd32(b.regs(tile_reg::kStatus));
        got = read_outputs(b, h, static_cast<std::size_t>(c.n) * c.layer.M);
    }));
    for (int col = 0; col < kXbarCols; ++col) {
        EXPECT_EQ(back[col].step_fx, table.tile(0, 0)[col].step_fx) << col;
        EXPECT_EQ(back[col].base_fx, table.tile(0, 0)[col].base_fx) << col;
        EXPECT_EQ(b.tile.adc.column(col).step_fx, table.tile(0, 0)[col].step_fx) << col;
    }
    EXPECT_EQ(status, tile_reg::kStatusDone);
    EXPECT_EQ(got, ref);

    // The codes of the last read (last vector, MSB input bit) are numerics::adc_code of
    // that read's partial sums, column by column.
    const auto lv = c.map.tile_levels(c.layer, 0, 0);
    const std::uint8_t* xv = &c.x[static_cast<std::size_t>(c.n - 1) * c.layer.K];
    const int t = c.layer.a_bits - 1;
    for (int col = 0; col < kXbarCols; ++col) {
        std::int64_t psum = 0;
        for (int r = 0; r < kXbarRows; ++r) psum += ((xv[r] >> t) & 1) * lv[static_cast<std::size_t>(r) * kXbarCols + col];
        EXPECT_EQ(b.tile.adc.last_codes()[col], numerics::adc_code(psum << 8, table.tile(0, 0)[col], 3)) << col;
    }
}

// A converter one step too high on one column: the bank must count it and pass its values on.
struct OneColumnHighConverter : AdcConverter {
    AdcConverter* inner = nullptr;
    int column = 0;
    void convert(const std::int64_t* psum_fx, const numerics::AdcColumn* cols, int n, int bits, int* codes,
                 std::int64_t* values) override {
        inner->convert(psum_fx, cols, n, bits, codes, values);
        if (column < n) values[column] += cols[column].step_fx;
    }
};

TEST(CimTileAdc, RtlConverterStandsInForEveryConversionAndAWrongConverterIsCaught) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const AdcCase c = adc_case(3);
    const AdcTables table = adc_table(c.map, 3);
    const auto ref = ReferenceLayer(c.layer, c.map, table, c.cfg).run(c.x.data(), c.n);
    RtlAdcConverter rtl;
    OneColumnHighConverter wrong;
    wrong.inner = &rtl;
    wrong.column = 2;
    TileBench b(c.cfg);
    b.tile.adc.set_converter(&rtl);
    std::vector<std::int64_t> got, got_wrong;
    std::uint64_t conversions = 0, rtl_conversions = 0, rtl_cycles = 0, mismatches = 0;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        write_table(b, h, table.tile(0, 0));
        run_layer(b, h, c);
        EXPECT_TRUE(start(b, h).ok());
        got = read_outputs(b, h, static_cast<std::size_t>(c.n) * c.layer.M);
        conversions = b.tile.adc.counters().conversions;
        rtl_conversions = rtl.conversions();
        rtl_cycles = rtl.cycles();
        mismatches = b.tile.adc.counters().converter_mismatches;
        b.tile.adc.set_converter(&wrong);
        run_layer(b, h, c);
        EXPECT_TRUE(start(b, h).ok());
        got_wrong = read_outputs(b, h, static_cast<std::size_t>(c.n) * c.layer.M);
    }));
    EXPECT_EQ(got, ref);
    EXPECT_GT(conversions, 0u);
    EXPECT_EQ(rtl_conversions, conversions);
    EXPECT_EQ(rtl_cycles - 1, conversions * 3u) << "3 clocks per conversion after the reset clock";
    EXPECT_EQ(mismatches, 0u);
    // The second run converts column 2 of every read one step high, and only that column.
    const std::uint64_t wrong_mismatches = b.tile.adc.counters().converter_mismatches;
    EXPECT_GT(wrong_mismatches, 0u);
    EXPECT_LT(wrong_mismatches, b.tile.adc.counters().conversions - conversions);
    EXPECT_NE(got_wrong, ref);
}

TEST(CimTileAdc, ChangingOneColumnsStepChangesOnlyThatOutputAsTheReferenceSays) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const AdcCase c = adc_case(4);
    AdcTables table = adc_table(c.map, 4);
    const auto ref_before = ReferenceLayer(c.layer, c.map, table, c.cfg).run(c.x.data(), c.n);
    table.tile(0, 0)[5].step_fx = 1100;  // column 5 = output 2, slice 1
    table.tile(0, 0)[5].base_fx = -300;
    const auto ref_after = ReferenceLayer(c.layer, c.map, table, c.cfg).run(c.x.data(), c.n);
    ASSERT_NE(ref_before, ref_after);
    for (int v = 0; v < c.n; ++v)
        for (int o = 0; o < c.layer.M; ++o)
            if (o != 2) {
                ASSERT_EQ(ref_before[v * c.layer.M + o], ref_after[v * c.layer.M + o]);
            }

    TileBench b(c.cfg);
    std::vector<std::int64_t> before, after;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        write_table(b, h, adc_table(c.map, 4).tile(0, 0));
        run_layer(b, h, c);
        EXPECT_TRUE(start(b, h).ok());
        before = read_outputs(b, h, static_cast<std::size_t>(c.n) * c.layer.M);
        // Only entry 5 rewritten, through the middle of the table window.
        const numerics::AdcColumn col5{1100, -300};
        EXPECT_TRUE(h.write(b.adc() + 5 * kAdcEntryBytes, &col5, kAdcEntryBytes).ok());
        EXPECT_TRUE(start(b, h).ok());
        after = read_outputs(b, h, static_cast<std::size_t>(c.n) * c.layer.M);
    }));
    EXPECT_EQ(before, ref_before);
    EXPECT_EQ(after, ref_after);
}

class CimTileAdcBadStep : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(CimTileAdcBadStep, EndsTheRunWithDatapathErrorAndTheTileRecovers) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{AdcBank::kReportId, 1}, {CimTile::kReportId, 1}});
    const AdcCase c = adc_case(8);
    const AdcTables good = AdcTables::unit(c.map, 8, 8);
    ASSERT_TRUE(adc_is_lossless(c.map, c.cfg));
    TileBench b(c.cfg);
    Result run;
    std::uint32_t status = 0, error = 0, status2 = 0, error2 = 99;
    std::vector<std::int64_t> untouched, recovered;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        std::vector<numerics::AdcColumn> bad(good.tile(0, 0), good.tile(0, 0) + kXbarCols);
        bad[3].step_fx = GetParam();
        write_table(b, h, bad.data());
        run_layer(b, h, c);
        const std::vector<std::int64_t> sentinel(c.n * c.layer.M, 777);
        EXPECT_TRUE(h.write(b.output(), sentinel.data(), static_cast<unsigned>(sentinel.size() * 8)).ok());
        run = start(b, h);
        status = h.rd32(b.regs(tile_reg::kStatus));
        error = h.rd32(b.regs(tile_reg::kError));
        untouched = read_outputs(b, h, sentinel.size());
        // Fix the table: the next run is right.
        write_table(b, h, good.tile(0, 0));
        EXPECT_TRUE(start(b, h).ok());
        status2 = h.rd32(b.regs(tile_reg::kStatus));
        error2 = h.rd32(b.regs(tile_reg::kError));
        recovered = read_outputs(b, h, sentinel.size());
    }));
    EXPECT_TRUE(run.ok()) << "the START write itself is fine; the tile reports the error";
    EXPECT_EQ(status, tile_reg::kStatusError);
    EXPECT_EQ(error, code(TileError::kDatapath));
    EXPECT_EQ(error, 4u);
    EXPECT_EQ(untouched, std::vector<std::int64_t>(c.n * c.layer.M, 777));
    EXPECT_EQ(status2, tile_reg::kStatusDone);
    EXPECT_EQ(error2, 0u);
    EXPECT_EQ(recovered, integer_matmul(c.layer, c.x.data(), c.n));
}

INSTANTIATE_TEST_SUITE_P(StepZeroOrNegative, CimTileAdcBadStep, ::testing::Values<std::int64_t>(0, -256),
                         [](const ::testing::TestParamInfo<std::int64_t>& i) {
                             return i.param == 0 ? std::string("zero") : std::string("negative");
                         });

TEST(CimTileAdc, ConversionTimeIsRoundsOfSharedAdcsTimesBitsTimesCycle) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg = tile_config();
    cfg.adc.bits = 4;
    cfg.adc.adcs_per_macro = 3;
    cfg.adc.cycle_ns = 2;
    TileBench b(cfg);
    ASSERT_TRUE(b.run([](TestInitiator&) {}));
    EXPECT_EQ(b.tile.adc.conversion_time(1), ns(1 * 4 * 2));
    EXPECT_EQ(b.tile.adc.conversion_time(3), ns(1 * 4 * 2));
    EXPECT_EQ(b.tile.adc.conversion_time(4), ns(2 * 4 * 2));
    EXPECT_EQ(b.tile.adc.conversion_time(6), ns(2 * 4 * 2));
    EXPECT_EQ(b.tile.adc.conversion_time(8), ns(3 * 4 * 2));
}

TEST(CimTileAdc, AFlashConversionTakesOneCycleWhateverItsBits) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg = tile_config();
    cfg.adc.bits = 6;
    cfg.adc.architecture = AdcArchitecture::kFlash;
    cfg.adc.adcs_per_macro = 3;
    cfg.adc.cycle_ns = 2;
    TileBench b(cfg);
    ASSERT_TRUE(b.run([](TestInitiator&) {}));
    EXPECT_EQ(b.tile.adc.conversion_time(3), ns(1 * 1 * 2));
    EXPECT_EQ(b.tile.adc.conversion_time(7), ns(3 * 1 * 2));
}

// The START write carries the whole run (loosely timed). From the code:
//   register access                  clock
//   per vector: input buffer read    in.latency + rows / in.bandwidth
//               per read (steps)     read_ns + ceil(cols / adcs) * adc_bits * cycle_ns + clock (shift-add)
//               finish               clock + out.latency + outs * 8 / out.bandwidth
TEST(CimTileTiming, StartWriteAnnotatesTheWholeRunExactly) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg = tile_config(1, 2);
    cfg.adc.bits = 4;
    TileBench b(cfg);
    RunSetup s;
    s.rows = 8;
    s.outs = 2;
    s.slices = 2;   // 4 active columns: ceil(4 / 3) = 2 conversion rounds (floor: 1; all 8 columns: 3)
    s.a_bits = 4;   // dac_bits 2: 2 reads per vector
    s.dac_bits = 2;
    s.vectors = 3;
    Result run;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        configure(b, h, s);
        run = start(b, h);
    }));
    ASSERT_TRUE(run.ok());
    const double clock = cfg.digital.clock_ns;
    const auto& in = cfg.platform.input_buffer;
    const auto& out = cfg.platform.output_buffer;
    const int steps = 2, cols = 4, rounds = 2;
    const double per_read = cfg.crossbar.read_ns + rounds * cfg.adc.bits * cfg.adc.cycle_ns + clock;
    const double per_vector = in.latency_ns + s.rows / in.bytes_per_ns + steps * per_read + clock +
                              out.latency_ns + s.outs * 8 / out.bytes_per_ns;
    const double want = clock + s.vectors * per_vector;
    EXPECT_EQ(want, 724.0);  // 1 + 3 * (1 + 2 + 2 * (100 + 16 + 1) + 1 + 1 + 2)
    EXPECT_EQ(run.delay, ns(want)) << run.delay;
    EXPECT_EQ(b.tile.adc.counters().conversions, static_cast<std::uint64_t>(s.vectors) * steps * cols);
}

// ---------------------------------------------------------------- shift-add accumulate alias

TEST(CimTileAccumulator, WritesToTheAliasAddIntoTheOutputBuffer) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const ArchConfig cfg = tile_config();
    TileBench b(cfg);
    std::vector<std::int64_t> got;
    Result add;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        ASSERT_EQ(b.output_acc(), b.output() + kOutputBytes);
        const std::int64_t base[4] = {10, -20, 30, std::int64_t{1} << 40};
        EXPECT_TRUE(h.write(b.output(), base, sizeof base).ok());
        const std::int64_t delta[3] = {5, 5, -100};  // adds into entries 1..3
        add = h.write(b.output_acc() + 8, delta, sizeof delta);
        const std::int64_t again[1] = {-7};
        EXPECT_TRUE(h.write(b.output_acc() + 8, again, sizeof again).ok());
        // The last entry of the buffer is reachable through the alias too.
        const std::int64_t last[1] = {42};
        EXPECT_TRUE(h.write(b.output_acc() + kOutputBytes - 8, last, 8).ok());
        got = read_outputs(b, h, kOutputBytes / 8);
    }));
    EXPECT_TRUE(add.ok());
    ASSERT_EQ(got.size(), kOutputBytes / 8);
    EXPECT_EQ(got[0], 10);
    EXPECT_EQ(got[1], -20 + 5 - 7);
    EXPECT_EQ(got[2], 30 + 5);
    EXPECT_EQ(got[3], (std::int64_t{1} << 40) - 100);
    EXPECT_EQ(got[4], 0);
    EXPECT_EQ(got.back(), 42);
    // Read-modify-write of 3 entries: two buffer passes of 24 bytes.
    const auto& o = cfg.platform.output_buffer;
    EXPECT_EQ(add.delay, 2 * ns(o.latency_ns + 24 / o.bytes_per_ns));
    EXPECT_EQ(b.tile.accumulator.counters().shift_adds, 3u + 1u + 1u);
}

TEST(CimTileAccumulator, MisalignedPartialAndReadAccessesToTheAliasAreErrors) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/accumulator", 8}});
    TileBench b(tile_config());
    std::vector<std::int64_t> got;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        const std::int64_t base[4] = {1, 2, 3, 4};
        EXPECT_TRUE(h.write(b.output(), base, sizeof base).ok());
        std::int64_t v[2] = {100, 100};
        EXPECT_EQ(h.write(b.output_acc() + 4, v, 8).status, tlm::TLM_BURST_ERROR_RESPONSE);   // misaligned
        EXPECT_EQ(h.write(b.output_acc() + 8, v, 12).status, tlm::TLM_BURST_ERROR_RESPONSE);  // not whole entries
        EXPECT_EQ(h.write(b.output_acc(), v, 4).status, tlm::TLM_BURST_ERROR_RESPONSE);
        EXPECT_EQ(h.read(b.output_acc(), v, 8).status, tlm::TLM_COMMAND_ERROR_RESPONSE);     // write-only alias
        EXPECT_EQ(h.write(b.output() + kOutputBytes - 8, v, 16).status,
                  tlm::TLM_ADDRESS_ERROR_RESPONSE);  // straddles buffer and alias
        EXPECT_EQ(h.write(b.output_acc() + kOutputBytes - 8, v, 16).status,
                  tlm::TLM_ADDRESS_ERROR_RESPONSE);  // straddles alias and multipliers
        const std::uint64_t window_end = b.output() + b.map.tile().output_window;
        EXPECT_EQ(h.write(window_end - 8, v, 16).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);  // past the window
        EXPECT_EQ(h.read(window_end, v, 8).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
        got = read_outputs(b, h, 4);
    }));
    EXPECT_EQ(got, (std::vector<std::int64_t>{1, 2, 3, 4}));
    EXPECT_EQ(b.tile.accumulator.counters().shift_adds, 0u);
}

// The multipliers after the alias: one int64 per output, 1 after reset; each
// output's partial is multiplied by its own (column-wise scales).
TEST(CimTileAccumulator, PartialMultipliersStartAtOneAndScaleEachOutput) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    TileBench b(tile_config(1, 1));
    std::vector<std::int64_t> initial(kXbarCols, 0), plain, scaled;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        ASSERT_EQ(b.map.tile_output_scale(0), b.output() + 2 * kOutputBytes);
        EXPECT_TRUE(h.read(b.map.tile_output_scale(0), initial.data(), kXbarCols * 8).ok());
        std::vector<std::uint8_t> lv(kXbarRows * kXbarCols, 1);
        program_levels(b, h, lv);
        const std::uint8_t x[kXbarRows] = {1, 2, 3, 4, 5, 6, 7, 8};  // sum 36 on every column
        EXPECT_TRUE(h.write(b.input(), x, kXbarRows).ok());
        RunSetup s;
        s.outs = 4;
        configure(b, h, s);
        EXPECT_TRUE(start(b, h).ok());
        plain = read_outputs(b, h, 4);
        const std::int64_t mult[4] = {2, -3, 0, 1000};
        EXPECT_TRUE(h.write(b.map.tile_output_scale(0), mult, sizeof mult).ok());
        EXPECT_TRUE(start(b, h).ok());
        scaled = read_outputs(b, h, 4);
    }));
    EXPECT_EQ(initial, std::vector<std::int64_t>(kXbarCols, 1));
    EXPECT_EQ(plain, (std::vector<std::int64_t>{36, 36, 36, 36}));
    EXPECT_EQ(scaled, (std::vector<std::int64_t>{72, -108, 0, 36000}));
}

// FLAGS.EMIT_SUM: each vector's input sum follows its outputs (slot stride outs + 1),
// and the output buffer check counts that entry.
TEST(CimTileAccumulator, EmitSumStoresEachVectorsInputSumAfterItsOutputs) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/tile", 1}});
    TileBench b(tile_config(1, 1));
    std::vector<std::int64_t> got;
    std::uint32_t overflow_error = 0, fits_error = 99;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        std::vector<std::uint8_t> lv(kXbarRows * kXbarCols, 0);
        for (int r = 0; r < kXbarRows; ++r) lv[r * kXbarCols + (r % 3)] = 1;  // column c sums rows r with r % 3 == c
        program_levels(b, h, lv);
        const std::uint8_t x[2 * kXbarRows] = {1, 2, 3, 4, 5, 6, 7, 8, /**/ 10, 0, 0, 0, 0, 0, 0, 20};
        EXPECT_TRUE(h.write(b.input(), x, sizeof x).ok());
        RunSetup s;
        s.outs = 3;
        s.vectors = 2;
        configure(b, h, s);
        h.wr32(b.regs(tile_reg::kFlags), tile_reg::kFlagEmitSum);
        EXPECT_TRUE(start(b, h).ok());
        got = read_outputs(b, h, 8);
        // 8 vectors x (3 outputs + 1 sum) = 32 entries fit; 8 x (4 + 1) = 40 do not.
        s.rows = 1;
        s.vectors = 8;
        configure(b, h, s);
        EXPECT_TRUE(start(b, h).ok());
        fits_error = h.rd32(b.regs(tile_reg::kError));
        s.outs = 4;
        configure(b, h, s);
        EXPECT_TRUE(start(b, h).ok());
        overflow_error = h.rd32(b.regs(tile_reg::kError));
    }));
    // v0: columns {1+4+7, 2+5+8, 3+6} and sum 36; v1: {10+0+0, 0+0+20, 0+0} and sum 30.
    EXPECT_EQ(got, (std::vector<std::int64_t>{12, 15, 9, 36, /**/ 10, 20, 0, 30}));
    EXPECT_EQ(fits_error, 0u);
    EXPECT_EQ(overflow_error, code(TileError::kOutputOverflow));
}

// ---------------------------------------------------------------- tile registers

TEST(CimTileRegisters, IdGeometryCellBitsAndIndexReflectTheConfig) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg = tile_config(2, 1);
    cfg.crossbar.rows = 24;
    cfg.crossbar.cols = 40;
    TileBench b(cfg);
    std::uint32_t id = 0, geometry = 0, cell_bits = 0, index = 99, dac = 0, slices = 0;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        id = h.rd32(b.regs(tile_reg::kId));
        geometry = h.rd32(b.regs(tile_reg::kGeometry));
        cell_bits = h.rd32(b.regs(tile_reg::kCellBits));
        index = h.rd32(b.regs(tile_reg::kTileIndex));
        dac = h.rd32(b.regs(tile_reg::kDacBits));
        slices = h.rd32(b.regs(tile_reg::kSlices));
    }));
    EXPECT_EQ(id, 0x54494C45u);
    const char name[5] = {static_cast<char>(id >> 24), static_cast<char>(id >> 16), static_cast<char>(id >> 8),
                          static_cast<char>(id), 0};
    EXPECT_STREQ(name, "TILE");
    EXPECT_EQ(geometry & 0xffff, 24u);
    EXPECT_EQ(geometry >> 16, 40u);
    EXPECT_EQ(cell_bits, 2u);
    EXPECT_EQ(index, 0u);
    EXPECT_EQ(dac, 1u);
    EXPECT_EQ(slices, 1u);
}

struct BadRun {
    const char* name;
    RunSetup setup;
    TileError want;
};

RunSetup with(std::function<void(RunSetup&)> f) {
    RunSetup s;
    s.rows = 4;
    s.outs = 4;
    s.vectors = 1;
    f(s);
    return s;
}

TEST(CimTileRegisters, BadConfigurationsEndTheRunWithTheirErrorCode) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/tile", 9}});
    const std::vector<BadRun> cases = {
        {"rows > R", with([](RunSetup& s) { s.rows = kXbarRows + 1; }), TileError::kBadConfig},
        {"rows 0", with([](RunSetup& s) { s.rows = 0; }), TileError::kBadConfig},
        {"outs * slices > C", with([](RunSetup& s) { s.outs = 5; s.slices = 2; }), TileError::kBadConfig},
        {"outs 0", with([](RunSetup& s) { s.outs = 0; }), TileError::kBadConfig},
        {"a_bits 9", with([](RunSetup& s) { s.a_bits = 9; }), TileError::kBadConfig},
        {"dac_bits > a_bits", with([](RunSetup& s) { s.a_bits = 2; s.dac_bits = 3; }), TileError::kBadConfig},
        {"weight_scale 0", with([](RunSetup& s) { s.weight_scale = 0; }), TileError::kBadConfig},
        // 9 vectors of 8 rows = 72 bytes > 64-byte input buffer
        {"input overflow", with([](RunSetup& s) { s.rows = 8; s.vectors = 9; }), TileError::kInputOverflow},
        // 5 vectors of 8 outputs = 40 entries > 32-entry output buffer (inputs: 5 bytes fit)
        {"output overflow", with([](RunSetup& s) { s.rows = 1; s.outs = 8; s.vectors = 5; }),
         TileError::kOutputOverflow},
    };
    TileBench b(tile_config());
    std::vector<std::uint32_t> status, error;
    std::vector<Result> starts;
    std::uint32_t ok_status = 0, ok_error = 99, runs = 0, reads = 99;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        for (const BadRun& c : cases) {
            configure(b, h, c.setup);
            starts.push_back(start(b, h));
            status.push_back(h.rd32(b.regs(tile_reg::kStatus)));
            error.push_back(h.rd32(b.regs(tile_reg::kError)));
        }
        reads = h.rd32(b.regs(tile_reg::kPerfReads));
        // Exactly at the limits is fine, and clears ERROR: 8 vectors x 8 rows, 4 x 8 = 32 entries.
        configure(b, h, with([](RunSetup& s) { s.rows = 8; s.outs = 8; s.vectors = 4; }));
        EXPECT_TRUE(start(b, h).ok());
        configure(b, h, with([](RunSetup& s) { s.rows = 8; s.outs = 4; s.vectors = 8; }));
        EXPECT_TRUE(start(b, h).ok());
        ok_status = h.rd32(b.regs(tile_reg::kStatus));
        ok_error = h.rd32(b.regs(tile_reg::kError));
        runs = h.rd32(b.regs(tile_reg::kPerfRuns));
    }));
    ASSERT_EQ(status.size(), cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
        SCOPED_TRACE(cases[i].name);
        EXPECT_TRUE(starts[i].ok());
        EXPECT_EQ(status[i], tile_reg::kStatusError);
        EXPECT_EQ(error[i], code(cases[i].want));
    }
    EXPECT_EQ(reads, 0u) << "a refused run must not read the array";
    EXPECT_EQ(b.tile.macro.counters().reads, (4u + 8u) * 8u);  // the two good runs: 4 + 8 vectors x 8 steps
    EXPECT_EQ(ok_status, tile_reg::kStatusDone);
    EXPECT_EQ(ok_error, 0u);
    EXPECT_EQ(runs, cases.size() + 2);
}

// FLAGS.DIFFERENTIAL doubles an output's columns: OUTS x 2 x SLICES must fit the macro.
TEST(CimTileRegisters, DifferentialOutputsPastTheMacroColumnsAreABadConfig) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/tile", 1}});
    TileBench b(tile_config());
    std::uint32_t flags = 0, wide = 99, fits = 99, offset_wide = 99;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        configure(b, h, with([](RunSetup& s) { s.outs = 5; }));
        h.wr32(b.regs(tile_reg::kFlags), tile_reg::kFlagDifferential);
        flags = h.rd32(b.regs(tile_reg::kFlags));
        EXPECT_TRUE(start(b, h).ok());
        wide = h.rd32(b.regs(tile_reg::kError));  // 5 x 2 = 10 columns > 8
        configure(b, h, with([](RunSetup& s) { s.outs = 4; }));
        EXPECT_TRUE(start(b, h).ok());
        fits = h.rd32(b.regs(tile_reg::kError));  // 4 x 2 = 8
        h.wr32(b.regs(tile_reg::kFlags), 0);
        configure(b, h, with([](RunSetup& s) { s.outs = 5; }));
        EXPECT_TRUE(start(b, h).ok());
        offset_wide = h.rd32(b.regs(tile_reg::kError));  // 5 columns without the flag
    }));
    EXPECT_EQ(flags, tile_reg::kFlagDifferential);
    EXPECT_EQ(wide, code(TileError::kBadConfig));
    EXPECT_EQ(fits, code(TileError::kNone));
    EXPECT_EQ(offset_wide, code(TileError::kNone));
}

TEST(CimTileRegisters, BadAccessesGetTheMatchingTlmError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/tile", 9}});
    TileBench b(tile_config());
    std::vector<std::pair<const char*, tlm::tlm_response_status>> got;
    std::uint32_t rows_after = 0, id_after = 0;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        h.wr32(b.regs(tile_reg::kRows), 5);
        std::uint8_t two[2] = {1, 0};
        got.emplace_back("2-byte write", h.write(b.regs(tile_reg::kRows), two, 2).status);
        got.emplace_back("2-byte read", h.read(b.regs(tile_reg::kRows), two, 2).status);
        std::uint32_t eight[2] = {1, 1};
        got.emplace_back("8-byte write", h.write(b.regs(tile_reg::kRows), eight, 8).status);
        got.emplace_back("write ID (RO)", h.write32(b.regs(tile_reg::kId), 0).status);
        got.emplace_back("write GEOMETRY (RO)", h.write32(b.regs(tile_reg::kGeometry), 0).status);
        got.emplace_back("write STATUS (RO)", h.write32(b.regs(tile_reg::kStatus), 0).status);
        std::uint32_t v = 0;
        got.emplace_back("read CTRL (WO)", h.read(b.regs(tile_reg::kCtrl), &v, 4).status);
        got.emplace_back("misaligned", h.read(b.regs(tile_reg::kRows + 2), &v, 4).status);
        got.emplace_back("no register", h.read(b.regs(0x800), &v, 4).status);
        rows_after = h.rd32(b.regs(tile_reg::kRows));
        id_after = h.rd32(b.regs(tile_reg::kId));
    }));
    const std::vector<tlm::tlm_response_status> want = {
        tlm::TLM_BURST_ERROR_RESPONSE,   tlm::TLM_BURST_ERROR_RESPONSE,   tlm::TLM_BURST_ERROR_RESPONSE,
        tlm::TLM_COMMAND_ERROR_RESPONSE, tlm::TLM_COMMAND_ERROR_RESPONSE, tlm::TLM_COMMAND_ERROR_RESPONSE,
        tlm::TLM_COMMAND_ERROR_RESPONSE, tlm::TLM_ADDRESS_ERROR_RESPONSE, tlm::TLM_ADDRESS_ERROR_RESPONSE};
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i].second, want[i]) << got[i].first;
    EXPECT_EQ(rows_after, 5u);
    EXPECT_EQ(id_after, tile_reg::kIdValue);
    EXPECT_EQ(b.tile.runs(), 0u);
}

// ---------------------------------------------------------------- event counts

TEST(CimTileCounters, ReadsConversionsShiftAddsAndBytesMatchTheRun) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const ArchConfig cfg = tile_config(2, 2);
    TileBench b(cfg);
    // 6 rows, 3 outputs x 2 slices = 6 columns, 5-bit inputs in 2-bit reads: 3 reads per vector.
    RunSetup s;
    s.rows = 6;
    s.outs = 3;
    s.slices = 2;
    s.a_bits = 5;
    s.dac_bits = 2;
    s.vectors = 4;
    const std::uint64_t steps = 3, cols = 6, reads = s.vectors * steps;
    std::uint32_t perf_reads = 0, perf_runs = 0;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        std::vector<std::uint8_t> lv(kXbarRows * kXbarCols, 1), x(s.rows * s.vectors, 17);
        program_levels(b, h, lv);
        EXPECT_TRUE(h.write(b.input(), x.data(), static_cast<unsigned>(x.size())).ok());
        b.tile.reset_counters();  // count the run only
        configure(b, h, s);
        EXPECT_TRUE(start(b, h).ok());
        perf_reads = h.rd32(b.regs(tile_reg::kPerfReads));
        perf_runs = h.rd32(b.regs(tile_reg::kPerfRuns));
    }));
    EXPECT_EQ(perf_reads, reads);
    EXPECT_EQ(perf_runs, 1u);
    const auto& xb = b.tile.macro.counters();
    EXPECT_EQ(xb.reads, reads);
    EXPECT_EQ(xb.cell_reads, reads * s.rows * cols);
    EXPECT_EQ(xb.column_reads, reads * cols);
    EXPECT_EQ(b.tile.adc.counters().conversions, reads * cols);
    EXPECT_EQ(b.tile.adc.counters().batches, reads);
    const auto& acc = b.tile.accumulator.counters();
    EXPECT_EQ(acc.shift_adds, reads * cols);
    EXPECT_EQ(acc.finishes, static_cast<std::uint64_t>(s.vectors) * s.outs);
    EXPECT_EQ(acc.buffer_bytes_written, static_cast<std::uint64_t>(s.vectors) * s.outs * 8);
    EXPECT_EQ(b.tile.input_buffer.counters().reads, s.vectors);
    EXPECT_EQ(b.tile.input_buffer.counters().bytes_read, static_cast<std::uint64_t>(s.vectors) * s.rows);

    // Energy = counts x per-event costs of the config.
    EnergyMeter m;
    b.tile.meter(m);
    const EnergyBreakdown e = m.energy();
    EXPECT_DOUBLE_EQ(e.crossbar, reads * s.rows * cols * cfg.crossbar.read_pj_per_cell +
                                     reads * cols * cfg.crossbar.read_pj_per_column);
    EXPECT_DOUBLE_EQ(e.adc, reads * cols * cfg.adc.pj_per_conversion);
    EXPECT_DOUBLE_EQ(e.shift_add, (reads * cols + s.vectors * s.outs) * cfg.digital.shift_add_pj);
    EXPECT_DOUBLE_EQ(e.buffers, s.vectors * s.outs * 8 * cfg.platform.output_buffer.write_pj_per_byte +
                                    s.vectors * s.rows * cfg.platform.input_buffer.read_pj_per_byte);
    EXPECT_EQ(e.pe, 0.0);
}

// ---------------------------------------------------------------- ping-pong input banks

// out[v][c] = sum_r x[v][r] * level[r][c]: raw levels, one column per output.
std::vector<std::int64_t> dot(const std::vector<std::uint8_t>& x, const std::vector<std::uint8_t>& levels, int n) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(n) * kXbarCols, 0);
    for (int v = 0; v < n; ++v)
        for (int c = 0; c < kXbarCols; ++c)
            for (int r = 0; r < kXbarRows; ++r)
                out[static_cast<std::size_t>(v) * kXbarCols + c] += x[static_cast<std::size_t>(v) * kXbarRows + r] *
                                                                    levels[static_cast<std::size_t>(r) * kXbarCols + c];
    return out;
}

TEST(CimTilePingPong, EachBankRunsItsOwnVectorsAndHoldsAWholeBuffer) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/tile", 1}});
    ArchConfig cfg = tile_config();
    cfg.platform.ping_pong = true;
    TileBench b(cfg);
    ASSERT_EQ(b.map.tile().input_size, 2 * kInputBytes);
    ASSERT_EQ(b.map.tile_input_bank(0, 1), b.input() + kInputBytes);
    std::mt19937 rng(5);
    std::vector<std::uint8_t> levels(kXbarRows * kXbarCols), x0(kInputBytes), x1(kInputBytes);
    for (auto& l : levels) l = static_cast<std::uint8_t>(rng() & 1);
    for (auto& v : x0) v = static_cast<std::uint8_t>(rng() & 7);
    for (auto& v : x1) v = static_cast<std::uint8_t>(rng() & 7);
    constexpr int kVectors = static_cast<int>(kInputBytes / kXbarRows);  // a whole bank: 8 vectors
    RunSetup s;
    s.a_bits = 3;
    s.outs = 4;  // 8 vectors x 4 outputs = the 32-entry output buffer
    s.vectors = kVectors;
    std::vector<std::int64_t> got1, got0;
    std::uint32_t error1 = 99, error0 = 99, overflow = 0;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        program_levels(b, h, levels);
        EXPECT_TRUE(h.write(b.map.tile_input_bank(0, 0), x0.data(), kInputBytes).ok());
        EXPECT_TRUE(h.write(b.map.tile_input_bank(0, 1), x1.data(), kInputBytes).ok());
        configure(b, h, s);
        h.wr32(b.regs(tile_reg::kInBank), 1);
        EXPECT_TRUE(start(b, h).ok());
        error1 = h.rd32(b.regs(tile_reg::kError));
        got1 = read_outputs(b, h, static_cast<std::size_t>(kVectors) * 4);
        h.wr32(b.regs(tile_reg::kInBank), 0);
        EXPECT_TRUE(start(b, h).ok());
        error0 = h.rd32(b.regs(tile_reg::kError));
        got0 = read_outputs(b, h, static_cast<std::size_t>(kVectors) * 4);
        // One vector more than a bank holds overflows, though the buffer has room for two banks.
        s.rows = 1;
        s.vectors = kInputBytes + 1;
        s.outs = 1;
        configure(b, h, s);
        EXPECT_TRUE(start(b, h).ok());
        overflow = h.rd32(b.regs(tile_reg::kError));
    }));
    EXPECT_EQ(error1, code(TileError::kNone));
    EXPECT_EQ(error0, code(TileError::kNone));
    const auto want1 = dot(x1, levels, kVectors), want0 = dot(x0, levels, kVectors);
    for (int v = 0; v < kVectors; ++v)
        for (int o = 0; o < 4; ++o) {
            EXPECT_EQ(got1[v * 4 + o], want1[v * kXbarCols + o]) << "bank 1, vector " << v << ", output " << o;
            EXPECT_EQ(got0[v * 4 + o], want0[v * kXbarCols + o]) << "bank 0, vector " << v << ", output " << o;
        }
    EXPECT_NE(want0, want1);
    EXPECT_EQ(overflow, code(TileError::kInputOverflow));
}

TEST(CimTilePingPong, BankOneWithoutPingPongIsABadConfiguration) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/tile", 1}});
    TileBench b(tile_config());
    ASSERT_EQ(b.map.tile().input_size, kInputBytes);
    std::uint32_t bank1 = 0, bank0 = 99, readback = 0;
    ASSERT_TRUE(b.run([&](TestInitiator& h) {
        RunSetup s;
        s.rows = 4;
        s.outs = 4;
        configure(b, h, s);
        h.wr32(b.regs(tile_reg::kInBank), 3);  // only bit 0 is writable
        readback = h.rd32(b.regs(tile_reg::kInBank));
        EXPECT_TRUE(start(b, h).ok());
        bank1 = h.rd32(b.regs(tile_reg::kError));
        h.wr32(b.regs(tile_reg::kInBank), 0);
        EXPECT_TRUE(start(b, h).ok());
        bank0 = h.rd32(b.regs(tile_reg::kError));
    }));
    EXPECT_EQ(readback, 1u);
    EXPECT_EQ(bank1, code(TileError::kBadConfig));
    EXPECT_EQ(bank0, code(TileError::kNone));
}

// ---------------------------------------------------------------- the pipeline's own protocol

// True when an initiator socket of type I can be bound to a target socket of type T.
template <typename I, typename T, typename = void>
struct CanBind : std::false_type {};
template <typename I, typename T>
struct CanBind<I, T, std::void_t<decltype(std::declval<I&>().bind(std::declval<T&>()))>> : std::true_type {};

using BaseInitiator = tlm::tlm_initiator_socket<32>;
using BaseTarget = tlm::tlm_target_socket<32>;
using CimInitiator = tlm::tlm_initiator_socket<32, tlmx::cim_read_protocol_types>;
using CimTarget = tlm::tlm_target_socket<32, tlmx::cim_read_protocol_types>;

TEST(CimReadProtocol, PipelineSocketsBindOnlyToSocketsOfTheirOwnProtocol) {
    // Sequencer -> macro -> ADC bank -> shift-add: the protocol with the mandatory extension.
    static_assert(CanBind<decltype(CimTile::macro_socket), decltype(CrossbarMacro::read_socket)>::value);
    static_assert(CanBind<decltype(CrossbarMacro::adc_socket), decltype(AdcBank::in_socket)>::value);
    static_assert(CanBind<decltype(AdcBank::out_socket), decltype(ShiftAddAccumulator::in_socket)>::value);
    static_assert(std::is_base_of_v<CimTarget, decltype(CrossbarMacro::read_socket)>);
    static_assert(std::is_base_of_v<CimInitiator, decltype(AdcBank::out_socket)>);
    // Not the base protocol: no bus master can reach the pipeline, and the pipeline cannot reach the bus.
    static_assert(!CanBind<BaseInitiator, decltype(CrossbarMacro::read_socket)>::value);
    static_assert(!CanBind<BaseInitiator, decltype(AdcBank::in_socket)>::value);
    static_assert(!CanBind<BaseInitiator, decltype(ShiftAddAccumulator::in_socket)>::value);
    static_assert(!CanBind<decltype(CimTile::macro_socket), BaseTarget>::value);
    static_assert(!CanBind<decltype(CrossbarMacro::adc_socket), BaseTarget>::value);
    static_assert(!CanBind<decltype(AdcBank::out_socket), BaseTarget>::value);
    // The bus-facing windows stay base protocol, so the router maps them.
    static_assert(std::is_base_of_v<BaseTarget, decltype(CrossbarMacro::prog_socket)>);
    static_assert(CanBind<BaseInitiator, decltype(AdcBank::table_socket)>::value);
}

// A sequencer stand-in on the pipeline's protocol that forgets the extension, with the bus ports
// that the blocks' windows need bound.
struct ExtensionlessSequencer : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<ExtensionlessSequencer, 32, tlmx::cim_read_protocol_types> socket{"socket"};
    tlm_utils::simple_initiator_socket<ExtensionlessSequencer> prog{"prog"}, table{"table"}, buffer{"buffer"};
    explicit ExtensionlessSequencer(sc_core::sc_module_name n) : sc_core::sc_module(n) {}
};

TEST(CimReadProtocol, ATransactionWithoutTheMandatoryExtensionIsAnErrorReport) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const ArchConfig cfg = tile_config();
    ExtensionlessSequencer seq("seq");
    CrossbarMacro macro("macro", cfg.crossbar, cfg.nonideal, cfg.adc.frac_bits, 0);
    AdcBank adc("adc", cfg.adc, cfg.crossbar.cols);
    ShiftAddAccumulator acc("acc", cfg.digital, cfg.platform.output_buffer, cfg.crossbar.cols, cfg.adc.frac_bits);
    seq.socket.bind(macro.read_socket);
    macro.adc_socket.bind(adc.in_socket);
    adc.out_socket.bind(acc.in_socket);
    seq.prog.bind(macro.prog_socket);
    seq.table.bind(adc.table_socket);
    seq.buffer.bind(acc.bus_socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // elaborate: the sockets are bound

    // SC_REPORT_ERROR's default action throws: the simulation stops at the broken transaction.
    const auto handler = sc_core::sc_report_handler::set_handler(sc_core::sc_report_handler::default_handler);
    const auto actions = sc_core::sc_report_handler::set_actions(CrossbarMacro::kReportId, sc_core::SC_ERROR,
                                                                 sc_core::SC_THROW);
    const int before = sc_core::sc_report_handler::get_count(CrossbarMacro::kReportId, sc_core::SC_ERROR);
    std::vector<std::uint64_t> planes(64, 0);
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_data_ptr(reinterpret_cast<unsigned char*>(planes.data()));
    t.set_data_length(static_cast<unsigned>(planes.size() * sizeof(std::uint64_t)));
    t.set_streaming_width(t.get_data_length());
    sc_time delay = sc_core::SC_ZERO_TIME;
    std::string message;
    try {
        seq.socket->b_transport(t, delay);
    } catch (const sc_core::sc_report& r) {
        message = r.get_msg();
    }
    sc_core::sc_report_handler::set_actions(CrossbarMacro::kReportId, sc_core::SC_ERROR, actions);
    sc_core::sc_report_handler::set_handler(handler);
    EXPECT_EQ(sc_core::sc_report_handler::get_count(CrossbarMacro::kReportId, sc_core::SC_ERROR), before + 1);
    EXPECT_NE(message.find("CimReadExtension"), std::string::npos) << message;
    EXPECT_EQ(t.get_response_status(), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(macro.counters().reads, 0u);
    EXPECT_EQ(adc.counters().conversions, 0u);
}

}  // namespace
