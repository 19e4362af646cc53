#include "sw/app/swis_report.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "sw/app/swis_paper_tables.h"
#include "sw/formats/config_loader.h"
#include "sw/support/text_format.h"

namespace cimvp {

namespace {

using swis::Mode;
using swis::kModes;
using swis::mode_index;

std::string num(double v, const char* fmt = "%.2f") { return std::isnan(v) ? "-" : format_text(fmt, v); }

// A mode with no schedule at this target (double shift below N = 2) has a NaN mean N and no figures.
template <class Figures>
std::string fig(const Figures& f, double v, const char* fmt) {
    return num(std::isnan(f.mean_shifts) ? std::nan("") : v, fmt);
}

void print_totals(std::FILE* out, const char* label, const SwisTotals& t, double clock_ns) {
    std::fprintf(out, "  %s: %.3f GMAC\n", label, t.macs / 1e9);
    std::fprintf(out, "    %-12s", "");
    for (Mode m : kModes) std::fprintf(out, "%12s", swis::mode_name(m));
    std::fprintf(out, "\n    %-12s", "mean N");
    for (Mode m : kModes) std::fprintf(out, "%12s", num(t.modes[mode_index(m)].mean_shifts).c_str());
    std::fprintf(out, "\n    %-12s", "Mcycles");
    for (Mode m : kModes) std::fprintf(out, "%12s", fig(t.modes[mode_index(m)], t.modes[mode_index(m)].perf.cycles / 1e6, "%.3f").c_str());
    std::fprintf(out, "\n    %-12s", "frames/s");
    for (Mode m : kModes)
        std::fprintf(out, "%12s", fig(t.modes[mode_index(m)], t.modes[mode_index(m)].perf.frames_per_second(clock_ns), "%.1f").c_str());
    std::fprintf(out, "\n    %-12s", "energy uJ");
    for (Mode m : kModes) std::fprintf(out, "%12s", fig(t.modes[mode_index(m)], t.modes[mode_index(m)].perf.energy_pj() / 1e6, "%.1f").c_str());
    std::fprintf(out, "\n    %-12s", "frames/J");
    for (Mode m : kModes) std::fprintf(out, "%12s", fig(t.modes[mode_index(m)], t.modes[mode_index(m)].perf.frames_per_joule(), "%.1f").c_str());
    std::fprintf(out, "\n    %-12s", "weights KiB");
    for (Mode m : kModes)
        std::fprintf(out, "%12s", fig(t.modes[mode_index(m)], t.modes[mode_index(m)].perf.weight_storage_bytes / 1024, "%.1f").c_str());
    std::fprintf(out, "\n");
}

void print_swis_header(const SwisJobResult& r, std::FILE* out) {
    std::fprintf(out, "SWIS report: %s %s (%s), %dx%d PE array of %d-weight groups, clock %.3g ns\n", r.kind.c_str(),
                 r.source.c_str(), r.network.c_str(), r.rows, r.cols, r.group_size, r.clock_ns);
    if (r.group_size != swis::kGroupSize)
        std::fprintf(out, "PEs of %d lane%s: the cost model's gates, area and energy per cycle at that width (the "
                          "SystemC array and the RTL PE have %d lanes)\n",
                     r.group_size, r.group_size == 1 ? "" : "s", swis::kGroupSize);
    std::fprintf(out, "energy per busy PE cycle (pJ): SS %.3g, DS %.3g, Act/Wgt %.3g, BitFusion %.3g, FXP %.3g; buffers "
                      "%.3g pJ/B, DRAM %.3g pJ/B\n",
                 r.costs.pe_pj[mode_index(Mode::kSS)], r.costs.pe_pj[mode_index(Mode::kDS)],
                 r.costs.pe_pj[mode_index(Mode::kAct)], r.costs.pe_pj[mode_index(Mode::kBitFusion)],
                 r.costs.pe_pj[mode_index(Mode::kFxp)], r.costs.sram_pj_per_byte, r.costs.dram_pj_per_byte);
    std::fprintf(out, "arrays (%s; PE areas in %s): ",
                 r.iso_area ? "FXP and BitFusion at the area of the configured array of single-shift PEs"
                            : "every mode on the configured array (--same-pes)",
                 r.technology.c_str());
    for (Mode m : {Mode::kSS, Mode::kDS, Mode::kBitFusion, Mode::kFxp}) {
        const int i = mode_index(m);
        std::fprintf(out, "%s%s %dx%d of %.0f um2 (%.4f mm2)", m == Mode::kSS ? "" : ", ",
                     m == Mode::kSS ? "SS/C-SS/Act/Wgt" : m == Mode::kDS ? "DS/C-DS" : swis::mode_name(m),
                     r.arrays[i].rows, r.arrays[i].cols, r.pe_area_um2[i], r.arrays[i].pes() * r.pe_area_um2[i] * 1e-6);
    }
    std::fprintf(out, "\n");
}

void print_swis_body(const SwisJobResult& r, std::FILE* out) {
    for (const auto& s : r.skipped) std::fprintf(out, "not on the PE array: %s\n", s.c_str());
    for (const SwisTargetReport& t : r.targets) {
        std::fprintf(out, "\nN = %g (target mean shifts; Act/Wgt bits%s)\n", t.target,
                     integral_target(t.target) ? "" : ": the SS schedule's per-tile N");
        std::fprintf(out, "  %-22s %9s %5s %5s %5s %5s |", "layer", "MMAC", "SS", "DS", "C-SS", "C-DS");
        for (Mode m : kModes) std::fprintf(out, " %9s", swis::mode_name(m));
        std::fprintf(out, " | kcycles; energy uJ below\n");
        for (const SwisLayerRow& l : t.layers) {
            std::fprintf(out, "  %-22s %9.2f", l.name.c_str(), l.macs / 1e6);
            for (int m = 0; m < 4; ++m) std::fprintf(out, " %5s", num(l.modes[m].mean_shifts).c_str());
            std::fprintf(out, " |");
            for (Mode m : kModes) std::fprintf(out, " %9s", fig(l.modes[mode_index(m)], l.modes[mode_index(m)].perf.cycles / 1e3, "%.1f").c_str());
            std::fprintf(out, "\n  %-22s %9s %23s |", "", "", "");
            for (Mode m : kModes) std::fprintf(out, " %9s", fig(l.modes[mode_index(m)], l.modes[mode_index(m)].perf.energy_pj() / 1e6, "%.2f").c_str());
            std::fprintf(out, "\n");
        }
        print_totals(out, "total, every layer on the array", t.all, r.clock_ns);
        print_totals(out, "total, convolutions only (the paper's scope)", t.conv, r.clock_ns);
        const auto& cm = t.conv.modes;
        auto ratio = [&](Mode a, Mode b) {  // a's speedup over b; "-" when either has no schedule
            const double v = static_cast<double>(cm[mode_index(b)].perf.cycles) /
                             static_cast<double>(std::max<std::uint64_t>(1, cm[mode_index(a)].perf.cycles));
            return fig(cm[mode_index(a)], std::isnan(cm[mode_index(b)].mean_shifts) ? std::nan("") : v, "%.2fx");
        };
        const double energy = cm[mode_index(Mode::kAct)].perf.energy_pj() /
                              std::max(1e-9, cm[mode_index(Mode::kDS)].perf.energy_pj());
        std::fprintf(out, "    speedup at equal N (conv): DS/Act %s, SS/Act %s, DS/FXP %s, DS/BitFusion %s; "
                          "energy DS vs Act %s\n",
                     ratio(Mode::kDS, Mode::kAct).c_str(), ratio(Mode::kSS, Mode::kAct).c_str(),
                     ratio(Mode::kDS, Mode::kFxp).c_str(), ratio(Mode::kDS, Mode::kBitFusion).c_str(),
                     fig(cm[mode_index(Mode::kDS)], energy, "%.2fx").c_str());
    }
    if (!r.paper_points.empty()) {
        std::fprintf(out, "\nThe paper's Table 4 operating points (%s; accuracy as the paper measured it), convolutions only:\n",
                     r.paper_network.c_str());
        for (const SwisPaperPoint& p : r.paper_points) {
            std::fprintf(out, "  %s\n    %-16s", p.accuracy.c_str(), "");
            for (Mode m : kModes) std::fprintf(out, "%10s", swis::mode_name(m));
            std::fprintf(out, "\n    %-16s", "S");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", num(f.shifts, "%g").c_str());
            std::fprintf(out, "\n    %-16s", "frames/s ours");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", std::isnan(f.shifts) ? "-" : num(f.fps, "%.1f").c_str());
            std::fprintf(out, "\n    %-16s", "frames/s paper");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", f.paper_fps > 0 ? num(f.paper_fps, "%.1f").c_str() : "-");
            std::fprintf(out, "\n    %-16s", "x Act ours");
            const auto& act = p.modes[mode_index(Mode::kAct)];
            for (const auto& f : p.modes)
                std::fprintf(out, "%10s", std::isnan(f.shifts) ? "-" : num(f.fps / act.fps, "%.2f").c_str());
            std::fprintf(out, "\n    %-16s", "x Act paper");
            for (const auto& f : p.modes)
                std::fprintf(out, "%10s", f.paper_fps > 0 ? num(f.paper_fps / act.paper_fps, "%.2f").c_str() : "-");
            std::fprintf(out, "\n    %-16s", "frames/J ours");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", std::isnan(f.shifts) ? "-" : num(f.fpj, "%.1f").c_str());
            std::fprintf(out, "\n    %-16s", "frames/J paper");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", f.paper_fpj > 0 ? num(f.paper_fpj, "%.1f").c_str() : "-");
            std::fprintf(out, "\n");
        }
    }
    if (r.has_accuracy) {
        std::fprintf(out, "\nAccuracy on %d test images (post-training; %s): int8 %.2f%%\n", r.images,
                     r.accuracy_method == "integer"
                         ? ("lossless ADC: the reference's exact integer arithmetic, checked against NetworkReference on " +
                            std::to_string(r.cross_checked) + " images")
                               .c_str()
                         : "C++ network reference",
                     100 * r.int8_accuracy);
        std::fprintf(out, "  %-6s %8s %8s %8s %8s %8s %8s\n", "N", "SS", "DS", "C-SS", "C-DS", "Wgt", "Act");
        for (const SwisAccuracyRow& a : r.accuracy) {
            std::fprintf(out, "  %-6g", a.target);
            for (Mode m : kAccuracyModes) {
                const auto& v = a.accuracy[mode_index(m)];
                std::fprintf(out, " %8s", v ? num(100 * *v).c_str() : "-");
            }
            std::fprintf(out, "\n");
        }
        std::string skipped;
        for (Mode m : kAccuracyModes)
            if (!r.accuracy_modes[static_cast<std::size_t>(mode_index(m))])
                skipped += std::string(skipped.empty() ? "" : ", ") + swis::mode_name(m);
        if (!skipped.empty()) std::fprintf(out, "  not measured (--accuracy-modes): %s\n", skipped.c_str());
        std::fprintf(out, "  weight compression against int8 (groups of %d):\n  %-6s %8s %8s %8s %8s\n", r.group_size,
                     "N", "SS", "DS", "C-SS", "C-DS");
        for (const SwisAccuracyRow& a : r.accuracy) {
            std::fprintf(out, "  %-6g", a.target);
            for (Mode m : {Mode::kSS, Mode::kDS, Mode::kCSS, Mode::kCDS}) {
                const auto& v = a.compression[mode_index(m)];
                std::fprintf(out, " %8s", v ? num(*v, "%.2fx").c_str() : "-");
            }
            std::fprintf(out, "\n");
        }
    } else if (!r.accuracy_note.empty()) {
        std::fprintf(out, "\n%s\n", r.accuracy_note.c_str());
    }
    std::fprintf(out, "wall time %.2f s\n", r.wall_s);
}

}  // namespace

void print_swis_report(const SwisJobResult& r, std::FILE* out) {
    print_swis_header(r, out);
    print_swis_body(r, out);
}

namespace {

nlohmann::json perf_json(const SwisModeFigures& f, double clock_ns) {
    const auto& p = f.perf;
    nlohmann::json j = {{"mean_shifts", std::isnan(f.mean_shifts) ? nlohmann::json(nullptr) : nlohmann::json(f.mean_shifts)},
                        {"cycles", p.cycles},
                        {"pe_cycles", p.pe_cycles},
                        {"energy_pj",
                         {{"total", p.energy_pj()}, {"pe", p.pe_pj}, {"buffers", p.sram_pj}, {"dram", p.dram_pj}}},
                        {"buffer_bytes",
                         {{"activations", p.act_buffer_bytes}, {"weights", p.weight_buffer_bytes}, {"outputs", p.output_buffer_bytes}}},
                        {"dram_bytes", p.dram_bytes},
                        {"weight_storage_bytes", p.weight_storage_bytes}};
    if (p.cycles) {
        j["frames_per_second"] = p.frames_per_second(clock_ns);
        j["frames_per_joule"] = p.frames_per_joule();
    }
    return j;
}

nlohmann::json row_json(const SwisModeRow& row, double clock_ns) {
    nlohmann::json j = nlohmann::json::object();
    for (Mode m : kModes) j[swis::mode_name(m)] = perf_json(row[mode_index(m)], clock_ns);
    return j;
}

}  // namespace

nlohmann::json swis_job_to_json(const SwisJobResult& r, const ArchConfig& cfg, const SwisJobSpec& spec) {
    nlohmann::json targets = nlohmann::json::array();
    for (const SwisTargetReport& t : r.targets) {
        nlohmann::json layers = nlohmann::json::array();
        for (const SwisLayerRow& l : t.layers)
            layers.push_back({{"name", l.name},
                              {"type", l.type},
                              {"conv", l.conv},
                              {"macs", l.macs},
                              {"weights", l.weights},
                              {"mapped_to", "pe_array"},
                              {"modes", row_json(l.modes, r.clock_ns)}});
        targets.push_back({{"n", t.target},
                           {"layers", layers},
                           {"total", {{"macs", t.all.macs}, {"weights", t.all.weights}, {"modes", row_json(t.all.modes, r.clock_ns)}}},
                           {"total_conv",
                            {{"macs", t.conv.macs}, {"weights", t.conv.weights}, {"modes", row_json(t.conv.modes, r.clock_ns)}}}});
    }
    nlohmann::json baselines = nlohmann::json::array();
    for (int b = 0; b < swis::kShiftPositions; ++b)
        baselines.push_back({{"bits", b + 1},
                             {"Act", perf_json(r.act[b].modes[mode_index(Mode::kAct)], r.clock_ns)},
                             {"Wgt", perf_json(r.wgt[b].modes[mode_index(Mode::kWgt)], r.clock_ns)}});
    nlohmann::json points = nlohmann::json::array();
    for (const SwisPaperPoint& p : r.paper_points) {
        nlohmann::json modes = nlohmann::json::object();
        for (Mode m : kModes) {
            const auto& f = p.modes[mode_index(m)];
            if (std::isnan(f.shifts)) continue;
            modes[swis::mode_name(m)] = {{"shifts", f.shifts},
                                         {"frames_per_second", f.fps},
                                         {"frames_per_joule", f.fpj},
                                         {"paper_frames_per_second", f.paper_fps},
                                         {"paper_frames_per_joule", f.paper_fpj}};
        }
        points.push_back({{"accuracy", p.accuracy}, {"modes", modes}});
    }
    nlohmann::json acc = nullptr;
    if (r.has_accuracy) {
        nlohmann::json rows = nlohmann::json::array();
        for (const SwisAccuracyRow& a : r.accuracy) {
            nlohmann::json row = {{"n", a.target}};
            for (Mode m : kAccuracyModes) {
                const auto& v = a.accuracy[mode_index(m)];
                row[swis::mode_name(m)] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
            }
            nlohmann::json comp = nlohmann::json::object();
            for (Mode m : {Mode::kSS, Mode::kDS, Mode::kCSS, Mode::kCDS}) {
                const auto& v = a.compression[mode_index(m)];
                comp[swis::mode_name(m)] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
            }
            row["compression"] = comp;
            rows.push_back(row);
        }
        nlohmann::json measured = nlohmann::json::array();
        for (Mode m : kAccuracyModes)
            if (r.accuracy_modes[static_cast<std::size_t>(mode_index(m))]) measured.push_back(swis::mode_name(m));
        acc = {{"images", r.images},
               {"method", r.accuracy_method},
               {"cross_checked_images", r.cross_checked},
               {"int8", r.int8_accuracy},
               {"modes", measured},
               {"rows", rows}};
    }
    nlohmann::json arrays = nlohmann::json::object();
    for (Mode m : kModes) {
        const int i = mode_index(m);
        arrays[swis::mode_name(m)] = {{"pe", pe_area_kind_name(r.pe_kind[i])},
                                      {"rows", r.arrays[i].rows},
                                      {"cols", r.arrays[i].cols},
                                      {"pes", r.arrays[i].pes()},
                                      {"pe_lanes", r.pe_lanes[i]},
                                      {"pe_gates", pe_gates(r.pe_kind[i], r.pe_lanes[i])},
                                      {"pe_area_um2", r.pe_area_um2[i]},
                                      {"pe_array_area_mm2", r.arrays[i].pes() * r.pe_area_um2[i] * 1e-6},
                                      {"paper_area_mm2", kSwisPaperAreaMm2[i]}};
    }
    nlohmann::json storage = nlohmann::json::array();
    for (int n = 1; n <= swis::kShiftPositions; ++n)
        storage.push_back({{"n", n},
                           {"swis_bits", swis::group_storage_bits(n, swis::Variant::kSwis, r.group_size)},
                           {"swis_c_bits", swis::group_storage_bits(n, swis::Variant::kSwisC, r.group_size)},
                           {"int8_bits", 8 * r.group_size}});
    return {{"source", r.source},
            {"kind", r.kind},
            {"network", r.network},
            {"group_size", r.group_size},
            {"array", {{"rows", r.rows}, {"cols", r.cols}, {"group_size", r.group_size}, {"clock_ns", r.clock_ns}}},
            {"iso_area", r.iso_area},
            {"area_technology", r.technology},
            {"area_budget_um2", r.area_budget_um2},
            {"arrays", arrays},
            {"alpha", spec.alpha},
            {"pe_pj_per_cycle",
             {{"SS", r.costs.pe_pj[mode_index(Mode::kSS)]},
              {"DS", r.costs.pe_pj[mode_index(Mode::kDS)]},
              {"Act", r.costs.pe_pj[mode_index(Mode::kAct)]},
              {"BitFusion", r.costs.pe_pj[mode_index(Mode::kBitFusion)]},
              {"FXP", r.costs.pe_pj[mode_index(Mode::kFxp)]}}},
            {"buffer_pj_per_byte", r.costs.sram_pj_per_byte},
            {"dram_pj_per_byte", r.costs.dram_pj_per_byte},
            {"skipped", r.skipped},
            {"targets", targets},
            {"baselines_conv", baselines},
            {"fxp_conv", perf_json(r.fxp.modes[mode_index(Mode::kFxp)], r.clock_ns)},
            {"paper_network", r.paper_network},
            {"paper_points", points},
            {"accuracy", acc},
            {"accuracy_note", r.accuracy_note},
            {"group_storage_bits", storage},
            {"wall_seconds", r.wall_s},
            {"config", config_to_json(cfg)}};
}

nlohmann::json swis_schedule_to_json(const SwisJobResult& r, const SwisJobSpec& spec) {
    const Mode mode = spec.schedule_mode.value_or(Mode::kSS);
    nlohmann::json layers = nlohmann::json::array();
    for (const SwisLayerSchedule& L : r.schedule)
        layers.push_back({{"layer", L.layer}, {"name", L.name}, {"mean_shifts", L.mean_shifts}, {"filter_n", L.filter_n}});
    return {{"format", "cimvp-swis-schedule"},
            {"version", 1},
            {"source", r.source},
            {"network", r.network},
            {"model_layers", r.model_layers},
            {"mode", swis::mode_name(mode)},
            {"variant", swis::variant_name(swis::mode_variant(mode))},
            {"double_shift", swis::is_double_shift(mode)},
            {"target", spec.targets.empty() ? 0.0 : spec.targets[0]},
            {"group_size", r.group_size},
            {"alpha", spec.alpha},
            {"scaled_by_multipliers", spec.scale_by_mult},
            {"layers", layers}};
}

std::string swis_predictions_csv(const SwisJobResult& r) {
    if (!r.has_accuracy)
        throw std::invalid_argument("swis: --predictions-out: expected accuracy runs (a --model with its data set; " +
                                    (r.accuracy_note.empty() ? std::string("none") : r.accuracy_note) + ")");
    std::vector<const std::vector<std::uint8_t>*> columns{&r.int8_predictions};
    std::string text = "image,label,int8";
    for (const SwisAccuracyRow& a : r.accuracy)
        for (Mode m : kAccuracyModes) {
            const std::vector<std::uint8_t>& p = a.predictions[static_cast<std::size_t>(mode_index(m))];
            if (p.empty()) continue;
            text += format_text(",%s@%s", swis::mode_name(m), format_number(a.target).c_str());
            columns.push_back(&p);
        }
    text += '\n';
    for (std::size_t i = 0; i < r.labels.size(); ++i) {
        text += std::to_string(i) + ',' + std::to_string(r.labels[i]);
        for (const std::vector<std::uint8_t>* c : columns) text += ',' + std::to_string((*c)[i]);
        text += '\n';
    }
    return text;
}

void print_pe_widths(const ArchConfig& cfg, std::FILE* out) {
    std::fprintf(out,
                 "SWIS PEs against the fixed-point PE of the same width (gates: docs/costs.md \"PE width\"; energy per "
                 "cycle the configured one scaled by the gates)\n");
    std::fprintf(out, "  %-6s %-13s %6s %6s | %-27s | %-27s\n", "lanes", "PE", "gates", "area", "energy/MAC at N = 2, 4, 6",
                 "throughput/area at N = 2, 4, 6");
    for (int lanes : kPeWidths)
        for (PeAreaKind k : {PeAreaKind::kSingleShift, PeAreaKind::kDoubleShift}) {
            std::fprintf(out, "  %-6d %-13s %6.0f %6.3f |", lanes, pe_area_kind_name(k), pe_gates(k, lanes),
                         pe_width_figures(cfg.pe_array, k, lanes, 2).area);
            for (int n : kPeWidthShifts) std::fprintf(out, " %8.3f", pe_width_figures(cfg.pe_array, k, lanes, n).energy_per_mac);
            std::fprintf(out, " |");
            for (int n : kPeWidthShifts)
                std::fprintf(out, " %8.3f", pe_width_figures(cfg.pe_array, k, lanes, n).throughput_per_area);
            std::fprintf(out, "\n");
        }
}

nlohmann::json pe_widths_to_json(const ArchConfig& cfg) {
    nlohmann::json rows = nlohmann::json::array();
    for (int lanes : kPeWidths)
        for (PeAreaKind k : {PeAreaKind::kSingleShift, PeAreaKind::kDoubleShift})
            for (int n : kPeWidthShifts) {
                const PeWidthFigures f = pe_width_figures(cfg.pe_array, k, lanes, n);
                rows.push_back({{"lanes", lanes},
                                {"pe", pe_area_kind_name(k)},
                                {"shifts", n},
                                {"pe_gates", pe_gates(k, lanes)},
                                {"fxp_gates", pe_gates(PeAreaKind::kFixedPoint, lanes)},
                                {"area", f.area},
                                {"energy_per_mac", f.energy_per_mac},
                                {"throughput_per_area", f.throughput_per_area}});
            }
    return {{"normalized_to", "fixed-point PE of the same width"}, {"rows", rows}, {"config", config_to_json(cfg)}};
}

}  // namespace cimvp
