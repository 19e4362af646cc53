#include "sw/host/layer_compiler.h"

#include <algorithm>

#include "hw/tile_registers.h"

namespace cimvp {

std::uint64_t weight_offset(const LayerMapping& m, int rt, int ct) {
    // Every row tile but the last is full, so (rt, ct) starts after rt full row tiles.
    return (static_cast<std::uint64_t>(rt) * m.rows * m.col_tiles + static_cast<std::uint64_t>(ct) * m.rows_in(rt)) *
           m.cols;
}
std::uint64_t adc_table_offset(const LayerMapping& m, int rt, int ct) {
    return (static_cast<std::uint64_t>(rt) * m.col_tiles + ct) * m.cols * kAdcEntryBytes;
}
std::uint64_t weight_region_bytes(const LayerMapping& m) { return static_cast<std::uint64_t>(m.K) * m.col_tiles * m.cols; }
std::uint64_t adc_region_bytes(const LayerMapping& m) {
    return static_cast<std::uint64_t>(m.row_tiles) * m.col_tiles * m.cols * kAdcEntryBytes;
}

int max_batch(const LayerMapping& m, const ArchConfig& cfg) {
    const std::uint64_t by_input = cfg.platform.input_buffer.size_bytes / static_cast<std::uint64_t>(m.rows_in(0));
    const std::uint64_t by_output =
        cfg.platform.output_buffer.size_bytes / (static_cast<std::uint64_t>(m.outs_per_tile) * kAccEntryBytes);
    const std::uint64_t b = std::min(by_input, by_output);
    if (b == 0)
        throw MappingError("one input vector of " + std::to_string(m.rows_in(0)) + " rows or " +
                           std::to_string(m.outs_per_tile) + " outputs does not fit the tile buffers");
    return static_cast<int>(std::min<std::uint64_t>(b, 1u << 20));
}

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
}  // namespace

LayerProgram compile_layer(const LayerMapping& m, const ArchConfig& cfg, const AddressMap& map,
                           const LayerBuffers& buf, int n, std::uint64_t first_vector) {
    LayerProgram prog;
    prog.batch = max_batch(m, cfg);
    prog.weight_bytes = weight_region_bytes(m);
    prog.adc_bytes = adc_region_bytes(m);
    auto& cmds = prog.commands;
    const std::uint64_t acc = kAccEntryBytes;
    for (int pass = 0; pass < m.passes; ++pass) {
        const int ct0 = pass * m.col_tiles_per_pass;
        const int ct1 = std::min(m.col_tiles, ct0 + m.col_tiles_per_pass);
        for (int ct = ct0; ct < ct1; ++ct) {
            for (int rt = 0; rt < m.row_tiles; ++rt) {
                const int tile = m.tile_of(rt, ct);
                const std::uint64_t regs = map.tile_regs(tile);
                cmds.push_back(dma(buf.weights + weight_offset(m, rt, ct), map.tile_crossbar(tile),
                                   static_cast<std::uint64_t>(m.rows_in(rt)) * m.cols));
                cmds.push_back(dma(buf.adc + adc_table_offset(m, rt, ct), map.tile_adc(tile),
                                   static_cast<std::uint64_t>(m.cols) * kAdcEntryBytes));
                cmds.push_back(make_reg_write(regs + tile_reg::kRows, static_cast<std::uint32_t>(m.rows_in(rt))));
                cmds.push_back(make_reg_write(regs + tile_reg::kOuts, static_cast<std::uint32_t>(m.outs_in(ct))));
                cmds.push_back(make_reg_write(regs + tile_reg::kSlices, static_cast<std::uint32_t>(m.slices)));
                cmds.push_back(make_reg_write(regs + tile_reg::kABits, static_cast<std::uint32_t>(m.a_bits)));
                cmds.push_back(make_reg_write(regs + tile_reg::kDacBits, static_cast<std::uint32_t>(m.dac_bits)));
                cmds.push_back(
                    make_reg_write(regs + tile_reg::kWeightScale, static_cast<std::uint32_t>(m.weight_scale)));
                cmds.push_back(make_reg_write(regs + tile_reg::kOffset, static_cast<std::uint32_t>(m.offset)));
            }
        }
        for (int b0 = 0; b0 < n; b0 += prog.batch) {
            const int nb = std::min(prog.batch, n - b0);
            for (int rt = 0; rt < m.row_tiles; ++rt) {
                for (int ct = ct0; ct < ct1; ++ct) {
                    const int tile = m.tile_of(rt, ct);
                    cmds.push_back(dma(buf.inputs + static_cast<std::uint64_t>(b0) * m.K + m.first_row(rt),
                                       map.tile_input(tile), static_cast<std::uint64_t>(m.rows_in(rt)),
                                       static_cast<std::uint32_t>(nb), static_cast<std::uint32_t>(m.K),
                                       static_cast<std::uint32_t>(m.rows_in(rt))));
                    cmds.push_back(make_tile_run(map.tile_regs(tile), static_cast<std::uint32_t>(nb),
                                                 static_cast<std::uint32_t>(first_vector + b0)));
                }
            }
            cmds.push_back(make_fence());
            for (int ct = ct0; ct < ct1; ++ct) {
                const std::uint64_t bytes = static_cast<std::uint64_t>(nb) * m.outs_in(ct) * acc;
                for (int rt = 1; rt < m.row_tiles; ++rt)
                    cmds.push_back(dma(map.tile_output(m.tile_of(rt, ct)),
                                       map.tile_output_accumulate(m.tile_of(0, ct)), bytes));
                const std::uint64_t row = static_cast<std::uint64_t>(m.outs_in(ct)) * acc;
                cmds.push_back(dma(map.tile_output(m.tile_of(0, ct)),
                                   buf.outputs + (static_cast<std::uint64_t>(b0) * m.M + m.first_out(ct)) * acc, row,
                                   static_cast<std::uint32_t>(nb), static_cast<std::uint32_t>(row),
                                   static_cast<std::uint32_t>(static_cast<std::uint64_t>(m.M) * acc)));
            }
        }
    }
    cmds.push_back(Command{});  // kEnd
    return prog;
}

}  // namespace cimvp
