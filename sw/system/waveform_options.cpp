#include "sw/system/waveform_options.h"

#include <cmath>
#include <stdexcept>

#include "hw/platform.h"
#include "tlm/gtkw_writer.h"

namespace cimvp {

double parse_sim_time_ns(const std::string& flag, const std::string& text) {
    const auto bad = [&] {
        return std::invalid_argument(flag + ": expected a simulated time: a number >= 0 and a unit fs, ps, ns, us, ms or s "
                                            "(e.g. 10us, 2.5ms, 1000ns), got '" + text + "'");
    };
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        throw bad();
    }
    if (!std::isfinite(v) || v < 0 || text.find_first_of("xXpP") < used) throw bad();  // no hex floats, no nan/inf
    std::string unit = text.substr(used);
    while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
    static const std::pair<const char*, double> kUnits[] = {{"fs", 1e-6}, {"ps", 1e-3}, {"ns", 1.0},
                                                            {"us", 1e3},  {"ms", 1e6},  {"s", 1e9}};
    if (unit.empty()) {
        if (v == 0) return 0;
        throw bad();
    }
    for (const auto& u : kUnits)
        if (unit == u.first) return v * u.second;
    throw bad();
}

void validate(const WaveformOptions& o, const ArchConfig& cfg) {
    if (o.tile < 0 || o.tile >= cfg.platform.tiles)
        throw std::invalid_argument("--vcd-tile: expected a tile index 0.." + std::to_string(cfg.platform.tiles - 1) +
                                    ", got " + std::to_string(o.tile));
    if (o.column < 0 || o.column >= cfg.crossbar.cols)
        throw std::invalid_argument("--vcd-column: expected a crossbar column 0.." +
                                    std::to_string(cfg.crossbar.cols - 1) + ", got " + std::to_string(o.column));
    if (o.tiles < 0 || o.tiles > cfg.platform.tiles)
        throw std::invalid_argument("--vcd-tiles: expected 0 (all) or 1.." + std::to_string(cfg.platform.tiles) +
                                    " (tiles whose busy line is recorded), got " + std::to_string(o.tiles));
    if (o.to_ns && *o.to_ns < o.from_ns)
        throw std::invalid_argument("--vcd-to: expected a time at or after --vcd-from");
    if (!o.enabled() && (o.to_ns || o.from_ns > 0 || !o.layer.empty() || o.image))
        throw std::invalid_argument("--vcd-from, --vcd-to, --vcd-layer and --vcd-image need --vcd F");
}

Waveforms open_waveforms(const WaveformOptions& o, Platform& platform) {
    Waveforms r;
    r.recorder = std::make_unique<tlmx::WaveformRecorder>(o.path);
    tlmx::WaveformRecorder* w = r.recorder.get();
    w->set_save_file(tlmx::gtkw_path_for(o.path));
    const sc_core::sc_time to = o.to_ns ? sc_core::sc_time(*o.to_ns, sc_core::SC_NS) : sc_core::sc_max_time();
    w->set_window(sc_core::sc_time(o.from_ns, sc_core::SC_NS), to);
    if (o.gated()) w->use_gate();
    // The host's signals first: the save file's groups follow the declaration order, and the
    // walkthrough (docs/debugging.md) starts from what the host runs.
    r.layer = w->declare("host", "layer", 8);
    r.image = w->declare("host", "image", 32);
    r.list = w->declare("host", "list", 1);
    WaveformSignals s;
    s.tiles = o.tiles == 0 ? platform.config().platform.tiles : o.tiles;
    s.adc_tile = o.tile;
    s.adc_column = o.column;
    platform.attach_waveforms(*w, s);
    return r;
}

void Waveforms::layer_list(const WaveformOptions& o, int wanted_layer, std::size_t layer, std::uint64_t first_image,
                           int images, bool begin, const sc_core::sc_time& t) {
    if (begin) {
        recorder->change(this->layer, t, layer);
        recorder->change(image, t, first_image);
    }
    if (o.gated() && selects(o, wanted_layer, layer, first_image, images)) recorder->gate(begin, t);
}

bool selects(const WaveformOptions& o, int wanted_layer, std::size_t layer, std::uint64_t first_image, int images) {
    const bool layer_ok = wanted_layer < 0 || static_cast<std::size_t>(wanted_layer) == layer;
    const bool image_ok = !o.image || (*o.image >= first_image && *o.image < first_image + static_cast<std::uint64_t>(images));
    return layer_ok && image_ok;
}

}  // namespace cimvp
