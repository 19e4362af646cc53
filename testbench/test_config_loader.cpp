// Config loader: defaults, the shipped default.json, round trip, and every kind
// of bad input (each must name the file, the key path and what was expected).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "hw/arch_config.h"
#include "sw/formats/config_loader.h"

#ifndef CIMVP_SOURCE_DIR
#error "CIMVP_SOURCE_DIR must be defined (top-level CMakeLists.txt)"
#endif

namespace cimvp {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kSourceDir = CIMVP_SOURCE_DIR;
const std::string kDefaultJson = kSourceDir + "/configs/default.json";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// {"a": {"b": v}} from "/a/b" and v.
json one_key(const std::string& pointer, const json& value) {
    json j = json::object();
    j[json::json_pointer(pointer)] = value;
    return j;
}

// j[key], or null when absent (const operator[] must not see a missing key).
json leaf(const json& flat, const std::string& key) { return flat.contains(key) ? flat.at(key) : json(); }

// A different value that is still valid, for every leaf of the default config.
json changed(const std::string& pointer, const json& v) {
    if (v.is_boolean()) return !v.get<bool>();
    if (v.is_string()) {
        if (v == "sar" || v == "flash") return v == "sar" ? "flash" : "sar";
        if (v == "offset" || v == "differential") return v == "offset" ? "differential" : "offset";
        return v == "column" ? "layer" : "column";
    }
    if (v.is_number_integer()) {
        const bool is_size = pointer.size() >= 11 && pointer.compare(pointer.size() - 11, 11, "/size_bytes") == 0;
        return v.get<std::int64_t>() + (is_size ? 8 : 1);
    }
    return v.get<double>() * 2.0 + 0.5;  // sigmas and rates start at 0 -> 0.5, still in range
}

class ConfigLoaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ =
            fs::path(::testing::TempDir()) / ("cimvp_test_config_" + std::to_string(::getpid()) + "_" + info->name());
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    std::string write(const std::string& name, const std::string& text) {
        const std::string path = (dir_ / name).string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }

    // Message of the ConfigError that loading `text` from a file must raise.
    std::string load_error(const std::string& text) {
        const std::string path = write("bad.json", text);
        try {
            load_config(path);
        } catch (const ConfigError& e) {
            return e.what();
        }
        ADD_FAILURE() << "no ConfigError for: " << text;
        return {};
    }

    // Message for {"a": {"b": value}} given "/a/b"; must start with "<file>: a.b: ".
    std::string value_error(const std::string& pointer, const json& value) {
        const std::string msg = load_error(one_key(pointer, value).dump());
        std::string dotted = pointer.substr(1);
        for (auto& ch : dotted) ch = ch == '/' ? '.' : ch;
        const std::string prefix = bad() + ": " + dotted + ": ";
        EXPECT_EQ(msg.compare(0, prefix.size(), prefix), 0) << "message: " << msg << "\nexpected prefix: " << prefix;
        return msg;
    }

    // The file load_error writes.
    std::string bad() const { return (dir_ / "bad.json").string(); }

    fs::path dir_;
};

TEST_F(ConfigLoaderTest, CompiledDefaultsAreValid) {
    const ArchConfig cfg;
    EXPECT_NO_THROW(validate(cfg));
    EXPECT_EQ(cfg.source, "<defaults>");
    EXPECT_EQ(cfg.platform.dram.size_bytes, 256u * 1024 * 1024);
    EXPECT_DOUBLE_EQ(cfg.platform.dram.latency_ns, 50.0);
    EXPECT_DOUBLE_EQ(cfg.platform.dram.bytes_per_ns, 12.8);
    EXPECT_DOUBLE_EQ(cfg.platform.dram.read_pj_per_byte, 160.0);
    EXPECT_EQ(cfg.platform.input_buffer.size_bytes, 16u * 1024);
    EXPECT_EQ(cfg.platform.output_buffer.size_bytes, 32u * 1024);
    EXPECT_DOUBLE_EQ(cfg.platform.output_buffer.write_pj_per_byte, 1.25);
    EXPECT_DOUBLE_EQ(cfg.platform.input_buffer.bytes_per_ns, 64.0);
}

TEST_F(ConfigLoaderTest, EmptyObjectGivesDefaults) {
    const ArchConfig cfg = load_config(write("empty.json", "{}"));
    EXPECT_EQ(config_to_json(cfg), config_to_json(ArchConfig{}));
    EXPECT_EQ(cfg.source, (dir_ / "empty.json").string());
}

TEST_F(ConfigLoaderTest, MissingKeysKeepDefaults) {
    const ArchConfig cfg =
        load_config(write("partial.json", R"({"adc": {"bits": 4}, "platform": {"dram": {"latency_ns": 70}}})"));
    const ArchConfig def;
    EXPECT_EQ(cfg.adc.bits, 4);
    EXPECT_EQ(cfg.adc.adcs_per_macro, def.adc.adcs_per_macro);
    EXPECT_DOUBLE_EQ(cfg.platform.dram.latency_ns, 70.0);
    EXPECT_EQ(cfg.platform.dram.size_bytes, def.platform.dram.size_bytes);
    EXPECT_EQ(cfg.crossbar.rows, def.crossbar.rows);
}

TEST_F(ConfigLoaderTest, DefaultJsonEqualsCompiledDefaults) {
    const json expected = config_to_json(ArchConfig{}).flatten();

    // Every parameter is written out explicitly, with the compiled default.
    const json raw = json::parse(slurp(kDefaultJson)).flatten();
    for (const auto& item : expected.items()) {
        ASSERT_TRUE(raw.contains(item.key())) << kDefaultJson << " lacks " << item.key();
        EXPECT_EQ(leaf(raw, item.key()), item.value()) << item.key();
    }
    EXPECT_EQ(raw.size(), expected.size());

    // And it loads to exactly the compiled defaults.
    const json loaded = config_to_json(load_config(kDefaultJson)).flatten();
    for (const auto& item : expected.items()) EXPECT_EQ(leaf(loaded, item.key()), item.value()) << item.key();
    EXPECT_EQ(loaded, expected);
    EXPECT_EQ(load_config(kDefaultJson).crossbar.rows, 128);
    EXPECT_EQ(load_config(kDefaultJson).crossbar.cols, 128);
}

TEST_F(ConfigLoaderTest, EveryKeyReachesItsOwnField) {
    const json def = config_to_json(ArchConfig{}).flatten();
    ASSERT_EQ(def.size(), 69u) << "a field was added or removed: update the loader, docs/config.md and this count";
    for (const auto& item : def.items()) {
        SCOPED_TRACE(item.key());
        const json value = changed(item.key(), item.value());
        const json got = config_to_json(config_from_json(one_key(item.key(), value), "t")).flatten();
        for (const auto& other : def.items()) {
            if (other.key() == item.key()) {
                EXPECT_EQ(leaf(got, other.key()), value);
            } else {
                EXPECT_EQ(leaf(got, other.key()), other.value()) << "also changed: " << other.key();
            }
        }
    }
}

TEST_F(ConfigLoaderTest, RoundTrip) {
    json modified = config_to_json(ArchConfig{}).flatten();
    for (auto& item : modified.items()) item.value() = changed(item.key(), item.value());
    modified = modified.unflatten();
    modified["nonideal"]["seed"] = std::numeric_limits<std::uint64_t>::max();
    modified["crossbar"]["read_pj_per_cell"] = 0.1 + 0.2;  // not exactly representable in short decimal

    const ArchConfig a = config_from_json(modified, "modified");
    EXPECT_EQ(config_to_json(a), modified);
    EXPECT_EQ(a.source, "modified");
    EXPECT_EQ(a.adc.step_mode, AdcStepMode::kLayer);
    EXPECT_EQ(a.crossbar.mapping, CellMapping::kDifferential);
    EXPECT_EQ(a.nonideal.seed, std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(a.crossbar.read_pj_per_cell, 0.1 + 0.2);
    EXPECT_FALSE(a.platform.output_buffer.dmi);

    const ArchConfig b = config_from_json(config_to_json(a), "again");
    EXPECT_EQ(config_to_json(b), config_to_json(a));

    // Through a file as well (dump, parse, load).
    const ArchConfig c = load_config(write("rt.json", config_to_json(a).dump(2)));
    EXPECT_EQ(config_to_json(c), config_to_json(a));
}

TEST_F(ConfigLoaderTest, EveryKeyIsDocumented) {
    const std::string doc = slurp(kSourceDir + "/docs/config.md");
    ASSERT_FALSE(doc.empty());
    const json leaves = config_to_json(ArchConfig{}).flatten();
    for (const auto& item : leaves.items()) {
        const std::string key = item.key().substr(item.key().rfind('/') + 1);
        EXPECT_NE(doc.find("`" + key + "`"), std::string::npos) << item.key() << " missing from docs/config.md";
    }
}

TEST_F(ConfigLoaderTest, UnknownTopLevelKey) {
    const std::string msg = load_error(R"({"crossbar": {}, "adcs": {"bits": 4}})");
    EXPECT_EQ(msg, bad() + ": adcs: unknown key (expected one of: crossbar, nonideal, adc, digital, dma, platform, "
                           "pe_array, technology)");
}

TEST_F(ConfigLoaderTest, UnknownNestedKey) {
    const std::string msg = load_error(R"({"crossbar": {"rows": 64, "colz": 64}})");
    EXPECT_EQ(msg, bad() +
                       ": crossbar.colz: unknown key (expected one of: rows, cols, cell_bits, dac_bits, mapping, read_ns, "
                       "read_pj_per_cell, read_pj_per_column, write_ns_per_row, write_pj_per_cell)");

    const std::string deep = load_error(R"({"platform": {"dram": {"size": 1024}}})");
    EXPECT_NE(deep.find(bad() + ": platform.dram.size: unknown key (expected one of: size_bytes,"), std::string::npos)
        << deep;
}

TEST_F(ConfigLoaderTest, OutOfRangeNamesKeyAndRange) {
    EXPECT_EQ(load_error(R"({"adc": {"bits": 40}})"), bad() + ": adc.bits: expected an integer in [1, 16], got 40");

    struct Case {
        const char* pointer;
        json value;
        const char* expected;
    };
    const Case cases[] = {
        {"/crossbar/rows", 0, "expected an integer in [1, 4096], got 0"},
        {"/crossbar/cols", 4097, "expected an integer in [1, 4096], got 4097"},
        {"/crossbar/cell_bits", 3, "expected an integer in [1, 2], got 3"},
        {"/crossbar/dac_bits", 9, "expected an integer in [1, 8], got 9"},
        {"/crossbar/read_ns", 0, "expected a number in (0, 1e+09], got 0"},
        {"/crossbar/read_ns", 1e300, "expected a number in (0, 1e+09], got 1e+300"},
        {"/crossbar/read_pj_per_cell", -0.5, "expected a number in [0, 1e+09], got -0.5"},
        {"/crossbar/read_pj_per_cell", 1e12, "expected a number in [0, 1e+09], got 1000000000000.0"},
        {"/nonideal/conductance_sigma", 5.5, "expected a number in [0, 5], got 5.5"},
        {"/nonideal/read_noise_sigma", -1, "expected a number in [0, 5], got -1"},
        {"/nonideal/stuck_at_rate", 1.01, "expected a number in [0, 1], got 1.01"},
        {"/nonideal/seed", -1, "expected a non-negative integer (uint64), got -1"},
        {"/adc/bits", 0, "expected an integer in [1, 16], got 0"},
        {"/adc/adcs_per_macro", 129, "expected an integer in [1, 128], got 129"},
        {"/adc/frac_bits", 17, "expected an integer in [0, 16], got 17"},
        {"/adc/cycle_ns", -1.0, "expected a number in (0, 1e+09], got -1.0"},
        {"/adc/clip_sigmas", 0, "expected a number in (0, 100], got 0"},
        {"/adc/pj_per_conversion", -1e-9, "expected a number in [0, 1e+09], got -1e-09"},
        {"/digital/clock_ns", 0.0, "expected a number in (0, 1e+09], got 0.0"},
        {"/digital/clock_ns", 2e9, "expected a number in (0, 1e+09], got 2000000000.0"},
        {"/digital/controller_cycles_per_cmd", -1, "expected an integer in [0, 1000000], got -1"},
        {"/dma/bytes_per_ns", 0, "expected a number in [0.001, 1e+06], got 0"},
        {"/dma/bytes_per_ns", 1e-6, "expected a number in [0.001, 1e+06], got 1e-06"},
        {"/platform/tiles", 20000, "expected an integer in [1, 16384], got 20000"},
        {"/platform/quantum_ns", -10, "expected a number in (0, 1e+09], got -10"},
        {"/platform/dram/size_bytes", 0, "expected an integer in [1, 1073741824], got 0"},
        {"/platform/dram/size_bytes", -4096, "expected an integer in [1, 1073741824], got -4096"},
        {"/platform/dram/size_bytes", 2147483648LL, "expected an integer in [1, 1073741824], got 2147483648"},
        {"/platform/input_buffer/size_bytes", 1001,
         "expected an integer in [1, 16777216] and a multiple of 8, got 1001"},
        {"/platform/output_buffer/bytes_per_ns", 0, "expected a number in [0.001, 1e+06], got 0"},
        {"/platform/output_buffer/write_pj_per_byte", -2, "expected a number in [0, 1e+09], got -2"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.pointer);
        const std::string msg = value_error(c.pointer, c.value);
        EXPECT_NE(msg.find(c.expected), std::string::npos) << msg;
    }
}

TEST_F(ConfigLoaderTest, AdcsPerMacroBoundedByCols) {
    // The file's cols sets the bound, whatever order the keys come in.
    EXPECT_EQ(load_error(R"({"adc": {"adcs_per_macro": 64}, "crossbar": {"cols": 32}})"),
              bad() + ": adc.adcs_per_macro: expected an integer in [1, 32], got 64");
    // The default adcs_per_macro (8) is checked against a smaller cols, too.
    EXPECT_EQ(load_error(R"({"crossbar": {"cols": 4}})"),
              bad() + ": adc.adcs_per_macro: expected an integer in [1, 4], got 8");
    EXPECT_EQ(load_config(write("ok.json", R"({"crossbar": {"cols": 32}, "adc": {"adcs_per_macro": 32}})"))
                  .adc.adcs_per_macro,
              32);
}

TEST_F(ConfigLoaderTest, WrongType) {
    EXPECT_NE(value_error("/crossbar/rows", "128").find("expected an integer in [1, 4096], got \"128\""),
              std::string::npos);
    EXPECT_NE(value_error("/crossbar/read_ns", "100").find("expected a number in (0, 1e+09], got \"100\""), std::string::npos);
    EXPECT_NE(value_error("/crossbar/read_ns", true).find("expected a number in (0, 1e+09], got true"), std::string::npos);
    EXPECT_NE(value_error("/adc/bits", nullptr).find("got null"), std::string::npos);
    EXPECT_NE(value_error("/platform/dram/dmi", 1).find("expected true or false, got 1"), std::string::npos);
    EXPECT_NE(value_error("/adc/step_mode", "per_column").find(R"(expected "column" or "layer", got "per_column")"),
              std::string::npos);
    EXPECT_NE(value_error("/adc/step_mode", 0).find(R"(expected "column" or "layer", got 0)"), std::string::npos);
    EXPECT_NE(value_error("/platform/dram", 5).find("expected an object, got 5"), std::string::npos);
    EXPECT_NE(value_error("/crossbar", json::array({1, 2})).find("expected an object, got [1,2]"), std::string::npos);
    EXPECT_NE(value_error("/nonideal/seed", "1").find("expected a non-negative integer (uint64), got \"1\""),
              std::string::npos);

    EXPECT_EQ(load_error("[1, 2, 3]"), bad() + ": expected a JSON object at the top level, got [1,2,3]");
}

// Tens of thousands of nested brackets used to overflow the stack (printing and freeing the value
// recurse); the parser now refuses them at the limit, with the file named, wherever they stand.
TEST_F(ConfigLoaderTest, DeeplyNestedJsonIsRefusedWithAMessageNotACrash) {
    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    const std::string expected = bad() + ": expected JSON nested at most " + std::to_string(kMaxConfigJsonDepth) +
                                 " levels deep, got deeper";
    EXPECT_EQ(load_error(deep), expected);
    EXPECT_EQ(load_error(R"({"adc": {"bits": )" + deep + "}}"), expected);
    std::string at_limit = R"({"adc": {"bits": )" + std::string(kMaxConfigJsonDepth - 2, '[') + "1" +
                           std::string(kMaxConfigJsonDepth - 2, ']') + "}}";
    EXPECT_NE(load_error(at_limit).find("adc.bits: expected an integer"), std::string::npos) << load_error(at_limit);
    EXPECT_THROW(config_from_text(deep, "recording.rec: config"), ConfigError);
}

// Each key in range, together past what the platform can allocate: refused while validating, not
// by std::bad_alloc when the platform is built.
TEST_F(ConfigLoaderTest, ConfigModelingMoreMemoryThanTheLimitIsRefused) {
    const std::string huge = R"({"platform": {"tiles": 4096, "input_buffer": {"size_bytes": 16777216}}})";
    EXPECT_EQ(load_error(huge), bad() + ": platform: expected at most 4 GiB of modeled memory (dram + global_buffer + "
                                        "tiles x (input_buffer + output_buffer + crossbar.rows x crossbar.cols) + the "
                                        "pe_array buffers), got 64.4 GiB");
    EXPECT_LE(modeled_memory_bytes(ArchConfig{}), config_limits::kMaxModeledMemoryBytes / 8);
    EXPECT_NO_THROW(config_from_text(R"({"platform": {"tiles": 4096}})", "many-small-tiles.json"));
}

TEST_F(ConfigLoaderTest, FloatForInteger) {
    EXPECT_NE(value_error("/adc/bits", 8.0).find("expected an integer in [1, 16], got 8.0"), std::string::npos);
    EXPECT_NE(value_error("/adc/bits", 7.5).find("expected an integer in [1, 16], got 7.5"), std::string::npos);
    EXPECT_NE(value_error("/platform/tiles", 1e3).find("got 1000.0"), std::string::npos);
    EXPECT_NE(value_error("/nonideal/seed", 2.0).find("expected a non-negative integer (uint64), got 2.0"),
              std::string::npos);
    EXPECT_NE(value_error("/platform/dram/size_bytes", 1024.0).find("got 1024.0"), std::string::npos);
    // Integers beyond int64 still give the range message, not a wrap-around.
    EXPECT_NE(value_error("/crossbar/rows", std::numeric_limits<std::uint64_t>::max())
                  .find("expected an integer in [1, 4096], got 18446744073709551615"),
              std::string::npos);
    // Integers are fine where a real is expected.
    EXPECT_EQ(config_from_json(one_key("/crossbar/read_ns", 80), "t").crossbar.read_ns, 80.0);
}

TEST_F(ConfigLoaderTest, SeedTakesAnyUint64) {
    const auto max = std::numeric_limits<std::uint64_t>::max();
    const ArchConfig cfg = load_config(write("seed.json", R"({"nonideal": {"seed": 18446744073709551615}})"));
    EXPECT_EQ(cfg.nonideal.seed, max);
    EXPECT_EQ(load_config(write("seed0.json", R"({"nonideal": {"seed": 0}})")).nonideal.seed, 0u);
    // One past uint64 is parsed as a float: rejected.
    EXPECT_NE(value_error("/nonideal/seed", 18446744073709551616.0).find("expected a non-negative integer"),
              std::string::npos);
}

TEST_F(ConfigLoaderTest, StepModeStrings) {
    EXPECT_EQ(config_from_json(one_key("/adc/step_mode", "layer"), "t").adc.step_mode, AdcStepMode::kLayer);
    EXPECT_EQ(config_from_json(one_key("/adc/step_mode", "column"), "t").adc.step_mode, AdcStepMode::kColumn);
    EXPECT_EQ(config_to_json(ArchConfig{})["adc"]["step_mode"], "column");
    EXPECT_NE(value_error("/adc/step_mode", "Layer").find(R"(got "Layer")"), std::string::npos);
}

TEST_F(ConfigLoaderTest, CellMappingIsOffsetByDefaultOrDifferential) {
    EXPECT_EQ(ArchConfig{}.crossbar.mapping, CellMapping::kOffset);
    EXPECT_EQ(config_to_json(ArchConfig{})["crossbar"]["mapping"], "offset");
    EXPECT_EQ(config_from_json(one_key("/crossbar/mapping", "differential"), "t").crossbar.mapping,
              CellMapping::kDifferential);
    EXPECT_EQ(config_from_json(one_key("/crossbar/mapping", "offset"), "t").crossbar.mapping, CellMapping::kOffset);
}

TEST_F(ConfigLoaderTest, BadCellMappingNamesTheFileKeyAndTheValues) {
    EXPECT_EQ(load_error(R"({"crossbar": {"mapping": "diff"}})"),
              bad() + R"(: crossbar.mapping: expected "offset" or "differential", got "diff")");
    EXPECT_NE(value_error("/crossbar/mapping", "Differential").find(R"(got "Differential")"), std::string::npos);
    EXPECT_NE(value_error("/crossbar/mapping", 1).find(R"(expected "offset" or "differential", got 1)"),
              std::string::npos);
    ArchConfig cfg;
    cfg.source = "cfg.json";
    cfg.crossbar.mapping = static_cast<CellMapping>(5);
    try {
        validate(cfg);
        ADD_FAILURE() << "no ConfigError for mapping 5";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), R"(cfg.json: crossbar.mapping: expected "offset" or "differential", got enum value 5)");
    }
}

TEST_F(ConfigLoaderTest, MalformedJson) {
    // Trailing comma: the parser stops at the '}' (20th byte).
    const std::string msg = load_error(R"({"adc": {"bits": 8,}})");
    EXPECT_EQ(msg.rfind(bad() + ": invalid JSON at byte 20 (line 1, column 20): syntax error", 0), 0u) << msg;

    const std::string multi = load_error("{\n  \"adc\": {\n    \"bits\" 8\n  }\n}\n");
    EXPECT_NE(multi.find("invalid JSON at byte 25 (line 3, column 12): syntax error while parsing object separator"),
              std::string::npos)
        << multi;

    EXPECT_NE(load_error("").find("invalid JSON at byte 1"), std::string::npos);
    EXPECT_NE(load_error("{} trailing").find("invalid JSON at byte"), std::string::npos);
    EXPECT_NE(load_error(R"({"crossbar": {"read_ns": 1e999}})").find("invalid JSON"), std::string::npos);
    // Comments are not JSON.
    EXPECT_NE(load_error("{ // defaults\n}").find("invalid JSON"), std::string::npos);
}

TEST_F(ConfigLoaderTest, DuplicateKey) {
    EXPECT_EQ(load_error(R"({"adc": {"bits": 8, "bits": 4}})"), bad() + ": adc.bits: duplicate key");
    EXPECT_EQ(load_error(R"({"adc": {}, "crossbar": {}, "adc": {}})"), bad() + ": adc: duplicate key");
    EXPECT_EQ(load_error(R"({"platform": {"dram": {"dmi": true}, "input_buffer": {"dmi": true, "dmi": false}}})"),
              bad() + ": platform.input_buffer.dmi: duplicate key");
    // The same key in different objects is fine.
    EXPECT_NO_THROW(
        load_config(write("ok.json", R"({"dma": {"bytes_per_ns": 8}, "platform": {"dram": {"bytes_per_ns": 8}}})")));
}

TEST_F(ConfigLoaderTest, MissingFile) {
    const std::string path = (dir_ / "does_not_exist.json").string();
    try {
        load_config(path);
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), path + ": cannot read the config: No such file or directory");
    }
}

TEST_F(ConfigLoaderTest, DirectoryIsNotAConfig) {
    try {
        load_config(dir_.string());
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), dir_.string() + ": cannot read the config: it is a directory");
    }
}

TEST_F(ConfigLoaderTest, ValidateAfterOverrides) {
    ArchConfig cfg;
    cfg.adc.bits = 0;
    try {
        validate(cfg);
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), "<defaults>: adc.bits: expected an integer in [1, 16], got 0");
    }

    cfg = ArchConfig{};
    cfg.source = "configs/x.json + --set";
    cfg.platform.input_buffer.size_bytes = 12;
    try {
        validate(cfg);
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "configs/x.json + --set: platform.input_buffer.size_bytes: expected an "
                  "integer in [1, 16777216] and a multiple of 8, got 12");
    }

    cfg = ArchConfig{};
    cfg.crossbar.read_ns = std::nan("");
    EXPECT_THROW(validate(cfg), ConfigError);
    cfg.crossbar.read_ns = std::numeric_limits<double>::infinity();
    EXPECT_THROW(validate(cfg), ConfigError);

    cfg = ArchConfig{};
    cfg.crossbar.cols = 4;  // below the default adcs_per_macro (8)
    EXPECT_THROW(validate(cfg), ConfigError);

    cfg = ArchConfig{};
    cfg.adc.step_mode = static_cast<AdcStepMode>(7);
    EXPECT_THROW(validate(cfg), ConfigError);
}

TEST_F(ConfigLoaderTest, ConfigErrorIsARuntimeError) {
    try {
        load_config((dir_ / "nope.json").string());
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("nope.json"), std::string::npos);
    }
}

}  // namespace
}  // namespace cimvp
