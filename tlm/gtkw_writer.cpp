#include "tlm/gtkw_writer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>

namespace cimvp::tlmx {

namespace {

// GTKWave's trace flags (its TR_* bits), written in hex after '@'.
constexpr std::uint32_t kDec = 0x4, kBin = 0x8, kRjustify = 0x20, kBlank = 0x200, kSigned = 0x400,
                        kCollapsed = 0x1000, kClosed = 0x400000, kGroupBegin = 0x800000, kGroupEnd = 0x1000000;

// The scope below its top level ("platform.tile0.adc" -> "tile0 adc"; "host" stays "host").
std::string block_label(const std::string& scope) {
    const std::size_t dot = scope.find('.');
    std::string s = dot == std::string::npos ? scope : scope.substr(dot + 1);
    std::replace(s.begin(), s.end(), '.', ' ');
    return s;
}

// A scope whose last component is letters then digits ("platform.tile12") is one of a family
// ("platform.tile#", index 12); any other scope is a family of its own (index -1).
struct Family {
    std::string key, parent, stem;
    long index = -1;
};

Family family_of(const std::string& scope) {
    Family f;
    const std::size_t dot = scope.rfind('.');
    const std::string last = dot == std::string::npos ? scope : scope.substr(dot + 1);
    f.parent = dot == std::string::npos ? "" : scope.substr(0, dot);
    std::size_t digits = last.size();
    while (digits > 0 && last[digits - 1] >= '0' && last[digits - 1] <= '9') --digits;
    if (digits == 0 || digits == last.size() || last.size() - digits > 9) {
        f.key = scope;
        return f;
    }
    f.stem = last.substr(0, digits);
    f.index = std::stol(last.substr(digits));
    f.key = f.parent + "." + f.stem + "#";
    return f;
}

class Text {
public:
    void flags(std::uint32_t f) {
        if (f == flags_) return;
        char b[16];
        std::snprintf(b, sizeof b, "@%x\n", f);
        s_ += b;
        flags_ = f;
    }
    void line(const std::string& l) { s_ += l + "\n"; }
    void begin_group(const std::string& title, bool closed) {
        flags(kBlank | kGroupBegin | (closed ? kClosed : 0));
        line("-" + title);
        closed_.push_back(closed);
    }
    void end_group(const std::string& title) {
        const bool closed = closed_.back();
        closed_.pop_back();
        flags(kBlank | kGroupEnd | (closed ? kClosed | kCollapsed : 0));
        line("-" + title);
    }
    void trace(const GtkwSignal& s, const std::string& label) {
        std::uint32_t f = kRjustify | (s.width == 1 ? kBin : kDec) | (s.is_signed && s.width > 1 ? kSigned : 0);
        // Inside a closed group GTKWave keeps the members collapsed (hidden) until it is opened.
        if (std::find(closed_.begin(), closed_.end(), true) != closed_.end()) f |= kCollapsed;
        flags(f);
        std::string name = s.scope + "." + s.name;
        if (s.width > 1) name += "[" + std::to_string(s.width - 1) + ":0]";
        line("+{" + label + "} " + name);
    }
    std::string& str() { return s_; }

private:
    std::string s_;
    std::uint32_t flags_ = ~0u;
    std::vector<bool> closed_;
};

}  // namespace

std::string gtkw_path_for(const std::string& vcd_path) {
    const std::size_t slash = vcd_path.find_last_of('/');
    const std::size_t dot = vcd_path.rfind('.');
    const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
    if (has_ext && vcd_path.compare(dot, std::string::npos, ".vcd") == 0) return vcd_path.substr(0, dot) + ".gtkw";
    return vcd_path + ".gtkw";
}

double gtkw_zoom_to_fit(std::uint64_t span, int pixels) {
    // GTKWave's "zoom fit": z = -log2(span / pixels * 200), never above 0.
    const double units = static_cast<double>(std::max<std::uint64_t>(span, 1));
    return std::min(0.0, -std::log2(units / std::max(pixels, 1) * 200.0));
}

double gtkw_span_at_zoom(double zoom, int pixels) { return std::exp2(-zoom) / 200.0 * pixels; }

std::vector<std::string> gtkw_labels(const std::vector<GtkwSignal>& signals) {
    std::vector<std::string> labels;
    std::map<std::string, int> count;
    for (const auto& s : signals) {
        labels.push_back(block_label(s.scope) + " " + s.name);
        ++count[labels.back()];
    }
    for (std::size_t i = 0; i < signals.size(); ++i)
        if (count[labels[i]] > 1) labels[i] = signals[i].scope + "." + signals[i].name;
    return labels;
}

std::string gtkw_text(const GtkwView& v) {
    const std::vector<std::string> labels = gtkw_labels(v.signals);
    Text t;
    t.line("[*]");
    t.line("[*] cimvp waveform view, written with the dump file (docs/debugging.md)");
    t.line("[*] open with: gtkwave " + v.save_file);
    t.line("[*]");
    t.line("[dumpfile] \"" + v.dump_file + "\"");
    t.line("[savefile] \"" + v.save_file + "\"");
    t.line("[timestart] " + std::to_string(v.from));
    t.line("[size] " + std::to_string(GtkwGeometry::kWidth) + " " + std::to_string(GtkwGeometry::kHeight));
    t.line("[pos] -1 -1");
    // The zoom at which the recorded window fills the wave area; no markers ("-1").
    char zoom[64];
    // Rounded down (zoomed out) to the written precision, so that the whole window still fits.
    const double z = gtkw_zoom_to_fit(v.to > v.from ? v.to - v.from : 0, GtkwGeometry::kFitPixels);
    std::snprintf(zoom, sizeof zoom, "*%.6f -1", std::floor(z * 1e6) / 1e6);
    std::string marks = zoom;
    for (int i = 0; i < 26; ++i) marks += " -1";
    t.line(marks);
    std::vector<std::string> tops;
    for (const auto& s : v.signals) {
        const std::string top = s.scope.substr(0, s.scope.find('.'));
        if (std::find(tops.begin(), tops.end(), top) == tops.end()) tops.push_back(top);
    }
    for (const auto& top : tops) t.line("[treeopen] " + top + ".");
    t.line("[sst_width] " + std::to_string(GtkwGeometry::kTreeWidth));
    t.line("[signals_width] " + std::to_string(GtkwGeometry::kNamesWidth));
    t.line("[sst_expanded] 1");
    t.line("[sst_vpaned_height] 300");

    // Families in the order of their first signal.
    std::vector<std::string> order;
    std::map<std::string, std::vector<std::size_t>> members;
    for (std::size_t i = 0; i < v.signals.size(); ++i) {
        const Family f = family_of(v.signals[i].scope);
        if (!members.count(f.key)) order.push_back(f.key);
        members[f.key].push_back(i);
    }
    for (const auto& key : order) {
        const std::vector<std::size_t>& sig = members[key];
        const Family first = family_of(v.signals[sig.front()].scope);
        if (first.index < 0) {
            const std::string title = block_label(v.signals[sig.front()].scope);
            t.begin_group(title, false);
            for (std::size_t i : sig) t.trace(v.signals[i], labels[i]);
            t.end_group(title);
            continue;
        }
        // A family: busy lines of every member next to each other, then the next signal name.
        std::map<long, bool> active;  // index -> any signal changed
        std::vector<std::string> names;
        for (std::size_t i : sig) {
            active[family_of(v.signals[i].scope).index] |= v.signals[i].active;
            if (std::find(names.begin(), names.end(), v.signals[i].name) == names.end())
                names.push_back(v.signals[i].name);
        }
        const std::string prefix = block_label(first.parent.empty() ? first.stem : first.parent + "." + first.stem);
        const std::string title = active.size() == 1 ? block_label(v.signals[sig.front()].scope)
                                                      : prefix + std::to_string(active.begin()->first) + ".." +
                                                            first.stem + std::to_string(active.rbegin()->first);
        const auto lines = [&](bool want_active) {
            for (const auto& n : names)
                for (const auto& [index, is_active] : active) {
                    if (is_active != want_active) continue;
                    for (std::size_t i : sig)
                        if (v.signals[i].name == n && family_of(v.signals[i].scope).index == index)
                            t.trace(v.signals[i], labels[i]);
                }
        };
        t.begin_group(title, false);
        lines(true);
        const auto idle = static_cast<std::size_t>(std::count_if(active.begin(), active.end(),
                                                                 [](const auto& a) { return !a.second; }));
        if (idle > 0) {
            const std::string sub = first.stem + (idle == 1 ? "" : "s") + " without a change (" +
                                    std::to_string(idle) + ")";
            t.begin_group(sub, true);
            lines(false);
            t.end_group(sub);
        }
        t.end_group(title);
    }
    return std::move(t.str());
}

void write_gtkw(const GtkwView& view) {
    const std::string text = gtkw_text(view);
    std::FILE* f = std::fopen(view.save_file.c_str(), "wb");
    if (!f) throw std::runtime_error(view.save_file + ": cannot open for writing: " + std::strerror(errno));
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok) throw std::runtime_error(view.save_file + ": write failed");
}

}  // namespace cimvp::tlmx
