// `cimvp info`: the effective configuration, the platform's address map, the cost figures and area; with --model, the
// model's nodes (their inputs, output tensors and, for a grouped conv, its blocks on this config).
#include <cstdio>
#include <iostream>

#include "sw/app/command_line.h"
#include "sw/app/commands.h"
#include "hw/address_map.h"
#include "hw/cost_model.h"
#include "sw/app/data_dir.h"
#include "sw/formats/config_loader.h"
#include "sw/formats/model_file.h"

namespace cimvp::cli {

namespace {

std::string tensor_name(const NetworkModel& m, int j) {
    return j == 0 ? "image" : (m.is_chain() ? "layer " : "node ") + std::to_string(j - 1);
}

void print_model(const NetworkModel& m, const ArchConfig& cfg) {
    std::printf("model %s: \"%s\", scheme %s, %s, %zu %s, input %dx%dx%d %d-bit, %d classes\n", m.path.c_str(),
                m.name.c_str(), m.scheme.c_str(), m.is_chain() ? "a chain" : "a graph", m.layers.size(),
                m.is_chain() ? "layers" : "nodes", m.in_c, m.in_h, m.in_w, m.in_bits, m.num_classes);
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        const NetworkLayer& L = m.layers[i];
        std::string inputs;
        for (int j : m.inputs_of(i)) inputs += (inputs.empty() ? "" : ", ") + tensor_name(m, j);
        const NetworkModel::Tensor t = m.output(i);
        std::string what;
        if (L.kind == LayerKind::kConv)
            what = std::to_string(L.kernel) + "x" + std::to_string(L.kernel) + " stride " + std::to_string(L.stride) +
                   (L.grouped() ? ", groups " + std::to_string(L.groups) + " in " +
                                      std::to_string(L.blocks(cfg.crossbar.rows).size()) + " blocks"
                                : std::string());
        else if (L.kind == LayerKind::kPool)
            what = L.pool == PoolKind::kGlobalAvg ? "global average" : L.pool == PoolKind::kMax ? "max" : L.pool == PoolKind::kAvg ? "average" : "requantize";
        std::printf("  %-16s <- %-24s -> %s%s %dx%dx%d%s%s\n", m.layer_name(i).c_str(), inputs.c_str(),
                    L.relu ? std::to_string(t.bits).c_str() : "logits", L.relu ? "-bit" : "", t.c, t.h, t.w,
                    what.empty() ? "" : "  ", what.c_str());
    }
}

// Where every cost figure comes from, and the chip's area by component (docs/costs.md).
void print_costs(const ArchConfig& cfg) {
    const TechnologyConfig tech = effective_technology(cfg);
    std::printf("technology %s%s%s\n", tech.name.c_str(),
                cfg.technology.given() ? (tech.file.empty() ? " (inline)" : (" (" + tech.file + ")").c_str())
                                       : " (default: for area only; every cost figure is the config's)",
                "");
    for (const CostFigure& f : derive_costs(tech, cfg)) {
        const std::string src = cost_source(cfg, f.key);
        std::printf("  %-42s %12.6g  %s%s\n", f.key.c_str(), cost_field(cfg, f.key), src.c_str(),
                    src == "technology" ? (": " + f.formula).c_str() : "");
    }
    const AreaBreakdown a = chip_area(cfg);
    std::printf("area %.4f mm^2\n", a.total());
    for (const CostFigure& f : area_figures(cfg))
        std::printf("  %-16s %10.4f mm^2  %5.1f %%  %s\n", f.key.c_str(), f.value,
                    a.total() > 0 ? 100.0 * f.value / a.total() : 0.0, f.formula.c_str());
}

}  // namespace

int info_command(const Args& args) {
    po::options_description d("cimvp info [options]");
    add_common(d);
    d.add_options()("model", po::value<std::string>(), "also print this model file's nodes and their inputs");
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    const AddressMap map(cfg);
    std::cout << config_to_json(cfg).dump(2) << '\n';
    std::printf("address map: dram 0x%llx+0x%llx, global buffer 0x%llx+0x%llx, controller 0x%llx, dma 0x%llx, "
                "ppu 0x%llx, %d tiles from 0x%llx stride 0x%llx\n",
                static_cast<unsigned long long>(kDramBase), static_cast<unsigned long long>(map.dram_size()),
                static_cast<unsigned long long>(kGlobalBufferBase),
                static_cast<unsigned long long>(map.global_buffer_size()),
                static_cast<unsigned long long>(kControllerBase), static_cast<unsigned long long>(kDmaBase),
                static_cast<unsigned long long>(kPostProcessBase),
                cfg.platform.tiles, static_cast<unsigned long long>(kTileBase),
                static_cast<unsigned long long>(map.tile().stride));
    print_costs(cfg);
    if (vm.count("model")) print_model(load_model(resolve_data_path(vm["model"].as<std::string>())), cfg);
    return kExitOk;
}

}  // namespace cimvp::cli
