// Recorded command stream format v1 (docs/record-format.md): everything the
// host driver did to the platform through its bus socket — register and DRAM
// writes with their data, reads with the data the platform returned, interrupt
// waits — with the simulated time of each, plus the effective configuration
// the platform was built from. `cimvp run/layer --record F` writes one;
// `cimvp replay F` issues it again without the driver. No SystemC here, so the
// reader is testable on its own.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace cimvp {

struct CommandStreamError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

inline constexpr char kCommandStreamMagic[8] = {'C', 'I', 'M', 'V', 'P', 'R', 'E', 'C'};
inline constexpr std::uint32_t kCommandStreamVersion = 1;

enum class StreamEventKind : std::uint8_t { kRead = 1, kWrite = 2, kIrqWait = 3 };

// One thing the host did. Times are simulated picoseconds as the host saw them
// (global time plus its quantum keeper's local offset).
struct StreamEvent {
    StreamEventKind kind = StreamEventKind::kRead;
    std::uint64_t time_ps = 0;  // when it was issued
    // Reads and writes.
    std::uint64_t address = 0;
    std::uint8_t response = 0;       // tlm_response_status as an integer (1: OK)
    std::vector<std::uint8_t> data;  // written bytes, or bytes returned (OK reads)
    // Interrupt waits.
    std::uint64_t timeout_ps = 0;
    std::uint64_t end_ps = 0;  // when the wait returned
    bool raised = false;       // the line was high when it returned
};

// Per command list (START write to the controller's CTRL .. the interrupt wait
// that follows): counted the same way when recording and when replaying.
struct CommandListTotals {
    std::uint64_t lists = 0;
    std::uint64_t cycles = 0;  // PERF_CYCLES values the host read back
    double sim_time_ns = 0;    // START to interrupt, summed
};

// Folds events into CommandListTotals; knows the controller's register offsets.
class CommandListTally {
public:
    explicit CommandListTally(std::uint64_t controller_base);
    void add(const StreamEvent& e);
    const CommandListTotals& totals() const { return totals_; }

private:
    std::uint64_t base_;
    CommandListTotals totals_;
    bool started_ = false;
    std::uint64_t start_ps_ = 0;
    std::uint32_t cycles_lo_ = 0;
};

struct CommandStream {
    std::string config_json;  // the effective ArchConfig (config_to_json), compact
    std::string info_json;    // what was recorded: command, model, totals (docs/record-format.md)
    std::vector<StreamEvent> events;
};

// Throws CommandStreamError naming the path.
void write_command_stream(const std::string& path, const CommandStream& s);
// Validates magic, version, sizes, the checksum and every record; throws
// CommandStreamError naming the file, the offset or field, and what was expected.
// A recording file larger than this is refused before it is read.
inline constexpr std::uint64_t kMaxRecordingFileBytes = 1ull << 30;
CommandStream read_command_stream(const std::string& path);
// The same on bytes already in memory; `source` names them in messages.
CommandStream parse_command_stream(const std::vector<std::uint8_t>& file, const std::string& source);
std::vector<std::uint8_t> serialize_command_stream(const CommandStream& s);

// The recording's info object (docs/record-format.md), parsed like a configuration (a JSON object nested at
// most kMaxConfigJsonDepth levels, no duplicate key), with the types of the fields a replay reads checked:
// command_lists, cycles and end_ps unsigned integers, sim_time_ns a number, command a string. Throws
// CommandStreamError naming the field ("info.cycles: expected an unsigned integer, got string").
nlohmann::json parse_recording_info(const std::string& info_json);
// The recorder's totals in a checked info object (0 where a key is absent).
CommandListTotals recorded_totals(const nlohmann::json& info);

// The two layers of the file (docs/record-format.md): the header with the compressed body, and the body
// whose records parse_command_stream reads. command_stream_body checks the header, inflates the body and
// checks its CRC (throws CommandStreamError); command_stream_file wraps a body into a file.
std::vector<std::uint8_t> command_stream_body(const std::vector<std::uint8_t>& file, const std::string& source);
std::vector<std::uint8_t> command_stream_file(const std::vector<std::uint8_t>& body);

}  // namespace cimvp
