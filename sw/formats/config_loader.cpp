#include "sw/formats/config_loader.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "hw/cost_model.h"
#include "sw/formats/input_file.h"
#include "sw/support/text_format.h"

namespace cimvp {

namespace {

using nlohmann::json;
namespace lim = config_limits;

constexpr std::size_t kMaxShownChars = 60;  // longest offending value quoted in a message
constexpr std::size_t kMaxTextChars = 4096;   // a technology's name or description

struct IntRange {
    std::int64_t lo;
    std::int64_t hi;
};

struct U64Range {
    std::uint64_t lo;
    std::uint64_t hi;
    std::uint64_t multiple_of;  // 1: any
};

struct RealRange {
    double lo;
    double hi;
    bool lo_open;  // lo itself excluded (times, bandwidths: > 0)
};

constexpr RealRange kTime{0.0, lim::kMaxEventNs, true};                       // *_ns
constexpr RealRange kBandwidth{lim::kMinBytesPerNs, lim::kMaxBytesPerNs, false};  // *.bytes_per_ns
constexpr RealRange kEnergy{0.0, lim::kMaxEventPj, false};                     // *_pj*
constexpr RealRange kClipSigmas{0.0, lim::kMaxClipSigmas, true};
constexpr RealRange kSigma{lim::kMinSigma, lim::kMaxSigma, false};
constexpr RealRange kRate{lim::kMinStuckAtRate, lim::kMaxStuckAtRate, false};

// pe_array: at most 256 x 256 PEs (the model keeps one object per PE); its buffers share the
// tiles' cap, and the output buffer holds at least one rows x cols tile of int64 accumulators.
constexpr int kMinPeArrayDim = 1;
constexpr int kMaxPeArrayDim = 256;
constexpr std::uint64_t kPeAccBytes = 8;

constexpr const char* kStepColumn = "column";
constexpr const char* kStepLayer = "layer";

// A key whose value is one of a few names.
template <class E>
struct Names {
    std::vector<std::pair<const char*, E>> items;
    std::string expected() const {
        std::string s;
        for (std::size_t i = 0; i < items.size(); ++i)
            s += std::string(i == 0 ? "" : i + 1 == items.size() ? " or " : ", ") + "\"" + items[i].first + "\"";
        return s;
    }
    const char* name(E e) const {
        for (const auto& [n, v] : items)
            if (v == e) return n;
        return nullptr;
    }
};
const Names<AdcArchitecture> kAdcArchitectures{{{"sar", AdcArchitecture::kSar}, {"flash", AdcArchitecture::kFlash}}};
const Names<CellType> kCellTypes{{{"sram", CellType::kSram}, {"rram", CellType::kRram}}};
const Names<CellMapping> kCellMappings{{{"offset", CellMapping::kOffset}, {"differential", CellMapping::kDifferential}}};

// Technology parameters (hw/technology.h, docs/costs.md): physical ranges, wide enough for any
// process a CIM study may describe.
constexpr RealRange kNodeNm{1.0, 1000.0, false};
constexpr RealRange kVolts{0.0, 5.0, true};
constexpr RealRange kAreaF2{1.0, 1e5, false};
constexpr RealRange kFemtojoules{0.0, 1e9, false};
constexpr RealRange kMicrosiemens{0.0, 1e6, false};
constexpr RealRange kSquareMicrons{0.0, 1e9, false};

std::string describe(const IntRange& r) {
    return "an integer in [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]";
}

std::string describe(const U64Range& r) {
    std::string s = (r.lo == 0 && r.hi == std::numeric_limits<std::uint64_t>::max())
                        ? std::string("a non-negative integer (uint64)")
                        : "an integer in [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]";
    if (r.multiple_of > 1) s += " and a multiple of " + std::to_string(r.multiple_of);
    return s;
}

std::string describe(const RealRange& r) {
    if (std::isinf(r.hi)) return std::string("a number ") + (r.lo_open ? "> " : ">= ") + format_number(r.lo);
    return std::string("a number in ") + (r.lo_open ? "(" : "[") + format_number(r.lo) + ", " + format_number(r.hi) + "]";
}

bool within(std::int64_t v, const IntRange& r) { return v >= r.lo && v <= r.hi; }
bool within(std::uint64_t v, const U64Range& r) { return v >= r.lo && v <= r.hi && v % r.multiple_of == 0; }
bool within(double v, const RealRange& r) {
    return !std::isnan(v) && (r.lo_open ? v > r.lo : v >= r.lo) && v <= r.hi && !std::isinf(v);
}

// The offending value as the user wrote it (JSON text), shortened.
std::string shown(const json& v) {
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > kMaxShownChars) s = s.substr(0, kMaxShownChars - 3) + "...";
    return s;
}

std::string shown_real(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return shown(json(v));
}

[[noreturn]] void fail(const std::string& source, const std::string& path, const std::string& what) {
    throw ConfigError(source + ": " + (path.empty() ? std::string() : path + ": ") + what);
}

std::string step_mode_name(AdcStepMode m) { return m == AdcStepMode::kLayer ? kStepLayer : kStepColumn; }

// The keys of one MemoryConfig; buffers must be a multiple of `multiple_of` bytes.
template <class V, class Mem>
void visit_memory(V& v, const char* key, Mem& m, std::uint64_t max_bytes, std::uint64_t multiple_of,
                  std::uint64_t min_bytes = lim::kMinMemoryBytes) {
    v.object(key, [&] {
        v.u64("size_bytes", m.size_bytes, U64Range{min_bytes, max_bytes, multiple_of});
        v.real("latency_ns", m.latency_ns, kTime);
        v.real("bytes_per_ns", m.bytes_per_ns, kBandwidth);
        v.real("read_pj_per_byte", m.read_pj_per_byte, kEnergy);
        v.real("write_pj_per_byte", m.write_pj_per_byte, kEnergy);
        v.boolean("dmi", m.dmi);
    });
}

// Every field of a technology description (a configs/technology/*.json file, or a config's inline
// "technology" object), in the order of hw/technology.h.
template <class V, class Tech>
void visit_technology(V& v, Tech& t) {
    v.text("name", t.name);
    v.text("description", t.description);
    v.real("node_nm", t.node_nm, kNodeNm);
    v.real("vdd_v", t.vdd_v, kVolts);
    v.real("clock_ns", t.clock_ns, kTime);
    v.object("cell", [&] {
        auto& c = t.cell;
        v.enumeration("type", c.type, kCellTypes);
        v.real("area_f2", c.area_f2, kAreaF2);
        v.real("read_ns", c.read_ns, kTime);
        v.real("read_v", c.read_v, kVolts);
        v.real("mean_conductance_us", c.mean_conductance_us, kMicrosiemens);
        v.real("write_pj_per_cell", c.write_pj_per_cell, kEnergy);
        v.real("write_ns_per_row", c.write_ns_per_row, kTime);
    });
    v.object("adc", [&] {
        auto& a = t.adc;
        v.real("walden_fj_per_step", a.walden_fj_per_step, kFemtojoules);
        v.real("comparator_fj", a.comparator_fj, kFemtojoules);
        v.real("cycle_ns", a.cycle_ns, kTime);
        v.real("sar_area_um2_fixed", a.sar_area_um2_fixed, kSquareMicrons);
        v.real("sar_area_um2_per_level", a.sar_area_um2_per_level, kSquareMicrons);
        v.real("comparator_area_um2", a.comparator_area_um2, kSquareMicrons);
    });
    v.real("sram_bitcell_f2", t.sram_bitcell_f2, kAreaF2);
    v.real("nand2_f2", t.nand2_f2, kAreaF2);
    v.real("dram_pj_per_bit", t.dram_pj_per_bit, kEnergy);
}

// Every field, in the order of arch_config.h, with its JSON key and range: the
// one list the reader, the writer and the validator walk, so they cannot drift.
// Cfg is ArchConfig (reader) or const ArchConfig (writer, validator).
template <class V, class Cfg>
void visit_config(V& v, Cfg& c) {
    v.object("crossbar", [&] {
        auto& x = c.crossbar;
        v.integer("rows", x.rows, IntRange{lim::kMinArrayDim, lim::kMaxArrayDim});
        v.integer("cols", x.cols, IntRange{lim::kMinArrayDim, lim::kMaxArrayDim});
        v.integer("cell_bits", x.cell_bits, IntRange{lim::kMinCellBits, lim::kMaxCellBits});
        v.integer("dac_bits", x.dac_bits, IntRange{lim::kMinDacBits, lim::kMaxDacBits});
        v.enumeration("mapping", x.mapping, kCellMappings);
        v.real("read_ns", x.read_ns, kTime);
        v.real("read_pj_per_cell", x.read_pj_per_cell, kEnergy);
        v.real("read_pj_per_column", x.read_pj_per_column, kEnergy);
        v.real("write_ns_per_row", x.write_ns_per_row, kTime);
        v.real("write_pj_per_cell", x.write_pj_per_cell, kEnergy);
    });
    v.object("nonideal", [&] {
        auto& n = c.nonideal;
        v.real("conductance_sigma", n.conductance_sigma, kSigma);
        v.real("stuck_at_rate", n.stuck_at_rate, kRate);
        v.real("read_noise_sigma", n.read_noise_sigma, kSigma);
        v.u64("seed", n.seed, U64Range{lim::kMinSeed, lim::kMaxSeed, 1});
    });
    v.object("adc", [&] {
        auto& a = c.adc;
        v.integer("bits", a.bits, IntRange{lim::kMinAdcBits, lim::kMaxAdcBits});
        v.enumeration("architecture", a.architecture, kAdcArchitectures);
        // crossbar is visited (read and checked) first, so cols is final here.
        v.integer("adcs_per_macro", a.adcs_per_macro, IntRange{lim::kMinAdcsPerMacro, c.crossbar.cols});
        v.integer("frac_bits", a.frac_bits, IntRange{lim::kMinFracBits, lim::kMaxFracBits});
        v.real("cycle_ns", a.cycle_ns, kTime);
        v.real("pj_per_conversion", a.pj_per_conversion, kEnergy);
        v.step_mode("step_mode", a.step_mode);
        v.real("clip_sigmas", a.clip_sigmas, kClipSigmas);
    });
    v.object("digital", [&] {
        auto& d = c.digital;
        v.real("clock_ns", d.clock_ns, kTime);
        v.real("shift_add_pj", d.shift_add_pj, kEnergy);
        v.integer("controller_cycles_per_cmd", d.controller_cycles_per_cmd,
                  IntRange{lim::kMinControllerCycles, lim::kMaxControllerCycles});
        v.real("post_process_pj", d.post_process_pj, kEnergy);
        v.integer("post_process_lanes", d.post_process_lanes, IntRange{lim::kMinLanes, lim::kMaxLanes});
    });
    v.object("dma", [&] {
        auto& d = c.dma;
        v.real("setup_ns", d.setup_ns, kTime);
        v.real("bytes_per_ns", d.bytes_per_ns, kBandwidth);
        v.real("pj_per_byte", d.pj_per_byte, kEnergy);
    });
    v.object("platform", [&] {
        auto& p = c.platform;
        v.integer("tiles", p.tiles, IntRange{lim::kMinTiles, lim::kMaxTiles});
        v.real("quantum_ns", p.quantum_ns, kTime);
        v.boolean("check_protocol", p.check_protocol);
        visit_memory(v, "dram", p.dram, lim::kMaxDramBytes, 1);
        visit_memory(v, "input_buffer", p.input_buffer, lim::kMaxBufferBytes, lim::kBufferAlignBytes);
        v.boolean("ping_pong", p.ping_pong);
        visit_memory(v, "output_buffer", p.output_buffer, lim::kMaxBufferBytes, lim::kBufferAlignBytes);
        visit_memory(v, "global_buffer", p.global_buffer, lim::kMaxGlobalBufferBytes, lim::kBufferAlignBytes,
                     lim::kMinGlobalBufferBytes);
    });
    v.object("pe_array", [&] {
        auto& p = c.pe_array;
        v.integer("rows", p.rows, IntRange{kMinPeArrayDim, kMaxPeArrayDim});
        v.integer("cols", p.cols, IntRange{kMinPeArrayDim, kMaxPeArrayDim});
        v.u64("act_buffer_bytes", p.act_buffer_bytes, U64Range{lim::kMinMemoryBytes, lim::kMaxBufferBytes, 1});
        v.u64("weight_buffer_bytes", p.weight_buffer_bytes, U64Range{lim::kMinMemoryBytes, lim::kMaxBufferBytes, 1});
        // rows and cols are visited (read and checked) first.
        const std::uint64_t one_tile =
            static_cast<std::uint64_t>(p.rows) * static_cast<std::uint64_t>(p.cols) * kPeAccBytes;
        v.u64("out_buffer_bytes", p.out_buffer_bytes, U64Range{one_tile, lim::kMaxBufferBytes, 1});
        v.real("bytes_per_ns", p.bytes_per_ns, kBandwidth);
        v.real("pj_per_cycle_ss", p.pj_per_cycle_ss, kEnergy);
        v.real("pj_per_cycle_ds", p.pj_per_cycle_ds, kEnergy);
        v.real("pj_per_cycle_bitserial", p.pj_per_cycle_bitserial, kEnergy);
        v.real("pj_per_cycle_fxp", p.pj_per_cycle_fxp, kEnergy);
        v.real("buffer_pj_per_byte", p.buffer_pj_per_byte, kEnergy);
    });
    v.technology("technology", c.technology);
}

// Dotted key path of the object being visited.
class KeyPath {
protected:
    std::vector<std::string> keys_;

    std::string path(const char* key) const {
        std::string p;
        for (const auto& k : keys_) p += k + ".";
        return p + key;
    }
};

// JSON -> ArchConfig: type and range of every present key, unknown keys.
class JsonReader : KeyPath {
public:
    JsonReader(const json& root, std::string source) : source_(std::move(source)) {
        if (!root.is_object()) fail(source_, "", "expected a JSON object at the top level, got " + shown(root));
        frames_.push_back(Frame{&root, {}});
    }

    // Rejects unknown top-level keys; call after visit_config.
    void finish() { reject_unknown(frames_.back(), ""); }

    template <class Body>
    void object(const char* key, Body&& body) {
        const json* sub = find(key);
        if (sub && !sub->is_object()) fail(source_, path(key), "expected an object, got " + shown(*sub));
        frames_.push_back(Frame{sub, {}});
        keys_.push_back(key);
        body();
        keys_.pop_back();
        reject_unknown(frames_.back(), path(key) + ".");
        frames_.pop_back();
    }

    void integer(const char* key, int& field, const IntRange& r) {
        const json* v = find(key);
        if (!v) return;
        std::int64_t x = 0;
        if (!as_int64(*v, x) || !within(x, r))
            fail(source_, path(key), "expected " + describe(r) + ", got " + shown(*v));
        field = static_cast<int>(x);
    }

    void u64(const char* key, std::uint64_t& field, const U64Range& r) {
        const json* v = find(key);
        if (!v) return;
        std::uint64_t x = 0;
        if (!as_uint64(*v, x) || !within(x, r))
            fail(source_, path(key), "expected " + describe(r) + ", got " + shown(*v));
        field = x;
    }

    void real(const char* key, double& field, const RealRange& r) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_number() || !within(v->get<double>(), r))
            fail(source_, path(key), "expected " + describe(r) + ", got " + shown(*v));
        field = v->get<double>();
    }

    void boolean(const char* key, bool& field) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_boolean()) fail(source_, path(key), "expected true or false, got " + shown(*v));
        field = v->get<bool>();
    }

    void text(const char* key, std::string& field) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_string() || v->get_ref<const std::string&>().empty() ||
            v->get_ref<const std::string&>().size() > kMaxTextChars)
            fail(source_, path(key),
                 "expected a non-empty string of at most " + std::to_string(kMaxTextChars) + " characters, got " +
                     shown(*v));
        field = v->get<std::string>();
    }

    template <class E>
    void enumeration(const char* key, E& field, const Names<E>& names) {
        const json* v = find(key);
        if (!v) return;
        if (v->is_string())
            for (const auto& [n, e] : names.items)
                if (v->get_ref<const std::string&>() == n) {
                    field = e;
                    return;
                }
        fail(source_, path(key), "expected " + names.expected() + ", got " + shown(*v));
    }

    // A technology file's name (relative to the config file's folder) or an inline object.
    void technology(const char* key, TechnologyConfig& tech) {
        const json* v = find(key);
        if (!v) return;
        if (v->is_string()) {
            const std::string file = technology_path(v->get<std::string>());
            const auto bytes = read_input_file_or_throw<ConfigError>(file, "technology", kMaxConfigFileBytes);
            const json doc = parse_json_document(std::string(bytes.begin(), bytes.end()), file);
            JsonReader r(doc, file);
            visit_technology(r, tech);
            r.finish();
            if (tech.name.empty()) fail(file, "name", "expected a non-empty string naming the technology");
            tech.file = file;
        } else if (v->is_object()) {
            object(key, [&] { visit_technology(*this, tech); });
            if (tech.name.empty()) fail(source_, path(key) + ".name", "expected a non-empty string naming the technology");
        } else {
            fail(source_, path(key), "expected a technology file name (a string) or object, got " + shown(*v));
        }
    }

    void step_mode(const char* key, AdcStepMode& field) {
        const json* v = find(key);
        if (!v) return;
        if (v->is_string() && v->get_ref<const std::string&>() == kStepColumn) {
            field = AdcStepMode::kColumn;
        } else if (v->is_string() && v->get_ref<const std::string&>() == kStepLayer) {
            field = AdcStepMode::kLayer;
        } else {
            fail(source_, path(key),
                 std::string("expected \"") + kStepColumn + "\" or \"" + kStepLayer + "\", got " + shown(*v));
        }
    }

private:
    // Relative names are found next to the config file (then from the working directory).
    std::string technology_path(const std::string& name) const {
        namespace fs = std::filesystem;
        const fs::path p(name);
        if (p.is_absolute()) return name;
        const fs::path beside = fs::path(source_).parent_path() / p;
        std::error_code ec;
        if (!fs::path(source_).parent_path().empty() && fs::exists(beside, ec)) return beside.string();
        return name;
    }

    struct Frame {
        const json* obj;                 // nullptr: object absent, all defaults
        std::vector<std::string> known;  // keys visited, in declaration order
    };

    static bool as_int64(const json& v, std::int64_t& out) {
        if (v.is_number_unsigned()) {
            const auto u = v.get<std::uint64_t>();
            if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
            out = static_cast<std::int64_t>(u);
            return true;
        }
        if (v.is_number_integer()) {
            out = v.get<std::int64_t>();
            return true;
        }
        return false;  // float (even 8.0), string, bool, null, ...
    }

    // Parsed non-negative integers are unsigned, built ones (json(int64_t{5})) signed.
    static bool as_uint64(const json& v, std::uint64_t& out) {
        if (v.is_number_unsigned()) {
            out = v.get<std::uint64_t>();
            return true;
        }
        if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
            out = static_cast<std::uint64_t>(v.get<std::int64_t>());
            return true;
        }
        return false;
    }

    const json* find(const char* key) {
        Frame& f = frames_.back();
        f.known.emplace_back(key);
        if (!f.obj) return nullptr;
        const auto it = f.obj->find(key);
        return it == f.obj->end() ? nullptr : &*it;
    }

    void reject_unknown(const Frame& f, const std::string& prefix) const {
        if (!f.obj) return;
        for (const auto& item : f.obj->items()) {
            bool found = false;
            for (const auto& k : f.known) found = found || k == item.key();
            if (found) continue;
            std::string list;
            for (const auto& k : f.known) list += (list.empty() ? "" : ", ") + k;
            fail(source_, prefix + item.key(), "unknown key (expected one of: " + list + ")");
        }
    }

    std::string source_;
    std::vector<Frame> frames_;
};

// ArchConfig -> JSON, every key.
class JsonWriter : KeyPath {
public:
    json result = json::object();

    template <class Body>
    void object(const char* key, Body&& body) {
        json* parent = cur_;
        cur_ = &(*cur_)[key];
        *cur_ = json::object();
        body();
        cur_ = parent;
    }
    void integer(const char* key, int v, const IntRange&) { (*cur_)[key] = v; }
    void u64(const char* key, std::uint64_t v, const U64Range&) { (*cur_)[key] = v; }
    void real(const char* key, double v, const RealRange&) { (*cur_)[key] = v; }
    void boolean(const char* key, bool v) { (*cur_)[key] = v; }
    void step_mode(const char* key, AdcStepMode v) { (*cur_)[key] = step_mode_name(v); }
    void text(const char* key, const std::string& v) {
        if (!v.empty()) (*cur_)[key] = v;
    }
    template <class E>
    void enumeration(const char* key, E v, const Names<E>& names) {
        (*cur_)[key] = names.name(v);
    }
    // Inline, so that the written config stands alone (a recording, a sweep point).
    void technology(const char* key, const TechnologyConfig& t) {
        if (t.given()) object(key, [&] { visit_technology(*this, t); });
    }

private:
    json* cur_ = &result;
};

// Range checks on the struct itself (after command-line overrides, too).
class Validator : KeyPath {
public:
    explicit Validator(std::string source) : source_(std::move(source)) {}

    template <class Body>
    void object(const char* key, Body&& body) {
        keys_.push_back(key);
        body();
        keys_.pop_back();
    }
    void integer(const char* key, int v, const IntRange& r) {
        if (!within(std::int64_t{v}, r))
            fail(source_, path(key), "expected " + describe(r) + ", got " + std::to_string(v));
    }
    void u64(const char* key, std::uint64_t v, const U64Range& r) {
        if (!within(v, r)) fail(source_, path(key), "expected " + describe(r) + ", got " + std::to_string(v));
    }
    void real(const char* key, double v, const RealRange& r) {
        if (!within(v, r)) fail(source_, path(key), "expected " + describe(r) + ", got " + shown_real(v));
    }
    void boolean(const char*, bool) {}
    void text(const char*, const std::string&) {}
    template <class E>
    void enumeration(const char* key, E v, const Names<E>& names) {
        if (!names.name(v))
            fail(source_, path(key), "expected " + names.expected() + ", got enum value " +
                                         std::to_string(static_cast<int>(v)));
    }
    void technology(const char* key, const TechnologyConfig& t) {
        if (t.given()) object(key, [&] { visit_technology(*this, t); });
    }
    void step_mode(const char* key, AdcStepMode v) {
        if (v != AdcStepMode::kColumn && v != AdcStepMode::kLayer)
            fail(source_, path(key),
                 std::string("expected \"") + kStepColumn + "\" or \"" + kStepLayer + "\", got enum value " +
                     std::to_string(static_cast<int>(v)));
    }

private:
    std::string source_;
};

std::string read_text(const std::string& path) {
    const auto bytes = read_input_file_or_throw<ConfigError>(path, "config", kMaxConfigFileBytes);
    return std::string(bytes.begin(), bytes.end());
}

// "invalid JSON at byte 42 (line 3, column 7): <what the parser expected>".
// Line and column are counted here from the byte offset: nlohmann's own
// column is reset by a newline it has already consumed.
std::string syntax_error_message(const json::parse_error& e, const std::string& text) {
    const std::size_t at = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    std::size_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < at; ++i) {
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    std::string detail = e.what();
    const std::string tag = "parse error";
    if (const auto p = detail.find(tag); p != std::string::npos) {
        if (const auto colon = detail.find(": ", p); colon != std::string::npos) detail = detail.substr(colon + 2);
    }
    return "invalid JSON at byte " + std::to_string(e.byte) + " (line " + std::to_string(line) + ", column " +
           std::to_string(at - line_start + 1) + "): " + detail;
}

// nlohmann's message without its "[json.exception.out_of_range.406] " tag.
std::string parser_message(const json::exception& e) {
    std::string s = e.what();
    if (const auto end = s.find("] "); !s.empty() && s[0] == '[' && end != std::string::npos) return s.substr(end + 2);
    return s;
}

}  // namespace

// nlohmann keeps the last of duplicate keys silently; a config must not.
json parse_json_document(const std::string& text, const std::string& source) {
    struct Frame {
        bool is_array;
        std::string key;
        std::set<std::string> seen;
    };
    std::vector<Frame> frames;
    auto on_event = [&](int, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
            case json::parse_event_t::array_start:
                // Checked before the value grows: printing or freeing tens of thousands of nested
                // values recurses that deep (a stack overflow, not a message).
                if (frames.size() >= static_cast<std::size_t>(kMaxConfigJsonDepth))
                    fail(source, "", "expected JSON nested at most " + std::to_string(kMaxConfigJsonDepth) +
                                         " levels deep, got deeper");
                frames.push_back(Frame{event == json::parse_event_t::array_start, {}, {}});
                break;
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                if (!frames.empty()) frames.pop_back();
                break;
            case json::parse_event_t::key: {
                Frame& f = frames.back();
                f.key = parsed.get<std::string>();
                if (!f.seen.insert(f.key).second) {
                    std::string p;
                    for (const auto& fr : frames) {
                        if (!fr.is_array) p += (p.empty() ? "" : ".") + fr.key;
                    }
                    fail(source, p, "duplicate key");
                }
                break;
            }
            case json::parse_event_t::value:
                break;
        }
        return true;
    };
    try {
        return json::parse(text, on_event);
    } catch (const json::parse_error& e) {
        fail(source, "", syntax_error_message(e, text));
    } catch (const json::exception& e) {  // e.g. number overflow (1e999)
        fail(source, "", "invalid JSON: " + parser_message(e));
    }
}

ArchConfig load_config(const std::string& path) { return config_from_text(read_text(path), path); }

ArchConfig config_from_text(const std::string& text, const std::string& source) {
    return config_from_json(parse_json_document(text, source), source);
}

ArchConfig config_from_json(const nlohmann::json& j, const std::string& source) {
    ArchConfig cfg;
    cfg.source = source;
    JsonReader reader(j, source);
    visit_config(reader, cfg);
    reader.finish();
    validate(cfg);  // defaults against values read (adcs_per_macro vs cols)
    if (cfg.technology.given()) {
        // A cost key the config sets to the derived number counts as derived (a written-out config
        // reads back the same).
        for (const CostFigure& f : derive_costs(cfg.technology, cfg)) {
            std::string ptr = "/" + f.key;
            std::replace(ptr.begin(), ptr.end(), '.', '/');
            if (j.contains(json::json_pointer(ptr)) && cost_field(cfg, f.key) != f.value)
                cfg.cost_overrides.push_back(f.key);
        }
        apply_technology(cfg);
        validate(cfg);  // the derived figures against their ranges
    }
    return cfg;
}

nlohmann::json config_to_json(const ArchConfig& cfg) {
    JsonWriter writer;
    visit_config(writer, cfg);
    return writer.result;
}

void validate(const ArchConfig& cfg) {
    Validator validator(cfg.source);
    visit_config(validator, cfg);
    const std::uint64_t bytes = modeled_memory_bytes(cfg);
    if (bytes > config_limits::kMaxModeledMemoryBytes) {
        const std::string got = format_text("%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
        fail(cfg.source, "platform",
             "expected at most " + std::to_string(config_limits::kMaxModeledMemoryBytes >> 30) +
                 " GiB of modeled memory (dram + global_buffer + tiles x (input_buffer + output_buffer + "
                 "crossbar.rows x crossbar.cols) + the pe_array buffers), got " + got);
    }
}

}  // namespace cimvp
