// What the libFuzzer harnesses share (docs/hardening.md). A harness hands its input to a loader's
// in-memory entry point and catches only that format's typed error: every other exception, a crash,
// a sanitizer report or an allocation past libFuzzer's limit is a finding. An input the loader
// accepts must also survive the format's own round trip; a difference is reported here.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace cimvp::fuzz {

// A broken invariant: report it and abort, so that libFuzzer saves the input.
inline void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz finding: %s\n", what);
    std::abort();
}

// Runs `f`; false when it throws the format's `Error` (an expected rejection). Anything else
// it throws goes on to libFuzzer, which reports it as a crash.
template <class Error, class F>
bool accepted(F&& f) {
    try {
        f();
        return true;
    } catch (const Error&) {
        return false;
    }
}

}  // namespace cimvp::fuzz
