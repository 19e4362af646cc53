#include "sw/compiler/layer_compiler.h"

#include <algorithm>

#include "hw/tile_registers.h"

namespace cimvp {

namespace {

Command dma(std::uint64_t src, std::uint64_t dst, std::uint64_t row_bytes, std::uint32_t rows = 1,
            std::uint32_t src_stride = 0, std::uint32_t dst_stride = 0) {
    DmaDescriptor d;
    d.src = src;
    d.dst = dst;
    d.row_bytes = static_cast<std::uint32_t>(row_bytes);
    d.rows = rows;
    d.src_stride = rows > 1 ? src_stride : static_cast<std::uint32_t>(row_bytes);
    d.dst_stride = rows > 1 ? dst_stride : static_cast<std::uint32_t>(row_bytes);
    return make_dma(d);
}

std::uint64_t tile_index(const LayerMapping& m, int rt, int ct) {
    return static_cast<std::uint64_t>(rt) * m.col_tiles + ct;
}

}  // namespace

std::uint64_t weight_offset(const LayerMapping& m, int rt, int ct) {
    // Every row tile but the last is full, so (rt, ct) starts after rt full row tiles.
    return (static_cast<std::uint64_t>(rt) * m.rows * m.col_tiles + static_cast<std::uint64_t>(ct) * m.rows_in(rt)) *
           m.cols;
}
std::uint64_t adc_table_offset(const LayerMapping& m, int rt, int ct) { return tile_index(m, rt, ct) * m.cols * kAdcEntryBytes; }
std::uint64_t scale_table_offset(const LayerMapping& m, int rt, int ct) { return tile_index(m, rt, ct) * m.cols * kAccEntryBytes; }
std::uint64_t weight_region_bytes(const LayerMapping& m) { return static_cast<std::uint64_t>(m.K) * m.col_tiles * m.cols; }
std::uint64_t adc_region_bytes(const LayerMapping& m) { return tile_index(m, m.row_tiles, 0) * m.cols * kAdcEntryBytes; }
std::uint64_t scale_region_bytes(const LayerMapping& m) { return tile_index(m, m.row_tiles, 0) * m.cols * kAccEntryBytes; }

std::vector<std::int64_t> scale_table(const MatrixLayer& layer, const LayerMapping& m, int rt, int ct) {
    std::vector<std::int64_t> t(m.cols, 1);
    for (int o = 0; o < m.outs_in(ct); ++o) t[o] = m.col_mult(layer, rt, m.first_out(ct) + o);
    return t;
}

int max_chunk(const LayerMapping& m, const ArchConfig& cfg, bool emit_sum) {
    const std::uint64_t by_input = cfg.platform.input_buffer.size_bytes / static_cast<std::uint64_t>(m.rows_in(0));
    const std::uint64_t by_output = cfg.platform.output_buffer.size_bytes /
                                    (static_cast<std::uint64_t>(m.outs_per_tile + (emit_sum ? 1 : 0)) * kAccEntryBytes);
    const std::uint64_t b = std::min(by_input, by_output);
    if (by_input == 0)
        throw MappingError("platform.input_buffer.size_bytes: expected at least " + std::to_string(m.rows_in(0)) +
                           " (one input vector of " + std::to_string(m.rows_in(0)) + " rows), got " +
                           std::to_string(cfg.platform.input_buffer.size_bytes));
    if (by_output == 0)
        throw MappingError("platform.output_buffer.size_bytes: expected at least " +
                           std::to_string((m.outs_per_tile + (emit_sum ? 1 : 0)) * kAccEntryBytes) + " (one output vector of " +
                           std::to_string(m.outs_per_tile) + " int64 outputs" + (emit_sum ? " and its input sum" : "") +
                           "), got " + std::to_string(cfg.platform.output_buffer.size_bytes));
    return static_cast<int>(std::min<std::uint64_t>(b, 1u << 20));
}

void emit_program_pass(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map,
                       const TileImages& img, int pass, bool emit_sum) {
    const int ct0 = pass * m.col_tiles_per_pass, ct1 = std::min(m.col_tiles, ct0 + m.col_tiles_per_pass);
    for (int ct = ct0; ct < ct1; ++ct) {
        for (int rt = 0; rt < m.row_tiles; ++rt) {
            const int tile = m.tile_of(rt, ct);
            const std::uint64_t regs = map.tile_regs(tile);
            cmds.push_back(dma(img.weights + weight_offset(m, rt, ct), map.tile_crossbar(tile),
                               static_cast<std::uint64_t>(m.rows_in(rt)) * m.cols));
            cmds.push_back(dma(img.adc + adc_table_offset(m, rt, ct), map.tile_adc(tile),
                               static_cast<std::uint64_t>(m.cols) * kAdcEntryBytes));
            // Partial multipliers: the layer's own, or 1s over whatever the previous layer left.
            cmds.push_back(dma(img.scale + scale_table_offset(m, rt, ct), map.tile_output_scale(tile),
                               static_cast<std::uint64_t>(m.cols) * kAccEntryBytes));
            const auto reg = [&](std::uint32_t off, std::int64_t v) {
                cmds.push_back(make_reg_write(regs + off, static_cast<std::uint32_t>(v)));
            };
            reg(tile_reg::kRows, m.rows_in(rt));
            reg(tile_reg::kOuts, m.outs_in(ct));
            reg(tile_reg::kSlices, m.slices);
            reg(tile_reg::kABits, m.a_bits);
            reg(tile_reg::kDacBits, m.dac_bits);
            reg(tile_reg::kWeightScale, m.weight_scale);
            reg(tile_reg::kOffset, m.offset);
            reg(tile_reg::kFlags,
                (emit_sum ? tile_reg::kFlagEmitSum : 0) | (m.differential ? tile_reg::kFlagDifferential : 0));
        }
    }
}

namespace {

void emit_inputs(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map, int pass, int v0, int n,
                 const InputCommand& input, int bank) {
    const int ct0 = pass * m.col_tiles_per_pass, ct1 = std::min(m.col_tiles, ct0 + m.col_tiles_per_pass);
    for (int rt = 0; rt < m.row_tiles; ++rt)
        for (int ct = ct0; ct < ct1; ++ct)
            cmds.push_back(input(rt, map.tile_input_bank(m.tile_of(rt, ct), bank), v0, n));
}

void emit_runs(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map, int pass, int n,
               std::uint64_t first_vector, int bank) {
    const int ct0 = pass * m.col_tiles_per_pass, ct1 = std::min(m.col_tiles, ct0 + m.col_tiles_per_pass);
    for (int rt = 0; rt < m.row_tiles; ++rt)
        for (int ct = ct0; ct < ct1; ++ct) {
            const std::uint64_t regs = map.tile_regs(m.tile_of(rt, ct));
            cmds.push_back(make_reg_write(regs + tile_reg::kInBank, static_cast<std::uint32_t>(bank)));
            cmds.push_back(
                make_tile_run(regs, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(first_vector)));
        }
}

}  // namespace

void emit_chunk(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map, int pass, int v0, int n,
                std::uint64_t first_vector, const InputCommand& input, std::uint64_t acc, std::uint64_t sx,
                bool emit_sum) {
    const int ct0 = pass * m.col_tiles_per_pass, ct1 = std::min(m.col_tiles, ct0 + m.col_tiles_per_pass);
    for (int rt = 0; rt < m.row_tiles; ++rt)
        for (int ct = ct0; ct < ct1; ++ct) {
            const int tile = m.tile_of(rt, ct);
            cmds.push_back(input(rt, map.tile_input(tile), v0, n));
            cmds.push_back(make_tile_run(map.tile_regs(tile), static_cast<std::uint32_t>(n),
                                         static_cast<std::uint32_t>(first_vector)));
        }
    emit_reduction(cmds, m, map, pass, v0, n, acc, sx, emit_sum);
}

void emit_chunks(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map, int pass, int vectors,
                 int chunk, std::uint64_t first_vector, const InputCommand& input, std::uint64_t acc,
                 std::uint64_t sx, bool emit_sum) {
    if (map.input_banks() < 2) {
        for (int v0 = 0; v0 < vectors; v0 += chunk)
            emit_chunk(cmds, m, map, pass, v0, std::min(chunk, vectors - v0), first_vector + v0, input, acc, sx,
                       emit_sum);
        return;
    }
    // Ping-pong: chunk i runs from bank i % 2 while the DMA fills the other bank with chunk i + 1;
    // the fence before the reduction waits for the runs, not for the DMA behind them.
    if (vectors > 0) emit_inputs(cmds, m, map, pass, 0, std::min(chunk, vectors), input, 0);
    for (int v0 = 0, i = 0; v0 < vectors; v0 += chunk, ++i) {
        const int n = std::min(chunk, vectors - v0);
        emit_runs(cmds, m, map, pass, n, first_vector + v0, i % 2);
        const int next = v0 + chunk;
        if (next < vectors) emit_inputs(cmds, m, map, pass, next, std::min(chunk, vectors - next), input, (i + 1) % 2);
        emit_reduction(cmds, m, map, pass, v0, n, acc, sx, emit_sum);
    }
}

void emit_reduction(std::vector<Command>& cmds, const LayerMapping& m, const AddressMap& map, int pass, int v0, int n,
                    std::uint64_t acc, std::uint64_t sx, bool emit_sum) {
    const int ct0 = pass * m.col_tiles_per_pass, ct1 = std::min(m.col_tiles, ct0 + m.col_tiles_per_pass);
    const std::uint64_t e = kAccEntryBytes;
    cmds.push_back(make_fence());
    for (int ct = ct0; ct < ct1; ++ct) {
        const std::uint64_t stride = (static_cast<std::uint64_t>(m.outs_in(ct)) + (emit_sum ? 1 : 0)) * e;
        for (int rt = 1; rt < m.row_tiles; ++rt)
            cmds.push_back(dma(map.tile_output(m.tile_of(rt, ct)), map.tile_output_accumulate(m.tile_of(0, ct)),
                               static_cast<std::uint64_t>(n) * stride));
        const std::uint64_t out = map.tile_output(m.tile_of(0, ct));
        cmds.push_back(dma(out, acc + (static_cast<std::uint64_t>(v0) * m.M + m.first_out(ct)) * e,
                           static_cast<std::uint64_t>(m.outs_in(ct)) * e, static_cast<std::uint32_t>(n),
                           static_cast<std::uint32_t>(stride), static_cast<std::uint32_t>(m.M * e)));
        if (emit_sum && ct == 0)
            cmds.push_back(dma(out + m.outs_in(ct) * e, sx + static_cast<std::uint64_t>(v0) * e, e,
                               static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(stride),
                               static_cast<std::uint32_t>(e)));
    }
}

LayerProgram compile_layer(const LayerMapping& m, const ArchConfig& cfg, const AddressMap& map,
                           const LayerBuffers& buf, int n, std::uint64_t first_vector) {
    LayerProgram prog;
    prog.chunk = max_chunk(m, cfg, false);
    const InputCommand input = [&](int rt, std::uint64_t dst, int v0, int nv) {
        return dma(buf.inputs + static_cast<std::uint64_t>(v0) * m.K + m.first_row(rt), dst,
                   static_cast<std::uint64_t>(m.rows_in(rt)), static_cast<std::uint32_t>(nv),
                   static_cast<std::uint32_t>(m.K), static_cast<std::uint32_t>(m.rows_in(rt)));
    };
    for (int pass = 0; pass < m.passes; ++pass) {
        emit_program_pass(prog.commands, m, map, buf.tiles, pass, false);
        emit_chunks(prog.commands, m, map, pass, n, prog.chunk, first_vector, input, buf.outputs, 0, false);
    }
    prog.commands.push_back(Command{});  // kEnd
    return prog;
}

}  // namespace cimvp
