#include "sw/driver/network_runner.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "hw/swis_pe.h"
#include "sw/contract/tensor_ops.h"

namespace cimvp {

namespace {
constexpr std::uint64_t kU16 = std::numeric_limits<std::uint16_t>::max();

// Every layer field the runner narrows into a descriptor field (hw/command_format.h) is checked here,
// once, against that field: a value that does not fit is refused naming the layer, instead of
// running with its low bits.
void check_descriptor_fields(const NetworkModel& model, std::size_t l, const LayerPlan& p) {
    const NetworkLayer& L = model.layers[l];
    auto fits = [&](std::int64_t v, std::int64_t max, const char* field, const char* descriptor) {
        if (v < 0 || v > max)
            throw DriverError(model.layer_name(l) + ": " + field + " " + std::to_string(v) + " does not fit the " +
                              descriptor + " (at most " + std::to_string(max) + ")");
    };
    constexpr std::int64_t kU8Max = 255, kU16Max = 65535;
    fits(L.in_c, kU16Max, "in_c", "descriptors' 16-bit channel field");
    fits(L.in_h, kU16Max, "in_h", "descriptors' 16-bit height field");
    fits(L.in_w, kU16Max, "in_w", "descriptors' 16-bit width field");
    if (p.tensor) return;
    if (p.on_pe) {
        fits(L.kind == LayerKind::kConv ? L.kernel : 1, kU8Max, "kernel", "PE-array descriptor's 8-bit kernel field");
    } else {
        fits(L.kernel, kU16Max, "kernel", "im2col descriptor's 16-bit kernel field");
    }
    fits(L.stride, kU8Max, "stride", "im2col descriptor's 8-bit stride field");
    fits(L.padding, kU8Max, "padding", "im2col descriptor's 8-bit padding field");
    fits(L.shift, 62, "shift", "post-processing descriptor's shift field");
    fits(L.pool_size, kU8Max, "pool_size", "post-processing descriptor's 8-bit pool field");
    fits(L.pool_stride, kU8Max, "pool_stride", "post-processing descriptor's 8-bit pool field");
}

}  // namespace

NetworkRunner::NetworkRunner(Driver& driver, const ExecutionPlan& plan, EnergyProbe probe, Tiles tiles)
    : driver_(driver),
      plan_(plan),
      batch_(plan.batch()),
      probe_(std::move(probe)),
      programmed_(tiles == Tiles::kProgrammed) {
    if (programmed_ && !plan_.resident)
        throw std::logic_error("network runner: tiles programmed beforehand, but the plan is not resident");
    const NetworkModel& model = plan_.model;
    const std::size_t n = plan_.size();
    if (n != model.layers.size() || n == 0)
        throw DriverError("network runner: the plan compiles " + std::to_string(n) + " of the model's " +
                          std::to_string(model.layers.size()) + " layers");
    if (plan_.buffers.empty() || plan_.tensor_buffer.size() != n + 1)
        throw DriverError("network runner: the plan places no tensor buffers");
    for (std::size_t l = 0; l < n; ++l) {
        const NetworkLayer& L = model.layers[l];
        const LayerPlan& p = plan_.layers[l];
        if (static_cast<std::uint64_t>(p.mapping.K) > kU16 || static_cast<std::uint64_t>(L.in_c) > kU16)
            throw DriverError(model.layer_name(l) + ": K = " + std::to_string(p.mapping.K) +
                              " exceeds what an im2col descriptor addresses (65535)");
        check_descriptor_fields(model, l, p);
        if (p.tensor && static_cast<std::uint64_t>(batch_) > kU16)
            throw DriverError(model.layer_name(l) + ": a batch of " + std::to_string(batch_) +
                              " images exceeds what a tensor-op descriptor addresses (65535)");
        block_tiles_.emplace_back();
        block_params_.emplace_back();
        if (p.on_pe) {
            tiles_.emplace_back();
            pe_.push_back(load_pe_layer(l));
        } else if (p.tensor || !p.blocks.empty()) {
            tiles_.emplace_back();
            pe_.emplace_back();
            for (const BlockPlan& b : p.blocks) {
                block_tiles_.back().push_back(programmed_ ? TileImages{}
                                                          : driver_.load_tile_images(b.matrix, b.mapping, b.adc));
                block_params_.back().push_back(load_params(L, b.block.first_out, b.block.M));
            }
        } else {
            tiles_.push_back(programmed_ ? TileImages{} : driver_.load_tile_images(p.matrix, p.mapping, p.adc));
            pe_.emplace_back();
        }
        params_.push_back(p.tensor ? 0 : load_params(L, 0, L.M()));
    }
    alloc_activations();
    alloc_scratch();
    layers_.resize(n);
    last_batch_.resize(n);
}

std::uint64_t NetworkRunner::load_params(const NetworkLayer& L, int m0, int count) {
    const std::size_t M = static_cast<std::size_t>(count), o = static_cast<std::size_t>(m0);
    std::vector<std::uint8_t> b(M * (sizeof(std::int64_t) + 2 * sizeof(std::int32_t)));
    std::memcpy(b.data(), L.bias.data() + o, M * sizeof(std::int64_t));
    std::memcpy(b.data() + M * sizeof(std::int64_t), L.mult.data() + o, M * sizeof(std::int32_t));
    std::memcpy(b.data() + M * (sizeof(std::int64_t) + sizeof(std::int32_t)), L.mult_x.data() + o,
                M * sizeof(std::int32_t));
    const std::uint64_t at = driver_.alloc(b.size());
    driver_.write(at, b.data(), b.size());
    return at;
}

namespace {
std::uint64_t on_chip(Driver& driver, std::uint64_t bytes, const char* what) {
    const std::uint64_t free = driver.on_chip_free();
    const std::uint64_t a = driver.alloc_on_chip(bytes);
    if (a == 0)
        throw DriverError(std::string("global buffer: the plan places ") + what + " there (" + std::to_string(bytes) +
                          " bytes), " + std::to_string(free) + " bytes are free");
    return a;
}
}  // namespace

// The plan's tensor buffers: the batch's images in DRAM, the hidden activations and the logits
// where the plan puts them.
void NetworkRunner::alloc_activations() {
    std::vector<std::uint64_t> at;
    for (const ExecutionPlan::TensorBuffer& b : plan_.buffers)
        at.push_back(b.on_chip ? on_chip(driver_, b.bytes, "the activations") : driver_.alloc(b.bytes));
    for (int b : plan_.tensor_buffer) act_.push_back(at.at(static_cast<std::size_t>(b)));
    logits_ = at.at(static_cast<std::size_t>(plan_.logits_buffer));
}

// One on-chip scratch region and one DRAM scratch region, each shared by the layers placed there.
void NetworkRunner::alloc_scratch() {
    const std::uint64_t region =
        plan_.scratch_region_bytes > 0 ? on_chip(driver_, plan_.scratch_region_bytes, "the scratch region") : 0;
    const std::uint64_t dram = plan_.dram_scratch_bytes > 0 ? driver_.alloc(plan_.dram_scratch_bytes) : 0;
    for (std::size_t l = 0; l < plan_.size(); ++l) {
        const LayerPlacement& p = plan_.layers[l].placement;
        const NetworkLayer& L = plan_.layer(l);
        const LayerPlan& lp = plan_.layers[l];
        if (lp.tensor) {  // one descriptor per input of a concat, else one
            scratch_.emplace_back();
            ppu_desc_.push_back(0);
            const std::size_t jobs = L.kind == LayerKind::kConcat ? L.inputs.size() : 1;
            tensor_desc_.push_back(driver_.alloc(jobs * sizeof(TensorOpDescriptor)));
            continue;
        }
        tensor_desc_.push_back(0);
        // A grouped conv's scratch holds its largest block's accumulators.
        int M = L.M();
        if (!lp.blocks.empty()) {
            M = 0;
            for (const BlockPlan& b : lp.blocks) M = std::max(M, b.block.M);
        }
        Scratch s;
        s.acc = p.scratch_on_chip ? region : dram;
        const std::uint64_t v = static_cast<std::uint64_t>(p.images_per_step) * static_cast<std::uint64_t>(L.vectors());
        s.sx = s.acc + align_up(v * static_cast<std::uint64_t>(M) * kAccEntryBytes, kPlanAlign);
        s.staging = s.sx + align_up(v * kAccEntryBytes, kPlanAlign);
        scratch_.push_back(s);
        // One post-processing descriptor (and PE-array descriptor) per step of the batch (and block).
        const std::uint64_t per_step = std::max<std::size_t>(1, lp.blocks.size());
        ppu_desc_.push_back(
            driver_.alloc(static_cast<std::uint64_t>(p.steps) * per_step * sizeof(PostProcessDescriptor)));
        if (plan_.layers[l].on_pe)
            pe_[l].descriptor = driver_.alloc(static_cast<std::uint64_t>(p.steps) * pe_[l].descriptor_stride());
    }
}

RunStats run_measured(Driver& driver, const std::vector<Command>& cmds, const EnergyProbe& probe) {
    EnergyMeter before;
    driver.set_start_hook([&] { before = probe(); });  // after the host wrote the list: not the accelerator's
    const CommandListStats s = driver.run_commands(cmds);
    driver.set_start_hook({});
    RunStats r;
    r.sim_ns = s.sim_ns;
    r.cycles = s.cycles;
    r.commands = s.commands;
    r.energy = probe().since(before).energy();
    return r;
}

RunStats NetworkRunner::run(const std::vector<Command>& cmds) { return run_measured(driver_, cmds, probe_); }

// The plan's SWIS groups as weight records, in [filter][ky][kx][channel group] order
// (docs/registers.md, SWIS PE array), and its N table.
NetworkRunner::PeLayer NetworkRunner::load_pe_layer(std::size_t l) {
    const PeLayerPlan& plan = plan_.layers[l].pe;
    std::vector<std::uint8_t> records;
    records.reserve(plan.groups.groups.size() * kSwisRecordBytes);
    for (const swis::Group& g : plan.groups.groups) {
        const SwisRecord r = pack_swis_record(g);
        records.insert(records.end(), r.begin(), r.end());
    }
    PeLayer p;
    p.records = driver_.alloc(records.size());
    driver_.write(p.records, records.data(), records.size());
    p.n_table = plan.n_table;
    return p;
}

void NetworkRunner::program() {
    if (!plan_.resident || programmed_) return;
    std::vector<Command> cmds;
    for (std::size_t l = 0; l < tiles_.size(); ++l) {
        const LayerPlan& p = plan_.layers[l];
        if (p.on_pe || p.tensor) continue;
        if (p.blocks.empty()) emit_program_pass(cmds, p.mapping, driver_.address_map(), tiles_[l], 0, true);
        for (std::size_t b = 0; b < p.blocks.size(); ++b)
            emit_program_pass(cmds, p.blocks[b].mapping, driver_.address_map(), block_tiles_[l][b], 0, true);
    }
    cmds.push_back(Command{});
    programming_ = run(cmds);
}

std::vector<Command> NetworkRunner::tensor_commands(std::size_t l, int n) {
    const NetworkModel& model = plan_.model;
    const NetworkLayer& L = plan_.layer(l);
    const std::vector<int> in = model.inputs_of(l);
    const std::uint64_t hw = static_cast<std::uint64_t>(L.in_h) * L.in_w;
    std::vector<TensorOpDescriptor> jobs;
    TensorOpDescriptor d;
    d.dst = act_[l + 1];
    d.height = static_cast<std::uint16_t>(L.in_h);
    d.width = static_cast<std::uint16_t>(L.in_w);
    d.images = static_cast<std::uint16_t>(n);
    d.shift = static_cast<std::uint8_t>(L.shift);
    d.a_out_bits = static_cast<std::uint8_t>(L.a_out_bits);
    d.mult_a = L.mult[0];
    d.bias_a = L.bias[0];
    if (L.kind == LayerKind::kAdd) {
        d.op = static_cast<std::uint8_t>(TensorOp::kAdd);
        d.src_a = act_[static_cast<std::size_t>(in[0])];
        d.src_b = act_[static_cast<std::size_t>(in[1])];
        d.channels = static_cast<std::uint16_t>(L.in_c);
        d.mult_b = L.mult[1];
        d.bias_b = L.bias[1];
        jobs.push_back(d);
    } else if (L.kind == LayerKind::kConcat) {
        // Each input into its channel slice of every image's output map.
        d.op = static_cast<std::uint8_t>(TensorOp::kScale);
        d.dst_image_stride = static_cast<std::uint32_t>(L.output_bytes());
        std::uint64_t channel = 0;
        for (std::size_t i = 0; i < in.size(); ++i) {
            const int c = model.tensor(static_cast<std::size_t>(in[i])).c;
            TensorOpDescriptor j = d;
            j.src_a = act_[static_cast<std::size_t>(in[i])];
            j.dst = d.dst + channel * hw;
            j.channels = static_cast<std::uint16_t>(c);
            j.mult_a = L.mult[i];
            j.bias_a = L.bias[i];
            jobs.push_back(j);
            channel += static_cast<std::uint64_t>(c);
        }
    } else {
        d.src_a = act_[static_cast<std::size_t>(in[0])];
        d.channels = static_cast<std::uint16_t>(L.in_c);
        if (L.pool == PoolKind::kGlobalAvg) {
            d.op = static_cast<std::uint8_t>(TensorOp::kGlobalAvg);
        } else {
            d.op = static_cast<std::uint8_t>(TensorOp::kScale);
            d.pool = TensorOpDescriptor::pool_field(static_cast<int>(L.pool), L.pool_size, L.pool_stride);
        }
        jobs.push_back(d);
    }
    std::vector<Command> cmds;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const std::uint64_t at = tensor_desc_[l] + i * sizeof(TensorOpDescriptor);
        driver_.write(at, &jobs[i], sizeof jobs[i]);
        cmds.push_back(make_tensor_op(at));
    }
    cmds.push_back(Command{});
    return cmds;
}

std::vector<Command> NetworkRunner::layer_commands(std::size_t l, int n, std::uint64_t first_image) {
    const NetworkLayer& L = plan_.layer(l);
    const LayerPlan& lp = plan_.layers[l];
    if (lp.tensor) return tensor_commands(l, n);
    const LayerMapping& m = lp.mapping;
    const AddressMap& map = driver_.address_map();
    const Scratch& scratch = scratch_[l];
    const int step_images = lp.placement.images_per_step;
    const int vpi = L.vectors();
    if ((first_image + static_cast<std::uint64_t>(n)) * static_cast<std::uint64_t>(vpi) >
        std::numeric_limits<std::uint32_t>::max())
        throw DriverError("vector index past 2^32: the run is too long for the read-noise numbering");
    const bool conv = L.kind == LayerKind::kConv;
    const bool pe = lp.on_pe;
    const std::uint64_t in_bytes = static_cast<std::uint64_t>(L.in_c) * L.in_h * L.in_w;
    const std::uint64_t out_bytes = L.relu ? static_cast<std::uint64_t>(L.M()) * L.pooled_h() * L.pooled_w()
                                           : static_cast<std::uint64_t>(plan_.model.num_classes) * sizeof(std::int64_t);
    std::vector<Command> cmds;
    const bool grouped = !lp.blocks.empty();
    if (!pe && !grouped && !plan_.resident && m.passes == 1) emit_program_pass(cmds, m, map, tiles_[l], 0, true);
    // What every step's PE-array descriptor shares: the job but its vector count.
    PeArrayDescriptor pe_job;
    if (pe) {
        const swis::LayerShape& shape = lp.pe.groups.shape;
        pe_job.act = scratch.staging;
        pe_job.weights = pe_[l].records;
        pe_job.out = scratch.acc;
        pe_job.filters = static_cast<std::uint32_t>(L.M());
        pe_job.channels = static_cast<std::uint16_t>(shape.channels);
        pe_job.kernel_h = static_cast<std::uint8_t>(shape.kernel_h);
        pe_job.kernel_w = static_cast<std::uint8_t>(shape.kernel_w);
        pe_job.mode = static_cast<std::uint8_t>(lp.pe.double_shift ? PeMode::kDoubleShift : PeMode::kSingleShift);
    }
    // The batch in the plan's steps: each step's accumulators are post-processed before the next
    // step overwrites them.
    for (int i0 = 0, step = 0; i0 < n; i0 += step_images, ++step) {
        const int k = std::min(step_images, n - i0);
        const int vectors = k * vpi;
        const std::uint64_t first_vector = (first_image + static_cast<std::uint64_t>(i0)) * vpi;
        const std::uint64_t src = act_[static_cast<std::size_t>(plan_.model.inputs_of(l)[0])] +
                                  static_cast<std::uint64_t>(i0) * in_bytes;
        const std::uint64_t dst = act_[l + 1] + static_cast<std::uint64_t>(i0) * out_bytes;
        if (grouped) {
            emit_blocks(cmds, l, k, step, first_vector, src, dst);
            continue;
        }
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
            cmds.push_back(input(-1, scratch.staging, 0, vectors));
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
                if (!plan_.resident && m.passes > 1) emit_program_pass(cmds, m, map, tiles_[l], pass, true);
                emit_chunks(cmds, m, map, pass, vectors, lp.chunk, first_vector, input, scratch.acc, scratch.sx, true);
            }
        }
        PostProcessDescriptor d;
        d.acc = scratch.acc;
        d.sx = scratch.sx;
        d.params = params_[l];
        d.dst = L.relu ? dst : logits_ + static_cast<std::uint64_t>(i0) * out_bytes;
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

// One step of a grouped conv, block by block: its input channels gathered (2D DMA) into the staging
// buffer when the layer has several blocks, im2col from there into the block's tiles, reduction, and
// post-processing of the block's outputs into their channel slice of each image's map.
void NetworkRunner::emit_blocks(std::vector<Command>& cmds, std::size_t l, int k, int step,
                                std::uint64_t first_vector, std::uint64_t src, std::uint64_t dst) {
    const NetworkLayer& L = plan_.layer(l);
    const LayerPlan& lp = plan_.layers[l];
    const AddressMap& map = driver_.address_map();
    const Scratch& scratch = scratch_[l];
    const std::uint64_t plane = static_cast<std::uint64_t>(L.in_h) * L.in_w;
    const std::uint64_t in_bytes = static_cast<std::uint64_t>(L.in_c) * plane;
    const std::uint64_t out_plane = static_cast<std::uint64_t>(L.pooled_h()) * L.pooled_w();
    const bool gather = lp.blocks.size() > 1;
    const int vectors = k * L.vectors();
    for (std::size_t b = 0; b < lp.blocks.size(); ++b) {
        const BlockPlan& bp = lp.blocks[b];
        const LayerMapping& m = bp.mapping;
        std::uint64_t from = src;
        int channels = L.in_c;
        if (gather) {
            DmaDescriptor g;
            g.src = src + static_cast<std::uint64_t>(bp.block.first_in) * plane;
            g.dst = scratch.staging;
            g.row_bytes = static_cast<std::uint32_t>(static_cast<std::uint64_t>(bp.block.in_channels) * plane);
            g.rows = static_cast<std::uint32_t>(k);
            g.src_stride = static_cast<std::uint32_t>(in_bytes);
            g.dst_stride = g.row_bytes;
            cmds.push_back(make_dma(g));
            from = scratch.staging;
            channels = bp.block.in_channels;
        }
        const InputCommand input = [&](int rt, std::uint64_t to, int v0, int nv) {
            Im2colDescriptor d;
            d.src = from;
            d.dst = to;
            d.channels = static_cast<std::uint16_t>(channels);
            d.height = static_cast<std::uint16_t>(L.in_h);
            d.width = static_cast<std::uint16_t>(L.in_w);
            d.kernel_h = d.kernel_w = static_cast<std::uint16_t>(L.kernel);
            d.stride = static_cast<std::uint8_t>(L.stride);
            d.padding = static_cast<std::uint8_t>(L.padding);
            d.first_row = static_cast<std::uint16_t>(m.first_row(rt));
            d.rows = static_cast<std::uint16_t>(m.rows_in(rt));
            d.first_vector = static_cast<std::uint32_t>(v0);
            d.vectors = static_cast<std::uint32_t>(nv);
            return make_im2col(d);
        };
        for (int pass = 0; pass < m.passes; ++pass) {
            if (!plan_.resident) emit_program_pass(cmds, m, map, block_tiles_[l][b], pass, true);
            emit_chunks(cmds, m, map, pass, vectors, bp.chunk, first_vector, input, scratch.acc, scratch.sx, true);
        }
        PostProcessDescriptor d;
        d.acc = scratch.acc;
        d.sx = scratch.sx;
        d.params = block_params_[l][b];
        d.dst = dst + static_cast<std::uint64_t>(bp.block.first_out) * out_plane;
        d.channels = static_cast<std::uint32_t>(bp.block.M);
        d.out_h = static_cast<std::uint32_t>(L.out_h());
        d.out_w = static_cast<std::uint32_t>(L.out_w());
        d.images = static_cast<std::uint32_t>(k);
        d.shift = static_cast<std::uint8_t>(L.shift);
        d.a_out_bits = static_cast<std::uint8_t>(L.a_out_bits);
        d.pool = static_cast<std::uint8_t>(L.pool);
        d.pool_size = static_cast<std::uint8_t>(L.pool_size);
        d.pool_stride = static_cast<std::uint8_t>(L.pool_stride);
        d.dst_image_stride = gather ? static_cast<std::uint32_t>(L.output_bytes()) : 0;
        const std::uint64_t at = ppu_desc_[l] + (static_cast<std::uint64_t>(step) * lp.blocks.size() + b) *
                                                    sizeof(PostProcessDescriptor);
        driver_.write(at, &d, sizeof d);
        cmds.push_back(make_post_process(at));
    }
}

std::vector<std::int64_t> NetworkRunner::run_batch(const std::uint8_t* images, int n, std::uint64_t first_image) {
    if (n < 1 || n > batch_) throw DriverError("run_batch: " + std::to_string(n) + " images, expected 1.." +
                                               std::to_string(batch_));
    const NetworkModel& model = plan_.model;
    driver_.write(act_[0], images, static_cast<std::size_t>(n) * model.image_bytes());
    for (std::size_t l = 0; l < plan_.size(); ++l) {
        const std::vector<Command> cmds = layer_commands(l, n, first_image);
        if (layer_hook_) layer_hook_(l, first_image, n, true);
        last_batch_[l] = run(cmds);
        layers_[l] += last_batch_[l];
        if (layer_hook_) layer_hook_(l, first_image, n, false);
    }
    std::vector<std::int64_t> logits(static_cast<std::size_t>(n) * model.num_classes);
    driver_.read(logits_, logits.data(), logits.size() * sizeof(std::int64_t));
    return logits;
}

std::vector<std::uint8_t> NetworkRunner::hidden_output(int n) {
    const NetworkLayer& L = plan_.layer(plan_.size() - 1);
    if (!L.relu) throw DriverError("hidden_output: the last layer writes logits, not activations");
    std::vector<std::uint8_t> y(static_cast<std::size_t>(n) * L.M() * L.pooled_h() * L.pooled_w());
    driver_.read(act_[plan_.size()], y.data(), y.size());
    return y;
}

}  // namespace cimvp
