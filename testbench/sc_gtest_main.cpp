// sc_main for GoogleTest executables that use SystemC. libsystemc owns main();
// each TEST builds its own harness and is run in its own process by ctest.
#include <gtest/gtest.h>
#include <systemc>

#include "testbench/sc_test_support.h"

int sc_main(int argc, char* argv[]) {
    ::testing::InitGoogleTest(&argc, argv);
    cimvp::test::install_sc_report_handler();
    return RUN_ALL_TESTS();
}
