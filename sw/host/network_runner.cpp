#include "sw/host/network_runner.h"

#include <algorithm>
#include <cstring>
#include <limits>

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
        tiles_.push_back(driver_.load_tile_images(net_.matrices()[l], m, net_.adc_plan().tables[l]));
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

void NetworkRunner::program() {
    if (!net_.resident()) return;
    std::vector<Command> cmds;
    for (std::size_t l = 0; l < tiles_.size(); ++l)
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
    const int chunk = max_chunk(m, cfg_, true);
    for (int pass = 0; pass < m.passes; ++pass) {
        if (!net_.resident()) emit_program_pass(cmds, m, map, tiles_[l], pass, true);
        for (int v0 = 0; v0 < vectors; v0 += chunk)
            emit_chunk(cmds, m, map, pass, v0, std::min(chunk, vectors - v0), first_vector + v0, input, acc_, sx_,
                       true);
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
    for (std::size_t l = 0; l < model.layers.size(); ++l) add(layers_[l], run(layer_commands(l, n, first_image)));
    std::vector<std::int64_t> logits(static_cast<std::size_t>(n) * model.num_classes);
    driver_.read(logits_, logits.data(), logits.size() * sizeof(std::int64_t));
    return logits;
}

}  // namespace cimvp
