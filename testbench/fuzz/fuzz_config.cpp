// libFuzzer harness of the configuration loader (sw/formats/config_loader.h, docs/config.md):
// config_from_text on the input as JSON text; when it takes it, the address map the platform is built
// on and the round trip config_to_json -> config_from_json, which must reproduce the same JSON. The
// only expected rejection is a ConfigError.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "hw/address_map.h"
#include "sw/formats/config_loader.h"
#include "testbench/fuzz/fuzz_support.h"

using namespace cimvp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    ArchConfig cfg;
    if (!fuzz::accepted<ConfigError>([&] { cfg = config_from_text(text, "fuzz.json"); })) return 0;
    const AddressMap map(cfg);
    fuzz::require(map.tile_base(cfg.platform.tiles - 1) >= kTileBase, "the last tile's window wraps around");
    const nlohmann::json j = config_to_json(cfg);
    ArchConfig back;
    fuzz::require(fuzz::accepted<ConfigError>([&] { back = config_from_json(j, "fuzz.json (written)"); }),
                  "config_from_json refuses what config_to_json wrote of a config it took");
    fuzz::require(config_to_json(back) == j, "config_to_json(config_from_json(j)) differs from j");
    return 0;
}
