// Test support for SystemC tests: SystemC errors and warnings become test
// failures, and a guard skips a test when the process already elaborated.
#pragma once

#include <gtest/gtest.h>
#include <systemc>

namespace cimvp::test {

inline void sc_report_to_gtest(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
    if (rep.get_severity() >= sc_core::SC_WARNING) {
        ADD_FAILURE() << "SystemC " << (rep.get_severity() == sc_core::SC_WARNING ? "warning" : "error") << " ["
                      << rep.get_msg_type() << "]: " << rep.get_msg();
    }
    if (actions & sc_core::SC_THROW) throw rep;  // keep SystemC's own error flow
}

inline void install_sc_report_handler() {
    sc_core::sc_report_handler::set_handler(sc_report_to_gtest);
    // Deprecation notes from the library itself are not our failures.
    sc_core::sc_report_handler::set_actions(sc_core::SC_ID_IEEE_1666_DEPRECATION_, sc_core::SC_DO_NOTHING);
}

}  // namespace cimvp::test

// Every SystemC TEST starts with this: one elaboration per process.
#define CIMVP_REQUIRE_FRESH_SYSTEMC()                                              \
    do {                                                                           \
        if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)                   \
            GTEST_SKIP() << "SystemC already elaborated in this process; ctest runs " \
                            "each test in its own process";                        \
    } while (0)
