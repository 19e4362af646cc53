// Model format v2: layers stored as SWIS groups (docs/model-format.md). The
// writer, the loader's checks of every stored field, and the network
// reference running the stored groups.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <tuple>

#include "sw/formats/digest.h"
#include "sw/formats/model_file.h"
#include "sw/reference/network_reference.h"
#include "sw/compiler/swis_storage.h"
#include "testbench/model_builders.h"

namespace cimvp {
namespace {

constexpr std::size_t kFooter = test::kModelFooterBytes;

NetworkModel int8_model(std::uint64_t seed) {
    test::ModelShape s;
    s.in = 12;
    s.c1 = 6;  // layer 0: one input channel, so each group holds one weight and three empty lanes
    s.c2 = 10;
    s.hidden = 12;
    s.a_bits = 8;
    s.w_bits = 8;
    NetworkModel m = test::random_network(seed, s);
    // Full-range int8 weights, -128 included.
    std::mt19937 rng(static_cast<unsigned>(seed));
    for (auto& L : m.layers)
        for (auto& w : L.weights) w = static_cast<std::int8_t>(static_cast<int>(rng() % 256) - 128);
    return m;
}

std::vector<bool> every_layer(const NetworkModel& m) { return std::vector<bool>(m.layers.size(), true); }

using test::fix_model_checksum;
using test::model_error_of;

// Bits of the packed stream, LSB first (docs/swis.md "Storage").
unsigned get_bits(const std::vector<std::uint8_t>& p, std::size_t at, int n) {
    unsigned v = 0;
    for (int i = 0; i < n; ++i) v |= ((p[(at + i) / 8] >> ((at + i) % 8)) & 1u) << i;
    return v;
}
void set_bits(std::vector<std::uint8_t>& p, std::size_t at, int n, unsigned v) {
    for (int i = 0; i < n; ++i) {
        const std::size_t k = at + i;
        p[k / 8] = static_cast<std::uint8_t>((p[k / 8] & ~(1u << (k % 8))) | (((v >> i) & 1u) << (k % 8)));
    }
}

SwisStoreOptions uniform(int n, swis::Variant v = swis::Variant::kSwis) {
    SwisStoreOptions o;
    o.shifts = n;
    o.variant = v;
    return o;
}

TEST(SwisModelFile, StoredGroupsRoundTripAndTheFileIsVersion2) {
    const NetworkModel m = int8_model(1);
    for (auto variant : {swis::Variant::kSwis, swis::Variant::kSwisC}) {
        for (double t : {3.0, 2.5}) {
            SwisStoreOptions o = uniform(3, variant);
            o.shifts = t;
            std::vector<bool> store(m.layers.size(), false);
            store[0] = store[1] = store[3] = true;  // layer 2 stays int8
            const NetworkModel s = store_swis_layers(m, store, o);
            const auto bytes = serialize_model(s);
            std::uint32_t version;
            std::memcpy(&version, &bytes[8], 4);
            EXPECT_EQ(version, 2u);
            const NetworkModel back = parse_model(bytes, "<mem>");
            EXPECT_EQ(serialize_model(back), bytes);
            for (std::size_t l = 0; l < m.layers.size(); ++l) {
                ASSERT_EQ(back.layers[l].swis.has_value(), store[l]) << l;
                EXPECT_EQ(back.layers[l].weights, s.layers[l].weights) << l;
                if (!store[l]) {
                    EXPECT_EQ(back.layers[l].weights, m.layers[l].weights) << l;
                    continue;
                }
                EXPECT_EQ(back.layers[l].swis->filter_n, s.layers[l].swis->filter_n);
                EXPECT_EQ(back.layers[l].swis->packed, s.layers[l].swis->packed);
                EXPECT_EQ(back.layers[l].swis->variant, variant);
                EXPECT_EQ(back.layers[l].swis_groups().weights(), back.layers[l].weights);
            }
        }
    }
}

TEST(SwisModelFile, ModelsWithoutStoredGroupsStayVersion1ByteForByte) {
    const NetworkModel m = int8_model(2);
    const auto bytes = serialize_model(m);
    std::uint32_t version;
    std::memcpy(&version, &bytes[8], 4);
    EXPECT_EQ(version, 1u);
    for (const char* name : {"fmnist-int8", "fmnist-bwma", "fmnist-columnwise"}) {
        const std::string path = std::string(CIMVP_SOURCE_DIR) + "/models/" + name + ".cimvp";
        std::ifstream f(path, std::ios::binary);
        ASSERT_TRUE(f.good()) << path;
        const std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const NetworkModel shipped = load_model(path);
        EXPECT_EQ(serialize_model(shipped), file) << path;
        for (const auto& L : shipped.layers) EXPECT_FALSE(L.swis.has_value());
    }
}

TEST(SwisModelFile, UniformStorageIsTheDecompositionRunUsesAtThatShiftCount) {
    const NetworkModel m = int8_model(3);
    for (auto variant : {swis::Variant::kSwis, swis::Variant::kSwisC}) {
        std::vector<SwisLayerStorageReport> report;
        const NetworkModel s = store_swis_layers(m, every_layer(m), uniform(3, variant), &report);
        ASSERT_EQ(report.size(), m.layers.size());
        for (std::size_t l = 0; l < m.layers.size(); ++l) {
            const auto shape = m.layers[l].swis_shape();
            EXPECT_EQ(s.layers[l].weights, swis::decompose_layer(m.layers[l].weights, shape, 3, variant).weights());
            // Storage: every group at N = 3, against 8 bits per weight.
            const std::int64_t groups = static_cast<std::int64_t>(shape.groups_per_filter()) * shape.filters;
            EXPECT_EQ(report[l].groups, groups);
            EXPECT_EQ(report[l].swis_bits, groups * swis::group_storage_bits(3, variant));
            EXPECT_EQ(report[l].swis_bytes, (report[l].swis_bits + 7) / 8);
            EXPECT_EQ(report[l].int8_bytes, static_cast<std::int64_t>(m.layers[l].weights.size()));
            EXPECT_DOUBLE_EQ(report[l].ratio, 8.0 * report[l].weights / static_cast<double>(report[l].swis_bits));
            EXPECT_DOUBLE_EQ(report[l].mean_n, 3.0);
        }
        // Layer 1 has 6 input channels: groups of 4 and 2 weights per (ky, kx).
        EXPECT_DOUBLE_EQ(report[1].int8_bits_per_group, 8.0 * 6 / 2);
    }
}

TEST(SwisModelFile, ScheduledStorageHitsTheMeanAndSharesNPerArrayGroup) {
    const NetworkModel m = int8_model(4);
    SwisStoreOptions o = uniform(3);
    o.shifts = 2.5;
    o.array_cols = 2;
    std::vector<SwisLayerStorageReport> report;
    const NetworkModel s = store_swis_layers(m, every_layer(m), o, &report);
    // Layer 2 has 12 filters in 6 groups of 2: a mean of 2.5 is reachable (sum N = 30).
    EXPECT_DOUBLE_EQ(report[2].mean_n, 2.5);
    EXPECT_LT(report[2].min_n, report[2].max_n);
    // Layer 3 has 10 filters in 5 groups of 2: 25 is odd, the largest reachable mean below is 2.4.
    EXPECT_DOUBLE_EQ(report[3].mean_n, 2.4);
    o.double_shift = true;
    const NetworkModel ds = store_swis_layers(m, every_layer(m), o);
    for (const auto& L : ds.layers)
        for (int n : L.swis->filter_n) EXPECT_EQ(n % 2, 0);
    // An integral mean with double shift is a schedule too: 3 = 2s and 4s.
    o.shifts = 3;
    std::vector<SwisLayerStorageReport> ds3;
    store_swis_layers(m, every_layer(m), o, &ds3);
    EXPECT_DOUBLE_EQ(ds3[2].mean_n, 3.0);  // 12 filters in groups of 2
    EXPECT_EQ(ds3[2].min_n, 2);
    EXPECT_EQ(ds3[2].max_n, 4);
}

// The stored model's last layer is the last thing before the footer:
// ... swis u32, variant u32, group_size u32, schedule_cols u32, filter_n u8[M], packed_bytes u32, packed.
struct Tail {
    std::size_t packed, packed_bytes, filter_n, schedule_cols, group_size, variant;
};
Tail tail_of(const NetworkModel& s, const std::vector<std::uint8_t>& bytes) {
    const auto& L = s.layers.back();
    Tail t;
    t.packed = bytes.size() - kFooter - L.swis->packed.size();
    t.packed_bytes = t.packed - 4;
    t.filter_n = t.packed_bytes - static_cast<std::size_t>(L.M());
    t.schedule_cols = t.filter_n - 4;
    t.group_size = t.schedule_cols - 4;
    t.variant = t.group_size - 4;
    return t;
}

TEST(SwisModelFile, LoaderRejectsEveryMalformedStoredField) {
    const NetworkModel m = int8_model(5);
    const NetworkModel s = store_swis_layers(m, every_layer(m), uniform(3));
    const auto good = serialize_model(s);
    ASSERT_EQ(model_error_of(good), "");
    const std::string last = "layer 3 (fc): ";
    const Tail t = tail_of(s, good);

    // N above 8 and N = 0.
    for (int n : {9, 0}) {
        NetworkModel b = s;
        b.layers[3].swis->filter_n[4] = n;
        const std::string e = model_error_of(serialize_model(b));
        EXPECT_NE(e.find("bad.cimvp: " + last + "filter_n[4]: expected 1..8 (at byte " +
                         std::to_string(t.filter_n + 4) + "), got " + std::to_string(n)),
                  std::string::npos)
            << e;
    }
    // Packed size that does not match filter_n.
    {
        NetworkModel b = s;
        b.layers[3].swis->packed.pop_back();
        const std::string e = model_error_of(serialize_model(b));
        const std::string want = last + "packed_bytes: expected " + std::to_string(s.layers[3].swis->packed.size());
        EXPECT_NE(e.find(want), std::string::npos) << e;
    }
    // Truncated inside the packed groups (the footer and checksum intact).
    {
        auto b = good;
        b.erase(b.end() - kFooter - 5, b.end() - kFooter);
        fix_model_checksum(b);
        const std::string e = model_error_of(b);
        EXPECT_NE(e.find("truncated at byte " + std::to_string(t.packed)), std::string::npos) << e;
        EXPECT_NE(e.find("while reading layer 3 (fc) packed"), std::string::npos) << e;
    }
    // group_size other than 4, variant other than 0/1, swis other than 0/1.
    for (auto [at, field, value] : {std::tuple<std::size_t, std::string, std::uint32_t>{t.group_size, "group_size", 8},
                                    {t.variant, "swis_variant", 2},
                                    {t.variant - 4, "swis", 3}}) {
        auto b = good;
        std::memcpy(&b[at], &value, 4);
        fix_model_checksum(b);
        const std::string e = model_error_of(b);
        EXPECT_NE(e.find(last + field + ": expected"), std::string::npos) << field << ": " << e;
        EXPECT_NE(e.find("got " + std::to_string(value)), std::string::npos) << e;
    }
    // Two shifts of a group equal (SWIS shifts are distinct and descending).
    {
        auto b = good;
        const unsigned s0 = get_bits(b, t.packed * 8 + 4, 3);
        set_bits(b, t.packed * 8 + 7, 3, s0);
        fix_model_checksum(b);
        const std::string e = model_error_of(b);
        const std::string want = last + "packed (byte " + std::to_string(t.packed) + "): swis: unpack: group 0";
        EXPECT_NE(e.find(want), std::string::npos) << e;
        EXPECT_NE(e.find("shift"), std::string::npos) << e;
    }
    // A mask bit on a position of 2^7 (a level above 127).
    {
        auto b = good;
        set_bits(b, t.packed * 8 + 4, 3, 7);  // shift[0] = 7: still above shift[1]
        set_bits(b, t.packed * 8 + 4 + 9, 1, 1);  // plane 0, weight 0
        fix_model_checksum(b);
        const std::string e = model_error_of(b);
        EXPECT_NE(e.find(last + "packed"), std::string::npos) << e;
        EXPECT_NE(e.find("group 0"), std::string::npos) << e;
    }
    // A weight that is not the stored groups' value.
    {
        NetworkModel b = s;
        b.layers[3].weights[7] = static_cast<std::int8_t>(b.layers[3].weights[7] == 0 ? 1 : 0);
        const std::string e = model_error_of(serialize_model(b));
        EXPECT_NE(e.find(last + "weights[7]: expected " + std::to_string(s.layers[3].weights[7]) +
                         " (the value of the stored SWIS groups)"),
                  std::string::npos)
            << e;
    }
    // Filters of one array group with different N.
    {
        NetworkModel b = s;
        b.layers[3].swis->schedule_cols = 4;
        b.layers[3].swis->filter_n[0] = 2;
        const std::string e = model_error_of(serialize_model(b));
        EXPECT_NE(e.find(last + "filter_n: expected every array group of schedule_cols = 4"), std::string::npos) << e;
    }
    // SWIS groups on a layer whose weights are not 8-bit.
    {
        NetworkModel b = s;
        b.layers[2].w_bits = 7;
        for (auto& w : b.layers[2].weights) w = static_cast<std::int8_t>(w / 2);
        const std::string e = model_error_of(serialize_model(b));
        EXPECT_NE(e.find("layer 2 (fc): swis: expected 0: SWIS groups store 8-bit weights, the layer has 7-bit"),
                  std::string::npos)
            << e;
    }
}

TEST(SwisModelFile, SwisCOffsetOutOfRangeAndLanesBeyondTheChannelsAreRejected) {
    const NetworkModel m = int8_model(6);
    std::vector<bool> first(m.layers.size(), false);
    first[0] = true;
    // SWIS-C at N = 3: a group is 4 sign bits, a 3-bit offset 0..5, 3 planes of 4 mask bits.
    const NetworkModel s = store_swis_layers(m, first, uniform(3, swis::Variant::kSwisC));
    const auto good = serialize_model(s);
    ASSERT_EQ(model_error_of(good), "");
    // Layer 0 is followed by three int8 layers, each with its 4-byte swis = 0 field: find its stream.
    const auto& packed = s.layers[0].swis->packed;
    const auto it = std::search(good.begin(), good.end(), packed.begin(), packed.end());
    ASSERT_NE(it, good.end());
    const std::size_t at = static_cast<std::size_t>(it - good.begin());
    {
        auto b = good;
        set_bits(b, at * 8 + 4, 3, 7);
        fix_model_checksum(b);
        const std::string e = model_error_of(b);
        EXPECT_NE(e.find("layer 0 (conv): packed (byte " + std::to_string(at) + "): swis: unpack: group 0"),
                  std::string::npos)
            << e;
        EXPECT_NE(e.find("offset: expected 0..5 for N = 3, got 7"), std::string::npos) << e;
    }
    {
        // Weight lane 2 of a one-channel group: no channel there, so no mask bit may be set.
        auto b = good;
        set_bits(b, at * 8 + 4 + 3 + 2, 1, 1);
        fix_model_checksum(b);
        const std::string e = model_error_of(b);
        EXPECT_NE(e.find("layer 0 (conv): packed"), std::string::npos) << e;
        EXPECT_NE(e.find("group 0"), std::string::npos) << e;
    }
}

TEST(SwisModelFile, ReferenceRunsTheStoredGroupsLikeSwisShiftsOnTheV1Model) {
    const NetworkModel m = int8_model(7);
    const NetworkModel s = parse_model(serialize_model(store_swis_layers(m, every_layer(m), uniform(3))), "<mem>");
    ArchConfig cfg;
    NetworkOptions v1;
    v1.on_pe = every_layer(m);
    v1.swis_shifts = 3;
    const NetworkOptions v2 = NetworkOptions::defaults_for(s);
    ASSERT_EQ(v2.on_pe, every_layer(m)) << "stored layers run on the PE array by default";
    const ExecutionPlan pa = compile_network(m, cfg, v1), pb = compile_network(s, cfg, v2);
    const NetworkReference a(pa), b(pb);
    std::mt19937 rng(11);
    for (int img = 0; img < 5; ++img) {
        std::vector<std::uint8_t> image(m.image_bytes());
        for (auto& p : image) p = static_cast<std::uint8_t>(rng());
        EXPECT_EQ(a.logits(image.data(), img), b.logits(image.data(), img)) << img;
    }
    for (std::size_t l = 0; l < m.layers.size(); ++l) EXPECT_EQ(pa.layers[l].pe.weights, pb.layers[l].pe.weights) << l;
}

TEST(SwisModelFile, StoreRejectsLayersThePeArrayCannotRun) {
    test::ModelShape shape;
    shape.in = 12;
    shape.binary_middle = true;
    const NetworkModel m = test::random_network(8, shape);
    try {
        store_swis_layers(m, every_layer(m), uniform(3));
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("layer 1 (conv)"), std::string::npos) << e.what();
    }
    EXPECT_THROW(store_swis_layers(m, std::vector<bool>(m.layers.size(), false), uniform(3)), std::invalid_argument);
    SwisStoreOptions bad = uniform(3);
    bad.shifts = 9;
    EXPECT_THROW(store_swis_layers(m, {true}, bad), std::invalid_argument);
}

}  // namespace
}  // namespace cimvp
