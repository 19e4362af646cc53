// A GTKWave save file (.gtkw) for a VCD written by the WaveformRecorder, so that
// `gtkwave F.gtkw` opens the dump on the window it recorded, zoomed to fit, with
// every line labelled by its block ("tile0 busy", "dma busy") and grouped by
// block. The recorder writes it when it closes (WaveformRecorder::set_save_file);
// nothing here knows the platform: labels and groups follow the declared scopes.
// Format: GTKWave's save file directives ([dumpfile], [timestart], the "*zoom
// marker" line, "@flags", "+{alias} signal", "-label"). docs/debugging.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cimvp::tlmx {

struct GtkwSignal {
    std::string scope;       // dotted, as declared: "platform.tile0"
    std::string name;        // "busy"
    int width = 1;
    bool is_signed = false;  // shown as signed decimal (two's complement)
    bool active = false;     // its value changed inside the recorded window
};

struct GtkwView {
    std::string dump_file;  // the VCD, as GTKWave should open it (absolute)
    std::string save_file;  // this file (absolute)
    // The recorded window in the dump's time units (what GTKWave counts in: the VCD's
    // timestamps times the timescale's multiplier, 1, 10 or 100).
    std::uint64_t from = 0, to = 0;
    std::vector<GtkwSignal> signals;  // in declaration order
};

// Window geometry the save file asks for, and the width of the wave area the zoom is fitted
// to (the window less the signal tree and the signal names, with a margin).
struct GtkwGeometry {
    static constexpr int kWidth = 1400, kHeight = 900;
    static constexpr int kTreeWidth = 220, kNamesWidth = 240;
    static constexpr int kFitPixels = 760;
};

// "run.vcd" -> "run.gtkw"; a name without the .vcd extension gets ".gtkw" appended.
std::string gtkw_path_for(const std::string& vcd_path);

// GTKWave's zoom z shows 2^-z / 200 time units per pixel; the zoom at which `span` time units
// fill `pixels` (at most 0: GTKWave does not zoom in further).
double gtkw_zoom_to_fit(std::uint64_t span, int pixels);
// The time units `pixels` cover at zoom z (the inverse).
double gtkw_span_at_zoom(double zoom, int pixels);

// Each signal's label: its scope without the top level, then its name ("platform.tile0.adc" +
// "code" -> "tile0 adc code"; "host" + "layer" -> "host layer"); a label two signals would share
// is replaced by the full dotted name for both.
std::vector<std::string> gtkw_labels(const std::vector<GtkwSignal>& signals);

// The save file's text. Groups in the order their first signal was declared: one per scope;
// sibling scopes that differ only in a trailing number ("tile0", "tile1", ...) share one group,
// their lines ordered by signal name, then by number, and the members whose signals never
// changed in the window in a closed subgroup at its end.
std::string gtkw_text(const GtkwView& view);

// Writes gtkw_text(view) to view.save_file; throws std::runtime_error naming it on failure.
void write_gtkw(const GtkwView& view);

}  // namespace cimvp::tlmx
