// The command list the controller fetches from DRAM and the DMA descriptor:
// the binary contract between the host driver and the platform
// (docs/registers.md). Little-endian, fixed size.
#pragma once

#include <cstdint>
#include <cstring>

namespace cimvp {

enum class Opcode : std::uint32_t {
    kEnd = 0,        // stop the list here (optional: CMD_COUNT also bounds it)
    kDma = 1,        // run the DMA descriptor embedded in this command
    kTileRun = 2,    // start a CIM tile: addr_a = the tile's register base
    kRegWrite = 3,   // 32-bit write: addr_a = address, arg[0] = value
    kFence = 4,      // wait until every started tile has finished
    kIm2col = 5,     // run the im2col descriptor embedded in this command on the DMA
    kPostProcess = 6,  // run the post-processing descriptor at addr_a
    kPeRun = 7,        // run the SWIS PE array job whose descriptor is at addr_a
    kTensorOp = 8,     // run the tensor-op descriptor at addr_a on the post-processing unit
};

// A DMA descriptor: a 2D strided copy of `rows` rows of `row_bytes` bytes.
struct DmaDescriptor {
    std::uint64_t src = 0;
    std::uint64_t dst = 0;
    std::uint32_t row_bytes = 0;
    std::uint32_t rows = 1;
    std::uint32_t src_stride = 0;  // bytes between row starts
    std::uint32_t dst_stride = 0;
};
static_assert(sizeof(DmaDescriptor) == 32, "descriptor layout is part of the register contract");

// An im2col gather: vectors `first_vector ..` of a convolution's input
// patches, rows [first_row, first_row + rows) of each (K index in (c, ky, kx)
// order, zeros in the padding), written back to back, `rows` bytes each. The
// source holds C x H x W byte images back to back; vector v is output pixel
// v % (OH*OW) of image v / (OH*OW). A fully connected layer is the case
// kernel = H x W, stride 1, padding 0 (one vector per image, CHW order).
struct Im2colDescriptor {
    std::uint64_t src = 0;
    std::uint64_t dst = 0;
    std::uint16_t channels = 1, height = 1, width = 1, kernel_h = 1, kernel_w = 1;
    std::uint8_t stride = 1, padding = 0;
    std::uint16_t first_row = 0, rows = 0;
    std::uint32_t first_vector = 0;
    std::uint32_t vectors = 0;

    int out_h() const { return (height + 2 * padding - kernel_h) / stride + 1; }
    int out_w() const { return (width + 2 * padding - kernel_w) / stride + 1; }
};
static_assert(sizeof(Im2colDescriptor) == 40, "descriptor layout is part of the register contract");

// Post-processing of a layer's accumulators (docs/numerics.md "Networks"): for
// `images` images of `vectors` vectors of `channels` int64 accumulators each,
// with the input sums `sx` (int64 per vector) and parameters at `params`
// (bias int64[C], mult int32[C], mult_x int32[C]): hidden layers write
// requantized, pooled C x PH x PW byte maps per image to `dst`; logits mode
// writes the int64 affine values (images x out_h x out_w x channels; a last layer has out_h = out_w = 1).
// dst_image_stride (hidden layers): bytes from one image's map to the next at dst, 0 = the maps back to
// back; a grouped conv's block writes its channel slice of a wider map this way.
struct PostProcessDescriptor {
    std::uint64_t acc = 0;
    std::uint64_t sx = 0;
    std::uint64_t params = 0;
    std::uint64_t dst = 0;
    std::uint32_t channels = 0, out_h = 1, out_w = 1, images = 0;
    std::uint8_t shift = 0, a_out_bits = 8, pool = 0, pool_size = 0;
    std::uint8_t pool_stride = 0, logits = 0;
    std::uint8_t reserved0[2] = {};
    std::uint32_t dst_image_stride = 0;
    std::uint8_t reserved[4] = {};
};
static_assert(sizeof(PostProcessDescriptor) == 64, "descriptor layout is part of the register contract");

// A tensor node's job on the post-processing unit (docs/numerics.md "Graph networks",
// sw/contract/tensor_ops.h): for `images` images of C x H x W byte maps at src_a (and src_b, same
// shape, for kAdd), back to back, op kAdd, kScale or kGlobalAvg with mult_a/bias_a (and
// mult_b/bias_b), requantized by shift to a_out_bits; kScale then pools with the window (pool
// 1 max, 2 average). Each image's result (C x PH x PW, or C for kGlobalAvg) goes to
// dst + image * dst_image_stride (0: the results back to back); a concat's input writes its channel
// slice this way, dst pointing at the slice's first channel.
struct TensorOpDescriptor {
    std::uint64_t src_a = 0;
    std::uint64_t src_b = 0;
    std::uint64_t dst = 0;
    std::int64_t bias_a = 0, bias_b = 0;
    std::int32_t mult_a = 1, mult_b = 1;
    std::uint32_t dst_image_stride = 0;
    std::uint16_t channels = 0, height = 0, width = 0, images = 0;
    std::uint8_t op = 0;           // TensorOp (sw/contract/tensor_ops.h): 1 add, 2 scale, 3 global average
    std::uint8_t shift = 0;        // 0..62
    std::uint8_t a_out_bits = 8;   // 1..8
    // Bits 0..1: the window pool after kScale (0 none, 1 max, 2 average); bits 2..4: pool_size - 1,
    // bits 5..7: pool_stride - 1 (windows of 1..8, as the model format allows).
    std::uint8_t pool = 0;

    int pool_kind() const { return pool & 3; }
    int pool_size() const { return ((pool >> 2) & 7) + 1; }
    int pool_stride() const { return ((pool >> 5) & 7) + 1; }
    // kind 0 ignores size and stride.
    static std::uint8_t pool_field(int kind, int size, int stride) {
        return kind == 0 ? 0
                         : static_cast<std::uint8_t>(kind | (size - 1) << 2 | (stride - 1) << 5);
    }
};
static_assert(sizeof(TensorOpDescriptor) == 64, "descriptor layout is part of the register contract");

// One command: 48 bytes. For kDma the descriptor starts at byte 8.
struct Command {
    std::uint32_t opcode = 0;
    std::uint32_t flags = 0;
    std::uint64_t addr_a = 0;
    std::uint64_t addr_b = 0;
    std::uint32_t arg[6] = {};
};
static_assert(sizeof(Command) == 48, "command layout is part of the register contract");
constexpr std::uint64_t kDmaDescriptorOffsetInCommand = 8;

// kTileRun: arg[0] = vectors, arg[1] = first vector index (read-noise key).

inline Command make_dma(const DmaDescriptor& d) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kDma);
    c.addr_a = d.src;
    c.addr_b = d.dst;
    c.arg[0] = d.row_bytes;
    c.arg[1] = d.rows;
    c.arg[2] = d.src_stride;
    c.arg[3] = d.dst_stride;
    return c;
}

inline Command make_tile_run(std::uint64_t tile_regs, std::uint32_t vectors, std::uint32_t first_vector) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kTileRun);
    c.addr_a = tile_regs;
    c.arg[0] = vectors;
    c.arg[1] = first_vector;
    return c;
}

inline Command make_reg_write(std::uint64_t addr, std::uint32_t value) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kRegWrite);
    c.addr_a = addr;
    c.arg[0] = value;
    return c;
}

inline Command make_im2col(const Im2colDescriptor& d) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kIm2col);
    static_assert(sizeof(Im2colDescriptor) == sizeof(Command) - kDmaDescriptorOffsetInCommand, "fits the body");
    std::memcpy(reinterpret_cast<unsigned char*>(&c) + kDmaDescriptorOffsetInCommand, &d, sizeof d);
    return c;
}

inline Command make_post_process(std::uint64_t descriptor) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kPostProcess);
    c.addr_a = descriptor;
    return c;
}

inline Command make_fence() {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kFence);
    return c;
}

// A job of the SWIS PE array (hw/swis_pe_array.h): `vectors` activation vectors of
// K = channels * kernel_h * kernel_w bytes each (im2col order (c, ky, kx), as the DMA's
// im2col writes them) against `filters` filters given as weight records
// [filter][ky][kx][channel group of 4] (hw/swis_pe.h: 8-byte SWIS records in the SS and DS
// modes, 4-byte int8 records in the others); int64 accumulators [vector][filter] go to
// `out`. In memory the descriptor is followed by one byte per filter tile
// (ceil(filters / pe_array.cols), in filter order): that tile's N.
struct PeArrayDescriptor {
    std::uint64_t act = 0;
    std::uint64_t weights = 0;
    std::uint64_t out = 0;
    std::uint32_t vectors = 0;
    std::uint32_t filters = 0;
    std::uint16_t channels = 0;  // a fully connected layer: K, with a 1 x 1 kernel
    std::uint8_t kernel_h = 1, kernel_w = 1;
    std::uint8_t mode = 0;     // PeMode (hw/swis_pe.h)
    std::uint8_t wgt_msb = 7;  // kWgtSerial: the top weight bit position of the window
    std::uint8_t reserved[26] = {};
};
static_assert(sizeof(PeArrayDescriptor) == 64, "descriptor layout is part of the register contract");

inline Command make_tensor_op(std::uint64_t descriptor) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kTensorOp);
    c.addr_a = descriptor;
    return c;
}

// The descriptor (and its N table right after it) sits in memory at `descriptor`.
inline Command make_pe_run(std::uint64_t descriptor) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kPeRun);
    c.addr_a = descriptor;
    return c;
}

}  // namespace cimvp
