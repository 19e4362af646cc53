#include "sw/host/network_runner.h"

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
    std::uint64_t acc_bytes = 0, sx_bytes = 0;
    act_.push_back(driver_.alloc(static_cast<std::uint64_t>(batch_) * model.image_bytes()));
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
        ppu_desc_.push_back(driver_.alloc(sizeof(PostProcessDescriptor)));
        const std::uint64_t vectors = static_cast<std::uint64_t>(batch_) * L.vectors();
        acc_bytes = std::max(acc_bytes, vectors * M * kAccEntryBytes);
        sx_bytes = std::max(sx_bytes, vectors * kAccEntryBytes);
        if (L.relu)
            act_.push_back(driver_.alloc(static_cast<std::uint64_t>(batch_) * M * L.pooled_h() * L.pooled_w()));
    }
    acc_ = driver_.alloc(acc_bytes);
    sx_ = driver_.alloc(sx_bytes);
    logits_ = driver_.alloc(static_cast<std::uint64_t>(batch_) * model.num_classes * sizeof(std::int64_t));
    layers_.resize(n);
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
    p.descriptor = driver_.alloc(sizeof(PeArrayDescriptor) + p.n_table.size());
    p.staging = driver_.alloc(static_cast<std::uint64_t>(batch_) * L.vectors() * L.K());
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
    const int vpi = L.vectors();
    const int vectors = n * vpi;
    const std::uint64_t first_vector = first_image * static_cast<std::uint64_t>(vpi);
    if (first_vector + static_cast<std::uint64_t>(vectors) > std::numeric_limits<std::uint32_t>::max())
        throw DriverError("vector index past 2^32: the run is too long for the read-noise numbering");
    const bool conv = L.kind == LayerKind::kConv;
    const InputCommand input = [&](int rt, std::uint64_t dst, int v0, int nv) {
        Im2colDescriptor d;
        d.src = act_[l];
        d.dst = dst;
        d.channels = static_cast<std::uint16_t>(L.in_c);
        d.height = static_cast<std::uint16_t>(L.in_h);
        d.width = static_cast<std::uint16_t>(L.in_w);
        d.kernel_h = static_cast<std::uint16_t>(conv ? L.kernel : L.in_h);
        d.kernel_w = static_cast<std::uint16_t>(conv ? L.kernel : L.in_w);
        d.stride = static_cast<std::uint8_t>(L.stride);
        d.padding = static_cast<std::uint8_t>(L.padding);
        d.first_row = static_cast<std::uint16_t>(m.first_row(rt));
        d.rows = static_cast<std::uint16_t>(m.rows_in(rt));
        d.first_vector = static_cast<std::uint32_t>(v0);
        d.vectors = static_cast<std::uint32_t>(nv);
        return make_im2col(d);
    };
    std::vector<Command> cmds;
    if (net_.options().pe(l)) {
        // The PE array reads whole im2col vectors from DRAM and writes the accumulators.
        const PeLayer& p = pe_[l];
        Command gather = input(0, p.staging, 0, vectors);
        Im2colDescriptor g;
        std::memcpy(&g, reinterpret_cast<const unsigned char*>(&gather) + kDmaDescriptorOffsetInCommand, sizeof g);
        g.first_row = 0;
        g.rows = static_cast<std::uint16_t>(L.K());
        cmds.push_back(make_im2col(g));
        PeArrayDescriptor d;
        d.act = p.staging;
        d.weights = p.records;
        d.out = acc_;
        d.vectors = static_cast<std::uint32_t>(vectors);
        d.filters = static_cast<std::uint32_t>(L.M());
        const swis::LayerShape shape = NetworkReference::swis_shape(L);
        d.channels = static_cast<std::uint16_t>(shape.channels);
        d.kernel_h = static_cast<std::uint8_t>(shape.kernel_h);
        d.kernel_w = static_cast<std::uint8_t>(shape.kernel_w);
        d.mode = static_cast<std::uint8_t>(net_.options().double_shift ? PeMode::kDoubleShift : PeMode::kSingleShift);
        std::vector<std::uint8_t> bytes(sizeof d + p.n_table.size());
        std::memcpy(bytes.data(), &d, sizeof d);
        std::memcpy(bytes.data() + sizeof d, p.n_table.data(), p.n_table.size());
        driver_.write(p.descriptor, bytes.data(), bytes.size());
        cmds.push_back(make_pe_run(p.descriptor));
    } else {
        const int chunk = max_chunk(m, cfg_, true);
        for (int pass = 0; pass < m.passes; ++pass) {
            if (!net_.resident()) emit_program_pass(cmds, m, map, tiles_[l], pass, true);
            emit_chunks(cmds, m, map, pass, vectors, chunk, first_vector, input, acc_, sx_, true);
        }
    }
    PostProcessDescriptor d;
    d.acc = acc_;
    d.sx = sx_;
    d.params = params_[l];
    d.dst = L.relu ? act_[l + 1] : logits_;
    d.channels = static_cast<std::uint32_t>(L.M());
    d.out_h = static_cast<std::uint32_t>(L.out_h());
    d.out_w = static_cast<std::uint32_t>(L.out_w());
    d.images = static_cast<std::uint32_t>(n);
    d.shift = static_cast<std::uint8_t>(L.shift);
    d.a_out_bits = static_cast<std::uint8_t>(L.relu ? L.a_out_bits : 0);
    d.pool = static_cast<std::uint8_t>(L.pool);
    d.pool_size = static_cast<std::uint8_t>(L.pool_size);
    d.pool_stride = static_cast<std::uint8_t>(L.pool_stride);
    d.logits = L.relu ? 0 : 1;
    driver_.write(ppu_desc_[l], &d, sizeof d);
    cmds.push_back(make_post_process(ppu_desc_[l]));
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
