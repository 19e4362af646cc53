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

// The same from JSON text (e.g. the configuration stored in a recording); `source` names it in messages.
ArchConfig config_from_text(const std::string& text, const std::string& source);

// How deep a configuration's JSON may nest (a valid one nests 3 levels); deeper text is refused while
// it is parsed, before any value is built.
inline constexpr int kMaxConfigJsonDepth = 32;
// Parses a JSON document the way configs are parsed: a duplicate key or nesting deeper than
// kMaxConfigJsonDepth is refused while parsing. Throws ConfigError naming `source`, the position and why.
nlohmann::json parse_json_document(const std::string& text, const std::string& source);
// A config file larger than this is refused before it is parsed.
inline constexpr std::uint64_t kMaxConfigFileBytes = 4ull << 20;

// Same from an already parsed document; `source` names it in error messages
// and becomes ArchConfig::source. Throws ConfigError.
ArchConfig config_from_json(const nlohmann::json& j, const std::string& source);

// The effective configuration, every key written out (ArchConfig::source is
// not part of it). config_from_json(config_to_json(c), s) reproduces c.
nlohmann::json config_to_json(const ArchConfig& cfg);

// Checks every range of config_limits (hw/arch_config.h) and every cross-field constraint; messages are prefixed with
// cfg.source. load_config/config_from_json call it; call it again after
// changing fields (command-line overrides). Throws ConfigError.
void validate(const ArchConfig& cfg);


}  // namespace cimvp
