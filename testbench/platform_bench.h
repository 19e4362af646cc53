// The whole platform with the host CPU and the driver, wired the way the cimvp
// tool wires them; the test body is the host's program.
#pragma once

#include <functional>
#include <utility>

#include <gtest/gtest.h>
#include <systemc>

#include "hw/platform.h"
#include "hw/arch_config.h"
#include "sw/driver/driver.h"
#include "sw/driver/host_cpu.h"

namespace cimvp::test {

struct PlatformBench {
    ArchConfig cfg;
    Platform platform;
    HostCpu host;
    std::function<void(HostCpu&, Driver&)> body;
    bool finished = false;

    explicit PlatformBench(const ArchConfig& c)
        : cfg(c), platform("platform", c), host("host", [this](HostCpu& cpu) {
              Driver driver(cpu, cfg);
              if (body) body(cpu, driver);
              finished = true;
          }) {
        platform.router.attach("host", host.bus_socket);
        host.irq.bind(platform.irq);
    }

    // Runs the program to its end: no exception escapes, the simulation stops normally.
    void run(std::function<void(HostCpu&, Driver&)> b) {
        body = std::move(b);
        EXPECT_NO_THROW(host.run());
        EXPECT_TRUE(finished);
        EXPECT_EQ(sc_core::sc_get_status(), sc_core::SC_STOPPED);
    }
};

}  // namespace cimvp::test
