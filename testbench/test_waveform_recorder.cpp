// The VCD writer on its own: order, deduplication, windows, the run-time gate
// and bad declarations, read back with a small strict reader.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tlm/waveform_recorder.h"

namespace {

using cimvp::tlmx::WaveformRecorder;
using sc_core::SC_NS;
using sc_core::sc_time;

struct Change {
    std::uint64_t time;
    std::string name, value;  // value: "0", "1", "x", or the bits of a vector
};

struct Dump {
    std::map<std::string, std::string> ids;  // identifier -> dotted name
    std::map<std::string, int> widths;       // identifier -> width
    std::vector<std::uint64_t> times;
    std::vector<Change> changes;
    std::string timescale;
};

// Reads a VCD as the recorder writes it, failing the test on anything malformed.
Dump read_vcd(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    std::vector<std::string> tok;
    for (std::string t; ss >> t;) tok.push_back(t);
    Dump d;
    std::vector<std::string> scope;
    std::size_t i = 0;
    const auto skip_to_end = [&] {
        std::string body;
        while (i < tok.size() && tok[i] != "$end") body += tok[i++];
        EXPECT_LT(i, tok.size()) << "missing $end";
        ++i;
        return body;
    };
    for (bool header = true; header && i < tok.size();) {
        const std::string t = tok[i++];
        if (t == "$date" || t == "$version") skip_to_end();
        else if (t == "$timescale") d.timescale = skip_to_end();
        else if (t == "$scope") {
            EXPECT_EQ(tok[i], "module");
            scope.push_back(tok[i + 1]);
            i += 2;
            EXPECT_EQ(skip_to_end(), "");
        } else if (t == "$upscope") {
            EXPECT_FALSE(scope.empty());
            if (!scope.empty()) scope.pop_back();
            EXPECT_EQ(skip_to_end(), "");
        } else if (t == "$var") {
            EXPECT_EQ(tok[i], "wire");
            const int width = std::stoi(tok[i + 1]);
            const std::string id = tok[i + 2];
            std::string name;
            for (const auto& s : scope) name += s + ".";
            EXPECT_EQ(d.ids.count(id), 0u) << "identifier reused: " << id;
            d.ids[id] = name + tok[i + 3];
            d.widths[id] = width;
            i += 4;
            const std::string rest = skip_to_end();
            if (width > 1) {
                EXPECT_EQ(rest, "[" + std::to_string(width - 1) + ":0]");
            }
        } else if (t == "$enddefinitions") {
            skip_to_end();
            header = false;
        } else {
            ADD_FAILURE() << "unexpected header token " << t;
            return d;
        }
    }
    EXPECT_TRUE(scope.empty());
    bool have_time = false;
    while (i < tok.size()) {
        const std::string t = tok[i++];
        if (t == "$dumpvars" || t == "$end") continue;
        if (t[0] == '#') {
            const std::uint64_t time = std::stoull(t.substr(1));
            if (!d.times.empty()) {
                EXPECT_GT(time, d.times.back()) << "time not increasing";
            }
            d.times.push_back(time);
            have_time = true;
            continue;
        }
        EXPECT_TRUE(have_time) << "value change before the first time";
        std::string value, id;
        if (t[0] == 'b') {
            value = t.substr(1);
            id = tok[i++];
        } else {
            value = t.substr(0, 1);
            id = t.substr(1);
        }
        EXPECT_EQ(d.ids.count(id), 1u) << "undeclared identifier " << id;
        EXPECT_LE(static_cast<int>(value.size()), d.widths[id]) << "value wider than " << d.ids[id];
        d.changes.push_back(Change{d.times.empty() ? 0 : d.times.back(), d.ids[id], value});
    }
    return d;
}

std::vector<Change> of(const Dump& d, const std::string& name) {
    std::vector<Change> out;
    for (const auto& c : d.changes)
        if (c.name == name) out.push_back(c);
    return out;
}

std::uint64_t ps(double ns) { return static_cast<std::uint64_t>(ns * 1000 + 0.5); }

class WaveformRecorderTest : public ::testing::Test {
protected:
    std::string path_ = ::testing::TempDir() + "/wave_" +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".vcd";
    void TearDown() override { std::remove(path_.c_str()); }
};

TEST_F(WaveformRecorderTest, ChangesReportedOutOfOrderAreWrittenInTimeOrder) {
    {
        WaveformRecorder w(path_);
        const auto a = w.declare("top.blk", "a", 1);
        const auto v = w.declare("top.blk", "v", 8, 5);
        w.change(a, sc_time(30, SC_NS), 1);
        w.change(v, sc_time(10, SC_NS), 7);
        w.change(a, sc_time(20, SC_NS), 1);
        w.change(a, sc_time(20, SC_NS), 0);  // the later report wins at equal times
        w.change(v, sc_time(40, SC_NS), 7);  // unchanged: not written again
        w.close();
    }
    const Dump d = read_vcd(path_);
    EXPECT_EQ(d.timescale, "1ps");
    ASSERT_EQ(d.ids.size(), 2u);
    const auto a = of(d, "top.blk.a"), v = of(d, "top.blk.v");
    ASSERT_EQ(a.size(), 2u);  // 0 at time 0 (dump), 1 at 30 ns; the 0 at 20 ns repeats the 0
    EXPECT_EQ(a[0].time, 0u);
    EXPECT_EQ(a[1].time, ps(30));
    EXPECT_EQ(a[1].value, "1");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].value, "101");  // the initial value
    EXPECT_EQ(v[1].time, ps(10));
    EXPECT_EQ(v[1].value, "111");
}

TEST_F(WaveformRecorderTest, WindowDumpsTheStateAtItsStartAndWritesNothingOutside) {
    {
        WaveformRecorder w(path_);
        const auto a = w.declare("top", "a", 4);
        w.set_window(sc_time(100, SC_NS), sc_time(200, SC_NS));
        w.change(a, sc_time(50, SC_NS), 3);   // before the window: seen in the dump at 100 ns
        w.change(a, sc_time(150, SC_NS), 9);
        w.change(a, sc_time(200, SC_NS), 10);  // the end is inside
        w.change(a, sc_time(250, SC_NS), 11);
        w.close();
    }
    const Dump d = read_vcd(path_);
    ASSERT_FALSE(d.times.empty());
    EXPECT_EQ(d.times.front(), ps(100));
    EXPECT_EQ(d.times.back(), ps(200));
    const auto a = of(d, "top.a");
    ASSERT_EQ(a.size(), 4u);
    EXPECT_EQ(a[0].value, "11");
    EXPECT_EQ(a[1].value, "1001");
    EXPECT_EQ(a[2].value, "1010");
    EXPECT_EQ(a[3].value, "x");  // the window closes: unknown from here on
}

TEST_F(WaveformRecorderTest, GateRecordsOnlyWhileOpenAndDumpsOnEveryOpening) {
    {
        WaveformRecorder w(path_);
        const auto a = w.declare("top", "a", 1);
        const auto n = w.declare("top", "n", 16);
        w.use_gate();
        w.change(n, sc_time(5, SC_NS), 1);
        w.gate(true, sc_time(10, SC_NS));
        w.change(a, sc_time(12, SC_NS), 1);
        w.gate(false, sc_time(20, SC_NS));
        w.change(a, sc_time(25, SC_NS), 0);
        w.change(n, sc_time(26, SC_NS), 2);
        w.gate(true, sc_time(30, SC_NS));
        w.close();
    }
    const Dump d = read_vcd(path_);
    const std::vector<std::uint64_t> expected{ps(10), ps(12), ps(20), ps(30)};
    EXPECT_EQ(d.times, expected);
    const auto n = of(d, "top.n");
    ASSERT_EQ(n.size(), 3u);
    EXPECT_EQ(n[0].value, "1");
    EXPECT_EQ(n[1].value, "x");
    EXPECT_EQ(n[2].value, "10");  // re-dumped with the value it took while the gate was closed
    const auto a = of(d, "top.a");
    ASSERT_EQ(a.size(), 4u);
    EXPECT_EQ(a[3].value, "0");
}

TEST_F(WaveformRecorderTest, ManyChangesBeyondTheFlushThresholdAreAllWritten) {
    const int n = static_cast<int>(WaveformRecorder::kFlushThreshold) + 1000;
    {
        WaveformRecorder w(path_);
        const auto c = w.declare("top", "count", 32);
        for (int i = n; i >= 1; --i) w.change(c, sc_time(i, SC_NS), static_cast<std::uint64_t>(i));
        EXPECT_EQ(w.variables(), 1u);
        w.close();
        EXPECT_EQ(w.changes_written(), static_cast<std::uint64_t>(n) + 1);
    }
    const Dump d = read_vcd(path_);
    ASSERT_EQ(d.times.size(), static_cast<std::size_t>(n) + 1);
    EXPECT_EQ(d.changes.back().value, [&] {
        std::string bits;
        for (unsigned v = static_cast<unsigned>(n); v; v >>= 1) bits.insert(bits.begin(), static_cast<char>('0' + (v & 1)));
        return bits;
    }());
}

TEST_F(WaveformRecorderTest, BadDeclarationsAndPathsAreRejected) {
    EXPECT_THROW(WaveformRecorder(::testing::TempDir() + "/no/such/dir/x.vcd"), std::runtime_error);
    WaveformRecorder w(path_);
    EXPECT_THROW(w.declare("top", "a", 0), std::invalid_argument);
    EXPECT_THROW(w.declare("top", "a", 65), std::invalid_argument);
    EXPECT_THROW(w.declare("top..x", "a", 1), std::invalid_argument);
    EXPECT_THROW(w.declare("top", "a b", 1), std::invalid_argument);
    const auto a = w.declare("top", "a", 1);
    EXPECT_THROW(w.declare("top", "a", 1), std::invalid_argument);
    EXPECT_THROW(w.set_window(sc_time(2, SC_NS), sc_time(1, SC_NS)), std::invalid_argument);
    w.change(a, sc_time(1, SC_NS), 1);
    EXPECT_THROW(w.declare("top", "b", 1), std::logic_error);
}

}  // namespace
