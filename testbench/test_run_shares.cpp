// The shares of a run split over processes (docs/scale.md): how a run is cut into them
// (even_share, trace_layer_parts), their bytes (sw/app/run_shares.h), and their merge into the
// run's report (merge_run_shares, merge_trace_shares). No simulation and no MPI (SystemC comes
// linked in with the jobs): testbench/test_mpi.py runs split runs under mpirun.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include "hw/arch_config.h"
#include "sw/app/run_shares.h"
#include "sw/formats/digest.h"
#include "sw/formats/trace_file.h"
#include "sw/support/parallel_for.h"
#include "sw/workloads/trace_network.h"

namespace cimvp {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Every field of a RunStats equal, doubles bit for bit.
void expect_same(const RunStats& a, const RunStats& b) {
    EXPECT_TRUE(same_bits(a.sim_ns, b.sim_ns));
    EXPECT_EQ(a.cycles, b.cycles);
    EXPECT_EQ(a.commands, b.commands);
    const EnergyBreakdown &x = a.energy, &y = b.energy;
    for (auto c : {&EnergyBreakdown::crossbar, &EnergyBreakdown::adc, &EnergyBreakdown::shift_add, &EnergyBreakdown::pe,
                   &EnergyBreakdown::buffers, &EnergyBreakdown::dma, &EnergyBreakdown::dram,
                   &EnergyBreakdown::post_process})
        EXPECT_TRUE(same_bits(x.*c, y.*c)) << x.*c << " against " << y.*c;
}

// Statistics whose sums round: thirds and tenths, a denormal, the largest counts.
RunStats awkward_stats(int k) {
    RunStats s;
    s.sim_ns = 1.0 / 3.0 + k * 0.1;
    s.cycles = std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(k);
    s.commands = static_cast<std::uint64_t>(k) * 7 + 1;
    s.energy.crossbar = 0.0018 * (k + 1);
    s.energy.adc = 1.67e-300;
    s.energy.shift_add = std::numeric_limits<double>::denorm_min();
    s.energy.pe = -0.0;
    s.energy.buffers = 1e300 / (k + 3);
    s.energy.dma = 0.5;
    s.energy.dram = 160.0 * k + 0.1;
    s.energy.post_process = 3.2 / (k + 1);
    return s;
}

TEST(EvenShare, CutsARangeIntoContiguousPartsWhoseSizesDifferByAtMostOne) {
    for (int n : {0, 1, 5, 157, 10000})
        for (int parts : {1, 2, 3, 7, 200}) {
            int next = 0, smallest = n, largest = 0;
            for (int p = 0; p < parts; ++p) {
                const ItemRange r = even_share(n, parts, p);
                EXPECT_EQ(r.first, next) << n << " items, part " << p << " of " << parts;
                EXPECT_LE(r.first, r.last);
                smallest = std::min(smallest, r.last - r.first);
                largest = std::max(largest, r.last - r.first);
                next = r.last;
            }
            EXPECT_EQ(next, n);
            EXPECT_LE(largest - smallest, 1) << n << " items in " << parts << " parts";
        }
}

TEST(RunShareBytes, AShareComesBackBitForBit) {
    RunShare s;
    s.first_image = 128;
    s.images = 3;
    s.correct = 2;
    s.agree = 3;
    s.wall_s = 0.1;
    s.reference_s = 1.0 / 3.0;
    s.logits = {std::numeric_limits<std::int64_t>::min(), -1, 0, 1, std::numeric_limits<std::int64_t>::max(), 42};
    s.batches = {{awkward_stats(0), awkward_stats(1)}, {awkward_stats(2), awkward_stats(3)}};
    RtlRunStats rtl;
    rtl.conversions = 1;
    rtl.adc_cycles = 2;
    rtl.model_conversions = 3;
    rtl.adc_mismatches = 4;
    rtl.pe_outputs = 5;
    rtl.pe_groups = 6;
    rtl.pe_cycles = 7;
    rtl.model_pe_cycles = 8;
    rtl.pe_mismatches = 9;
    rtl.pe_bypassed_jobs = 10;
    rtl.adc_bits = 5;
    rtl.adc_seconds = 0.25;
    rtl.pe_seconds = 1e-9;
    s.rtl = rtl;

    const RunShare d = decode_run_share(encode_run_share(s));
    EXPECT_EQ(d.first_image, 128);
    EXPECT_EQ(d.images, 3);
    EXPECT_EQ(d.correct, 2);
    EXPECT_EQ(d.agree, 3);
    EXPECT_TRUE(same_bits(d.wall_s, s.wall_s));
    EXPECT_TRUE(same_bits(d.reference_s, s.reference_s));
    EXPECT_EQ(d.logits, s.logits);
    ASSERT_EQ(d.batches.size(), 2u);
    for (std::size_t b = 0; b < 2; ++b) {
        ASSERT_EQ(d.batches[b].size(), 2u);
        for (std::size_t l = 0; l < 2; ++l) expect_same(d.batches[b][l], s.batches[b][l]);
    }
    ASSERT_TRUE(d.rtl.has_value());
    EXPECT_EQ(d.rtl->conversions, 1u);
    EXPECT_EQ(d.rtl->adc_cycles, 2u);
    EXPECT_EQ(d.rtl->model_conversions, 3u);
    EXPECT_EQ(d.rtl->adc_mismatches, 4u);
    EXPECT_EQ(d.rtl->pe_outputs, 5u);
    EXPECT_EQ(d.rtl->pe_groups, 6u);
    EXPECT_EQ(d.rtl->pe_cycles, 7u);
    EXPECT_EQ(d.rtl->model_pe_cycles, 8u);
    EXPECT_EQ(d.rtl->pe_mismatches, 9u);
    EXPECT_EQ(d.rtl->pe_bypassed_jobs, 10u);
    EXPECT_EQ(d.rtl->adc_bits, 5);
    EXPECT_TRUE(same_bits(d.rtl->adc_seconds, 0.25));
    EXPECT_TRUE(same_bits(d.rtl->pe_seconds, 1e-9));

    s.rtl.reset();
    EXPECT_FALSE(decode_run_share(encode_run_share(s)).rtl.has_value());
}

// One process's protocol checks: 9 links, every count distinct.
tlmx::ProtocolCounts protocol_counts(std::uint64_t k) {
    tlmx::ProtocolCounts c;
    c.links = 9;
    c.transports = 100 * k + 1;
    c.transactions = 100 * k + 2;
    c.dmi_requests = 100 * k + 3;
    c.debug_transports = 100 * k + 4;
    c.invalidations = 100 * k + 5;
    c.violations = k;
    return c;
}

void expect_same(const tlmx::ProtocolCounts& a, const tlmx::ProtocolCounts& b) {
    EXPECT_EQ(a.links, b.links);
    EXPECT_EQ(a.transports, b.transports);
    EXPECT_EQ(a.transactions, b.transactions);
    EXPECT_EQ(a.dmi_requests, b.dmi_requests);
    EXPECT_EQ(a.debug_transports, b.debug_transports);
    EXPECT_EQ(a.invalidations, b.invalidations);
    EXPECT_EQ(a.violations, b.violations);
}

TEST(RunShareBytes, ProtocolChecksComeBackWithTheShareAndTheirAbsenceToo) {
    RunShare s;
    s.protocol = protocol_counts(7);
    const RunShare d = decode_run_share(encode_run_share(s));
    ASSERT_TRUE(d.protocol.has_value());
    expect_same(*d.protocol, *s.protocol);
    EXPECT_FALSE(decode_run_share(encode_run_share(RunShare{})).protocol.has_value());

    TraceShare t;
    t.protocol = protocol_counts(3);
    const TraceShare dt = decode_trace_share(encode_trace_share(t));
    ASSERT_TRUE(dt.protocol.has_value());
    expect_same(*dt.protocol, *t.protocol);
    EXPECT_FALSE(decode_trace_share(encode_trace_share(TraceShare{})).protocol.has_value());
}

TEST(RunShareBytes, BytesThatAreNoShareAreRefused) {
    EXPECT_THROW(decode_run_share("not a share"), std::runtime_error);
    EXPECT_THROW(decode_trace_share(encode_run_share(RunShare{})), std::runtime_error);
}

TraceLayerReport awkward_layer(int k) {
    TraceLayerReport l;
    l.name = "layer" + std::to_string(k);
    l.type = "conv";
    l.mapped_to = k % 2 ? "pe_array" : "crossbar";
    l.macs_per_image = 1e9 / 7 + k;
    l.stats = awkward_stats(k);
    l.programming = awkward_stats(k + 10);
    l.stages = k + 1;
    l.tiles_used = k + 2;
    l.passes = k + 3;
    l.scratch_on_chip_stages = k + 4;
    l.activations_on_chip_stages = k + 5;
    l.tile_utilization = 1.0 / (k + 3);
    l.pe_utilization = 2.0 / (k + 7);
    l.host_ops = 1234567890123ULL + static_cast<std::uint64_t>(k);
    l.recalibrated_stages = k + 6;
    l.agree = 1;
    l.image_agrees = {k % 2 == 0, k % 2 == 1};
    l.platform = {0.1 * k, 0.2 * k};
    l.reference = {0.3, 0.4 / 3};
    l.prepare = {0.5, 0.6};
    l.host = {0.7, 1.0 / 9};
    return l;
}

TEST(TraceShareBytes, AShareComesBackBitForBit) {
    TraceShare s;
    s.layers = {1, 4};
    s.reports = {awkward_layer(1), awkward_layer(4)};
    const TraceShare d = decode_trace_share(encode_trace_share(s));
    EXPECT_EQ(d.layers, s.layers);
    ASSERT_EQ(d.reports.size(), 2u);
    for (std::size_t k = 0; k < 2; ++k) {
        const TraceLayerReport &a = s.reports[k], &b = d.reports[k];
        EXPECT_EQ(b.name, a.name);
        EXPECT_EQ(b.type, a.type);
        EXPECT_EQ(b.mapped_to, a.mapped_to);
        EXPECT_TRUE(same_bits(b.macs_per_image, a.macs_per_image));
        expect_same(b.stats, a.stats);
        expect_same(b.programming, a.programming);
        EXPECT_EQ(b.stages, a.stages);
        EXPECT_EQ(b.tiles_used, a.tiles_used);
        EXPECT_EQ(b.passes, a.passes);
        EXPECT_EQ(b.scratch_on_chip_stages, a.scratch_on_chip_stages);
        EXPECT_EQ(b.activations_on_chip_stages, a.activations_on_chip_stages);
        EXPECT_TRUE(same_bits(b.tile_utilization, a.tile_utilization));
        EXPECT_TRUE(same_bits(b.pe_utilization, a.pe_utilization));
        EXPECT_EQ(b.host_ops, a.host_ops);
        EXPECT_EQ(b.recalibrated_stages, a.recalibrated_stages);
        EXPECT_EQ(b.agree, a.agree);
        EXPECT_EQ(b.image_agrees, a.image_agrees);
        for (auto t : {&TraceLayerReport::platform, &TraceLayerReport::reference, &TraceLayerReport::prepare,
                       &TraceLayerReport::host}) {
            EXPECT_TRUE(same_bits((b.*t).wall, (a.*t).wall));
            EXPECT_TRUE(same_bits((b.*t).cpu, (a.*t).cpu));
        }
    }
}

// A run of 5 images in batches of 2 over 2 layers, 3 classes.
RunJobResult description() {
    RunJobResult r;
    r.images = 5;
    r.layers.resize(2);
    r.layers[0].name = "layer 0 (conv)";
    r.layers[1].name = "layer 1 (fc)";
    return r;
}

RunShare share(int first, int images, int batches, int k0) {
    RunShare s;
    s.first_image = first;
    s.images = images;
    s.correct = images - 1;
    s.agree = images;
    s.wall_s = 0.5 * images;
    s.reference_s = 0.1 * images;
    for (int i = 0; i < images * 3; ++i) s.logits.push_back(first * 3 + i - 7);
    for (int b = 0; b < batches; ++b) s.batches.push_back({awkward_stats(k0 + 2 * b), awkward_stats(k0 + 2 * b + 1)});
    return s;
}

TEST(MergeRunShares, SharesGiveTheReportOfOneShareOfEveryImage) {
    RunJobSpec spec;
    spec.model_path = "no-such-model.cimvp";  // no expected results beside it: no front-end comparison
    // Batches 0 | 1, 2 against batches 0, 1, 2 in one share.
    const RunShare whole = share(0, 5, 3, 0);
    const RunJobResult one = merge_run_shares(description(), {whole}, spec);
    RunShare first = share(0, 2, 1, 0), second = share(2, 3, 2, 2);
    first.correct = 2;  // 4 of 5 in all (2 + 2), as the one share
    const RunJobResult two = merge_run_shares(description(), {first, second}, spec);

    EXPECT_EQ(two.images, 5);
    EXPECT_EQ(two.correct, one.correct);
    EXPECT_EQ(two.agree, one.agree);
    EXPECT_TRUE(same_bits(two.accuracy, 0.8));
    EXPECT_TRUE(same_bits(two.agreement, 1.0));
    EXPECT_EQ(two.logits_digest, one.logits_digest);
    EXPECT_EQ(two.logits_digest,
              Fnv1a64().add(whole.logits.data(), whole.logits.size() * sizeof(std::int64_t)).hex());
    for (std::size_t l = 0; l < 2; ++l) expect_same(two.layers[l].stats, one.layers[l].stats);
    expect_same(two.total, one.total);
    // Summed batch by batch in image order: the first layer's energy is ((b0 + b1) + b2), as one process adds.
    EnergyBreakdown e;
    for (int b = 0; b < 3; ++b) e += awkward_stats(2 * b).energy;
    EXPECT_TRUE(same_bits(two.layers[0].stats.energy.crossbar, e.crossbar));
    // Wall time is the longest share's; the reference's CPU time is the shares' sum.
    EXPECT_TRUE(same_bits(two.wall_s, 1.5));
    EXPECT_TRUE(same_bits(two.reference_wall_s, 0.1 * 2 + 0.1 * 3));
}

// Each process checks the same links of its own platform: the run's report counts every process's
// calls and violations, and the links once.
TEST(MergeRunShares, ProtocolChecksOfEveryShareAreSummedOverTheSameLinks) {
    RunJobSpec spec;
    spec.model_path = "no-such-model.cimvp";
    RunShare first = share(0, 2, 1, 0), second = share(2, 3, 2, 2);
    EXPECT_FALSE(merge_run_shares(description(), {first, second}, spec).protocol.has_value());
    first.protocol = protocol_counts(1);
    second.protocol = protocol_counts(2);
    const RunJobResult two = merge_run_shares(description(), {first, second}, spec);
    ASSERT_TRUE(two.protocol.has_value());
    tlmx::ProtocolCounts want = protocol_counts(1);
    want += protocol_counts(2);
    want.links = 9;
    expect_same(*two.protocol, want);
    EXPECT_EQ(two.protocol->transports, 100u * 3 + 2);
    // One share: its own counts.
    RunShare whole = share(0, 5, 3, 0);
    whole.protocol = protocol_counts(4);
    expect_same(*merge_run_shares(description(), {whole}, spec).protocol, protocol_counts(4));
}

TEST(MergeRunShares, SharesThatDoNotCoverTheImagesInOrderAreRefused) {
    RunJobSpec spec;
    spec.model_path = "no-such-model.cimvp";
    EXPECT_THROW(merge_run_shares(description(), {share(2, 3, 2, 0), share(0, 2, 1, 0)}, spec), std::logic_error);
    EXPECT_THROW(merge_run_shares(description(), {share(0, 2, 1, 0)}, spec), std::logic_error);
    EXPECT_THROW(merge_run_shares(description(), {share(0, 2, 1, 0), share(1, 3, 2, 0)}, spec), std::logic_error);
    RunShare wrong_layers = share(0, 5, 3, 0);
    wrong_layers.batches[1].pop_back();
    EXPECT_THROW(merge_run_shares(description(), {wrong_layers}, spec), std::logic_error);
}

TEST(MergeTraceShares, LayersComeInTraceOrderAndAnImageAgreesWhenEveryLayerDoes) {
    TraceJobResult d;
    d.images = 2;
    d.layers.resize(3);
    TraceJobSpec spec;
    TraceShare a, b;
    a.layers = {1};
    a.reports = {awkward_layer(1)};  // image 1 agrees
    b.layers = {0, 2};
    b.reports = {awkward_layer(0), awkward_layer(2)};  // image 0 agrees
    const TraceJobResult r = merge_trace_shares(d, {a, b}, spec);
    ASSERT_EQ(r.layers.size(), 3u);
    for (std::size_t l = 0; l < 3; ++l) EXPECT_EQ(r.layers[l].name, "layer" + std::to_string(l));
    EXPECT_EQ(r.agree, 0);
    RunStats total;
    for (int l = 0; l < 3; ++l) total += awkward_stats(l);
    expect_same(r.total, total);

    b.reports[0].image_agrees = {true, true};
    b.reports[1].image_agrees = {true, true};
    EXPECT_EQ(merge_trace_shares(d, {a, b}, spec).agree, 1);
    EXPECT_TRUE(same_bits(merge_trace_shares(d, {a, b}, spec).agreement, 0.5));
}

TEST(MergeTraceShares, ProtocolChecksOfEveryShareAreSummedOverTheSameLinks) {
    TraceJobResult d;
    d.images = 2;
    d.layers.resize(3);
    TraceJobSpec spec;
    TraceShare a, b;
    a.layers = {1};
    a.reports = {awkward_layer(1)};
    a.protocol = protocol_counts(5);
    b.layers = {0, 2};
    b.reports = {awkward_layer(0), awkward_layer(2)};
    b.protocol = protocol_counts(6);
    const TraceJobResult r = merge_trace_shares(d, {a, b}, spec);
    ASSERT_TRUE(r.protocol.has_value());
    EXPECT_EQ(r.protocol->links, 9u);
    EXPECT_EQ(r.protocol->transactions, 100u * 11 + 4);
    EXPECT_EQ(r.protocol->violations, 11u);
}

TEST(MergeTraceShares, AMissingOrRepeatedLayerIsRefused) {
    TraceJobResult d;
    d.images = 2;
    d.layers.resize(2);
    const TraceJobSpec spec;
    TraceShare a, b;
    a.layers = {0};
    a.reports = {awkward_layer(0)};
    b.layers = {0};
    b.reports = {awkward_layer(0)};
    EXPECT_THROW(merge_trace_shares(d, {a}, spec), std::logic_error);
    EXPECT_THROW(merge_trace_shares(d, {a, b}, spec), std::logic_error);
    b.layers = {5};
    EXPECT_THROW(merge_trace_shares(d, {a, b}, spec), std::logic_error);
}

TEST(TraceLayerParts, EveryLayerGoesToOnePartAndThePartsAreBalanced) {
    const NetworkTrace trace = load_trace(std::string(CIMVP_SOURCE_DIR) + "/traces/resnet20.trace");
    const std::size_t n = trace.layers.size();
    EXPECT_EQ(trace_layer_parts(trace, 1, 1), std::vector<int>(n, 0));
    for (int parts : {2, 3}) {
        const std::vector<int> part = trace_layer_parts(trace, 1, parts);
        ASSERT_EQ(part.size(), n);
        std::vector<double> macs(static_cast<std::size_t>(parts), 0.0);
        double total = 0;
        for (std::size_t l = 0; l < n; ++l) {
            total += static_cast<double>(trace.layers[l].macs());
            ASSERT_GE(part[l], 0);
            ASSERT_LT(part[l], parts);
            macs[static_cast<std::size_t>(part[l])] += static_cast<double>(trace.layers[l].macs());
        }
        // ResNet-20's 19 convolutions are alike in MACs: no part gets much more than its share.
        for (double m : macs) EXPECT_LT(m, 1.25 * total / parts) << parts << " parts";
        EXPECT_EQ(part, trace_layer_parts(trace, 1, parts));  // the same in every process
    }
    // More parts than layers: each layer in a part of its own.
    const std::vector<int> part = trace_layer_parts(trace, 1, static_cast<int>(n) + 3);
    EXPECT_EQ(std::set<int>(part.begin(), part.end()).size(), n);
}

}  // namespace
}  // namespace cimvp
