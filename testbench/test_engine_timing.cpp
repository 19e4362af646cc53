// When the engines' bus transactions happen (IEEE 1666 loosely timed): an
// engine runs inside the controller's register write that started it, so each
// of its bursts is issued at that write's delay plus what the engine spent
// before it. Seen in the transaction log: no DMA, im2col, post-processing,
// PE-array or tile-sequencer transaction is stamped before the command that
// started it, and the bursts of one job advance in time. Each TEST elaborates
// its own platform and runs in its own process (ctest).
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include "hw/address_map.h"
#include "hw/command_format.h"
#include "hw/controller.h"
#include "hw/dma.h"
#include "hw/engine_registers.h"
#include "hw/platform.h"
#include "hw/swis_pe.h"
#include "hw/tile_registers.h"
#include "testbench/sc_test_host.h"
#include "testbench/sc_test_support.h"
#include "tlm/transaction_log.h"

namespace {

using namespace cimvp;
using sc_core::sc_time;
using Host = cimvp::test::BusHost;
namespace creg = controller_regs;

// Where the test puts things in DRAM.
constexpr std::uint64_t kList = 0x1000;
constexpr std::uint64_t kPpuDescriptor = 0x2000;
constexpr std::uint64_t kPeDescriptor = 0x2100;
constexpr std::uint64_t kSrc = 0x10000;    // DMA source, im2col image, PPU and PE inputs
constexpr std::uint64_t kDst = 0x100000;   // what the engines write

constexpr std::uint32_t kDmaBytes = 3 * Dma::kMaxBurstBytes + 100;  // four bursts each way

struct Bench {
    ArchConfig cfg;
    Platform platform{"platform", cfg};
    Host host{"host"};
    Bench() {
        platform.router.attach("host", host.socket);
        host.irq(platform.irq);
        platform.log.enable(true);
        platform.log.keep_records(true);
    }
};

// A one-row copy of kDmaBytes from DRAM to the global buffer.
DmaDescriptor dma_copy() {
    DmaDescriptor copy;
    copy.src = kSrc;
    copy.dst = kGlobalBufferBase;
    copy.row_bytes = kDmaBytes;
    copy.rows = 1;
    copy.src_stride = copy.dst_stride = kDmaBytes;
    return copy;
}

// One job of every engine, each behind a few commands so the controller's local time has run ahead of
// simulated time when it starts them.
std::vector<Command> job_list(const AddressMap& m) {
    const DmaDescriptor copy = dma_copy();

    Im2colDescriptor gather;  // 3 x 16 x 16 image, 3 x 3 kernel, padding 1: 256 vectors of 27 bytes, two write bursts
    gather.src = kSrc;
    gather.dst = kDst;
    gather.channels = 3;
    gather.height = gather.width = 16;
    gather.kernel_h = gather.kernel_w = 3;
    gather.padding = 1;
    gather.rows = 27;
    gather.vectors = 256;

    const std::uint64_t tile = m.tile_regs(0);
    return {make_fence(),
            make_dma(copy),
            make_fence(),
            make_im2col(gather),
            make_post_process(kPpuDescriptor),
            make_pe_run(kPeDescriptor),
            make_reg_write(tile + tile_reg::kRows, 64),
            make_reg_write(tile + tile_reg::kOuts, 8),
            make_tile_run(tile, 4, 0),
            make_fence(),
            Command{}};
}

void put_descriptors(Memory& dram) {
    PostProcessDescriptor p;  // 16 channels of 8 x 8 logits: two read bursts of accumulators, two write bursts
    p.acc = kSrc;
    p.sx = kSrc + 0x4000;
    p.params = kSrc + 0x5000;
    p.dst = kDst + 0x10000;
    p.channels = 16;
    p.out_h = p.out_w = 8;
    p.images = 1;
    p.logits = 1;
    std::memcpy(dram.data() + kPpuDescriptor, &p, sizeof p);

    PeArrayDescriptor d;  // FXP, 16 vectors x 8 filters of K = 64; all-zero weights are valid int8 records
    d.act = kSrc;
    d.weights = kSrc + 0x6000;
    d.out = kDst + 0x20000;
    d.vectors = 16;
    d.filters = 8;
    d.channels = 64;
    d.mode = static_cast<std::uint8_t>(PeMode::kFixedPoint);
    std::memcpy(dram.data() + kPeDescriptor, &d, sizeof d);
    dram.data()[kPeDescriptor + sizeof d] = 8;  // the one filter tile's N
}

// The register whose write starts each engine, by its initiator name in the log.
std::map<std::string, std::uint64_t> start_registers(const AddressMap& m) {
    return {{"dma", kDmaBase + dma_regs::kCtrl},
            {"ppu", kPostProcessBase + engine_regs::kCtrl},
            {"pe_array", kPeArrayBase + engine_regs::kCtrl},
            {"tile0", m.tile_regs(0) + tile_reg::kCtrl}};
}

TEST(EngineTiming, NoEngineTransactionIsStampedBeforeTheCommandThatStartedItAndBurstsAdvance) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Bench b;
    const AddressMap& m = b.platform.address_map();
    const std::vector<Command> list = job_list(m);
    std::memcpy(b.platform.dram.data() + kList, list.data(), list.size() * sizeof(Command));
    put_descriptors(b.platform.dram);
    b.host.simulate([&](Host& h) {
        h.set_reg(creg::kCmdBaseLo, static_cast<std::uint32_t>(kDramBase + kList));
        h.set_reg(creg::kCmdBaseHi, 0);
        h.set_reg(creg::kCmdCount, static_cast<std::uint32_t>(list.size()));
        h.set_reg(creg::kIrqEnable, creg::kIrqDone | creg::kIrqError);
        h.set_reg(creg::kCtrl, creg::kCtrlStart);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(creg::kStatus), creg::kStatusDone) << "error " << h.reg(creg::kError) << " at command "
                                                           << h.reg(creg::kErrorIndex);
    });

    // A job's transactions complete inside the START write, so the log (written as transactions
    // complete) holds them right before that write's own record.
    const auto starts = start_registers(m);
    std::map<std::string, int> jobs, bursts;
    std::vector<tlmx::TransactionRecord> pending;
    for (const tlmx::TransactionRecord& r : b.platform.log.records()) {
        EXPECT_EQ(r.response, tlm::TLM_OK_RESPONSE) << tlmx::TransactionLog::format(r);
        if (r.initiator == "host") continue;
        if (r.initiator != "controller") {
            pending.push_back(r);
            continue;
        }
        std::string engine;
        for (const auto& [name, reg] : starts)
            if (r.command == tlm::TLM_WRITE_COMMAND && r.address == reg) engine = name;
        if (engine.empty()) {
            EXPECT_TRUE(pending.empty()) << "engine transactions without a START: "
                                         << tlmx::TransactionLog::format(pending.front());
            pending.clear();
            continue;
        }
        SCOPED_TRACE("job of " + engine + " started by " + tlmx::TransactionLog::format(r));
        ASSERT_FALSE(pending.empty());
        ++jobs[engine];
        bursts[engine] += static_cast<int>(pending.size());
        std::map<tlm::tlm_command, sc_time> last;  // the previous burst of each direction
        for (std::size_t i = 0; i < pending.size(); ++i) {
            const tlmx::TransactionRecord& p = pending[i];
            const std::string line = tlmx::TransactionLog::format(p);
            EXPECT_EQ(p.initiator, engine) << line;
            EXPECT_GE(p.time, r.time) << line << " is stamped before the command that started it";
            if (i > 0) {
                EXPECT_GE(p.time, pending[i - 1].time) << line << " is stamped before the burst issued before it";
            }
            if (last.count(p.command)) {
                EXPECT_GT(p.time, last[p.command]) << line << " does not advance";
            }
            last[p.command] = p.time;
        }
        EXPECT_GT(pending.back().time, pending.front().time) << "the job's bursts share one instant";
        pending.clear();
    }
    EXPECT_TRUE(pending.empty());
    // Two DMA jobs (copy, im2col), one of each other engine, each in several bursts.
    EXPECT_EQ(jobs["dma"], 2);
    EXPECT_EQ(jobs["ppu"], 1);
    EXPECT_EQ(jobs["pe_array"], 1);
    EXPECT_EQ(jobs["tile0"], 1);
    EXPECT_GE(bursts["dma"], 1 + 8 + 1 + 1 + 2);  // descriptor, 4 reads + 4 writes; descriptor, source, 2 writes
    EXPECT_GE(bursts["ppu"], 1 + 1 + 1 + 2 + 2);   // descriptor, params, sums, accumulators, logits
    EXPECT_GE(bursts["pe_array"], 1 + 1 + 1 + 1 + 1);  // descriptor, N table, weights, activations, outputs
    EXPECT_EQ(bursts["tile0"], 4);                 // one input read per vector
}

// The DMA's timing rule holds at a non-zero start offset: the descriptor is fetched when START
// lands, the first burst follows the setup, each burst's read and write (which overlap) are issued
// at the engine's local time, and the next burst one burst's pace later (the slowest of the two
// ports and the engine).
TEST(EngineTiming, DmaBurstsOfOneCopyFollowTheEngineLocalTimeFromTheStartWrite) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Bench b;
    const DmaDescriptor copy = dma_copy();
    std::memcpy(b.platform.dram.data() + kPpuDescriptor, &copy, sizeof copy);
    const sc_time offset(300, sc_core::SC_NS);  // the START write's delay: the host's local time offset
    sc_time issued, returned;
    b.host.simulate([&](Host& h) {
        h.wr32(kDmaBase + dma_regs::kDescAddrLo, static_cast<std::uint32_t>(kPpuDescriptor));
        h.wr32(kDmaBase + dma_regs::kDescAddrHi, 0);
        h.bus.sync();
        std::uint32_t start = dma_regs::kCtrlStart;
        sc_time delay = offset;
        issued = sc_core::sc_time_stamp() + offset;
        EXPECT_EQ(h.raw(tlm::TLM_WRITE_COMMAND, kDmaBase + dma_regs::kCtrl, &start, 4, delay), tlm::TLM_OK_RESPONSE);
        returned = sc_core::sc_time_stamp() + delay;
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kStatus), dma_regs::kStatusDone);
    });
    std::vector<tlmx::TransactionRecord> dma;
    for (const auto& r : b.platform.log.records())
        if (r.initiator == "dma") dma.push_back(r);
    ASSERT_EQ(dma.size(), 1u + 8u) << "the descriptor, then four bursts read and written";
    EXPECT_EQ(dma[0].time, issued) << "the descriptor is fetched when START lands";
    EXPECT_EQ(dma[1].time, issued + sc_time(b.cfg.dma.setup_ns, sc_core::SC_NS)) << "the first read after the setup";
    for (std::size_t i = 1; i < dma.size(); i += 2) {
        EXPECT_EQ(dma[i].command, tlm::TLM_READ_COMMAND);
        EXPECT_EQ(dma[i + 1].command, tlm::TLM_WRITE_COMMAND);
        EXPECT_EQ(dma[i + 1].time, dma[i].time) << "burst " << i / 2 << ": the write streams with the read";
        if (i + 2 < dma.size()) {
            // The next burst one burst's pace later: at least its bytes at the engine's bandwidth.
            const sc_time pace(Dma::kMaxBurstBytes / b.cfg.dma.bytes_per_ns, sc_core::SC_NS);
            EXPECT_GE(dma[i + 2].time - dma[i].time, pace) << "burst " << i / 2 + 1;
        }
    }
    EXPECT_GT(returned, dma.back().time) << "START returns when the last burst has ended";
}

}  // namespace
