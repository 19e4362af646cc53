// What `--vcd F` and its window and signal options ask for, parsed and checked
// against the configuration once; and the recorder set up from them on a
// platform (docs/debugging.md).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "hw/arch_config.h"
#include "tlm/waveform_recorder.h"

namespace cimvp {

class Platform;

struct WaveformOptions {
    std::string path;                   // empty: no waveforms
    double from_ns = 0;                 // --vcd-from
    std::optional<double> to_ns;        // --vcd-to (none: to the end)
    std::string layer;                  // --vcd-layer: a layer's index or name (empty: every layer)
    std::optional<std::uint64_t> image; // --vcd-image: only the list that runs this image
    int tile = 0;                       // --vcd-tile: the tile whose ADC column is recorded
    int column = 0;                     // --vcd-column
    int tiles = 0;                      // --vcd-tiles: busy of the first K tiles (0: all)

    bool enabled() const { return !path.empty(); }
    bool gated() const { return !layer.empty() || image.has_value(); }
};

// "10us", "2.5ms", "1000ns", "0", "3 s": simulated time in ns. Units fs, ps, ns, us, ms, s;
// only 0 may go without one. Throws std::invalid_argument naming `flag` and the expected format.
double parse_sim_time_ns(const std::string& flag, const std::string& text);

// Checks the options against the configuration (tile, column, tiles, window order);
// throws std::invalid_argument naming the flag and the expected range.
void validate(const WaveformOptions& o, const ArchConfig& cfg);

// The recorder and the host's own signals: `host.layer` (index of the layer whose list runs),
// `host.image` (first image of the batch) and `host.list` (a command list is running: from the
// driver's START write to the interrupt).
struct Waveforms {
    std::unique_ptr<tlmx::WaveformRecorder> recorder;
    tlmx::WaveformRecorder::Var layer = 0, image = 0, list = 0;
    // The host begins (begin = true) or has finished a layer's list at time t; opens and
    // closes the gate when the options restrict recording to one layer (index `layer`) or image.
    void layer_list(const WaveformOptions& o, int wanted_layer, std::size_t layer, std::uint64_t first_image,
                    int images, bool begin, const sc_core::sc_time& t);
};

// Whether --vcd-layer (index `wanted_layer`, -1: any) and --vcd-image select the list of `layer`
// that runs images first_image .. first_image + images - 1.
bool selects(const WaveformOptions& o, int wanted_layer, std::size_t layer, std::uint64_t first_image, int images);

// Opens the file, sets the window and declares the host's signals and the platform's
// (Platform::attach_waveforms); closing the recorder also writes the GTKWave save file
// beside the VCD (F.vcd -> F.gtkw, tlm/gtkw_writer.h).
Waveforms open_waveforms(const WaveformOptions& o, Platform& platform);

}  // namespace cimvp
