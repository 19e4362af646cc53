// The run-time options of the sanitizer build (-DCIMVP_SANITIZE=ON, docs/hardening.md), compiled into
// every executable of that build (scripts/cmake/hardening.cmake), so that a test, its discovery at
// build time and cimvp run by the cli tests or by hand all get them without an environment. Options
// set in ASAN_OPTIONS or UBSAN_OPTIONS still override these.

extern "C" {

// detect_stack_use_after_return=0: SystemC runs every SC_THREAD on a QuickThreads stack of its own,
// which Debian's uninstrumented libsystemc switches to without telling ASan. With use-after-return
// detection the locals live on a per-thread fake stack that the switches corrupt: the first
// SC_THREAD touching its module reports a false "invalid vptr" (hw/controller.cpp, Controller::thread).
const char* __asan_default_options() { return "detect_stack_use_after_return=0"; }

// A stack with every undefined-behaviour report (the first one aborts: -fno-sanitize-recover).
const char* __ubsan_default_options() { return "print_stacktrace=1"; }

}  // extern "C"
