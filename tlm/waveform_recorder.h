// A VCD (IEEE 1364 value change dump) writer for a loosely-timed platform.
// Modules report value changes with explicit timestamps (sc_time_stamp() plus
// their local offset), possibly out of order; the recorder buffers them,
// sorts them by time and writes them in order. Recording can be limited to a
// time window and gated at run time (record only while a given layer runs);
// each time recording starts, every variable's current value is dumped so
// the file stands on its own. With set_save_file, closing also writes a GTKWave
// save file for the dump (tlm/gtkw_writer.h). Usage and signal list: docs/debugging.md.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <systemc>

namespace cimvp::tlmx {

class WaveformRecorder {
public:
    using Var = std::uint32_t;
    static constexpr int kMaxWidth = 64;
    // Changes buffered before the recorder writes out those older than the current simulation time.
    static constexpr std::size_t kFlushThreshold = 1u << 20;

    // Opens `path` for writing; throws std::runtime_error naming it when that fails.
    explicit WaveformRecorder(const std::string& path);
    WaveformRecorder(const WaveformRecorder&) = delete;
    WaveformRecorder& operator=(const WaveformRecorder&) = delete;
    ~WaveformRecorder();  // closes (writes what is buffered)

    // Declares a variable in a scope given as a dotted path ("platform.controller").
    // Only before the first change; width 1..64; the initial value is the value at time 0.
    // Names are unique within a scope; throws std::invalid_argument otherwise.
    Var declare(const std::string& scope, const std::string& name, int width, std::uint64_t initial = 0);

    // The save file's view shows `var` as a signed (two's complement) number.
    void show_signed(Var var) { vars_.at(var).is_signed = true; }
    // On close, also write a GTKWave save file at `path` (tlm/gtkw_writer.h) that opens this dump
    // zoomed to the recorded window; empty: none.
    void set_save_file(const std::string& path) { save_path_ = path; }

    // Records only inside [from, to] (inclusive); default: everything.
    void set_window(const sc_core::sc_time& from, const sc_core::sc_time& to);
    // Turns on run-time gating: nothing is recorded until gate(true, t). Call before the first change.
    void use_gate();
    // Opens or closes the run-time gate at time t (like a change: reported in any order).
    void gate(bool open, const sc_core::sc_time& t);

    // The value of `var` becomes `value` at time t (masked to the declared width).
    void change(Var var, const sc_core::sc_time& t, std::uint64_t value) {
        pending_.push_back(Event{t.value(), seq_++, var, kChange, value});
        if (pending_.size() >= next_flush_) {
            flush_before(sc_core::sc_time_stamp().value());
            next_flush_ = pending_.size() + kFlushThreshold;  // what is left waits for time to move on
        }
    }

    // Writes everything buffered and closes the file, then the save file if one was asked for
    // (the destructor does it too). Throws on a write error.
    void close();

    const std::string& path() const { return path_; }
    std::size_t variables() const { return vars_.size(); }
    std::uint64_t changes_written() const { return written_; }
    const std::string& save_file() const { return save_path_; }
    // The recorded window: the first and the last timestamp in the file, in units of the SystemC
    // time resolution; both 0 before anything was written.
    std::uint64_t first_time() const { return first_time_; }
    std::uint64_t last_time() const { return last_time_; }

private:
    enum Kind : std::uint8_t { kGateOpen = 0, kChange = 1, kGateClose = 2 };
    struct Event {
        std::uint64_t time;  // in units of the SystemC time resolution
        std::uint64_t seq;   // report order: the later report wins at equal times
        Var var;
        Kind kind;
        std::uint64_t value;
    };
    struct VarInfo {
        std::string scope, name, id;
        int width;
        std::uint64_t mask, value, shown;
        bool known;  // `shown` is what the file holds (false: x, or nothing yet)
        bool dirty;  // changed at the current time while recording: written when time moves on
        bool is_signed = false;
        std::uint64_t changes = 0;  // values written while recording, not counting the dumps
    };

    void write_header();
    void write_time();  // "#current_" unless already written
    void write_save_file();
    // Writes the events with time < horizon in time order.
    void flush_before(std::uint64_t horizon);
    bool recording() const { return gate_open_ && in_window_; }
    void advance_to(std::uint64_t t);
    void write_dump();
    void write_dirty();
    void start_time(std::uint64_t t);
    void emit(VarInfo& v);
    void emit_unknown(VarInfo& v);
    void out(const char* s, std::size_t n);
    void out(const std::string& s) { out(s.data(), s.size()); }

    std::string path_;
    std::FILE* file_ = nullptr;
    std::vector<VarInfo> vars_;
    std::vector<Event> pending_;
    std::vector<Var> dirty_;
    std::uint64_t seq_ = 0;
    std::size_t next_flush_ = kFlushThreshold;
    bool header_written_ = false;
    bool dumped_once_ = false;
    std::uint64_t from_ = 0, to_ = ~std::uint64_t{0};
    bool gated_ = false, gate_open_ = true, in_window_ = false;
    bool dump_pending_ = false;    // recording (re)started at current_: dump every value before time moves on
    std::uint64_t current_ = 0;    // time of the events being applied
    bool time_written_ = false;    // "#current_" is in the file
    std::uint64_t written_ = 0;
    std::uint64_t first_time_ = 0, last_time_ = 0;
    bool any_time_ = false;
    std::string save_path_;
    std::string buf_;
};

}  // namespace cimvp::tlmx
