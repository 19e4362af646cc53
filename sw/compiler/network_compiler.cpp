#include "sw/compiler/network_compiler.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>

#include "hw/address_map.h"
#include "sw/compiler/adc_calibration.h"
#include "sw/compiler/layer_compiler.h"
#include "sw/contract/pe_mode.h"

namespace cimvp {

namespace {

std::atomic<std::uint64_t> g_decompositions{0};

std::uint64_t align64(std::uint64_t v) { return align_up(v, kPlanAlign); }

// A model's ADC tables are per (row tile, output, offset-encoded slice): they describe this chip's
// columns only under offset encoding (crossbar.mapping "offset").
bool model_tables_apply(const NetworkLayer& L, const ArchConfig& cfg) {
    return L.has_adc_tables && cfg.crossbar.mapping == CellMapping::kOffset;
}

bool model_tables_fit(const NetworkModel& model, const NetworkLayer& L, const ArchConfig& cfg) {
    return model_tables_apply(L, cfg) && model.adc_bits == cfg.adc.bits;
}

// The tables of a crossbar matrix of layer l (the layer, or one block of a grouped conv;
// docs/numerics.md, "ADC calibration"): the model's own when it was calibrated for this ADC and
// offset encoding (model_tables_fit), unit
// tables when the ADC is lossless for the matrix, else calibrated (per cfg.adc.step_mode) on its
// inputs over the calibration images, which `inputs` supplies (vectors x K bytes).
void choose_adc_tables(const ExecutionPlan& so_far, std::size_t l, const std::function<std::vector<std::uint8_t>()>& inputs,
                       const MatrixLayer& matrix, const LayerMapping& map, AdcTables& adc, bool& recalibrated) {
    const NetworkModel& model = so_far.model;
    const ArchConfig& cfg = so_far.cfg;
    const NetworkLayer& L = model.layers[l];
    if (model_tables_fit(model, L, cfg)) {
        adc = model_adc_tables(L, map, cfg.adc.bits, cfg.adc.frac_bits);
        recalibrated = false;
    } else if (model_tables_apply(L, cfg) && model.frac_bits == cfg.adc.frac_bits && !adc_is_lossless(map, cfg) &&
               !inputs) {
        // Another resolution and no images: keep the windows the model was calibrated for, divide them anew.
        adc = rescale_adc_tables(model_adc_tables(L, map, model.adc_bits, cfg.adc.frac_bits), map, cfg.adc.bits,
                                 cfg.adc.step_mode);
        recalibrated = true;
    } else if (adc_is_lossless(map, cfg) || !inputs) {
        adc = AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits);
        recalibrated = L.has_adc_tables;
    } else {
        // The inputs over the calibration images, through the layers compiled so far.
        std::vector<std::uint8_t> x = inputs();
        std::size_t n = x.size() / map.K;
        const std::size_t cap = static_cast<std::size_t>(std::max(0, so_far.options.calibration_vectors));
        if (cap > 0 && n > cap) {
            // Evenly spaced vectors: vector i * n / cap for i < cap.
            std::vector<std::uint8_t> sub(cap * map.K);
            for (std::size_t i = 0; i < cap; ++i)
                std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(i * n / cap * map.K), map.K,
                            sub.begin() + static_cast<std::ptrdiff_t>(i * map.K));
            x.swap(sub);
            n = cap;
        }
        // A model calibrated for another ADC: least squares (both step modes alike); else the config's window.
        const int nv = static_cast<int>(n);
        adc = L.has_adc_tables ? calibrate_adc_least_squares(matrix, map, cfg, x.data(), nv)
                               : calibrate_adc(matrix, map, cfg, x.data(), nv);
        recalibrated = true;
    }
}

PeLayerPlan plan_pe_layer(const NetworkLayer& L, const NetworkOptions& o, const ArchConfig& cfg) {
    PeLayerPlan p;
    p.groups = pe_layer_groups(L, o.swis_shifts, o.variant);
    p.weights = p.groups.weights();
    const std::size_t cols = static_cast<std::size_t>(cfg.pe_array.cols);
    const std::vector<int>& filter_n = p.groups.shifts;
    p.n_table.assign((filter_n.size() + cols - 1) / cols, 0);
    for (std::size_t f = 0; f < filter_n.size(); ++f)
        p.n_table[f / cols] = std::max(p.n_table[f / cols], static_cast<std::uint8_t>(filter_n[f]));
    p.double_shift = o.double_shift;
    return p;
}

// What stays on chip (docs/architecture.md, "Global buffer"). The batch's images arrive in DRAM.
// The buffers of the hidden tensors and the logits all go to the global buffer when, with them, it
// still holds the largest layer's scratch for one image. Otherwise the accumulators, which cost 16
// bytes of int64 traffic per output value against an activation's 2, come first: room is kept for
// every layer's accumulators to stay on chip (one image's scratch, or the whole batch's for a layer
// that needs several passes over its tiles, when that fits at all), and the tensor buffers fill what
// it leaves one by one, largest first (first fit); the rest stay in DRAM.
// Then the accumulators, input sums and PE-array staging: one on-chip region as large as the largest
// layer's batch needs, or as the global buffer has left. A layer whose scratch for one image fits
// runs its batch in steps of as many images as fit; one that does not, or that needs several
// passes over its tiles, keeps the whole batch in DRAM.
// The buffers of the batch's tensors. A chain keeps one buffer per tensor (the placement its
// results were measured with); in a graph a tensor takes the smallest free buffer that holds it
// (else a new one), and its buffer is free again once its last consumer has run.
void place_tensors(ExecutionPlan& plan) {
    const NetworkModel& model = plan.model;
    const std::uint64_t batch = static_cast<std::uint64_t>(plan.batch());
    const std::size_t n = model.layers.size();
    plan.buffers.assign(1, {batch * model.image_bytes(), false});
    plan.tensor_buffer.assign(n + 1, 0);
    const bool reuse = !model.is_chain();
    const std::vector<int> last = model.last_consumers();
    std::vector<int> free;  // buffers whose tensor is dead
    for (std::size_t l = 0; l < n; ++l) {
        const NetworkLayer& L = model.layers[l];
        const std::uint64_t bytes = L.relu ? batch * L.output_bytes()
                                           : batch * static_cast<std::uint64_t>(model.num_classes) * sizeof(std::int64_t);
        int pick = -1;
        for (std::size_t i = 0; i < free.size(); ++i)
            if (plan.buffers[static_cast<std::size_t>(free[i])].bytes >= bytes &&
                (pick < 0 || plan.buffers[static_cast<std::size_t>(free[i])].bytes <
                                 plan.buffers[static_cast<std::size_t>(free[static_cast<std::size_t>(pick)])].bytes))
                pick = static_cast<int>(i);
        if (pick >= 0) {
            plan.tensor_buffer[l + 1] = free[static_cast<std::size_t>(pick)];
            free.erase(free.begin() + pick);
        } else {
            plan.tensor_buffer[l + 1] = static_cast<int>(plan.buffers.size());
            plan.buffers.push_back({bytes, false});
        }
        if (!reuse) continue;
        // Inputs whose last consumer this node is (not the images' buffer, which the host fills).
        for (int j : model.inputs_of(l))
            if (j > 0 && last[static_cast<std::size_t>(j)] == static_cast<int>(l) &&
                std::find(free.begin(), free.end(), plan.tensor_buffer[static_cast<std::size_t>(j)]) == free.end())
                free.push_back(plan.tensor_buffer[static_cast<std::size_t>(j)]);
    }
    plan.logits_buffer = plan.tensor_buffer[n];
    if (n > 0 && model.layers[n - 1].relu) {
        plan.logits_buffer = static_cast<int>(plan.buffers.size());
        plan.buffers.push_back({batch * static_cast<std::uint64_t>(model.num_classes) * sizeof(std::int64_t), false});
    }
}

void place_buffers(ExecutionPlan& plan) {
    const NetworkModel& model = plan.model;
    const int batch = plan.batch();
    const std::size_t n = model.layers.size();
    // The global buffer as the driver hands it out: 64-byte aligned from its base, all of it free.
    const std::uint64_t capacity = AddressMap(plan.cfg).global_buffer_size();
    place_tensors(plan);
    const auto one_pass = [](const LayerPlan& lp) {
        return lp.on_pe || (lp.blocks.empty() ? lp.mapping.passes == 1
                                              : std::all_of(lp.blocks.begin(), lp.blocks.end(),
                                                            [](const BlockPlan& b) { return b.mapping.passes == 1; }));
    };
    std::uint64_t total = 0, one_image = 0, want = 0, keep = 0;
    for (std::size_t b = 1; b < plan.buffers.size(); ++b) total += align64(plan.buffers[b].bytes);
    for (std::size_t l = 0; l < n; ++l) {
        const LayerPlan& lp = plan.layers[l];
        const std::uint64_t one = scratch_bytes_for(model.layers[l], lp.on_pe, 1, lp.blocks);
        const std::uint64_t all = scratch_bytes_for(model.layers[l], lp.on_pe, batch, lp.blocks);
        one_image = std::max(one_image, one);
        want = std::max(want, all);
        keep = std::max(keep, one_pass(lp) || all > capacity ? one : all);
    }
    plan.activations_on_chip = total + one_image <= capacity;
    std::uint64_t used = 0;
    if (plan.activations_on_chip) {
        for (std::size_t b = 1; b < plan.buffers.size(); ++b) plan.buffers[b].on_chip = true;
        used = total;
    } else {
        const std::uint64_t reserve = std::min(keep, capacity);
        std::vector<std::size_t> order;
        for (std::size_t b = 1; b < plan.buffers.size(); ++b) order.push_back(b);
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return plan.buffers[a].bytes > plan.buffers[b].bytes;
        });
        for (std::size_t b : order) {
            const std::uint64_t bytes = align64(plan.buffers[b].bytes);
            if (used + bytes + reserve > capacity) continue;
            plan.buffers[b].on_chip = true;
            used += bytes;
        }
    }
    const std::uint64_t free = capacity - used;
    const std::uint64_t region_bytes = std::min(want, free);
    plan.scratch_region_bytes = region_bytes;
    plan.dram_scratch_bytes = 0;
    for (std::size_t l = 0; l < n; ++l) {
        const NetworkLayer& L = model.layers[l];
        LayerPlan& lp = plan.layers[l];
        LayerPlacement& p = lp.placement;
        if (lp.tensor) {  // no scratch: the whole batch in one job per input
            p.scratch_on_chip = false;
            p.images_per_step = batch;
            p.steps = 1;
            continue;
        }
        int k = 0;
        if (region_bytes > 0) {
            // The most images whose scratch fits: k images never need more than k times one image's
            // (each part is rounded up once), so start there and add while the next still fits.
            const std::uint64_t per_image = scratch_bytes_for(L, lp.on_pe, 1, lp.blocks);
            k = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(batch), region_bytes / per_image));
            while (k > 0 && k < batch && scratch_bytes_for(L, lp.on_pe, k + 1, lp.blocks) <= region_bytes) ++k;
            if (!one_pass(lp) && k < batch) k = 0;
        }
        p.scratch_on_chip = k > 0;
        p.images_per_step = p.scratch_on_chip ? k : batch;
        p.steps = (batch + p.images_per_step - 1) / p.images_per_step;
        if (!p.scratch_on_chip)
            plan.dram_scratch_bytes = std::max(plan.dram_scratch_bytes, scratch_bytes_for(L, lp.on_pe, batch, lp.blocks));
    }
}

}  // namespace

AdcTables model_adc_tables(const NetworkLayer& L, const LayerMapping& map, int adc_bits, int frac_bits) {
    if (map.differential)
        throw std::invalid_argument("model_adc_tables: a model's ADC tables are for offset encoding, not "
                                    "crossbar.mapping differential");
    AdcTables t = AdcTables::unit(map, adc_bits, frac_bits);
    const int S = map.slices;
    for (int rt = 0; rt < map.row_tiles; ++rt)
        for (int m = 0; m < map.M; ++m)
            for (int j = 0; j < S; ++j) {
                const std::size_t src = (static_cast<std::size_t>(rt) * map.M + m) * S + j;
                const int ct = m / map.outs_per_tile, o = m % map.outs_per_tile;
                numerics::AdcColumn& col = t.tile(rt, ct)[o * S + j];
                col.step_fx = L.adc_step[src];
                col.base_fx = L.adc_base[src];
            }
    return t;
}

AdcTables rescale_adc_tables(const AdcTables& from, const LayerMapping& map, int bits, AdcStepMode mode) {
    AdcTables t = from;
    t.bits = bits;
    const double old_levels = static_cast<double>((std::int64_t{1} << from.bits) - 1);
    const double new_levels = static_cast<double>((std::int64_t{1} << bits) - 1);
    // Each used column's window [base, base + old_levels * step]; one step per layer takes their mean.
    double lo_sum = 0, hi_sum = 0, n = 0;
    for (int rt = 0; rt < map.row_tiles; ++rt)
        for (int ct = 0; ct < map.col_tiles; ++ct)
            for (int c = 0; c < map.cols_in(ct); ++c) {
                const numerics::AdcColumn& col = from.tile(rt, ct)[c];
                lo_sum += static_cast<double>(col.base_fx);
                hi_sum += static_cast<double>(col.base_fx) + old_levels * static_cast<double>(col.step_fx);
                n += 1;
            }
    const auto fit = [&](double lo, double hi) {
        numerics::AdcColumn c;
        c.base_fx = std::llround(lo);
        c.step_fx = std::max<std::int64_t>(1, std::llround((hi - lo) / new_levels));
        return c;
    };
    const numerics::AdcColumn layer = fit(n > 0 ? lo_sum / n : 0.0, n > 0 ? hi_sum / n : 0.0);
    for (int rt = 0; rt < map.row_tiles; ++rt)
        for (int ct = 0; ct < map.col_tiles; ++ct)
            for (int c = 0; c < map.cols_in(ct); ++c) {
                numerics::AdcColumn& col = t.tile(rt, ct)[c];
                col = mode == AdcStepMode::kLayer
                          ? layer
                          : fit(static_cast<double>(col.base_fx),
                                static_cast<double>(col.base_fx) + old_levels * static_cast<double>(col.step_fx));
            }
    return t;
}

// The PE array writes no input sums: a layer there must not need them.
void check_pe_layer(const NetworkModel& model, std::size_t l) {
    const NetworkLayer& L = model.layers[l];
    if (L.is_tensor())
        throw ModelError(model.path + ": " + model.layer_name(l) +
                         ": a tensor node runs on the post-processing unit, not on the PE array");
    if (L.grouped())
        throw ModelError(model.path + ": " + model.layer_name(l) + ": a grouped conv (groups " +
                         std::to_string(L.groups) + ") runs on the crossbars, not on the PE array");
    for (auto v : L.mult_x)
        if (v != 0)
            throw ModelError(model.path + ": " + model.layer_name(l) +
                             ": mult_x: a layer on the PE array needs mult_x = 0 (it writes no input sums)");
    if (L.binary || L.w_bits != 8 || !L.col_mult.empty() || L.has_adc_tables)
        throw ModelError(model.path + ": " + model.layer_name(l) +
                         ": the PE array runs 8-bit weights without column multipliers or ADC tables");
    if (static_cast<std::uint64_t>(L.K()) > 65535)
        throw ModelError(model.path + ": " + model.layer_name(l) + ": K above 65535 does not fit a PE-array descriptor");
}

// The PE array's buffers against the smallest chunk of a layer's job (a step of the plan's images):
// below it the array would end the run in ERROR 5 (buffer overflow), so the layer is refused here,
// naming the key.
void check_pe_buffers(const ExecutionPlan& plan, std::size_t l) {
    const NetworkLayer& L = plan.model.layers[l];
    const LayerPlan& p = plan.layers[l];
    const PeArrayConfig& pe = plan.cfg.pe_array;
    const swis::LayerShape& s = p.pe.groups.shape;
    const auto K = static_cast<std::uint64_t>(s.K());
    const std::uint64_t vectors = static_cast<std::uint64_t>(p.placement.images_per_step) * L.vectors();
    const PeChunkBytes least = pe_min_chunk_bytes(pe.rows, pe.cols, K, static_cast<std::uint64_t>(s.groups_per_filter()),
                                                  kSwisRecordBytes, vectors, static_cast<std::uint64_t>(L.M()));
    const auto refuse = [&](const char* key, std::uint64_t have, std::uint64_t need, const std::string& what) {
        throw ModelError(plan.model.path + ": " + plan.model.layer_name(l) + ": on the PE array it needs pe_array." +
                         key + " >= " + std::to_string(need) + " (" + what + "), the config has " +
                         std::to_string(have) + " (config " + plan.cfg.source + ")");
    };
    if (pe.act_buffer_bytes < least.act)
        refuse("act_buffer_bytes", pe.act_buffer_bytes, least.act,
               std::to_string(least.act / K) + " im2col vectors of K = " + std::to_string(K) + " bytes");
    if (pe.weight_buffer_bytes < least.weights)
        refuse("weight_buffer_bytes", pe.weight_buffer_bytes, least.weights,
               "the weight records of " + std::to_string(std::min<std::uint64_t>(pe.cols, L.M())) + " filters");
    if (pe.out_buffer_bytes < least.out)
        refuse("out_buffer_bytes", pe.out_buffer_bytes, least.out, "one tile of int64 accumulators");
}

// The vectors one tile run of a crossbar layer takes at most, with input sums (EMIT_SUM); a tile
// buffer that holds no vector refuses the layer, naming the model, the layer and the config's key.
int layer_chunk(const ExecutionPlan& plan, std::size_t l, const LayerMapping& m) {
    try {
        return max_chunk(m, plan.cfg, true);
    } catch (const MappingError& e) {
        throw ModelError(plan.model.path + ": " + plan.model.layer_name(l) + ": " + e.what() + " (config " +
                         plan.cfg.source + ")");
    }
}

swis::DecomposedLayer pe_layer_groups(const NetworkLayer& L, int shifts, swis::Variant variant) {
    // Stored SWIS groups (format v2): the weights already are their values.
    if (L.swis) return L.swis_groups();
    // 8 shifts hold every int8 weight as it is; fewer decompose it (sw/contract/swis.h).
    if (shifts >= swis::kShiftPositions) return swis::exact_layer(L.weights, L.swis_shape());
    ++g_decompositions;
    return swis::decompose_layer(L.weights, L.swis_shape(), shifts, variant);
}

std::uint64_t swis_decompositions() { return g_decompositions.load(); }

NetworkOptions NetworkOptions::defaults_for(const NetworkModel& model) {
    NetworkOptions o;
    if (model.scheme == "bwma" && !model.layers.empty()) {
        o.on_pe.assign(model.layers.size(), false);
        // (A graph's first node may be a grouped conv or a tensor node: those stay where they run.)
        const auto pe_able = [](const NetworkLayer& L) { return L.is_matrix() && !L.grouped(); };
        o.on_pe.front() = pe_able(model.layers.front());
        o.on_pe.back() = pe_able(model.layers.back());
    }
    // Layers stored as SWIS groups (format v2) are stored for the PE array.
    for (std::size_t l = 0; l < model.layers.size(); ++l)
        if (model.layers[l].swis) {
            o.on_pe.resize(model.layers.size(), false);
            o.on_pe[l] = true;
        }
    return o;
}

bool needs_calibration(const NetworkModel& model, const ArchConfig& cfg, const NetworkOptions& options) {
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const NetworkLayer& L = model.layers[l];
        if (options.pe(l) || L.is_tensor()) continue;
        if (model_tables_fit(model, L, cfg)) continue;
        if (L.grouped()) {
            for (const ConvBlock& b : L.blocks(cfg.crossbar.rows))
                if (!adc_is_lossless(LayerMapping::make(L.block_matrix(b, ""), cfg), cfg)) return true;
            continue;
        }
        if (!adc_is_lossless(LayerMapping::make(L.matrix(""), cfg), cfg)) return true;
    }
    return false;
}

ExecutionPlan compile_network(const NetworkModel& model, const ArchConfig& cfg, NetworkOptions options,
                              const CalibrationInputs& calibration) {
    if (options.batch < 1) throw std::invalid_argument("batch: expected at least 1 image, got " +
                                                       std::to_string(options.batch));
    ExecutionPlan plan;
    plan.model = model;
    plan.cfg = cfg;
    options.on_pe.resize(model.layers.size(), false);
    plan.options = std::move(options);
    const NetworkOptions& o = plan.options;
    check_model_fits(model, cfg, o.on_pe);
    for (std::size_t l = 0; l < model.layers.size(); ++l)
        if (o.pe(l)) check_pe_layer(model, l);
    // Tiles: every crossbar layer (and every block of a grouped conv) mapped, then the tiles shared out.
    std::vector<LayerPlan> layers(model.layers.size());
    std::vector<LayerMapping> crossbar;
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const NetworkLayer& L = model.layers[l];
        LayerPlan& p = layers[l];
        p.on_pe = o.pe(l);
        if (L.is_tensor()) {
            p.tensor = true;
            continue;
        }
        if (L.grouped()) {
            for (const ConvBlock& b : L.blocks(cfg.crossbar.rows)) {
                BlockPlan bp;
                bp.block = b;
                bp.matrix = L.block_matrix(b, model.layer_name(l) + " block " + std::to_string(p.blocks.size()));
                bp.mapping = LayerMapping::make(bp.matrix, cfg);
                crossbar.push_back(bp.mapping);
                p.blocks.push_back(std::move(bp));
            }
            continue;
        }
        p.matrix = L.matrix(model.layer_name(l));
        if (p.on_pe) {
            p.pe = plan_pe_layer(L, o, cfg);
            continue;
        }
        p.mapping = LayerMapping::make(p.matrix, cfg);
        crossbar.push_back(p.mapping);
    }
    plan.resident = assign_tiles(crossbar, cfg, o.first_tile);
    for (std::size_t l = 0, c = 0; l < model.layers.size(); ++l) {
        if (layers[l].on_pe || layers[l].tensor) continue;
        if (layers[l].blocks.empty()) layers[l].mapping = crossbar[c++];
        for (BlockPlan& b : layers[l].blocks) b.mapping = crossbar[c++];
    }
    // ADC tables layer by layer: a calibration sees the layers before it as compiled.
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        LayerPlan& p = layers[l];
        if (!p.on_pe && !p.tensor) {
            // The layer's input vectors over the calibration images, evaluated once when a table needs them.
            std::vector<std::uint8_t> vectors;
            bool have = false;
            const auto layer_inputs = [&]() -> const std::vector<std::uint8_t>& {
                if (!have) vectors = calibration(plan, l);
                have = true;
                return vectors;
            };
            if (p.blocks.empty()) {
                std::function<std::vector<std::uint8_t>()> inputs;
                if (calibration) inputs = [&] { return layer_inputs(); };
                choose_adc_tables(plan, l, inputs, p.matrix, p.mapping, p.adc, p.adc_recalibrated);
                p.chunk = layer_chunk(plan, l, p.mapping);
            }
            const NetworkLayer& L = model.layers[l];
            for (BlockPlan& b : p.blocks) {
                // A grouped conv's calibration vectors are the full im2col vectors: the block takes its rows.
                std::function<std::vector<std::uint8_t>()> inputs;
                if (calibration)
                    inputs = [&] {
                        const std::vector<std::uint8_t>& x = layer_inputs();
                        const std::size_t full = static_cast<std::size_t>(L.in_c) * L.kernel * L.kernel;
                        return block_rows(L.group_shape(), b.block, x.data(), x.size() / full);
                    };
                choose_adc_tables(plan, l, inputs, b.matrix, b.mapping, b.adc, b.adc_recalibrated);
                b.chunk = layer_chunk(plan, l, b.mapping);
                p.adc_recalibrated = p.adc_recalibrated || b.adc_recalibrated;
            }
        }
        plan.layers.push_back(std::move(layers[l]));
    }
    place_buffers(plan);
    for (std::size_t l = 0; l < model.layers.size(); ++l)
        if (plan.layers[l].on_pe) check_pe_buffers(plan, l);
    return plan;
}

}  // namespace cimvp
