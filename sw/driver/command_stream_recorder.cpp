#include "sw/driver/command_stream_recorder.h"

#include <cmath>

#include "hw/address_map.h"
#include "sw/formats/config_loader.h"

namespace cimvp {

std::uint64_t to_picoseconds(const sc_core::sc_time& t) {
    return static_cast<std::uint64_t>(std::llround(t / sc_core::sc_time(1, sc_core::SC_PS)));
}

sc_core::sc_time from_picoseconds(std::uint64_t ps) {
    return sc_core::sc_time(static_cast<double>(ps), sc_core::SC_PS);
}

CommandStreamRecorder::CommandStreamRecorder(const ArchConfig& cfg) : tally_(kControllerBase) {
    stream_.config_json = config_to_json(cfg).dump();
}

void CommandStreamRecorder::on_access(const sc_core::sc_time& issued, tlm::tlm_command cmd, std::uint64_t addr,
                                      const unsigned char* data, std::size_t len, tlm::tlm_response_status response) {
    if (cmd != tlm::TLM_READ_COMMAND && cmd != tlm::TLM_WRITE_COMMAND) return;  // the driver issues no others
    StreamEvent e;
    e.kind = cmd == tlm::TLM_READ_COMMAND ? StreamEventKind::kRead : StreamEventKind::kWrite;
    e.time_ps = to_picoseconds(issued);
    e.address = addr;
    e.response = static_cast<std::uint8_t>(response);
    // A failed read returned nothing worth comparing: its length is kept, its bytes are zeros.
    if (e.kind == StreamEventKind::kWrite || response == tlm::TLM_OK_RESPONSE) e.data.assign(data, data + len);
    else e.data.assign(len, 0);
    tally_.add(e);
    stream_.events.push_back(std::move(e));
}

void CommandStreamRecorder::on_irq_wait(const sc_core::sc_time& called, const sc_core::sc_time& timeout,
                                        const sc_core::sc_time& returned, bool raised) {
    StreamEvent e;
    e.kind = StreamEventKind::kIrqWait;
    e.time_ps = to_picoseconds(called);
    e.timeout_ps = to_picoseconds(timeout);
    e.end_ps = to_picoseconds(returned);
    e.raised = raised;
    tally_.add(e);
    stream_.events.push_back(std::move(e));
}

void CommandStreamRecorder::write(const std::string& path, nlohmann::json info, const sc_core::sc_time& end) {
    const CommandListTotals& t = tally_.totals();
    info["command_lists"] = t.lists;
    info["cycles"] = t.cycles;
    info["sim_time_ns"] = t.sim_time_ns;
    info["end_ps"] = to_picoseconds(end);
    info["events"] = stream_.events.size();
    stream_.info_json = info.dump();
    write_command_stream(path, stream_);
}

}  // namespace cimvp
