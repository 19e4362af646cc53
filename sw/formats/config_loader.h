// ArchConfig <-> JSON. The JSON layout mirrors the structs of arch_config.h
// (docs/config.md); every key is optional, unknown keys are errors, and every
// value is range-checked once, here, so the blocks can trust their config.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "hw/arch_config.h"

namespace cimvp {

// A configuration that cannot be used. The message names the source (file),
// the full key path and what was expected, e.g.
//   configs/x.json: adc.bits: expected an integer in [1, 16], got 40
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Reads, parses and validates a JSON config file; missing keys keep their
// defaults. Throws ConfigError.
ArchConfig load_config(const std::string& path);

// Same from an already parsed document; `source` names it in error messages
// and becomes ArchConfig::source. Throws ConfigError.
ArchConfig config_from_json(const nlohmann::json& j, const std::string& source);

// The effective configuration, every key written out (ArchConfig::source is
// not part of it). config_from_json(config_to_json(c), s) reproduces c.
nlohmann::json config_to_json(const ArchConfig& cfg);

// Checks every range and cross-field constraint; messages are prefixed with
// cfg.source. load_config/config_from_json call it; call it again after
// changing fields (command-line overrides). Throws ConfigError.
void validate(const ArchConfig& cfg);

// The ranges validate() enforces (docs/config.md lists them per key).
namespace config_limits {
inline constexpr int kMinArrayDim = 1;  // crossbar.rows, crossbar.cols
inline constexpr int kMaxArrayDim = 4096;
inline constexpr int kMinCellBits = 1;
inline constexpr int kMaxCellBits = 2;
inline constexpr int kMinDacBits = 1;
inline constexpr int kMaxDacBits = 8;
inline constexpr int kMinAdcBits = 1;
inline constexpr int kMaxAdcBits = 16;
inline constexpr int kMinAdcsPerMacro = 1;  // upper bound: crossbar.cols
inline constexpr int kMinFracBits = 0;
inline constexpr int kMaxFracBits = 16;
inline constexpr int kMinControllerCycles = 0;
inline constexpr int kMaxControllerCycles = 1000000;
inline constexpr int kMinLanes = 1;  // digital.post_process_lanes
inline constexpr int kMaxLanes = 4096;
inline constexpr int kMinTiles = 1;
inline constexpr int kMaxTiles = 4096;
inline constexpr double kMinSigma = 0.0;  // nonideal.*_sigma
inline constexpr double kMaxSigma = 5.0;
inline constexpr double kMinStuckAtRate = 0.0;
inline constexpr double kMaxStuckAtRate = 1.0;
inline constexpr std::uint64_t kMinMemoryBytes = 1;
// DRAM sits below the MMIO windows at 0x4000_0000 (hw/address_map.h).
inline constexpr std::uint64_t kMaxDramBytes = std::uint64_t{1} << 30;  // 1 GiB
// Per-tile buffers; keeps the tile windows (and 4096 of them) far from 64-bit overflow.
inline constexpr std::uint64_t kMaxBufferBytes = std::uint64_t{1} << 24;  // 16 MiB
inline constexpr std::uint64_t kBufferAlignBytes = 8;                     // input/output buffer sizes
// The global buffer's window at 0x8000_0000 ends below the tiles at 2^32 (hw/address_map.h); 0: none.
inline constexpr std::uint64_t kMinGlobalBufferBytes = 0;
inline constexpr std::uint64_t kMaxGlobalBufferBytes = std::uint64_t{1} << 28;  // 256 MiB
inline constexpr std::uint64_t kMinSeed = 0;
inline constexpr std::uint64_t kMaxSeed = std::numeric_limits<std::uint64_t>::max();
}  // namespace config_limits

}  // namespace cimvp
