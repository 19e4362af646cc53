#include "tlm/waveform_recorder.h"

#include "tlm/gtkw_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>

namespace cimvp::tlmx {

namespace {

// VCD identifier codes: printable ASCII '!'..'~', shortest first.
std::string identifier(std::size_t n) {
    std::string id;
    do {
        id.push_back(static_cast<char>('!' + n % 94));
        n /= 94;
    } while (n > 0);
    return id;
}

// "1 ps", "10 ns", ...: the SystemC time resolution as a VCD $timescale.
std::string timescale() {
    const double r = sc_core::sc_get_time_resolution().to_seconds();
    static const char* const kUnits[] = {"s", "ms", "us", "ns", "ps", "fs"};
    double unit = 1.0;
    for (const char* u : kUnits) {
        for (int m : {1, 10, 100}) {
            const double v = m * unit;
            if (r > v * (1 - 1e-9) && r < v * (1 + 1e-9)) return std::to_string(m) + " " + u;
        }
        unit /= 1000.0;
    }
    throw std::runtime_error("SystemC time resolution " + sc_core::sc_get_time_resolution().to_string() +
                             " is not a VCD timescale (1, 10 or 100 of s..fs)");
}

bool valid_name(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c <= ' ' || c > '~' || c == '.') return false;
    return true;
}

}  // namespace

WaveformRecorder::WaveformRecorder(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) throw std::runtime_error(path + ": cannot open for writing: " + std::strerror(errno));
    buf_.reserve(1 << 16);
}

WaveformRecorder::~WaveformRecorder() {
    try {
        close();
    } catch (const std::exception&) {
        // A destructor must not throw; close() explicitly to see write errors.
    }
}

WaveformRecorder::Var WaveformRecorder::declare(const std::string& scope, const std::string& name, int width,
                                                std::uint64_t initial) {
    if (header_written_ || !pending_.empty())
        throw std::logic_error(path_ + ": variable " + scope + "." + name + " declared after recording started");
    if (width < 1 || width > kMaxWidth)
        throw std::invalid_argument(path_ + ": variable " + scope + "." + name + ": width " + std::to_string(width) +
                                    ", expected 1.." + std::to_string(kMaxWidth));
    if (!valid_name(name)) throw std::invalid_argument(path_ + ": bad variable name '" + name + "'");
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = scope.find('.', start);
        if (!valid_name(scope.substr(start, dot - start)))
            throw std::invalid_argument(path_ + ": bad scope '" + scope + "'");
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    for (const auto& v : vars_)
        if (v.scope == scope && v.name == name)
            throw std::invalid_argument(path_ + ": variable " + scope + "." + name + " declared twice");
    VarInfo v;
    v.scope = scope;
    v.name = name;
    v.id = identifier(vars_.size());
    v.width = width;
    v.mask = width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
    v.value = initial & v.mask;
    v.shown = 0;
    v.known = false;
    v.dirty = false;
    vars_.push_back(v);
    return static_cast<Var>(vars_.size() - 1);
}

void WaveformRecorder::set_window(const sc_core::sc_time& from, const sc_core::sc_time& to) {
    if (to < from) throw std::invalid_argument(path_ + ": window ends before it starts");
    from_ = from.value();
    to_ = to.value();
}

void WaveformRecorder::use_gate() { gated_ = true; }

void WaveformRecorder::gate(bool open, const sc_core::sc_time& t) {
    pending_.push_back(Event{t.value(), seq_++, 1, open ? kGateOpen : kGateClose, 0});
}

void WaveformRecorder::out(const char* s, std::size_t n) {
    buf_.append(s, n);
    if (buf_.size() >= (1u << 16)) {
        if (std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size())
            throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
        buf_.clear();
    }
}

void WaveformRecorder::write_header() {
    header_written_ = true;
    char date[64];
    const std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
    out("$date\n   " + std::string(date) + "\n$end\n");
    out("$version\n   cimvp waveform recorder, SystemC " + std::string(sc_core::sc_release()) + "\n$end\n");
    out("$timescale\n   " + timescale() + "\n$end\n");

    // Scopes as a tree, in the order they were first declared.
    struct Node {
        std::vector<std::pair<std::string, std::unique_ptr<Node>>> children;
        std::vector<std::size_t> vars;
        Node* child(const std::string& n) {
            for (auto& c : children)
                if (c.first == n) return c.second.get();
            children.emplace_back(n, std::make_unique<Node>());
            return children.back().second.get();
        }
    } root;
    for (std::size_t i = 0; i < vars_.size(); ++i) {
        Node* n = &root;
        std::size_t start = 0;
        for (;;) {
            const std::size_t dot = vars_[i].scope.find('.', start);
            n = n->child(vars_[i].scope.substr(start, dot - start));
            if (dot == std::string::npos) break;
            start = dot + 1;
        }
        n->vars.push_back(i);
    }
    struct Writer {
        WaveformRecorder& w;
        void node(const std::string& name, const Node& n) {
            w.out("$scope module " + name + " $end\n");
            for (std::size_t i : n.vars) {
                const VarInfo& v = w.vars_[i];
                std::string line = "$var wire " + std::to_string(v.width) + " " + v.id + " " + v.name;
                if (v.width > 1) line += " [" + std::to_string(v.width - 1) + ":0]";
                w.out(line + " $end\n");
            }
            for (const auto& c : n.children) node(c.first, *c.second);
            w.out("$upscope $end\n");
        }
    } writer{*this};
    for (const auto& c : root.children) writer.node(c.first, *c.second);
    out("$enddefinitions $end\n");

    // Time 0: the window's and the gate's state before any event.
    current_ = 0;
    in_window_ = from_ == 0;
    gate_open_ = !gated_;
    if (from_ > 0) pending_.push_back(Event{from_, seq_++, 0, kGateOpen, 0});
    if (to_ != ~std::uint64_t{0}) pending_.push_back(Event{to_, seq_++, 0, kGateClose, 0});
    dump_pending_ = recording();
}

void WaveformRecorder::emit(VarInfo& v) {
    write_time();
    char line[80];
    std::size_t n = 0;
    if (v.width == 1) {
        line[n++] = v.value ? '1' : '0';
    } else {
        line[n++] = 'b';
        int top = 63 - __builtin_clzll(v.value | 1);
        for (int b = top; b >= 0; --b) line[n++] = static_cast<char>('0' + ((v.value >> b) & 1));
        line[n++] = ' ';
    }
    out(line, n);
    out(v.id);
    out("\n", 1);
    v.shown = v.value;
    v.known = true;
    ++written_;
}

void WaveformRecorder::write_time() {
    if (time_written_) return;
    out("#" + std::to_string(current_) + "\n");
    time_written_ = true;
    if (!any_time_) first_time_ = current_;
    any_time_ = true;
    last_time_ = current_;
}

void WaveformRecorder::emit_unknown(VarInfo& v) {
    write_time();
    out(v.width == 1 ? "x" + v.id + "\n" : "bx " + v.id + "\n");
    v.known = false;
    ++written_;
}

void WaveformRecorder::start_time(std::uint64_t t) {
    current_ = t;
    time_written_ = false;
}

void WaveformRecorder::write_dirty() {
    // Only the last value a variable took at this time, and only if it differs from the file's.
    for (Var i : dirty_) {
        VarInfo& v = vars_[i];
        v.dirty = false;
        if (!v.known || v.shown != v.value) {
            emit(v);
            ++v.changes;
        }
    }
    dirty_.clear();
}

void WaveformRecorder::write_dump() {
    dump_pending_ = false;
    for (Var i : dirty_) vars_[i].dirty = false;
    dirty_.clear();
    const bool first = !dumped_once_;
    if (first) {
        // $dumpvars belongs after its timestamp.
        write_time();
        out("$dumpvars\n");
    }
    for (auto& v : vars_) emit(v);
    if (first) out("$end\n");
    dumped_once_ = true;
}

void WaveformRecorder::advance_to(std::uint64_t t) {
    if (t <= current_) return;
    if (dump_pending_) write_dump();
    write_dirty();
    start_time(t);
}

void WaveformRecorder::flush_before(std::uint64_t horizon) {
    if (!file_) return;
    if (!header_written_) write_header();
    std::sort(pending_.begin(), pending_.end(), [](const Event& a, const Event& b) {
        if (a.time != b.time) return a.time < b.time;
        if (a.kind != b.kind) return a.kind < b.kind;
        return a.seq < b.seq;
    });
    std::size_t i = 0;
    for (; i < pending_.size() && pending_[i].time < horizon; ++i) {
        const Event& e = pending_[i];
        // An event behind the written time (cannot happen for a target that reports at
        // sc_time_stamp() + its delay) is placed at the written time.
        advance_to(std::max(e.time, current_));
        switch (e.kind) {
            case kChange: {
                VarInfo& v = vars_[e.var];
                v.value = e.value & v.mask;
                if (recording() && !dump_pending_ && !v.dirty) {
                    v.dirty = true;
                    dirty_.push_back(e.var);
                }
                break;
            }
            case kGateOpen: {
                const bool was = recording();
                (e.var == 0 ? in_window_ : gate_open_) = true;
                if (!was && recording()) dump_pending_ = true;
                break;
            }
            case kGateClose: {
                if (recording()) {
                    // Write the values the window ends with, then mark the gap as unknown.
                    if (dump_pending_) write_dump();
                    write_dirty();
                    for (auto& v : vars_) emit_unknown(v);
                }
                (e.var == 0 ? in_window_ : gate_open_) = false;
                dump_pending_ = false;
                break;
            }
        }
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(i));
}

void WaveformRecorder::close() {
    if (!file_) return;
    flush_before(~std::uint64_t{0});
    if (dump_pending_) write_dump();
    write_dirty();
    std::FILE* f = file_;
    file_ = nullptr;
    const bool ok = std::fwrite(buf_.data(), 1, buf_.size(), f) == buf_.size();
    buf_.clear();
    if (std::fclose(f) != 0 || !ok) throw std::runtime_error(path_ + ": write failed");
    if (!save_path_.empty()) write_save_file();
}

void WaveformRecorder::write_save_file() {
    GtkwView view;
    // Absolute paths, as GTKWave writes them: the save file opens the dump from any directory.
    std::error_code ec;
    const auto absolute = [&](const std::string& p) {
        const auto a = std::filesystem::absolute(p, ec);
        return ec ? p : a.lexically_normal().string();
    };
    view.dump_file = absolute(path_);
    view.save_file = absolute(save_path_);
    // GTKWave counts time in the timescale's unit: the file's timestamps times its multiplier.
    const std::uint64_t unit = static_cast<std::uint64_t>(std::stoul(timescale()));
    view.from = first_time_ * unit;
    view.to = last_time_ * unit;
    for (const auto& v : vars_) view.signals.push_back({v.scope, v.name, v.width, v.is_signed, v.changes > 0});
    write_gtkw(view);
}

}  // namespace cimvp::tlmx
