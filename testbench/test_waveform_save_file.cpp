// The GTKWave save file written beside a --vcd file (tlm/gtkw_writer.h): a
// recorded layer run's .gtkw names its VCD, opens zoomed on the window the VCD
// holds (not on a few picoseconds of flat lines), and shows every recorded
// signal once under a label of its own that names its block; and the
// generator's rules on their own (labels, groups, idle tiles, the zoom).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

#include "hw/arch_config.h"
#include "sw/app/layer_job.h"
#include "testbench/sc_test_support.h"
#include "tlm/gtkw_writer.h"

namespace {

using namespace cimvp;
using tlmx::GtkwGeometry;
using tlmx::GtkwSignal;
using tlmx::GtkwView;

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// What the test needs of a VCD: its variables (dotted name -> width), its timestamps,
// and the first time after the initial dump at which a value changes.
struct Vcd {
    std::map<std::string, int> widths;
    std::vector<std::uint64_t> times;
    std::uint64_t first_change = 0;
    bool has_change = false;
};

Vcd read_vcd(const std::string& path) {
    std::stringstream ss(slurp(path));
    Vcd v;
    std::vector<std::string> scope;
    bool in_dump = false;
    for (std::string t; ss >> t;) {
        if (t == "$scope") {
            std::string kind, name, end;
            ss >> kind >> name >> end;
            scope.push_back(name);
        } else if (t == "$upscope") {
            std::string end;
            ss >> end;
            scope.pop_back();
        } else if (t == "$var") {
            std::string type, width, id, name, rest;
            ss >> type >> width >> id >> name;
            while (ss >> rest && rest != "$end") {
            }
            std::string dotted;
            for (const auto& s : scope) dotted += s + ".";
            v.widths[dotted + name] = std::stoi(width);
        } else if (t == "$dumpvars") {
            in_dump = true;
        } else if (t == "$end") {
            in_dump = false;
        } else if (t[0] == '#') {
            v.times.push_back(std::stoull(t.substr(1)));
        } else if (!in_dump && !v.times.empty() && v.times.size() > 1 && !v.has_change &&
                   (t[0] == '0' || t[0] == '1' || t[0] == 'b')) {
            v.first_change = v.times.back();
            v.has_change = true;
        }
    }
    return v;
}

struct Trace {
    std::string label, name;
};

struct SaveFile {
    std::string dumpfile;
    std::uint64_t timestart = 0;
    double zoom = 1;
    bool has_zoom = false;
    std::vector<Trace> traces;
    std::vector<std::string> groups;  // titles of the groups that begin, in order
};

SaveFile read_gtkw(const std::string& path) {
    std::stringstream ss(slurp(path));
    SaveFile s;
    std::uint32_t flags = 0;
    for (std::string line; std::getline(ss, line);) {
        if (line.rfind("[dumpfile] \"", 0) == 0) {
            s.dumpfile = line.substr(12, line.size() - 13);
        } else if (line.rfind("[timestart] ", 0) == 0) {
            s.timestart = std::stoull(line.substr(12));
        } else if (line[0] == '*') {
            s.zoom = std::stod(line.substr(1));
            s.has_zoom = true;
        } else if (line[0] == '@') {
            flags = static_cast<std::uint32_t>(std::stoul(line.substr(1), nullptr, 16));
        } else if (line[0] == '-') {
            if (flags & 0x800000) s.groups.push_back(line.substr(1));
        } else if (line.rfind("+{", 0) == 0) {
            const std::size_t close = line.find("} ");
            std::string name = line.substr(close + 2);
            name = name.substr(0, name.find('['));  // vectors carry their range: name[7:0]
            s.traces.push_back({line.substr(2, close - 2), name});
        } else if (!line.empty() && line[0] != '[') {
            ADD_FAILURE() << path << ": unexpected line '" << line << "'";
        }
    }
    return s;
}

// Small and fast: 16 x 16 macros, 4 tiles, 1 MiB of DRAM.
ArchConfig small_config() {
    ArchConfig cfg;
    cfg.crossbar.rows = 16;
    cfg.crossbar.cols = 16;
    cfg.crossbar.cell_bits = 2;
    cfg.platform.tiles = 4;
    cfg.platform.dram.size_bytes = 1024 * 1024;
    cfg.platform.input_buffer.size_bytes = 256;
    cfg.platform.output_buffer.size_bytes = 1024;
    return cfg;
}

std::string temp_path(const std::string& ext) {
    return ::testing::TempDir() + "/save_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ext;
}

TEST(WaveformSaveFile, LayerRunsSaveFileNamesItsDumpZoomsToTheRecordedWindowAndLabelsEverySignalByBlock) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    LayerJobSpec spec;
    spec.K = 20;  // two row tiles, two passes over the 16 x 16 macros
    spec.M = 10;
    spec.a_bits = 4;
    spec.w_bits = 4;
    spec.vectors = 6;
    spec.waveforms.path = temp_path(".vcd");
    const std::string gtkw = temp_path(".gtkw");
    std::remove(gtkw.c_str());
    const LayerJobResult r = run_layer_job(small_config(), spec);
    EXPECT_EQ(r.agreement, 1.0);

    const Vcd vcd = read_vcd(spec.waveforms.path);
    ASSERT_GE(vcd.times.size(), 3u);
    ASSERT_TRUE(vcd.has_change);
    const SaveFile s = read_gtkw(gtkw);

    EXPECT_EQ(s.dumpfile, std::filesystem::absolute(spec.waveforms.path).lexically_normal().string());
    // Opens where the dump starts, at a zoom that shows all of it and so is past its first
    // change: not a few picoseconds of flat lines.
    EXPECT_EQ(s.timestart, vcd.times.front());
    ASSERT_TRUE(s.has_zoom);
    const double shown = tlmx::gtkw_span_at_zoom(s.zoom, GtkwGeometry::kFitPixels);
    const double recorded = static_cast<double>(vcd.times.back() - vcd.times.front());
    EXPECT_GT(vcd.first_change, vcd.times.front());
    EXPECT_GE(shown, recorded);
    EXPECT_LE(shown, recorded * 1.01 + 1);
    EXPECT_GT(static_cast<double>(s.timestart) + shown, static_cast<double>(vcd.first_change));

    // Every recorded signal once, under a label no other line has.
    std::map<std::string, std::string> label_of;
    std::set<std::string> labels;
    for (const auto& t : s.traces) {
        EXPECT_TRUE(vcd.widths.count(t.name)) << t.name << " is not in the dump";
        EXPECT_TRUE(label_of.emplace(t.name, t.label).second) << t.name << " shown twice";
        EXPECT_TRUE(labels.insert(t.label).second) << "label '" << t.label << "' shared";
    }
    EXPECT_EQ(label_of.size(), vcd.widths.size());
    EXPECT_EQ(label_of["platform.tile0.busy"], "tile0 busy");
    EXPECT_EQ(label_of["platform.tile1.busy"], "tile1 busy");
    EXPECT_EQ(label_of["platform.dma.busy"], "dma busy");
    EXPECT_EQ(label_of["platform.tile0.adc.code"], "tile0 adc code");
    EXPECT_EQ(label_of["host.list"], "host list");
    // Grouped by block, the host first; the tiles' busy lines next to each other.
    ASSERT_FALSE(s.groups.empty());
    EXPECT_EQ(s.groups.front(), "host");
    for (const char* g : {"controller", "dma", "ppu", "pe_array", "tile0 adc"})
        EXPECT_NE(std::find(s.groups.begin(), s.groups.end(), g), s.groups.end()) << g;
    const auto at = [&](const std::string& n) {
        return std::find_if(s.traces.begin(), s.traces.end(), [&](const Trace& t) { return t.name == n; });
    };
    EXPECT_EQ(at("platform.tile1.busy") - at("platform.tile0.busy"), 1);
    std::remove(spec.waveforms.path.c_str());
    std::remove(gtkw.c_str());
}

TEST(WaveformSaveFile, TimeWindowOpensAtItsStart) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    LayerJobSpec spec;
    spec.K = 20;
    spec.M = 10;
    spec.a_bits = 4;
    spec.w_bits = 4;
    spec.vectors = 6;
    spec.waveforms.path = temp_path(".vcd");
    spec.waveforms.from_ns = 1000;
    spec.waveforms.to_ns = 3000;
    run_layer_job(small_config(), spec);
    const Vcd vcd = read_vcd(spec.waveforms.path);
    const SaveFile s = read_gtkw(temp_path(".gtkw"));
    EXPECT_EQ(s.timestart, 1'000'000u);  // ps
    const double shown = tlmx::gtkw_span_at_zoom(s.zoom, GtkwGeometry::kFitPixels);
    EXPECT_GE(shown, static_cast<double>(vcd.times.back() - 1'000'000u));
    EXPECT_LE(vcd.times.back(), 3'000'000u);
    std::remove(spec.waveforms.path.c_str());
    std::remove(temp_path(".gtkw").c_str());
}

// ---------------------------------------------------------------- the generator's rules

GtkwSignal sig(const std::string& scope, const std::string& name, int width, bool active) {
    GtkwSignal s;
    s.scope = scope;
    s.name = name;
    s.width = width;
    s.active = active;
    return s;
}

TEST(GtkwWriter, SaveFileNameReplacesTheVcdExtension) {
    EXPECT_EQ(tlmx::gtkw_path_for("run.vcd"), "run.gtkw");
    EXPECT_EQ(tlmx::gtkw_path_for("out/run.x.vcd"), "out/run.x.gtkw");
    EXPECT_EQ(tlmx::gtkw_path_for("dump"), "dump.gtkw");
    EXPECT_EQ(tlmx::gtkw_path_for("a.b/dump"), "a.b/dump.gtkw");
    EXPECT_EQ(tlmx::gtkw_path_for("run.fst"), "run.fst.gtkw");
}

TEST(GtkwWriter, LabelsDropTheTopScopeAndFallBackToTheFullNameWhenShared) {
    const std::vector<GtkwSignal> s = {sig("platform.tile3", "busy", 1, true), sig("host", "layer", 8, true),
                                       sig("platform.x", "v", 4, true), sig("rtl.x", "v", 4, true)};
    EXPECT_EQ(tlmx::gtkw_labels(s),
              (std::vector<std::string>{"tile3 busy", "host layer", "platform.x.v", "rtl.x.v"}));
}

TEST(GtkwWriter, IdleTilesGoToAClosedSubgroupAndActiveOnesShowBusyLinesTogether) {
    GtkwView v;
    v.dump_file = "/tmp/a.vcd";
    v.save_file = "/tmp/a.gtkw";
    v.from = 100;
    v.to = 1100;
    for (int i = 0; i < 4; ++i) {
        v.signals.push_back(sig("p.tile" + std::to_string(i), "busy", 1, i == 1 || i == 3));
        v.signals.push_back(sig("p.tile" + std::to_string(i), "vectors", 32, i == 1 || i == 3));
    }
    v.signals.push_back(sig("p.tile1.adc", "psum", 64, true));
    v.signals.back().is_signed = true;
    const std::string text = tlmx::gtkw_text(v);
    const std::string want =
        "@800200\n-tile0..tile3\n@28\n+{tile1 busy} p.tile1.busy\n+{tile3 busy} p.tile3.busy\n"
        "@24\n+{tile1 vectors} p.tile1.vectors[31:0]\n+{tile3 vectors} p.tile3.vectors[31:0]\n"
        "@c00200\n-tiles without a change (2)\n@1028\n+{tile0 busy} p.tile0.busy\n+{tile2 busy} p.tile2.busy\n"
        "@1024\n+{tile0 vectors} p.tile0.vectors[31:0]\n+{tile2 vectors} p.tile2.vectors[31:0]\n"
        "@1401200\n-tiles without a change (2)\n@1000200\n-tile0..tile3\n"
        "@800200\n-tile1 adc\n@424\n+{tile1 adc psum} p.tile1.adc.psum[63:0]\n@1000200\n-tile1 adc\n";
    EXPECT_NE(text.find(want), std::string::npos) << text;
    EXPECT_NE(text.find("[dumpfile] \"/tmp/a.vcd\"\n"), std::string::npos);
    EXPECT_NE(text.find("[timestart] 100\n"), std::string::npos);
}

TEST(GtkwWriter, ZoomFitsTheSpanAndNeverZoomsPastGtkwavesLimit) {
    for (std::uint64_t span : {1000ull, 164'920'000ull, 5'000'000'000'000ull}) {
        const double z = tlmx::gtkw_zoom_to_fit(span, 760);
        EXPECT_NEAR(tlmx::gtkw_span_at_zoom(z, 760), static_cast<double>(span), span * 1e-9);
    }
    EXPECT_EQ(tlmx::gtkw_zoom_to_fit(0, 760), 0.0);
    EXPECT_EQ(tlmx::gtkw_zoom_to_fit(3, 760), 0.0);  // 3 ps on 760 pixels: GTKWave's closest zoom
}

}  // namespace
