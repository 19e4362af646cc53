// The layer compiler (no SystemC): the command list of a mapping has, per
// pass, the programming commands of every resident tile (weights, ADC table,
// partial multipliers (ones when the layer has none), registers) and, per chunk of
// vectors, an input DMA and a TILE_RUN per tile, one FENCE, the row-tile
// reductions and the write-backs; it ends with kEnd; every DMA descriptor is
// valid and stays inside DRAM's layer buffers or one window of one existing tile.
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "hw/address_map.h"
#include "hw/command_format.h"
#include "hw/tile_registers.h"
#include "hw/arch_config.h"
#include "sw/compiler/layer_compiler.h"
#include "sw/contract/layer_mapping.h"

namespace {

using namespace cimvp;

constexpr std::uint32_t kOp(Opcode o) { return static_cast<std::uint32_t>(o); }

struct Case {
    std::string name;
    int rows, cols, cell_bits, tiles;
    std::uint64_t input_bytes, output_bytes;
    int K, M, a_bits, w_bits;
    bool binary;
    int n;
    std::uint64_t first_vector;
    bool scales;  // the layer has column multipliers: the tiles' scale tables are programmed
    bool differential;  // crossbar.mapping "differential": FLAGS.DIFFERENTIAL on every tile
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

ArchConfig config_of(const Case& c) {
    ArchConfig cfg;
    cfg.crossbar.rows = c.rows;
    cfg.crossbar.cols = c.cols;
    cfg.crossbar.cell_bits = c.cell_bits;
    cfg.crossbar.mapping = c.differential ? CellMapping::kDifferential : CellMapping::kOffset;
    cfg.platform.tiles = c.tiles;
    cfg.platform.dram.size_bytes = 1 << 20;
    cfg.platform.input_buffer.size_bytes = c.input_bytes;
    cfg.platform.output_buffer.size_bytes = c.output_bytes;
    return cfg;
}

MatrixLayer layer_of(const Case& c) {
    MatrixLayer L;
    L.K = c.K;
    L.M = c.M;
    L.a_bits = c.a_bits;
    L.w_bits = c.binary ? 1 : c.w_bits;
    L.binary = c.binary;
    L.weights.assign(static_cast<std::size_t>(c.K) * c.M, 1);
    if (c.scales) {
        const int row_tiles = (c.K + c.rows - 1) / c.rows;
        L.col_mult.assign(static_cast<std::size_t>(row_tiles) * c.M, 3);
    }
    return L;
}

DmaDescriptor descriptor(const Command& c) {
    DmaDescriptor d;
    std::memcpy(&d, reinterpret_cast<const unsigned char*>(&c) + kDmaDescriptorOffsetInCommand, sizeof d);
    return d;
}

std::uint64_t span(std::uint64_t rows, std::uint64_t stride, std::uint64_t row_bytes) {
    return (rows - 1) * stride + row_bytes;
}

enum class Win { kDram, kRegs, kCrossbar, kAdc, kInput, kOutput, kOutputAlias, kOutputScale, kNone };

struct Where {
    Win win = Win::kNone;
    int tile = -1;
    std::uint64_t offset = 0;  // from the window's start
};

// The one window that holds all of [a, a + len), or kNone.
Where locate(const AddressMap& map, int tiles, std::uint64_t a, std::uint64_t len) {
    const auto inside = [&](std::uint64_t base, std::uint64_t size) { return a >= base && len <= size && a - base <= size - len; };
    if (inside(kDramBase, map.dram_size())) return {Win::kDram, -1, a - kDramBase};
    const TileWindows& w = map.tile();
    for (int t = 0; t < tiles; ++t) {
        const std::pair<Win, std::pair<std::uint64_t, std::uint64_t>> wins[] = {
            {Win::kRegs, {map.tile_regs(t), kMmioWindow}},
            {Win::kCrossbar, {map.tile_crossbar(t), w.crossbar_size}},
            {Win::kAdc, {map.tile_adc(t), w.adc_size}},
            {Win::kInput, {map.tile_input(t), w.input_size}},
            {Win::kOutput, {map.tile_output(t), w.output_size}},
            {Win::kOutputAlias, {map.tile_output_accumulate(t), w.output_size}},
            {Win::kOutputScale, {map.tile_output_scale(t), w.scale_size}},
        };
        for (const auto& [win, range] : wins)
            if (inside(range.first, range.second)) return {win, t, a - range.first};
    }
    return {};
}

// The layer's data in DRAM: weights, ADC tables, scale tables (ones without column multipliers), inputs, outputs.
LayerBuffers buffers_of(const Case& c, const LayerMapping& m) {
    LayerBuffers buf;
    buf.tiles.weights = 0x1000;
    buf.tiles.adc = buf.tiles.weights + weight_region_bytes(m);
    const std::uint64_t after_adc = buf.tiles.adc + adc_region_bytes(m);
    buf.tiles.scale = after_adc;
    buf.inputs = after_adc + scale_region_bytes(m);
    buf.outputs = buf.inputs + static_cast<std::uint64_t>(c.n) * m.K;
    return buf;
}

const std::vector<Case>& cases() {
    static const std::vector<Case> v = {
        // name, R, C, cell, tiles, in, out, K, M, a, w, binary, n, first, scales, differential
        {"OneTileOneChunk", 16, 16, 2, 1, 256, 1024, 16, 8, 4, 4, false, 5, 0, false, false},
        {"TwoRowTilesThreePassesTwoChunks", 16, 16, 2, 2, 256, 1024, 20, 24, 4, 4, false, 20, 0, false, false},
        {"RaggedRowsAndColumnsManyChunks", 16, 16, 1, 4, 64, 512, 37, 11, 8, 8, false, 23, 100, false, false},
        {"BinaryOnePassManyTiles", 32, 16, 1, 16, 128, 256, 70, 40, 4, 1, true, 9, 7, false, false},
        {"OutputBufferLimitsTheChunk", 16, 16, 1, 6, 4096, 64, 30, 5, 3, 2, false, 7, 0, false, false},
        {"ColumnMultipliersTwoPasses", 16, 16, 2, 2, 256, 1024, 20, 12, 4, 4, false, 18, 3, true, false},
        {"DifferentialTwoRowTilesSixPasses", 16, 16, 2, 2, 256, 1024, 20, 24, 4, 4, false, 20, 0, false, true},
        {"DifferentialBinaryManyTiles", 32, 16, 1, 16, 128, 256, 70, 40, 4, 1, true, 9, 7, false, true},
    };
    return v;
}

class LayerCompiler : public ::testing::TestWithParam<Case> {};

TEST_P(LayerCompiler, CommandListHasTheExpectedShapePerPassAndChunkAndEndsWithEnd) {
    const Case& c = GetParam();
    const ArchConfig cfg = config_of(c);
    const MatrixLayer L = layer_of(c);
    const LayerMapping m = LayerMapping::make(L, cfg);
    const AddressMap map(cfg);
    const LayerBuffers buf = buffers_of(c, m);
    const LayerProgram p = compile_layer(m, cfg, map, buf, c.n, c.first_vector);
    const auto& cmds = p.commands;

    ASSERT_GT(p.chunk, 0);
    EXPECT_EQ(p.chunk, max_chunk(m, cfg, false));
    const int batches = (c.n + p.chunk - 1) / p.chunk;
    ASSERT_FALSE(cmds.empty());
    EXPECT_EQ(cmds.back().opcode, kOp(Opcode::kEnd));

    // Walk the list in the order the compiler promises.
    std::size_t i = 0;
    const auto next = [&](Opcode want, const std::string& where) -> const Command& {
        static const Command kNone{};
        if (i >= cmds.size()) {
            ADD_FAILURE() << "list ends early, expected opcode " << kOp(want) << " at " << where;
            return kNone;
        }
        EXPECT_EQ(cmds[i].opcode, kOp(want)) << "command " << i << " (" << where << ")";
        return cmds[i++];
    };
    int tile_runs = 0;
    std::map<int, std::uint64_t> vectors_per_column_tile;
    for (int pass = 0; pass < m.passes; ++pass) {
        const int ct0 = pass * m.col_tiles_per_pass;
        const int ct1 = std::min(m.col_tiles, ct0 + m.col_tiles_per_pass);
        const std::string ps = "pass " + std::to_string(pass);
        for (int ct = ct0; ct < ct1; ++ct)
            for (int rt = 0; rt < m.row_tiles; ++rt) {
                const int tile = m.tile_of(rt, ct);
                next(Opcode::kDma, ps + " weights");
                next(Opcode::kDma, ps + " adc table");
                // Always: a tile must not keep the multipliers of the layer it ran before.
                next(Opcode::kDma, ps + " scale table");
                const std::pair<std::uint32_t, std::uint32_t> regs[] = {
                    {tile_reg::kRows, static_cast<std::uint32_t>(m.rows_in(rt))},
                    {tile_reg::kOuts, static_cast<std::uint32_t>(m.outs_in(ct))},
                    {tile_reg::kSlices, static_cast<std::uint32_t>(m.slices)},
                    {tile_reg::kABits, static_cast<std::uint32_t>(m.a_bits)},
                    {tile_reg::kDacBits, static_cast<std::uint32_t>(m.dac_bits)},
                    {tile_reg::kWeightScale, static_cast<std::uint32_t>(m.weight_scale)},
                    {tile_reg::kOffset, static_cast<std::uint32_t>(m.offset)},
                    // A single layer needs no input sums; a differential one subtracts its negative columns.
                    {tile_reg::kFlags, c.differential ? tile_reg::kFlagDifferential : 0u},
                };
                for (const auto& [off, value] : regs) {
                    const Command& w = next(Opcode::kRegWrite, ps + " register");
                    EXPECT_EQ(w.addr_a, map.tile_regs(tile) + off);
                    EXPECT_EQ(w.arg[0], value) << "register 0x" << std::hex << off;
                }
            }
        for (int b = 0; b < batches; ++b) {
            const std::string bs = ps + " chunk " + std::to_string(b);
            const int nb = std::min(p.chunk, c.n - b * p.chunk);
            for (int rt = 0; rt < m.row_tiles; ++rt)
                for (int ct = ct0; ct < ct1; ++ct) {
                    next(Opcode::kDma, bs + " inputs");
                    const Command& run = next(Opcode::kTileRun, bs + " run");
                    EXPECT_EQ(run.addr_a, map.tile_regs(m.tile_of(rt, ct)));
                    EXPECT_EQ(run.arg[0], static_cast<std::uint32_t>(nb));
                    EXPECT_EQ(run.arg[1], static_cast<std::uint32_t>(c.first_vector + b * p.chunk));
                    ++tile_runs;
                    if (rt == 0) vectors_per_column_tile[ct] += run.arg[0];
                }
            next(Opcode::kFence, bs + " fence");
            for (int ct = ct0; ct < ct1; ++ct) {
                for (int rt = 1; rt < m.row_tiles; ++rt) next(Opcode::kDma, bs + " reduction");
                next(Opcode::kDma, bs + " write-back");
            }
        }
    }
    next(Opcode::kEnd, "end");
    EXPECT_EQ(i, cmds.size()) << "nothing after kEnd";

    EXPECT_EQ(tile_runs, m.row_tiles * m.col_tiles * batches);
    ASSERT_EQ(vectors_per_column_tile.size(), static_cast<std::size_t>(m.col_tiles));
    for (const auto& [ct, v] : vectors_per_column_tile) EXPECT_EQ(v, static_cast<std::uint64_t>(c.n)) << "column tile " << ct;
    std::map<std::uint32_t, int> counts;
    for (const Command& cmd : cmds) ++counts[cmd.opcode];
    const int programmed = m.row_tiles * m.col_tiles;
    EXPECT_EQ(counts[kOp(Opcode::kRegWrite)], 8 * programmed);
    EXPECT_EQ(counts[kOp(Opcode::kTileRun)], programmed * batches);
    EXPECT_EQ(counts[kOp(Opcode::kFence)], m.passes * batches);
    EXPECT_EQ(counts[kOp(Opcode::kDma)], 3 * programmed + batches * (programmed + programmed));
    EXPECT_EQ(counts[kOp(Opcode::kEnd)], 1);
}

TEST_P(LayerCompiler, DmaDescriptorsAreValidAndStayInsideTheLayerBuffersOrOneTileWindow) {
    const Case& c = GetParam();
    const ArchConfig cfg = config_of(c);
    const MatrixLayer L = layer_of(c);
    const LayerMapping m = LayerMapping::make(L, cfg);
    const AddressMap map(cfg);
    const LayerBuffers buf = buffers_of(c, m);
    const std::uint64_t dram_end = buf.outputs + static_cast<std::uint64_t>(c.n) * m.M * kAccEntryBytes;
    ASSERT_LE(dram_end, map.dram_size());
    const LayerProgram p = compile_layer(m, cfg, map, buf, c.n, c.first_vector);

    std::uint64_t weight_bytes = 0, adc_bytes = 0, scale_bytes = 0, input_bytes = 0, output_bytes = 0;
    std::set<std::uint64_t> weight_sources;
    int dmas = 0;
    for (std::size_t i = 0; i < p.commands.size(); ++i) {
        const Command& cmd = p.commands[i];
        if (cmd.opcode != kOp(Opcode::kDma)) continue;
        ++dmas;
        SCOPED_TRACE("command " + std::to_string(i));
        const DmaDescriptor d = descriptor(cmd);
        EXPECT_EQ(d.src, cmd.addr_a);
        EXPECT_EQ(d.dst, cmd.addr_b);
        ASSERT_GT(d.rows, 0u);
        ASSERT_GT(d.row_bytes, 0u);
        if (d.rows > 1) {
            EXPECT_GE(d.src_stride, d.row_bytes);
            EXPECT_GE(d.dst_stride, d.row_bytes);
        }
        const std::uint64_t src_len = span(d.rows, d.src_stride, d.row_bytes);
        const std::uint64_t dst_len = span(d.rows, d.dst_stride, d.row_bytes);
        const Where s = locate(map, c.tiles, d.src, src_len), t = locate(map, c.tiles, d.dst, dst_len);
        ASSERT_NE(s.win, Win::kNone) << "source 0x" << std::hex << d.src << " + " << std::dec << src_len;
        ASSERT_NE(t.win, Win::kNone) << "destination 0x" << std::hex << d.dst << " + " << std::dec << dst_len;
        if (s.tile >= 0) {
            EXPECT_LT(s.tile, m.tiles_used());
        }
        if (t.tile >= 0) {
            EXPECT_LT(t.tile, m.tiles_used());
        }
        const std::uint64_t bytes = static_cast<std::uint64_t>(d.rows) * d.row_bytes;
        // Which move it is follows from the windows; each stays inside its DRAM region.
        if (s.win == Win::kDram && t.win == Win::kCrossbar) {
            EXPECT_GE(d.src, buf.tiles.weights);
            EXPECT_LE(d.src + src_len, buf.tiles.adc);
            EXPECT_EQ(t.offset, 0u);
            EXPECT_EQ(d.row_bytes % m.cols, 0u) << "whole rows of cells";
            weight_sources.insert(d.src - buf.tiles.weights);
            weight_bytes += bytes;
        } else if (s.win == Win::kDram && t.win == Win::kAdc) {
            EXPECT_GE(d.src, buf.tiles.adc);
            EXPECT_LE(d.src + src_len, buf.tiles.adc + adc_region_bytes(m));
            EXPECT_EQ(bytes, map.tile().adc_size);
            adc_bytes += bytes;
        } else if (s.win == Win::kDram && t.win == Win::kOutputScale) {
            EXPECT_GE(d.src, buf.tiles.scale);
            EXPECT_LE(d.src + src_len, buf.tiles.scale + scale_region_bytes(m));
            EXPECT_EQ(t.offset, 0u);
            EXPECT_EQ(bytes, map.tile().scale_size);
            scale_bytes += bytes;
        } else if (s.win == Win::kDram && t.win == Win::kInput) {
            EXPECT_GE(d.src, buf.inputs);
            EXPECT_LE(d.src + src_len, buf.outputs);
            EXPECT_EQ(t.offset, 0u);
            EXPECT_EQ(d.rows > 1 ? d.dst_stride : d.row_bytes, d.row_bytes) << "vectors packed at v * rows";
            EXPECT_LE(static_cast<int>(d.rows), p.chunk);
            input_bytes += bytes;
        } else if (s.win == Win::kOutput && t.win == Win::kOutputAlias) {
            EXPECT_EQ(s.offset, 0u);
            EXPECT_EQ(t.offset, 0u);
            EXPECT_NE(s.tile, t.tile) << "a row tile reduces into another tile";
        } else if (s.win == Win::kOutput && t.win == Win::kDram) {
            EXPECT_EQ(s.offset, 0u);
            EXPECT_GE(d.dst, buf.outputs);
            EXPECT_LE(d.dst + dst_len, dram_end);
            EXPECT_EQ(d.row_bytes % kAccEntryBytes, 0u);
            output_bytes += bytes;
        } else {
            ADD_FAILURE() << "unexpected move from window " << static_cast<int>(s.win) << " to "
                          << static_cast<int>(t.win);
        }
    }
    EXPECT_GT(dmas, 0);
    EXPECT_EQ(weight_bytes, weight_region_bytes(m)) << "every cell level moved once";
    EXPECT_EQ(weight_sources.size(), static_cast<std::size_t>(m.row_tiles * m.col_tiles));
    for (int rt = 0; rt < m.row_tiles; ++rt)
        for (int ct = 0; ct < m.col_tiles; ++ct) EXPECT_EQ(weight_sources.count(weight_offset(m, rt, ct)), 1u);
    EXPECT_EQ(adc_bytes, adc_region_bytes(m));
    EXPECT_EQ(scale_bytes, scale_region_bytes(m));
    EXPECT_EQ(input_bytes, static_cast<std::uint64_t>(c.n) * m.K * m.col_tiles) << "each column tile reads every input";
    EXPECT_EQ(output_bytes, static_cast<std::uint64_t>(c.n) * m.M * kAccEntryBytes) << "every result written back once";
}

INSTANTIATE_TEST_SUITE_P(Mappings, LayerCompiler, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// Ping-pong (platform.ping_pong): every run reads the bank that holds its own
// chunk's vectors; the next chunk's inputs go to the other bank between the
// runs and the fence (that is the overlap), and no DMA writes a bank while a
// run reads it (from its kTileRun to the next fence).
TEST_P(LayerCompiler, PingPongRunsEachChunkFromTheBankItsInputsFilled) {
    const Case& c = GetParam();
    ArchConfig cfg = config_of(c);
    cfg.platform.ping_pong = true;
    const LayerMapping m = LayerMapping::make(layer_of(c), cfg);
    const AddressMap map(cfg);
    ASSERT_EQ(map.input_banks(), 2);
    const LayerBuffers buf = buffers_of(c, m);
    const LayerProgram p = compile_layer(m, cfg, map, buf, c.n, c.first_vector);
    const std::uint64_t bank_bytes = cfg.platform.input_buffer.size_bytes;
    const int chunks = (c.n + p.chunk - 1) / p.chunk;
    // (tile, bank) -> first vector of the chunk its last input DMA brought; tile -> IN_BANK.
    std::map<std::pair<int, int>, std::int64_t> holds;
    std::map<int, int> in_bank;
    std::set<std::pair<int, int>> reading;  // banks read by runs not yet fenced
    int runs = 0, overlapped = 0, inputs_since_runs = 0;
    bool runs_pending = false;
    for (const Command& cmd : p.commands) {
        if (cmd.opcode == kOp(Opcode::kDma)) {
            const DmaDescriptor d = descriptor(cmd);
            const Where w = locate(map, cfg.platform.tiles, d.dst, 1);
            if (w.win != Win::kInput) continue;
            const int bank = static_cast<int>(w.offset / bank_bytes);
            ASSERT_LT(bank, 2);
            EXPECT_EQ(reading.count({w.tile, bank}), 0u) << "a DMA overwrites the bank a run is reading";
            // Inputs are rows of the n x K matrix at buf.inputs: the source gives the first vector.
            holds[{w.tile, bank}] = static_cast<std::int64_t>((d.src - buf.inputs) / static_cast<std::uint64_t>(m.K));
            if (runs_pending) ++inputs_since_runs;
        } else if (cmd.opcode == kOp(Opcode::kRegWrite)) {
            const std::uint64_t tile_regs0 = map.tile_regs(0), stride = map.tile().stride;
            if (cmd.addr_a >= tile_regs0 && (cmd.addr_a - tile_regs0) % stride == tile_reg::kInBank)
                in_bank[static_cast<int>((cmd.addr_a - tile_regs0) / stride)] = static_cast<int>(cmd.arg[0]);
        } else if (cmd.opcode == kOp(Opcode::kTileRun)) {
            const int tile = static_cast<int>((cmd.addr_a - map.tile_regs(0)) / map.tile().stride);
            ASSERT_EQ(in_bank.count(tile), 1u) << "no IN_BANK write before the run";
            const int bank = in_bank[tile];
            ASSERT_EQ(holds.count({tile, bank}), 1u);
            EXPECT_EQ(static_cast<std::uint64_t>(holds[{tile, bank}]) + c.first_vector, cmd.arg[1])
                << "tile " << tile << " runs bank " << bank << " holding another chunk";
            reading.insert({tile, bank});
            runs_pending = true;
            ++runs;
        } else if (cmd.opcode == kOp(Opcode::kFence)) {
            overlapped += inputs_since_runs > 0;
            inputs_since_runs = 0;
            runs_pending = false;
            reading.clear();
        }
    }
    EXPECT_EQ(runs, chunks * m.row_tiles * m.col_tiles);
    // Every chunk but the last of each pass has the next chunk's inputs ahead of its fence.
    EXPECT_EQ(overlapped, (chunks - 1) * m.passes);
}

TEST(LayerCompilerLimits, CasesCoverPassesChunksRowTilesBinaryAndMultipliers) {
    int multi_pass = 0, multi_batch = 0, multi_row = 0, binary = 0, ragged = 0, scales = 0;
    for (const Case& c : cases()) {
        const ArchConfig cfg = config_of(c);
        const LayerMapping m = LayerMapping::make(layer_of(c), cfg);
        multi_pass += m.passes > 1;
        multi_batch += c.n > max_chunk(m, cfg, false);
        multi_row += m.row_tiles > 1;
        binary += m.binary;
        scales += c.scales && m.passes > 1;
        ragged += m.rows_in(m.row_tiles - 1) < m.rows && m.outs_in(m.col_tiles - 1) < m.outs_per_tile;
    }
    EXPECT_GE(multi_pass, 1);
    EXPECT_GE(multi_batch, 2);
    EXPECT_GE(multi_row, 2);
    EXPECT_GE(binary, 1);
    EXPECT_GE(scales, 1);
    EXPECT_GE(ragged, 1);
}

TEST(LayerCompilerLimits, MaxChunkThrowsWhenOneVectorDoesNotFit) {
    Case c = cases()[0];
    c.output_bytes = 8;  // one int64 entry, but 8 outputs per tile
    const ArchConfig cfg = config_of(c);
    const LayerMapping m = LayerMapping::make(layer_of(c), cfg);
    EXPECT_THROW(max_chunk(m, cfg, false), MappingError);
    c = cases()[0];
    c.input_bytes = 8;  // 16 rows per vector
    const ArchConfig cfg2 = config_of(c);
    EXPECT_THROW(max_chunk(LayerMapping::make(layer_of(c), cfg2), cfg2, false), MappingError);
}

// A layer without a name (a trace's stage, which the trace job names by its line) gets no empty
// "name: " in front of what is wrong.
TEST(LayerMapping, AnUnnamedLayersErrorStartsWithWhatIsWrong) {
    MatrixLayer layer;
    layer.name = "";
    layer.K = 144;
    layer.M = 4;
    ArchConfig cfg;
    cfg.crossbar.rows = 16;
    const auto error = [&](int tiles) -> std::string {
        cfg.platform.tiles = tiles;
        try {
            LayerMapping::of_shape(layer, cfg);
        } catch (const MappingError& e) {
            return e.what();
        }
        return "no MappingError";
    };
    EXPECT_EQ(error(2), "K = 144 needs 9 row tiles of 16 rows but the platform has 2 tiles");
    EXPECT_EQ(error(1), "K = 144 needs 9 row tiles of 16 rows but the platform has 1 tile");
    layer.name = "layer 1 (conv)";
    EXPECT_THROW(
        try { LayerMapping::of_shape(layer, cfg); } catch (const MappingError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("layer 1 (conv): K = 144 needs", 0), 0u) << e.what();
            throw;
        },
        MappingError);
}

}  // namespace

