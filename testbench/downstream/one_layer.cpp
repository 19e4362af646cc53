// One random layer on the cimvp platform, wired by hand as a user of the package would: the platform
// (cimvp::hw), a host CPU running the driver (cimvp::driver), checked bit-exactly against the C++
// reference (cimvp::ref). Exit 0 when every output agrees.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <systemc>

#include "hw/platform.h"
#include "sw/compiler/adc_calibration.h"
#include "sw/driver/driver.h"
#include "sw/driver/host_cpu.h"
#include "sw/formats/config_loader.h"
#include "sw/reference/reference.h"

using namespace cimvp;

int sc_main(int argc, char* argv[]) {
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    // The shipped default config unless one is named: exercises the package's data and its JSON loader.
    const std::string config = argc > 1 ? argv[1] : CIMVP_PACKAGE_DATA_DIR "/configs/default.json";
    const ArchConfig cfg = load_config(config);

    std::mt19937_64 rng(7);
    MatrixLayer layer;
    layer.name = "fc";
    layer.K = 300;  // more rows than one crossbar: partial sums of several row tiles are added
    layer.M = 70;
    layer.a_bits = 8;
    layer.w_bits = 8;
    layer.weights.resize(static_cast<std::size_t>(layer.K) * layer.M);
    for (auto& w : layer.weights) w = static_cast<std::int8_t>(static_cast<int>(rng() % 256) - 128);
    const int n = 16;
    std::vector<std::uint8_t> x(static_cast<std::size_t>(n) * layer.K);
    for (auto& v : x) v = static_cast<std::uint8_t>(rng() % 256);

    const LayerMapping map = LayerMapping::make(layer, cfg);
    const AdcTables adc = calibrate_adc(layer, map, cfg, x.data(), n);
    const std::vector<std::int64_t> expected = ReferenceLayer(layer, map, adc, cfg).run(x.data(), n);

    Platform platform("platform", cfg);
    std::vector<std::int64_t> got;
    CommandListStats stats;
    HostCpu host("host", [&](HostCpu& cpu) {
        Driver driver(cpu, cfg);
        got = driver.run_matrix_layer(layer, map, adc, x.data(), n, 0, &stats);
    });
    platform.router.attach("host", host.bus_socket);
    host.irq.bind(platform.irq);
    host.run();

    std::size_t same = 0;
    for (std::size_t i = 0; i < expected.size() && i < got.size(); ++i) same += got[i] == expected[i];
    std::printf("downstream: layer %dx%d, %d vectors on %s: %zu of %zu outputs equal the reference, %llu cycles\n",
                layer.K, layer.M, n, config.c_str(), same, expected.size(),
                static_cast<unsigned long long>(stats.cycles));
    return got.size() == expected.size() && same == expected.size() && stats.cycles > 0 ? 0 : 1;
}
