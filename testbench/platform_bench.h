// The system top (sw/system/system.h) the way the cimvp tool builds it, with a
// driver for the test body, which is the host's program.
#pragma once

#include <functional>
#include <utility>

#include <gtest/gtest.h>
#include <systemc>

#include "hw/arch_config.h"
#include "sw/driver/driver.h"
#include "sw/system/system.h"

namespace cimvp::test {

struct PlatformBench {
    ArchConfig cfg;
    System system;
    Platform& platform;
    bool finished = false;

    explicit PlatformBench(const ArchConfig& c, const SystemOptions& options = {})
        : cfg(c), system("system", c, options), platform(system.platform) {}

    // Runs the program to its end: no exception escapes, the simulation stops normally.
    void run(std::function<void(HostCpu&, Driver&)> body) {
        EXPECT_NO_THROW(system.run([&](HostCpu& cpu) {
            Driver driver(cpu, cfg);
            body(cpu, driver);
            finished = true;
        }));
        EXPECT_TRUE(finished);
        EXPECT_EQ(sc_core::sc_get_status(), sc_core::SC_STOPPED);
    }
};

}  // namespace cimvp::test
