// Writes the generated seed inputs of the harnesses (docs/hardening.md) into DIR: small models of every
// model format version and scheme (the shipped ones are 170-660 KiB, too large to mutate quickly),
// small recordings with every event kind, and the configuration with every key written out.
// scripts/fuzz.sh puts them beside the shipped files in each harness's seed corpus.
// usage: fuzz_seeds DIR   (writes DIR/model, DIR/recording, DIR/config)
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/address_map.h"
#include "sw/compiler/swis_storage.h"
#include "sw/formats/command_stream.h"
#include "sw/formats/config_loader.h"
#include "sw/formats/model_file.h"
#include "testbench/model_builders.h"

using namespace cimvp;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error(path.string() + ": cannot write");
}

void write(const fs::path& path, const std::string& text) { write(path, std::vector<std::uint8_t>(text.begin(), text.end())); }

void write_models(const fs::path& dir) {
    test::ModelShape small;
    small.in = 8;
    small.c1 = small.c2 = 2;
    small.hidden = 4;
    write(dir / "int8-v1.cimvp", serialize_model(test::random_network(1, small)));
    test::ModelShape bwma = small;
    bwma.binary_middle = true;
    write(dir / "bwma-v1.cimvp", serialize_model(test::random_network(2, bwma)));
    test::ModelShape columnwise = small;
    columnwise.cell_bits_for_tables = 2;
    write(dir / "columnwise-v1.cimvp", serialize_model(test::random_network(3, columnwise)));
    const NetworkModel int8 = test::random_network(4, small);
    SwisStoreOptions swis;
    swis.shifts = 3;
    write(dir / "swis-v2.cimvp", serialize_model(store_swis_layers(int8, std::vector<bool>(int8.layers.size(), true), swis)));
    write(dir / "graph-v3.cimvp", serialize_model(test::random_graph_network(5, 6, 4)));
}

// A recording of each event kind around one command list, with the configuration and info a recorder writes.
void write_recordings(const fs::path& dir) {
    CommandStream s;
    s.config_json = config_to_json(ArchConfig{}).dump();
    s.info_json = nlohmann::json{{"command", "layer"}, {"command_lists", 1}, {"cycles", 40}, {"sim_time_ns", 50.5},
                                 {"end_ps", 90000}, {"events", 5}}
                      .dump();
    const auto event = [](StreamEventKind kind, std::uint64_t t, std::uint64_t address, std::vector<std::uint8_t> data) {
        StreamEvent e;
        e.kind = kind;
        e.time_ps = t;
        e.address = address;
        e.response = 1;
        e.data = std::move(data);
        return e;
    };
    s.events.push_back(event(StreamEventKind::kWrite, 1000, kDramBase, {1, 2, 3, 4, 5, 6, 7, 8}));
    s.events.push_back(event(StreamEventKind::kWrite, 2000, kControllerBase + 0x08, {1, 0, 0, 0}));
    StreamEvent wait;
    wait.kind = StreamEventKind::kIrqWait;
    wait.time_ps = 3000;
    wait.timeout_ps = 1000000;
    wait.end_ps = 52500;
    wait.raised = true;
    s.events.push_back(wait);
    s.events.push_back(event(StreamEventKind::kRead, 60000, kControllerBase + 0x2C, {40, 0, 0, 0}));
    s.events.push_back(event(StreamEventKind::kRead, 70000, kControllerBase + 0x30, {0, 0, 0, 0}));
    write(dir / "one-list.cimvprec", serialize_command_stream(s));
    s.events.resize(1);
    s.info_json = "{}";
    write(dir / "one-write.cimvprec", serialize_command_stream(s));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    const fs::path dir = argv[1];
    for (const char* sub : {"model", "recording", "config"}) fs::create_directories(dir / sub);
    write_models(dir / "model");
    write_recordings(dir / "recording");
    write(dir / "config" / "every-key.json", config_to_json(ArchConfig{}).dump(2));
    return 0;
}
