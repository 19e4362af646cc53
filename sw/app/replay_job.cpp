#include "sw/app/replay_job.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "hw/address_map.h"
#include "sw/formats/config_loader.h"
#include "sw/driver/command_stream_recorder.h"
#include "sw/system/system.h"
#include "tlm/transaction_log.h"

namespace cimvp {

namespace {

std::string describe(std::size_t i, const StreamEvent& e) {
    char buf[160];
    const double us = static_cast<double>(e.time_ps) / 1e6;
    if (e.kind == StreamEventKind::kIrqWait)
        std::snprintf(buf, sizeof buf, "event %zu (interrupt wait at %.6f us)", i, us);
    else
        std::snprintf(buf, sizeof buf, "event %zu (%s 0x%08" PRIx64 ", %zu bytes, at %.6f us)", i,
                      e.kind == StreamEventKind::kRead ? "RD" : "WR", e.address, e.data.size(), us);
    return buf;
}

std::string ps_text(std::uint64_t ps) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%" PRIu64 " ps", ps);
    return buf;
}

}  // namespace

ArchConfig recorded_config(const CommandStream& s, const std::string& source) {
    try {
        return config_from_text(s.config_json, source + ": config");
    } catch (const ConfigError& e) {
        throw CommandStreamError(e.what());
    }
}

ReplayJobResult run_replay_job(const CommandStream& s, const ArchConfig& cfg) {
    ReplayJobResult r;
    r.info = parse_recording_info(s.info_json);
    r.recorded = recorded_totals(r.info);
    r.recorded_end_ps = r.info.value("end_ps", std::uint64_t{0});

    System sys("system", cfg);
    CommandListTally tally(kControllerBase);
    const auto t0 = std::chrono::steady_clock::now();
    sys.run([&](HostCpu& cpu) {
        std::vector<std::uint8_t> buf;
        for (std::size_t i = 0; i < s.events.size(); ++i) {
            const StreamEvent& e = s.events[i];
            const std::uint64_t now = to_picoseconds(cpu.now());
            // The host may have spent time between two accesses: issue each at its recorded time.
            if (now < e.time_ps) cpu.bus().add_delay(from_picoseconds(e.time_ps - now));
            else if (now > e.time_ps)
                throw ReplayMismatch(describe(i, e) + ": the replay reaches it at " + ps_text(now) + ", recorded at " +
                                     ps_text(e.time_ps) + " (the platform's timing differs)");
            StreamEvent got = e;
            if (e.kind == StreamEventKind::kIrqWait) {
                got.raised = cpu.wait_for_irq(from_picoseconds(e.timeout_ps));
                got.end_ps = to_picoseconds(cpu.now());
                ++r.irq_waits;
                if (got.raised != e.raised || got.end_ps != e.end_ps)
                    throw ReplayMismatch(describe(i, e) + ": recorded " + (e.raised ? "raised" : "timed out") + " at " +
                                         ps_text(e.end_ps) + ", replayed " + (got.raised ? "raised" : "timed out") +
                                         " at " + ps_text(got.end_ps) + " (the platform's timing differs)");
            } else if (e.kind == StreamEventKind::kWrite) {
                got.response = static_cast<std::uint8_t>(cpu.bus().write(e.address, e.data.data(), e.data.size()));
                ++r.writes;
                r.bytes_written += e.data.size();
            } else {
                // A failed read's recorded bytes are zeros: only the response is compared then.
                buf.assign(e.data.size(), 0);
                got.response = static_cast<std::uint8_t>(cpu.bus().read(e.address, buf.data(), buf.size()));
                got.data = buf;
                ++r.reads;
                if (got.response == e.response && e.response == tlm::TLM_OK_RESPONSE)
                    for (std::size_t b = 0; b < buf.size(); ++b)
                        if (buf[b] != e.data[b]) {
                            char msg[96];
                            std::snprintf(msg, sizeof msg, ": byte %zu differs: recorded 0x%02x, replayed 0x%02x", b,
                                          e.data[b], buf[b]);
                            throw ReplayMismatch(describe(i, e) + msg);
                        }
                r.bytes_checked += buf.size();
            }
            if (got.response != e.response)
                throw ReplayMismatch(describe(i, e) + ": recorded response " +
                                     tlmx::TransactionLog::response_name(
                                         static_cast<tlm::tlm_response_status>(static_cast<std::int8_t>(e.response))) +
                                     ", replayed " +
                                     tlmx::TransactionLog::response_name(
                                         static_cast<tlm::tlm_response_status>(static_cast<std::int8_t>(got.response))));
            tally.add(got);
            ++r.events;
        }
    });
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.end_ps = to_picoseconds(sc_core::sc_time_stamp());
    r.replayed = tally.totals();
    r.energy = sys.platform.energy();
    r.protocol = sys.protocol_counts();
    if (r.replayed.cycles != r.recorded.cycles || r.replayed.lists != r.recorded.lists ||
        r.replayed.sim_time_ns != r.recorded.sim_time_ns)
        throw ReplayMismatch("totals differ: recorded " + std::to_string(r.recorded.lists) + " command lists, " +
                             std::to_string(r.recorded.cycles) + " cycles, " + std::to_string(r.recorded.sim_time_ns) +
                             " ns; replayed " + std::to_string(r.replayed.lists) + ", " +
                             std::to_string(r.replayed.cycles) + ", " + std::to_string(r.replayed.sim_time_ns) + " ns");
    if (r.end_ps != r.recorded_end_ps)
        throw ReplayMismatch("the replay ends at " + ps_text(r.end_ps) + ", the recording at " +
                             ps_text(r.recorded_end_ps));
    return r;
}

}  // namespace cimvp
