// Model file formats v1 and v2 (docs/model-format.md): a quantized network as
// the platform runs it; v2 adds layers stored as SWIS groups. The loader validates every field once, at load, and
// rejects a malformed, truncated or corrupted file, or one that needs more
// hardware than the config has, naming the file, the field and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "sw/contract/layer_mapping.h"
#include "sw/contract/post_processing.h"
#include "sw/contract/swis.h"

namespace cimvp {

struct ModelError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class LayerKind : std::uint32_t { kConv = 1, kFc = 2 };

// A layer's 8-bit weights stored as SWIS groups (format v2, docs/model-format.md):
// what the PE array runs. The layer's `weights` hold the same values
// (unpack_groups(...).weights()); the loader checks that they do.
struct SwisLayerStorage {
    swis::Variant variant = swis::Variant::kSwis;
    int schedule_cols = 0;               // array columns the schedule was made for (filters sharing N)
    std::vector<int> filter_n;           // per filter, 1..8
    std::vector<std::uint8_t> packed;    // swis::pack_groups of the layer
};

struct NetworkLayer {
    LayerKind kind = LayerKind::kFc;
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

    int K() const { return kind == LayerKind::kConv ? in_c * kernel * kernel : in_c * in_h * in_w; }
    int M() const { return out_c; }
    int out_h() const { return kind == LayerKind::kConv ? (in_h + 2 * padding - kernel) / stride + 1 : 1; }
    int out_w() const { return kind == LayerKind::kConv ? (in_w + 2 * padding - kernel) / stride + 1 : 1; }
    int vectors() const { return out_h() * out_w(); }  // matrix-layer vectors per image
    int pooled_h() const { return pool == PoolKind::kNone ? out_h() : pooled_size(out_h(), pool_size, pool_stride); }
    int pooled_w() const { return pool == PoolKind::kNone ? out_w() : pooled_size(out_w(), pool_size, pool_stride); }
    int slices(int cell_bits) const { return binary ? 1 : (w_bits + cell_bits - 1) / cell_bits; }
    // The matrix layer (K x M weights) this layer runs on the crossbars.
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

    std::string layer_name(std::size_t i) const;  // "layer 2 (fc)"
    std::size_t image_bytes() const { return static_cast<std::size_t>(in_c) * in_h * in_w; }
};

// Reads and validates a model file. Throws ModelError.
// A model file larger than this is refused before it is read.
inline constexpr std::uint64_t kMaxModelFileBytes = 256ull << 20;
NetworkModel load_model(const std::string& path);
// Parses and validates model bytes; `source` names them in messages.
NetworkModel parse_model(const std::vector<std::uint8_t>& bytes, const std::string& source);
// The model file bytes of a model, with checksum: format v1 when no layer has
// SWIS storage (so v1 files round-trip byte for byte), else format v2.
std::vector<std::uint8_t> serialize_model(const NetworkModel& model);
// Checks that the platform of `cfg` can run the model. Throws ModelError naming the field.
// Layers with on_pe[l] set run on the PE array and need no crossbar tiles.
void check_model_fits(const NetworkModel& model, const ArchConfig& cfg, const std::vector<bool>& on_pe = {});

}  // namespace cimvp
