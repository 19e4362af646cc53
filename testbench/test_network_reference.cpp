// Model file v1 and the network reference against an independent, naive
// integer implementation of docs/numerics.md "Networks" (direct convolution
// loops, no crossbar, no tiling).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "sw/formats/digest.h"
#include "sw/formats/idx_dataset.h"
#include "sw/formats/model_file.h"
#include "sw/reference/integer_network.h"
#include "sw/reference/network_reference.h"
#include "sw/contract/post_processing.h"
#include "testbench/model_builders.h"

namespace cimvp {
namespace {

NetworkLayer random_layer(std::mt19937& rng, LayerKind kind, int in_c, int in_h, int in_w, int out_c, int a_in,
                          int a_out, int w_bits, bool binary, bool last, PoolKind pool) {
    NetworkLayer L = test::random_net_layer(rng, kind, in_c, in_h, in_w, out_c, a_in, a_out, w_bits, binary, last);
    L.pool = last ? PoolKind::kNone : pool;
    L.pool_size = L.pool_stride = L.pool == PoolKind::kNone ? 0 : 2;
    return L;
}

NetworkModel small_model(std::uint64_t seed, bool binary_middle, PoolKind pool) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    NetworkModel m;
    m.path = "<test>";
    m.name = "test";
    m.scheme = binary_middle ? "bwma" : "int8";
    m.in_c = 1;
    m.in_h = 10;
    m.in_w = 10;
    m.in_bits = 8;
    m.num_classes = 5;
    m.layers.push_back(random_layer(rng, LayerKind::kConv, 1, 10, 10, 6, 8, 4, 8, false, false, pool));
    const int h = m.layers[0].pooled_h(), w = m.layers[0].pooled_w();
    m.layers.push_back(random_layer(rng, LayerKind::kConv, 6, h, w, 8, 4, 4, 4, binary_middle, false, PoolKind::kNone));
    m.layers.push_back(random_layer(rng, LayerKind::kFc, 8, h, w, 5, 4, 0, 6, false, true, PoolKind::kNone));
    return m;
}

// Direct evaluation of the contract with a lossless ADC: no crossbar, no tiles.
std::vector<std::int64_t> naive_logits(const NetworkModel& m, const std::uint8_t* image) {
    std::vector<std::uint8_t> x(image, image + m.image_bytes());
    for (const NetworkLayer& L : m.layers) {
        const int oh = L.out_h(), ow = L.out_w(), K = L.K();
        std::vector<std::uint8_t> y(static_cast<std::size_t>(L.M()) * oh * ow);
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox) {
                std::int64_t sx = 0;
                std::vector<std::int64_t> acc(L.M(), 0);
                for (int c = 0; c < L.in_c; ++c)
                    for (int ky = 0; ky < L.kernel; ++ky)
                        for (int kx = 0; kx < L.kernel; ++kx) {
                            int v = 0;
                            int k = 0;
                            if (L.kind == LayerKind::kConv) {
                                const int iy = oy * L.stride + ky - L.padding, ix = ox * L.stride + kx - L.padding;
                                if (iy >= 0 && iy < L.in_h && ix >= 0 && ix < L.in_w)
                                    v = x[(static_cast<std::size_t>(c) * L.in_h + iy) * L.in_w + ix];
                                k = (c * L.kernel + ky) * L.kernel + kx;
                            }
                            if (L.kind == LayerKind::kConv) {
                                sx += v;
                                for (int o = 0; o < L.M(); ++o) acc[o] += v * L.weights[static_cast<std::size_t>(o) * K + k];
                            }
                        }
                if (L.kind == LayerKind::kFc) {
                    for (int k = 0; k < K; ++k) {
                        sx += x[k];
                        for (int o = 0; o < L.M(); ++o) acc[o] += x[k] * L.weights[static_cast<std::size_t>(o) * K + k];
                    }
                }
                for (int o = 0; o < L.M(); ++o) {
                    const std::int64_t v = acc[o] * L.mult[o] + sx * L.mult_x[o] + L.bias[o];
                    if (!L.relu) return std::vector<std::int64_t>{};  // handled below for the last layer
                    y[(static_cast<std::size_t>(o) * oh + oy) * ow + ox] =
                        static_cast<std::uint8_t>(requantize(v, L.shift, L.a_out_bits));
                }
            }
        std::vector<std::uint8_t> p(static_cast<std::size_t>(L.M()) * L.pooled_h() * L.pooled_w());
        pool2d(y.data(), L.M(), oh, ow, L.pool, L.pool_size, L.pool_stride, p.data());
        x = p;
        if (&L == &m.layers[m.layers.size() - 2]) break;
    }
    const NetworkLayer& last = m.layers.back();
    std::vector<std::int64_t> logits(last.M());
    std::int64_t sx = 0;
    for (int k = 0; k < last.K(); ++k) sx += x[k];
    for (int o = 0; o < last.M(); ++o) {
        std::int64_t acc = 0;
        for (int k = 0; k < last.K(); ++k) acc += x[k] * last.weights[static_cast<std::size_t>(o) * last.K() + k];
        logits[o] = acc * last.mult[o] + sx * last.mult_x[o] + last.bias[o];
    }
    return logits;
}

TEST(ModelFile, RoundTripsEveryField) {
    NetworkModel m = small_model(1, true, PoolKind::kMax);
    m.layers[1].rows_per_tile = 27;
    m.layers[1].col_mult.assign(static_cast<std::size_t>((m.layers[1].K() + 26) / 27) * m.layers[1].M(), 3);
    const auto bytes = serialize_model(m);
    const NetworkModel back = parse_model(bytes, "<mem>");
    EXPECT_EQ(serialize_model(back), bytes);
    EXPECT_EQ(back.layers[1].col_mult, m.layers[1].col_mult);
    EXPECT_EQ(back.layers[0].weights, m.layers[0].weights);
    EXPECT_EQ(back.scheme, "bwma");
}

using test::model_error_of;

TEST(ModelFile, RejectsWrongMagicTruncationCorruptionAndBadVersion) {
    const auto good = serialize_model(small_model(2, false, PoolKind::kMax));
    auto bad = good;
    bad[0] = 'X';
    EXPECT_NE(model_error_of(bad).find("magic"), std::string::npos) << model_error_of(bad);
    bad = good;
    bad.resize(good.size() / 2);
    EXPECT_NE(model_error_of(bad).find("bad.cimvp"), std::string::npos);
    EXPECT_FALSE(model_error_of(bad).empty());
    bad = good;
    bad[200] ^= 0x40;
    EXPECT_NE(model_error_of(bad).find("checksum"), std::string::npos) << model_error_of(bad);
    bad = good;
    bad[8] = 4;  // version (1, 2 and 3 are the formats)
    EXPECT_NE(model_error_of(bad).find("version: expected 1, 2 or 3, got 4"), std::string::npos) << model_error_of(bad);
}

// The model checksum, the logits digest and the front end (sw/python) share one FNV-1a 64:
// the published test vectors, whole and fed in pieces.
TEST(Digest, Fnv1a64MatchesTheReferenceVectors) {
    EXPECT_EQ(fnv1a64(std::string()), 0xcbf29ce484222325ULL);
    EXPECT_EQ(fnv1a64(std::string("a")), 0xaf63dc4c8601ec8cULL);
    EXPECT_EQ(fnv1a64(std::string("foobar")), 0x85944171f73967e8ULL);
    EXPECT_EQ(Fnv1a64().add("foo", 3).add("bar", 3).hex(), "85944171f73967e8");
}

TEST(ModelFile, TruncatedLayerNamesTheFieldAndOffset) {
    // A well-formed footer on a header that promises more layers than it holds.
    NetworkModel m = small_model(3, false, PoolKind::kMax);
    auto bytes = serialize_model(m);
    NetworkModel cut = m;
    cut.layers.pop_back();
    cut.layers.back().relu = false;  // keep the chain plausible up to where it stops
    auto body = serialize_model(cut);
    body[12] = 3;  // n_layers says 3, the file holds 2
    // recompute the checksum so that the truncation, not the checksum, is what fails
    test::fix_model_checksum(body);
    const std::string e = model_error_of(body);
    EXPECT_NE(e.find("bad.cimvp"), std::string::npos) << e;
    EXPECT_TRUE(e.find("truncated") != std::string::npos || e.find("relu") != std::string::npos) << e;
}

TEST(ModelFile, RejectsAWeightOutsideItsBitsNamingLayerAndField) {
    NetworkModel m = small_model(4, false, PoolKind::kMax);
    m.layers[1].weights[5] = 8;  // 4-bit weights: -8..7
    const std::string e = model_error_of(serialize_model(m));
    EXPECT_NE(e.find("layer 1 (conv): weights[5]: expected -8..7, got 8"), std::string::npos) << e;
}

TEST(ModelFile, RejectsALayerWiderThanTheConfigAllows) {
    NetworkModel m = small_model(5, false, PoolKind::kMax);
    ArchConfig cfg;
    cfg.crossbar.rows = 16;
    cfg.platform.tiles = 4;  // the fc layer has K = 8*5*5 = 200 inputs: 13 row tiles of 16
    try {
        check_model_fits(m, cfg);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("layer 2 (fc)"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("tiles"), std::string::npos) << e.what();
    }
    m.cell_bits = 2;
    ArchConfig one_bit;
    EXPECT_THROW(check_model_fits(m, one_bit), ModelError);
}

TEST(NetworkReference, LosslessEqualsNaiveIntegerNetwork) {
    for (auto pool : {PoolKind::kMax, PoolKind::kAvg}) {
        for (bool binary : {false, true}) {
            const NetworkModel m = small_model(10 + static_cast<int>(pool) + binary, binary, pool);
            ArchConfig cfg;
            cfg.crossbar.rows = 32;  // several row tiles
            cfg.crossbar.cols = 24;
            const ExecutionPlan plan = compile_network(m, cfg);
            const NetworkReference ref(plan);
            std::mt19937 rng(99);
            for (int img = 0; img < 5; ++img) {
                std::vector<std::uint8_t> image(m.image_bytes());
                for (auto& p : image) p = static_cast<std::uint8_t>(rng());
                EXPECT_EQ(ref.logits(image.data(), img), naive_logits(m, image.data()))
                    << "pool " << static_cast<int>(pool) << " binary " << binary << " image " << img;
            }
        }
    }
}

TEST(NetworkReference, InputMasksAreAppliedToWhatEachLayerReads) {
    const NetworkModel m = small_model(12, false, PoolKind::kMax);
    ArchConfig cfg;
    const ExecutionPlan plan = compile_network(m, cfg);
    ASSERT_TRUE(IntegerNetwork::applies(m, cfg));
    const NetworkReference whole(plan);
    NetworkReference first(plan), later(plan);
    first.set_input_masks({0xF0});  // the first layer's input is the image: as the image with its low bits cleared
    std::vector<std::uint8_t> masks(m.layers.size(), 0xFF);
    masks.back() = 0xC0;
    later.set_input_masks(masks);
    const IntegerNetwork later_int(m, masks);
    std::mt19937 rng(7);
    int changed = 0;
    for (int img = 0; img < 8; ++img) {
        std::vector<std::uint8_t> image(m.image_bytes()), cleared(m.image_bytes());
        for (std::size_t i = 0; i < image.size(); ++i) {
            image[i] = static_cast<std::uint8_t>(rng());
            cleared[i] = image[i] & 0xF0;
        }
        EXPECT_EQ(first.logits(image.data(), img), whole.logits(cleared.data(), img)) << "image " << img;
        EXPECT_EQ(later.logits(image.data(), img), later_int.logits(image.data())) << "image " << img;
        changed += later.logits(image.data(), img) != whole.logits(image.data(), img);
    }
    EXPECT_GT(changed, 0);  // dropping the last layer's low input bits changes its logits
}

TEST(NetworkReference, ColumnMultipliersScaleEachRowTilesPartial) {
    NetworkModel m = small_model(20, false, PoolKind::kMax);
    ArchConfig cfg;
    NetworkLayer& fc = m.layers[2];
    fc.rows_per_tile = 64;  // K = 200: 4 row tiles
    const int rt = (fc.K() + 63) / 64;
    fc.col_mult.assign(static_cast<std::size_t>(rt) * fc.M(), 1);
    const ExecutionPlan plain_plan = compile_network(m, cfg);
    const NetworkReference plain(plain_plan);
    for (int o = 0; o < fc.M(); ++o) fc.col_mult[static_cast<std::size_t>(1) * fc.M() + o] = 0;  // drop row tile 1
    const ExecutionPlan dropped_plan = compile_network(m, cfg);
    const NetworkReference dropped(dropped_plan);
    std::vector<std::uint8_t> image(m.image_bytes(), 200);
    const auto a = plain.logits(image.data(), 0), b = dropped.logits(image.data(), 0);
    ASSERT_EQ(a.size(), b.size());
    // Dropping a row tile changes the logits by exactly its contribution times mult.
    const auto x = plain.layer_input(image.data(), 2, 0);
    for (int o = 0; o < fc.M(); ++o) {
        std::int64_t part = 0;
        for (int k = 64; k < 128; ++k) part += x[k] * fc.weights[static_cast<std::size_t>(o) * fc.K() + k];
        EXPECT_EQ(a[o] - b[o], part * fc.mult[o]);
    }
}

TEST(IdxDataset, MissingDirectoryExplainsHowToInstall) {
    try {
        load_idx_dataset("/nonexistent/fashion", "t10k");
        FAIL() << "no error";
    } catch (const DatasetError& e) {
        EXPECT_NE(std::string(e.what()).find("apt-get install dataset-fashion-mnist"), std::string::npos);
    }
}

TEST(IdxDataset, ReadsFashionMnistTestImagesWhenInstalled) {
    if (!std::ifstream(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz"))
        GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    const ImageSet s = load_idx_dataset(kFashionMnistDir, "t10k", 100);
    EXPECT_EQ(s.count, 100);
    EXPECT_EQ(s.height, 28);
    EXPECT_EQ(s.width, 28);
    EXPECT_EQ(s.labels[0], 9);  // the first test image is an ankle boot
}

// A data set of `n` 2x3 images, uncompressed, in a directory of its own: image i's pixels are
// i * 6 + 0..5, its label i % 10; the images file has `extra` bytes more than its header says.
std::string write_idx_set(const std::string& name, std::uint32_t n, int extra = 0) {
    const std::string dir = ::testing::TempDir() + "/" + name;
    std::filesystem::create_directories(dir);
    const auto be32 = [](std::ofstream& f, std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) f.put(static_cast<char>((v >> s) & 0xFF));
    };
    std::ofstream im(dir + "/t10k-images-idx3-ubyte", std::ios::binary), lb(dir + "/t10k-labels-idx1-ubyte", std::ios::binary);
    be32(im, 0x00000803), be32(im, n), be32(im, 2), be32(im, 3);
    for (std::uint32_t i = 0; i < n * 6 + static_cast<std::uint32_t>(extra); ++i) im.put(static_cast<char>(i & 0xFF));
    be32(lb, 0x00000801), be32(lb, n);
    for (std::uint32_t i = 0; i < n; ++i) lb.put(static_cast<char>(i % 10));
    return dir;
}

TEST(IdxDataset, AWindowHoldsOnlyItsImagesUnderTheirIndicesInTheSet) {
    const std::string dir = write_idx_set("window", 40);
    EXPECT_EQ(idx_dataset_count(dir, "t10k"), 40);
    EXPECT_EQ(idx_dataset_count(dir, "t10k", 25), 25);
    const ImageSet all = load_idx_dataset(dir, "t10k", 25);
    EXPECT_EQ(all.count, 25);
    EXPECT_EQ(all.first, 0);
    EXPECT_EQ(all.held, 25);
    const ImageSet w = load_idx_dataset(dir, "t10k", 25, 7, 10);
    EXPECT_EQ(w.count, 25);  // the run's images, not the window's
    EXPECT_EQ(w.first, 7);
    EXPECT_EQ(w.held, 10);
    EXPECT_EQ(w.pixels.size(), 10u * 6);  // the other images are not kept
    for (int i = 7; i < 17; ++i) {
        EXPECT_TRUE(std::equal(w.image(i), w.image(i) + 6, all.image(i))) << i;
        EXPECT_EQ(w.label(i), i % 10);
    }
    // Clamped to the limit's images.
    const ImageSet tail = load_idx_dataset(dir, "t10k", 25, 20, 64);
    EXPECT_EQ(tail.held, 5);
    EXPECT_EQ(tail.image(24)[0], static_cast<std::uint8_t>(24 * 6));
    EXPECT_EQ(load_idx_dataset(dir, "t10k", 25, 30, 4).held, 0);
}

TEST(IdxDataset, AWindowStillChecksTheWholeFile) {
    // A window of the first images of a file with bytes past its last image is refused, as the whole set is.
    const std::string dir = write_idx_set("long", 12, 5);
    for (const int first : {0, 11}) {
        try {
            load_idx_dataset(dir, "t10k", 0, first, 1);
            FAIL() << "no error";
        } catch (const DatasetError& e) {
            EXPECT_NE(std::string(e.what()).find("size: expected 88 bytes, got 93"), std::string::npos) << e.what();
        }
    }
}

}  // namespace
}  // namespace cimvp
