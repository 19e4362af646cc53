// The system top (sw/system/system.h) the way the cimvp tool builds it, with a
// driver for the test body, which is the host's program.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

#include "hw/arch_config.h"
#include "sw/driver/driver.h"
#include "sw/driver/network_runner.h"
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

// The logits of `images` images (the model's image bytes each, back to back in x) run through a
// programmed runner in batches of its plan's size, image i keyed i for the read noise.
inline std::vector<std::int64_t> run_in_batches(NetworkRunner& runner, const std::vector<std::uint8_t>& x,
                                                int images) {
    const std::size_t bytes = runner.plan().model.image_bytes();
    std::vector<std::int64_t> logits;
    for (int first = 0; first < images; first += runner.batch()) {
        const int n = std::min(runner.batch(), images - first);
        const auto l = runner.run_batch(&x[bytes * static_cast<std::size_t>(first)], n, static_cast<std::uint64_t>(first));
        logits.insert(logits.end(), l.begin(), l.end());
    }
    return logits;
}

}  // namespace cimvp::test
