#include "sw/driver/network_runner.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "hw/swis_pe.h"

namespace cimvp {

namespace {
constexpr std::uint64_t kU16 = std::numeric_limits<std::uint16_t>::max();

void add(RunStats& to, const RunStats& s) {
    to.sim_ns += s.sim_ns;
    to.cycles += s.cycles;
    to.commands += s.commands;
    to.energy += s.energy;
}
}  // namespace

NetworkRunner::NetworkRunner(Driver& driver, const NetworkReference& net, const ArchConfig& cfg, int batch,
                             EnergyProbe probe)
    : driver_(driver), net_(net), cfg_(cfg), batch_(batch), probe_(std::move(probe)) {
    const NetworkModel& model = net_.model();
    const std::size_t n = model.layers.size();
    for (std::size_t l = 0; l < n; ++l) {
        const NetworkLayer& L = model.layers[l];
        const LayerMapping& m = net_.mappings()[l];
        if (static_cast<std::uint64_t>(m.K) > kU16 || static_cast<std::uint64_t>(L.in_c) > kU16)
            throw DriverError(model.layer_name(l) + ": K = " + std::to_string(m.K) +
                              " exceeds what an im2col descriptor addresses (65535)");
        if (net_.options().pe(l)) {
            tiles_.emplace_back();
            pe_.push_back(load_pe_layer(l));
        } else {
            tiles_.push_back(driver_.load_tile_images(net_.matrices()[l], m, net_.adc_plan().tables[l]));
            pe_.emplace_back();
        }
        // Post-processing parameters: bias int64[M], mult int32[M], mult_x int32[M].
        const std::size_t M = static_cast<std::size_t>(L.M());
        std::vector<std::uint8_t> p(M * (sizeof(std::int64_t) + 2 * sizeof(std::int32_t)));
        std::memcpy(p.data(), L.bias.data(), M * sizeof(std::int64_t));
        std::memcpy(p.data() + M * sizeof(std::int64_t), L.mult.data(), M * sizeof(std::int32_t));
        std::memcpy(p.data() + M * (sizeof(std::int64_t) + sizeof(std::int32_t)), L.mult_x.data(),
                    M * sizeof(std::int32_t));
        params_.push_back(driver_.alloc(p.size()));
        driver_.write(params_.back(), p.data(), p.size());
    }
    place_activations();
    place_scratch();
    layers_.resize(n);
}

namespace {
constexpr std::uint64_t kAlign = 64;  // every buffer the runner lays out starts on a 64-byte boundary
std::uint64_t align64(std::uint64_t v) { return align_up(v, kAlign); }
}  // namespace

// A layer's scratch per image: accumulators, input sums and (PE array) its im2col vectors, each 64-aligned.
std::uint64_t NetworkRunner::scratch_bytes(std::size_t l, int images) const {
    const NetworkLayer& L = net_.model().layers[l];
    const std::uint64_t v = static_cast<std::uint64_t>(images) * static_cast<std::uint64_t>(L.vectors());
    std::uint64_t b = align64(v * static_cast<std::uint64_t>(L.M()) * kAccEntryBytes) + align64(v * kAccEntryBytes);
    if (net_.options().pe(l)) b += align64(v * static_cast<std::uint64_t>(L.K()));
    return b;
}

// What stays on chip (docs/architecture.md, "Global buffer"). The batch's images arrive in DRAM.
// Every hidden layer's output and the logits go to the global buffer when, with them, it still holds
// the largest layer's scratch for one image; otherwise they stay in DRAM and the accumulators,
// which cost 16 bytes of int64 traffic per output value against an activation's 2, get all of it.
void NetworkRunner::place_activations() {
    const NetworkModel& model = net_.model();
    std::vector<std::uint64_t> bytes;
    for (const NetworkLayer& L : model.layers)
        if (L.relu)
            bytes.push_back(static_cast<std::uint64_t>(batch_) * static_cast<std::uint64_t>(L.M()) *
                            static_cast<std::uint64_t>(L.pooled_h()) * static_cast<std::uint64_t>(L.pooled_w()));
    bytes.push_back(static_cast<std::uint64_t>(batch_) * static_cast<std::uint64_t>(model.num_classes) *
                    sizeof(std::int64_t));
    std::uint64_t total = 0, one_image = 0;
    for (std::uint64_t b : bytes) total += align64(b);
    for (std::size_t l = 0; l < model.layers.size(); ++l) one_image = std::max(one_image, scratch_bytes(l, 1));
    const bool on_chip = total + one_image <= driver_.on_chip_free();
    activations_on_chip_ = on_chip;
    act_.push_back(driver_.alloc(static_cast<std::uint64_t>(batch_) * model.image_bytes()));
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const std::uint64_t a = on_chip ? driver_.alloc_on_chip(bytes[i]) : driver_.alloc(bytes[i]);
        if (i + 1 < bytes.size())
            act_.push_back(a);
        else
            logits_ = a;
    }
}

// The accumulators, input sums and PE-array staging: one on-chip region as large as the largest
// layer's batch needs, or as the global buffer has left. A layer whose scratch for one image fits
// runs its batch in steps of as many images as fit; one that does not, or that needs several
// passes over its tiles, keeps the whole batch in DRAM.
void NetworkRunner::place_scratch() {
    const std::size_t n = net_.model().layers.size();
    std::uint64_t want = 0;
    for (std::size_t l = 0; l < n; ++l) want = std::max(want, scratch_bytes(l, batch_));
    const std::uint64_t region_bytes = std::min(want, driver_.on_chip_free());
    const std::uint64_t region = region_bytes > 0 ? driver_.alloc_on_chip(region_bytes) : 0;
    std::uint64_t dram_bytes = 0;
    place_.resize(n);
    for (std::size_t l = 0; l < n; ++l) {
        Placement& p = place_[l];
        const bool one_pass = net_.options().pe(l) || net_.mappings()[l].passes == 1;
        int k = 0;
        if (region != 0) {
            // The most images whose scratch fits: k images never need more than k times one image's
            // (each part is rounded up once), so start there and add while the next still fits.
            const std::uint64_t per_image = scratch_bytes(l, 1);
            k = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(batch_), region_bytes / per_image));
            while (k > 0 && k < batch_ && scratch_bytes(l, k + 1) <= region_bytes) ++k;
            if (!one_pass && k < batch_) k = 0;
        }
        p.on_chip = k > 0;
        p.images = p.on_chip ? k : batch_;
        if (p.on_chip)
            p.acc = region;
        else
            dram_bytes = std::max(dram_bytes, scratch_bytes(l, batch_));
    }
    const std::uint64_t dram = dram_bytes > 0 ? driver_.alloc(dram_bytes) : 0;
    for (std::size_t l = 0; l < n; ++l) {
        Placement& p = place_[l];
        if (!p.on_chip) p.acc = dram;
        const NetworkLayer& L = net_.model().layers[l];
        const std::uint64_t v = static_cast<std::uint64_t>(p.images) * static_cast<std::uint64_t>(L.vectors());
        p.sx = p.acc + align64(v * static_cast<std::uint64_t>(L.M()) * kAccEntryBytes);
        p.staging = p.sx + align64(v * kAccEntryBytes);
        // One post-processing descriptor (and PE-array descriptor) per step of the batch.
        const int steps = (batch_ + p.images - 1) / p.images;
        ppu_desc_.push_back(driver_.alloc(static_cast<std::uint64_t>(steps) * sizeof(PostProcessDescriptor)));
        if (net_.options().pe(l))
            pe_[l].descriptor = driver_.alloc(static_cast<std::uint64_t>(steps) * pe_[l].descriptor_stride());
    }
}

RunStats NetworkRunner::run(const std::vector<Command>& cmds) {
    EnergyBreakdown before;
    driver_.set_start_hook([&] { before = probe_(); });  // after the host wrote the list: not the accelerator's
    const CommandListStats s = driver_.run_commands(cmds);
    driver_.set_start_hook({});
    RunStats r;
    r.sim_ns = s.sim_ns;
    r.cycles = s.cycles;
    r.commands = s.commands;
    r.energy = probe_() - before;
    return r;
}

NetworkRunner::PeLayer NetworkRunner::load_pe_layer(std::size_t l) {
    const NetworkLayer& L = net_.model().layers[l];
    const swis::LayerShape shape = NetworkReference::swis_shape(L);
    const int n = std::min(net_.options().swis_shifts, swis::kShiftPositions);
    // Records in [filter][ky][kx][channel group] order (docs/registers.md, SWIS PE array).
    std::vector<std::uint8_t> records;
    const auto add = [&](const swis::Group& g) {
        const SwisRecord r = pack_swis_record(g);
        records.insert(records.end(), r.begin(), r.end());
    };
    std::vector<int> filter_n(static_cast<std::size_t>(L.M()), n);
    if (L.swis) {
        // The groups stored in the model file (format v2), as they are.
        const swis::DecomposedLayer d = L.swis_groups();
        for (const auto& g : d.groups) add(g);
        filter_n = L.swis->filter_n;
    } else if (n >= swis::kShiftPositions) {
        // Every int8 weight as it is: shifts 7..0 over its magnitude bits.
        const int cg = (shape.channels + swis::kGroupSize - 1) / swis::kGroupSize, K = L.K();
        for (int f = 0; f < shape.filters; ++f)
            for (int ky = 0; ky < shape.kernel_h; ++ky)
                for (int kx = 0; kx < shape.kernel_w; ++kx)
                    for (int g = 0; g < cg; ++g) {
                        std::int8_t w[swis::kGroupSize] = {};
                        for (int i = 0; i < swis::kGroupSize; ++i) {
                            const int c = g * swis::kGroupSize + i;
                            if (c < shape.channels)
                                w[i] = L.weights[static_cast<std::size_t>(f) * K +
                                                 (c * shape.kernel_h + ky) * shape.kernel_w + kx];
                        }
                        swis::Group grp;
                        if (!int8_group(w, swis::kMagnitudeBits, swis::kShiftPositions, grp))
                            throw DriverError(net_.model().layer_name(l) + ": a weight does not fit 8 shifts");
                        add(grp);
                    }
    } else {
        const auto d = swis::decompose_layer(L.weights, shape, n, net_.options().variant);
        for (const auto& g : d.groups) add(g);
    }
    PeLayer p;
    p.records = driver_.alloc(records.size());
    driver_.write(p.records, records.data(), records.size());
    // The array runs filters in index order, cols at a time; a tile runs at the largest N
    // of its filters (a group with fewer shifts has no mask bits above its own N).
    const std::size_t cols = static_cast<std::size_t>(cfg_.pe_array.cols);
    p.n_table.assign((filter_n.size() + cols - 1) / cols, 0);
    for (std::size_t f = 0; f < filter_n.size(); ++f)
        p.n_table[f / cols] = std::max(p.n_table[f / cols], static_cast<std::uint8_t>(filter_n[f]));
    return p;
}

void NetworkRunner::program() {
    if (!net_.resident()) return;
    std::vector<Command> cmds;
    for (std::size_t l = 0; l < tiles_.size(); ++l)
        if (!net_.options().pe(l))
            emit_program_pass(cmds, net_.mappings()[l], driver_.address_map(), tiles_[l], 0, true);
    cmds.push_back(Command{});
    programming_ = run(cmds);
}

std::vector<Command> NetworkRunner::layer_commands(std::size_t l, int n, std::uint64_t first_image) {
    const NetworkLayer& L = net_.model().layers[l];
    const LayerMapping& m = net_.mappings()[l];
    const AddressMap& map = driver_.address_map();
    const Placement& place = place_[l];
    const int vpi = L.vectors();
    if ((first_image + static_cast<std::uint64_t>(n)) * static_cast<std::uint64_t>(vpi) >
        std::numeric_limits<std::uint32_t>::max())
        throw DriverError("vector index past 2^32: the run is too long for the read-noise numbering");
    const bool conv = L.kind == LayerKind::kConv;
    const bool pe = net_.options().pe(l);
    const std::uint64_t in_bytes = static_cast<std::uint64_t>(L.in_c) * L.in_h * L.in_w;
    const std::uint64_t out_bytes = L.relu ? static_cast<std::uint64_t>(L.M()) * L.pooled_h() * L.pooled_w()
                                           : static_cast<std::uint64_t>(net_.model().num_classes) * sizeof(std::int64_t);
    std::vector<Command> cmds;
    if (!pe && !net_.resident() && m.passes == 1) emit_program_pass(cmds, m, map, tiles_[l], 0, true);
    // What every step's descriptors share: the PE-array job but its vector count, the chunk size.
    PeArrayDescriptor pe_job;
    if (pe) {
        const swis::LayerShape shape = NetworkReference::swis_shape(L);
        pe_job.act = place.staging;
        pe_job.weights = pe_[l].records;
        pe_job.out = place.acc;
        pe_job.filters = static_cast<std::uint32_t>(L.M());
        pe_job.channels = static_cast<std::uint16_t>(shape.channels);
        pe_job.kernel_h = static_cast<std::uint8_t>(shape.kernel_h);
        pe_job.kernel_w = static_cast<std::uint8_t>(shape.kernel_w);
        pe_job.mode = static_cast<std::uint8_t>(net_.options().double_shift ? PeMode::kDoubleShift
                                                                             : PeMode::kSingleShift);
    }
    const int chunk = pe ? 0 : max_chunk(m, cfg_, true);
    // The batch in steps of place.images images: each step's accumulators are post-processed
    // before the next step overwrites them.
    for (int i0 = 0, step = 0; i0 < n; i0 += place.images, ++step) {
        const int k = std::min(place.images, n - i0);
        const int vectors = k * vpi;
        const std::uint64_t first_vector = (first_image + static_cast<std::uint64_t>(i0)) * vpi;
        const std::uint64_t src = act_[l] + static_cast<std::uint64_t>(i0) * in_bytes;
        const InputCommand input = [&](int rt, std::uint64_t dst, int v0, int nv) {
            Im2colDescriptor d;
            d.src = src;
            d.dst = dst;
            d.channels = static_cast<std::uint16_t>(L.in_c);
            d.height = static_cast<std::uint16_t>(L.in_h);
            d.width = static_cast<std::uint16_t>(L.in_w);
            d.kernel_h = static_cast<std::uint16_t>(conv ? L.kernel : L.in_h);
            d.kernel_w = static_cast<std::uint16_t>(conv ? L.kernel : L.in_w);
            d.stride = static_cast<std::uint8_t>(L.stride);
            d.padding = static_cast<std::uint8_t>(L.padding);
            d.first_row = static_cast<std::uint16_t>(rt < 0 ? 0 : m.first_row(rt));
            d.rows = static_cast<std::uint16_t>(rt < 0 ? L.K() : m.rows_in(rt));
            d.first_vector = static_cast<std::uint32_t>(v0);
            d.vectors = static_cast<std::uint32_t>(nv);
            return make_im2col(d);
        };
        if (pe) {
            // The PE array reads whole im2col vectors (rt -1: every row) and writes the accumulators.
            const PeLayer& p = pe_[l];
            cmds.push_back(input(-1, place.staging, 0, vectors));
            PeArrayDescriptor d = pe_job;
            d.vectors = static_cast<std::uint32_t>(vectors);
            std::vector<std::uint8_t> bytes(sizeof d + p.n_table.size());
            std::memcpy(bytes.data(), &d, sizeof d);
            std::memcpy(bytes.data() + sizeof d, p.n_table.data(), p.n_table.size());
            const std::uint64_t at = p.descriptor + static_cast<std::uint64_t>(step) * p.descriptor_stride();
            driver_.write(at, bytes.data(), bytes.size());
            cmds.push_back(make_pe_run(at));
        } else {
            for (int pass = 0; pass < m.passes; ++pass) {
                if (!net_.resident() && m.passes > 1) emit_program_pass(cmds, m, map, tiles_[l], pass, true);
                emit_chunks(cmds, m, map, pass, vectors, chunk, first_vector, input, place.acc, place.sx, true);
            }
        }
        PostProcessDescriptor d;
        d.acc = place.acc;
        d.sx = place.sx;
        d.params = params_[l];
        d.dst = (L.relu ? act_[l + 1] : logits_) + static_cast<std::uint64_t>(i0) * out_bytes;
        d.channels = static_cast<std::uint32_t>(L.M());
        d.out_h = static_cast<std::uint32_t>(L.out_h());
        d.out_w = static_cast<std::uint32_t>(L.out_w());
        d.images = static_cast<std::uint32_t>(k);
        d.shift = static_cast<std::uint8_t>(L.shift);
        d.a_out_bits = static_cast<std::uint8_t>(L.relu ? L.a_out_bits : 0);
        d.pool = static_cast<std::uint8_t>(L.pool);
        d.pool_size = static_cast<std::uint8_t>(L.pool_size);
        d.pool_stride = static_cast<std::uint8_t>(L.pool_stride);
        d.logits = L.relu ? 0 : 1;
        const std::uint64_t at = ppu_desc_[l] + static_cast<std::uint64_t>(step) * sizeof(PostProcessDescriptor);
        driver_.write(at, &d, sizeof d);
        cmds.push_back(make_post_process(at));
    }
    cmds.push_back(Command{});
    return cmds;
}

std::vector<std::int64_t> NetworkRunner::run_batch(const std::uint8_t* images, int n, std::uint64_t first_image) {
    if (n < 1 || n > batch_) throw DriverError("run_batch: " + std::to_string(n) + " images, expected 1.." +
                                               std::to_string(batch_));
    const NetworkModel& model = net_.model();
    driver_.write(act_[0], images, static_cast<std::size_t>(n) * model.image_bytes());
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const std::vector<Command> cmds = layer_commands(l, n, first_image);
        if (layer_hook_) layer_hook_(l, first_image, n, true);
        add(layers_[l], run(cmds));
        if (layer_hook_) layer_hook_(l, first_image, n, false);
    }
    std::vector<std::int64_t> logits(static_cast<std::size_t>(n) * model.num_classes);
    driver_.read(logits_, logits.data(), logits.size() * sizeof(std::int64_t));
    return logits;
}

std::vector<std::uint8_t> NetworkRunner::hidden_output(int n) {
    const NetworkLayer& L = net_.model().layers.back();
    if (!L.relu) throw DriverError("hidden_output: the last layer writes logits, not activations");
    std::vector<std::uint8_t> y(static_cast<std::size_t>(n) * L.M() * L.pooled_h() * L.pooled_w());
    driver_.read(act_.back(), y.data(), y.size());
    return y;
}

}  // namespace cimvp
