// Model file formats v1, v2 and v3 (docs/model-format.md): a quantized network as
// the platform runs it; v2 adds layers stored as SWIS groups, v3 graph networks
// (nodes naming their inputs, grouped convolutions, add/concat/pool tensor nodes). The loader validates every field once, at load, and
// rejects a malformed, truncated or corrupted file, or one that needs more
// hardware than the config has, naming the file, the field and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "sw/contract/grouped_conv.h"
#include "sw/contract/layer_mapping.h"
#include "sw/contract/post_processing.h"
#include "sw/contract/swis.h"

namespace cimvp {

struct ModelError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// kConv and kFc are matrix layers; kAdd, kConcat and kPool are the tensor nodes of a
// graph network (format v3), which run on the post-processing unit.
enum class LayerKind : std::uint32_t { kConv = 1, kFc = 2, kAdd = 3, kConcat = 4, kPool = 5 };
const char* kind_name(LayerKind k);

// A layer's 8-bit weights stored as SWIS groups (format v2, docs/model-format.md):
// what the PE array runs. The layer's `weights` hold the same values
// (unpack_groups(...).weights()); the loader checks that they do.
struct SwisLayerStorage {
    swis::Variant variant = swis::Variant::kSwis;
    int schedule_cols = 0;               // array columns the schedule was made for (filters sharing N)
    std::vector<int> filter_n;           // per filter, 1..8
    std::vector<std::uint8_t> packed;    // swis::pack_groups of the layer
};

// A node of a network: a conv or fc layer, or (format v3) a tensor node. A tensor node uses
// in_c/in_h/in_w (input 0's shape), out_c, a_out_bits, shift and the pool fields, and holds one
// mult and one bias per input.
struct NetworkLayer {
    LayerKind kind = LayerKind::kFc;
    std::vector<int> inputs;  // 0 = the image, j >= 1 = node j - 1's output (v1/v2: {i}, the chain)
    int groups = 1;           // grouped convolution (v3): groups divides in_c and out_c
    int in_c = 1, in_h = 1, in_w = 1;
    int out_c = 1;
    int kernel = 1, stride = 1, padding = 0;
    int a_in_bits = 8, w_bits = 8;
    bool binary = false;
    int rows_per_tile = 0;
    bool relu = true;  // false: the last layer (logits)
    int a_out_bits = 0;
    PoolKind pool = PoolKind::kNone;
    int pool_size = 0, pool_stride = 0;
    int shift = 0;
    std::vector<std::int8_t> weights;  // [M][K], K in (c, ky, kx) order
    std::vector<std::int64_t> bias;
    std::vector<std::int32_t> mult, mult_x;
    std::vector<std::int32_t> col_mult;  // [row_tiles][M] or empty
    bool has_adc_tables = false;
    std::vector<std::int64_t> adc_step, adc_base;  // [row_tiles][M][S]
    std::optional<SwisLayerStorage> swis;          // format v2: the weights as SWIS groups

    bool is_matrix() const { return kind == LayerKind::kConv || kind == LayerKind::kFc; }
    bool is_tensor() const { return !is_matrix(); }
    bool grouped() const { return groups > 1; }
    // Weights per filter: (in_c / groups) * k * k for a conv, in_c * in_h * in_w for an fc.
    int K() const {
        return kind == LayerKind::kConv ? (in_c / groups) * kernel * kernel : is_matrix() ? in_c * in_h * in_w : 0;
    }
    int M() const { return out_c; }
    // The map before pooling: a conv's output grid, 1 x 1 for an fc, the input's for a tensor node.
    int out_h() const {
        return kind == LayerKind::kConv ? (in_h + 2 * padding - kernel) / stride + 1 : is_tensor() ? in_h : 1;
    }
    int out_w() const {
        return kind == LayerKind::kConv ? (in_w + 2 * padding - kernel) / stride + 1 : is_tensor() ? in_w : 1;
    }
    int vectors() const { return out_h() * out_w(); }  // matrix-layer vectors per image
    int pooled_h() const { return pooled_dim(out_h()); }
    int pooled_w() const { return pooled_dim(out_w()); }
    int pooled_dim(int n) const {
        return pool == PoolKind::kNone ? n : pool == PoolKind::kGlobalAvg ? 1 : pooled_size(n, pool_size, pool_stride);
    }
    std::size_t output_bytes() const { return static_cast<std::size_t>(out_c) * pooled_h() * pooled_w(); }
    // A grouped conv's shape and blocks for row tiles `crossbar_rows` high (rows_per_tile when set).
    GroupedConvShape group_shape() const { return {in_c, out_c, groups, kernel}; }
    std::vector<ConvBlock> blocks(int crossbar_rows) const {
        return conv_blocks(group_shape(), rows_per_tile > 0 ? rows_per_tile : crossbar_rows);
    }
    MatrixLayer block_matrix(const ConvBlock& b, const std::string& name) const;
    int slices(int cell_bits) const { return binary ? 1 : (w_bits + cell_bits - 1) / cell_bits; }
    // The matrix layer (K x M weights) this layer runs on the crossbars; a layer without weights
    // (a shape, for LayerMapping::of_shape) gives a matrix without weights.
    MatrixLayer matrix(const std::string& name) const;
    PostProcessParams post_process() const;
    // The SWIS shape of the layer (a fully connected layer: K channels, 1 x 1 kernel).
    swis::LayerShape swis_shape() const;
    // The stored SWIS groups, unpacked (requires `swis`).
    swis::DecomposedLayer swis_groups() const;
};

struct NetworkModel {
    std::string path;  // file it came from (messages)
    std::string name, scheme;
    int in_c = 1, in_h = 28, in_w = 28, in_bits = 8;
    int num_classes = 10;
    int cell_bits = 0, dac_bits = 0, adc_bits = 0, frac_bits = 8;  // hardware needed; 0 = any
    std::vector<NetworkLayer> layers;

    // A tensor: the image (index 0) or node j - 1's output (index j): C x H x W codes of `bits` bits
    // (the last node's: its logits, bits 0).
    struct Tensor {
        int c = 0, h = 0, w = 0, bits = 0;
        std::size_t bytes() const { return static_cast<std::size_t>(c) * h * w; }
    };
    Tensor tensor(std::size_t index) const;
    Tensor image() const { return tensor(0); }
    Tensor output(std::size_t node) const { return tensor(node + 1); }
    // True when the model is a chain of conv and fc layers with groups 1, node i taking node i - 1's
    // output: what formats v1 and v2 hold.
    bool is_chain() const;
    // Node i's input tensors (its `inputs`; a layer built without them: {i}, the chain).
    std::vector<int> inputs_of(std::size_t node) const;
    // The node that reads each tensor last (index as tensor(); -1: none, the logits).
    std::vector<int> last_consumers() const;

    std::string layer_name(std::size_t i) const;  // "layer 2 (fc)" (a chain), "node 7 (add)" (a graph)
    std::size_t image_bytes() const { return static_cast<std::size_t>(in_c) * in_h * in_w; }
};

// Reads and validates a model file. Throws ModelError.
// A model file larger than this is refused before it is read.
inline constexpr std::uint64_t kMaxModelFileBytes = 256ull << 20;
NetworkModel load_model(const std::string& path);
// Parses and validates model bytes; `source` names them in messages.
NetworkModel parse_model(const std::vector<std::uint8_t>& bytes, const std::string& source);
// The model file bytes of a model, with checksum: a chain (is_chain) in format v1 when no layer
// has SWIS storage (so v1 files round-trip byte for byte), else format v2; any other graph in v3.
std::vector<std::uint8_t> serialize_model(const NetworkModel& model);
// Checks that the platform of `cfg` can run the model. Throws ModelError naming the field.
// Layers with on_pe[l] set run on the PE array and need no crossbar tiles; a grouped conv needs
// every block to map; tensor nodes need no tiles.
void check_model_fits(const NetworkModel& model, const ArchConfig& cfg, const std::vector<bool>& on_pe = {});

}  // namespace cimvp
