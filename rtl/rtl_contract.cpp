#include "rtl/rtl_contract.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include <systemc>

#include "rtl/rtl_verilator_print.h"
#include "verilated.h"

namespace cimvp {

namespace {

// What Verilator printed for a context that keeps its errors, on this thread (Verilator reports an
// assertion on the thread that evaluates the model, in that thread's context: the adapters point it
// at theirs). Bounded: only the first messages of an error matter.
thread_local std::string t_kept;
constexpr std::size_t kKeptMax = 4096;

// A fatal error of the simulator itself (not an assertion: e.g. a loop that does not settle) still
// aborts; what was kept is printed first, so that its messages are not lost.
void print_kept(void*) {
    if (t_kept.empty()) return;
    std::fputs(t_kept.c_str(), stdout);
    std::fflush(stdout);
    t_kept.clear();
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

struct Failure {
    std::string source, rule;
};

// The assertions' lines of what Verilator printed: "[t] %Error: <file>:<line>: Assertion failed in
// <instance>: <message>". Its "%Error: <file>:<line>: Verilog $stop" that follows each is dropped.
std::vector<Failure> failures(const std::string& kept) {
    static const std::string kError = "%Error: ", kFailed = ": Assertion failed in ";
    std::vector<Failure> out;
    std::istringstream lines(kept);
    for (std::string line; std::getline(lines, line);) {
        const std::size_t e = line.find(kError), f = line.find(kFailed);
        if (e == std::string::npos || f == std::string::npos || f < e) continue;
        const std::size_t m = line.find(": ", f + kFailed.size());  // after the instance's name
        if (m == std::string::npos) continue;
        out.push_back({line.substr(e + kError.size(), f - e - kError.size()), trim(line.substr(m + 2))});
    }
    return out;
}

}  // namespace

RtlContractError::RtlContractError(std::string block, std::string rule, std::string source, std::string where)
    : std::runtime_error("RTL input contract of " + block + " violated: " + rule + " (" +
                         (source.empty() ? std::string() : source + "; ") + where + ")"),
      block_(std::move(block)),
      rule_(std::move(rule)),
      source_(std::move(source)),
      where_(std::move(where)) {}

void keep_contract_errors(VerilatedContext& ctx) {
    static std::once_flag exit_cb;
    std::call_once(exit_cb, [] { Verilated::addExitCb(print_kept, nullptr); });
    ctx.fatalOnError(false);
}

void throw_contract_error(VerilatedContext& ctx, const std::string& block, const std::string& where) {
    std::string kept;
    kept.swap(t_kept);
    ctx.gotError(false);
    ctx.gotFinish(false);
    ctx.errorCount(0);
    const std::vector<Failure> f = failures(kept);
    if (f.empty()) {  // not an assertion's message: the first line Verilator printed, if any
        const std::string first = trim(kept.substr(0, kept.find('\n')));
        throw RtlContractError(block, first.empty() ? "an error without a message" : first, "", where);
    }
    std::string rule = f[0].rule;
    for (std::size_t i = 1; i < f.size(); ++i) rule += "; " + f[i].rule;
    // The message names its block ("sar_adc: ..."); the adapter's name for it otherwise.
    const std::size_t colon = f[0].rule.find(':');
    const std::string named = colon == std::string::npos ? block : f[0].rule.substr(0, colon);
    throw RtlContractError(named.empty() ? block : named, rule, f[0].source, where);
}

std::string simulation_point() {
    if (!sc_core::sc_is_running()) return "";
    const sc_core::sc_process_handle p = sc_core::sc_get_current_process_handle();
    if (!p.valid()) return "";
    return " at " + sc_core::sc_time_stamp().to_string() + " in " + p.name();
}

}  // namespace cimvp

// Verilator's VL_PRINTF (rtl/rtl_verilator_print.h).
void cimvp_verilator_printf(const char* format, ...) {
    std::va_list ap;
    va_start(ap, format);
    if (Verilated::threadContextp()->fatalOnError()) {
        std::vprintf(format, ap);
    } else if (cimvp::t_kept.size() < cimvp::kKeptMax) {
        char buf[512];
        std::va_list again;
        va_copy(again, ap);
        const int n = std::vsnprintf(buf, sizeof buf, format, ap);
        if (n >= static_cast<int>(sizeof buf)) {
            std::string s(static_cast<std::size_t>(n) + 1, '\0');
            std::vsnprintf(s.data(), s.size(), format, again);
            s.pop_back();
            cimvp::t_kept += s;
        } else if (n > 0) {
            cimvp::t_kept.append(buf, static_cast<std::size_t>(n));
        }
        va_end(again);
    }
    va_end(ap);
}
