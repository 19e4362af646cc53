// Model format v3 (docs/model-format.md, "Version 3: graph networks"): graph models round-trip,
// chains still write v1/v2 byte for byte, and every refusal names the file, the node and the field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "sw/formats/model_file.h"
#include "sw/formats/swis_packing.h"
#include "testbench/model_builders.h"

namespace cimvp {
namespace {

using test::model_error_of;

std::vector<std::uint8_t> file_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::uint32_t version_of(const std::vector<std::uint8_t>& b) {
    std::uint32_t v = 0;
    std::memcpy(&v, b.data() + 8, sizeof v);
    return v;
}

// What the loader says about model m written out ("" when it takes it).
std::string error_of(const NetworkModel& m) { return model_error_of(serialize_model(m)); }

void expect_error(const NetworkModel& m, const std::string& part) {
    const std::string e = error_of(m);
    EXPECT_NE(e.find(part), std::string::npos) << "expected \"" << part << "\" in: " << e;
    EXPECT_NE(e.find("bad.cimvp"), std::string::npos) << e;
}

TEST(GraphModelFile, RoundTripsEveryNodeKind) {
    const NetworkModel m = test::random_graph_network(1);
    ASSERT_FALSE(m.is_chain());
    const auto bytes = serialize_model(m);
    EXPECT_EQ(version_of(bytes), 3u);
    const NetworkModel back = parse_model(bytes, "<mem>");
    EXPECT_EQ(serialize_model(back), bytes);
    ASSERT_EQ(back.layers.size(), m.layers.size());
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        EXPECT_EQ(back.layers[i].kind, m.layers[i].kind) << i;
        EXPECT_EQ(back.layers[i].inputs, m.layers[i].inputs) << i;
        EXPECT_EQ(back.layers[i].groups, m.layers[i].groups) << i;
        EXPECT_EQ(back.layers[i].mult, m.layers[i].mult) << i;
        EXPECT_EQ(back.layers[i].bias, m.layers[i].bias) << i;
        EXPECT_EQ(back.layers[i].weights, m.layers[i].weights) << i;
        EXPECT_EQ(back.layers[i].pool, m.layers[i].pool) << i;
    }
    // Shapes: the depthwise conv has K = 1 * 3 * 3, the global average is C x 1 x 1.
    EXPECT_EQ(back.layers[1].K(), 9);
    EXPECT_EQ(back.layers[4].K(), 4);  // groups 2 over 8 channels, 1x1
    EXPECT_EQ(back.output(5).c, 12);   // concat of 8 and 4 channels
    EXPECT_EQ(back.output(6).h, 6);    // 2x2 max pool
    EXPECT_EQ(back.output(7).h, 1);
    EXPECT_EQ(back.output(7).bits, 6);
    EXPECT_EQ(back.layer_name(3), "node 3 (add)");
}

TEST(GraphModelFile, ChainsStillWriteVersionOneAndTwoByteForByte) {
    for (const char* name : {"fmnist-int8", "fmnist-bwma", "fmnist-columnwise"}) {
        const std::string path = std::string(CIMVP_SOURCE_DIR) + "/models/" + name + ".cimvp";
        const auto bytes = file_bytes(path);
        ASSERT_FALSE(bytes.empty()) << path;
        const NetworkModel m = parse_model(bytes, path);
        EXPECT_TRUE(m.is_chain()) << name;
        for (std::size_t i = 0; i < m.layers.size(); ++i)
            EXPECT_EQ(m.layers[i].inputs, std::vector<int>{static_cast<int>(i)}) << name;
        EXPECT_EQ(serialize_model(m), bytes) << name;
        EXPECT_EQ(m.layer_name(0), "layer 0 (conv)");
    }
    // A chain with SWIS storage: version 2, and back.
    NetworkModel m = test::random_network(3, test::ModelShape{});
    for (auto& w : m.layers[0].weights) w = std::max<std::int8_t>(w, -127);  // SWIS holds -127..127
    SwisLayerStorage s;
    const swis::DecomposedLayer groups = swis::exact_layer(m.layers[0].weights, m.layers[0].swis_shape());
    s.filter_n = groups.shifts;
    s.schedule_cols = 8;
    s.packed = swis::pack_groups(groups);
    m.layers[0].swis = s;
    const auto v2 = serialize_model(m);
    EXPECT_EQ(version_of(v2), 2u);
    EXPECT_EQ(serialize_model(parse_model(v2, "<mem>")), v2);
}

TEST(GraphModelFile, AGraphWithSwisStorageOnAConvIsVersionThree) {
    NetworkModel m = test::random_graph_network(2);
    NetworkLayer& L = m.layers[2];  // the 1x1 conv, 8-bit weights
    for (auto& w : L.weights) w = std::max<std::int8_t>(w, -127);  // SWIS holds -127..127
    const swis::DecomposedLayer groups = swis::exact_layer(L.weights, L.swis_shape());
    SwisLayerStorage s;
    s.filter_n = groups.shifts;
    s.schedule_cols = 8;
    s.packed = swis::pack_groups(groups);
    L.swis = s;
    const auto bytes = serialize_model(m);
    const NetworkModel back = parse_model(bytes, "<mem>");
    ASSERT_TRUE(back.layers[2].swis.has_value());
    EXPECT_EQ(serialize_model(back), bytes);
    // Not on a grouped conv.
    NetworkModel g = test::random_graph_network(2);
    g.layers[1].swis = s;  // the depthwise conv: refused before its groups are read
    expect_error(g, "node 1 (conv): swis: expected 0: a grouped conv (groups 8) has no SWIS storage");
}

TEST(GraphModelFile, RefusesAForwardReferenceOrACycle) {
    NetworkModel m = test::random_graph_network(4);
    m.layers[3].inputs = {1, 6};  // node 5's output, after node 3
    expect_error(m, "node 3 (add): inputs[1]: expected 0..3");
    m = test::random_graph_network(4);
    m.layers[2].inputs = {3};  // its own output: a cycle
    expect_error(m, "node 2 (conv): inputs[0]: expected 0..2");
}

TEST(GraphModelFile, RefusesMismatchedShapesOfAddAndConcat) {
    NetworkModel m = test::random_graph_network(5);
    m.layers[3].inputs = {1, 0};  // the 1x12x12 image against an 8x12x12 map
    expect_error(m, "node 3 (add): inputs[1]: expected the shape of input 0, 8x12x12");
    m = test::random_graph_network(5);
    m.layers[4].stride = 2;  // the grouped 1x1 conv now gives 4x6x6
    expect_error(m, "node 5 (concat): inputs[1]: expected input 0's height and width 12x12");
    m = test::random_graph_network(5);
    m.layers[5].out_c = 11;
    expect_error(m, "node 5 (concat): out_c: expected 12..12, got 11");
    m = test::random_graph_network(5);
    m.layers[2].in_c = 4;
    expect_error(m, "node 2 (conv): input shape: expected 8x12x12 (input 0, node 1's output)");
    m = test::random_graph_network(5);
    m.layers[4].a_in_bits = 8;
    expect_error(m, "node 4 (conv): a_in_bits: expected 4..4");
}

TEST(GraphModelFile, RefusesBadGroups) {
    NetworkModel m = test::random_graph_network(6);
    m.layers[4].groups = 3;  // 8 -> 4 channels
    m.layers[4].weights.resize(static_cast<std::size_t>(m.layers[4].M()) * m.layers[4].K());
    expect_error(m, "node 4 (conv): groups: expected a divisor of in_c = 8 and out_c = 4, got 3");
    m = test::random_graph_network(6);
    m.layers[4].groups = 16;
    expect_error(m, "node 4 (conv): groups: expected 1..8, got 16");
    m = test::random_graph_network(6);
    m.layers[8].groups = 2;
    expect_error(m, "node 8 (fc): groups: expected 1..1, got 2");
    m = test::random_graph_network(6);
    m.layers[1].rows_per_tile = 9;
    m.layers[1].col_mult.assign(static_cast<std::size_t>(m.layers[1].M()), 1);
    expect_error(m, "node 1 (conv): groups: a grouped conv (groups 8) expected binary 0, has_col_mult 0");
}

TEST(GraphModelFile, RefusesAnUnusedOutputAndAMisplacedLastNode) {
    NetworkModel m = test::random_graph_network(7);
    m.layers[3].inputs = {1, 1};  // node 2's output now feeds nothing
    expect_error(m, "node 2 (conv): output: expected node 2's output to be an input of a later node");
    m = test::random_graph_network(7);
    m.layers.pop_back();  // the global average pool is last
    expect_error(m, "node 7 (pool): kind: the last node must be a conv or fc");
    m = test::random_graph_network(7);
    m.layers[7].pool = PoolKind::kGlobalAvg;
    m.layers[3].pool = PoolKind::kGlobalAvg;  // only on pool nodes
    expect_error(m, "node 3 (add): pool: expected 0..0, got 3");
    m = test::random_graph_network(7);
    m.layers[3].inputs = {1, 3, 2};
    m.layers[3].mult.push_back(1);
    m.layers[3].bias.push_back(0);
    expect_error(m, "node 3 (add): n_inputs: expected 2..2, got 3");
}

TEST(GraphModelFile, RefusesATensorNodeThatCouldOverflowInt64) {
    NetworkModel m = test::random_graph_network(8);
    m.layers[7].mult[0] = 2147483647;  // * 15 * 36 pixels is below 2^62 ...
    EXPECT_EQ(error_of(m), "");
    m.layers[7].bias[0] = std::int64_t{1} << 62;  // ... but not with this bias
    expect_error(m, "node 7 (pool): mult[0]: expected sum over inputs of |mult_i| * (2^bits_i - 1) * in_h * in_w");
    m = test::random_graph_network(8);
    m.layers[3].bias[0] = (std::int64_t{1} << 61);
    m.layers[3].bias[1] = -(std::int64_t{1} << 61);  // |bias_0| + |bias_1| = 2^62
    expect_error(m, "node 3 (add): mult[1]");
}

TEST(GraphModelFile, RefusesATruncatedGraph) {
    const NetworkModel m = test::random_graph_network(9);
    // The header promises every node, the body ends half-way: cut and re-seal.
    const auto whole = serialize_model(m);
    std::vector<std::uint8_t> body(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() / 2));
    body.insert(body.end(), whole.end() - static_cast<std::ptrdiff_t>(test::kModelFooterBytes), whole.end());
    test::fix_model_checksum(body);
    const std::string e = model_error_of(body);
    EXPECT_NE(e.find("bad.cimvp: truncated at byte"), std::string::npos) << e;
    EXPECT_NE(e.find("while reading node"), std::string::npos) << e;
}

TEST(GraphModelFile, GroupedConvBlocksFitTheConfig) {
    const NetworkModel m = test::random_graph_network(10, 12, 32);
    ArchConfig cfg;
    cfg.crossbar.rows = 32;  // 3 depthwise groups of 9 rows per block
    const std::vector<ConvBlock> blocks = m.layers[1].blocks(cfg.crossbar.rows);
    ASSERT_EQ(blocks.size(), 11u);  // ceil(32 / 3)
    EXPECT_EQ(blocks[0].K, 27);
    EXPECT_EQ(blocks[10].groups, 2);
    EXPECT_EQ(blocks[10].first_in, 30);
    EXPECT_NO_THROW(check_model_fits(m, cfg));
    cfg.crossbar.rows = 8;  // a 3x3 depthwise group's 9 rows take two row tiles
    cfg.platform.tiles = 1;
    try {
        check_model_fits(m, cfg);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("node 0 (conv)"), std::string::npos) << e.what();
    }
}

TEST(GraphModelFile, BlockMatrixIsBlockDiagonal) {
    const NetworkModel m = test::random_graph_network(11, 12, 8);
    const NetworkLayer& L = m.layers[4];  // 8 -> 4, groups 2: Cg 4, Mg 2, Kg 4
    const std::vector<ConvBlock> blocks = L.blocks(128);
    ASSERT_EQ(blocks.size(), 1u);
    const MatrixLayer mat = L.block_matrix(blocks[0], "b");
    ASSERT_EQ(mat.K, 8);
    ASSERT_EQ(mat.M, 4);
    for (int k = 0; k < 8; ++k)
        for (int col = 0; col < 4; ++col) {
            const int w = mat.weights[static_cast<std::size_t>(k) * 4 + col];
            if (k / 4 == col / 2)
                EXPECT_EQ(w, L.weights[static_cast<std::size_t>(col) * 4 + k % 4]) << k << "," << col;
            else
                EXPECT_EQ(w, 0) << k << "," << col;
        }
}

TEST(GraphModelFile, MutatedFilesAreRefusedWithAModelErrorOrLoadNeverCrash) {
    const auto good = serialize_model(test::random_graph_network(12));
    std::mt19937 rng(2024);
    int refused = 0, loaded = 0;
    for (int trial = 0; trial < 600; ++trial) {
        auto bad = good;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            // Anywhere after the magic and before the footer; small values are the interesting ones.
            const std::size_t at = 12 + rng() % (bad.size() - 12 - test::kModelFooterBytes);
            bad[at] = static_cast<std::uint8_t>(rng() % 3 == 0 ? rng() : rng() % 8);
        }
        if (trial % 5 == 0) bad.erase(bad.begin() + static_cast<std::ptrdiff_t>(bad.size() / 2), bad.end() - 16);
        test::fix_model_checksum(bad);
        try {
            const NetworkModel m = parse_model(bad, "fuzz.cimvp");
            check_model_fits(m, ArchConfig());
            ++loaded;
        } catch (const ModelError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("fuzz.cimvp: ", 0), 0u) << e.what();
            ++refused;
        }
    }
    EXPECT_GT(refused, 300);
    EXPECT_EQ(refused + loaded, 600);
}

}  // namespace
}  // namespace cimvp
