// `cimvp convert`: writes a model with its PE-array layers stored as SWIS
// groups (model format v2) and reports the storage against int8.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/arch_config.h"
#include "sw/compiler/swis_storage.h"

namespace cimvp {

struct ConvertJobSpec {
    std::string model_path, out_path;
    std::string pe_layers = "default";  // as `cimvp run --pe-layers`
    SwisStoreOptions options;           // array_cols is taken from the config
};

struct ConvertJobResult {
    std::string model_name, scheme;
    std::vector<SwisLayerStorageReport> layers;
    std::int64_t int8_bytes = 0, swis_bytes = 0, swis_bits = 0, weights = 0;
    std::size_t in_file_bytes = 0, out_file_bytes = 0;
    bool scheduled = false;
    bool graph = false;  // a graph network: written as format v3
};

ConvertJobResult run_convert_job(const ArchConfig& cfg, ConvertJobSpec spec);
void print_convert_report(const ConvertJobResult& r, const ConvertJobSpec& spec, std::FILE* out);
nlohmann::json convert_job_to_json(const ConvertJobResult& r, const ConvertJobSpec& spec, const ArchConfig& cfg);

}  // namespace cimvp
