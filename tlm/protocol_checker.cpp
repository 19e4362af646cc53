#include "tlm/protocol_checker.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "tlm/error_report.h"
#include "tlm/transaction_log.h"

namespace cimvp::tlmx {

namespace {

constexpr unsigned char kByteDisabled = 0x00;  // tlm::TLM_BYTE_DISABLED
constexpr unsigned char kByteEnabled = 0xff;   // tlm::TLM_BYTE_ENABLED

bool valid_command(tlm::tlm_command c) {
    return c == tlm::TLM_READ_COMMAND || c == tlm::TLM_WRITE_COMMAND || c == tlm::TLM_IGNORE_COMMAND;
}

// Bit i set: extension i of the payload is set (the first 64 registered extension types).
std::uint64_t extension_set(const tlm::tlm_generic_payload& t) {
    const unsigned n = std::min(tlm::max_num_extensions(), 64u);
    std::uint64_t bits = 0;
    for (unsigned i = 0; i < n; ++i)
        if (t.get_extension(i)) bits |= std::uint64_t{1} << i;
    return bits;
}

std::string hex_byte(unsigned char b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", b);
    return buf;
}

bool same_bytes(const unsigned char* p, const std::vector<unsigned char>& saved) {
    return saved.empty() || std::memcmp(p, saved.data(), saved.size()) == 0;
}

// "WR 0x00001000 len=64 width=64 be_len=0 INCOMPLETE": what the initiator set and the status now.
std::string describe(const tlm::tlm_generic_payload& t) {
    return std::string(TransactionLog::command_name(t.get_command())) + " " + hex_address(t.get_address()) +
           " len=" + std::to_string(t.get_data_length()) + " width=" + std::to_string(t.get_streaming_width()) +
           " be_len=" + std::to_string(t.get_byte_enable_length()) + " " +
           TransactionLog::response_name(t.get_response_status());
}

}  // namespace

ProtocolCounts& ProtocolCounts::operator+=(const ProtocolCounts& o) {
    links += o.links;
    transports += o.transports;
    transactions += o.transactions;
    dmi_requests += o.dmi_requests;
    debug_transports += o.debug_transports;
    invalidations += o.invalidations;
    violations += o.violations;
    return *this;
}

ProtocolCounts& ProtocolCounts::add_share(const ProtocolCounts& o) {
    const std::uint64_t same_links = std::max(links, o.links);
    *this += o;
    links = same_links;
    return *this;
}

void TargetAnswers::forget(const tlm::tlm_generic_payload& t) {
    const auto it = answers_.find(&t);
    if (it != answers_.end()) it->second.valid = false;
}

void TargetAnswers::record(const tlm::tlm_generic_payload& t) {
    Answer& a = answers_[&t];
    a.valid = true;
    a.status = t.get_response_status();
    const unsigned char* p = t.get_data_ptr();
    if (t.is_read() && p)
        a.read_data.assign(p, p + t.get_data_length());
    else
        a.read_data.clear();
}

const TargetAnswers::Answer* TargetAnswers::find(const tlm::tlm_generic_payload& t) const {
    const auto it = answers_.find(&t);
    return it != answers_.end() && it->second.valid ? &it->second : nullptr;
}

ProtocolChecker::ProtocolChecker(sc_core::sc_module_name name, std::string link, Downstream downstream,
                                 TargetAnswers& answers)
    : sc_core::sc_module(name),
      target_socket("target_socket"),
      initiator_socket("initiator_socket"),
      link_(std::move(link)),
      downstream_(downstream),
      answers_(answers) {
    counts_.links = 1;
    target_socket.bind(*this);
    initiator_socket.bind(*this);
}

void ProtocolChecker::violation(const char* clause, const std::string& rule, const char* call,
                                const tlm::tlm_generic_payload* t) {
    ++counts_.violations;
    std::string what = rule;
    if (clause) what += std::string(" [IEEE 1666-2011 ") + clause + "]";
    what += " on " + link_ + ": " + call;
    if (t) what += " " + describe(*t);
    report_error(kReportId, name(), what);
}

void ProtocolChecker::check_command(const tlm::tlm_generic_payload& t, const char* call) {
    if (!valid_command(t.get_command()))
        violation("14.10",
                  "command " + std::to_string(static_cast<int>(t.get_command())) +
                      " is none of TLM_READ_COMMAND, TLM_WRITE_COMMAND, TLM_IGNORE_COMMAND",
                  call, &t);
}

// --- b_transport ---

void ProtocolChecker::check_request(const tlm::tlm_generic_payload& t) {
    static const char* const kCall = "b_transport";
    const sc_core::sc_process_handle caller = sc_core::sc_get_current_process_handle();
    if (caller.valid() && caller.proc_kind() == sc_core::SC_METHOD_PROC_)
        violation("11.1.1.4 b)", "b_transport called from the method process " + std::string(caller.name()), kCall, &t);
    if (t.has_mm() && t.get_ref_count() == 0)
        violation("14.5 t)", "a payload with a memory manager arrives with reference count 0", kCall, &t);
    if (std::find(in_flight_.begin(), in_flight_.end(), &t) != in_flight_.end())
        violation("14.5", "the payload object is sent again while its previous b_transport on this link is under way",
                  kCall, &t);
    check_command(t, kCall);
    const bool moves_data = t.get_command() != tlm::TLM_IGNORE_COMMAND;
    if (moves_data && !t.get_data_ptr()) violation("14.11 e)", "data pointer is null", kCall, &t);
    if (moves_data && t.get_data_length() == 0) violation("14.12 d)", "data length is 0", kCall, &t);
    if (const unsigned char* be = t.get_byte_enable_ptr()) {
        const unsigned n = t.get_byte_enable_length();
        if (n == 0) violation("14.14 f)", "byte enable pointer set with byte enable length 0", kCall, &t);
        for (unsigned i = 0; i < n; ++i)
            if (be[i] != kByteDisabled && be[i] != kByteEnabled) {
                violation("14.14",
                          "byte enable " + std::to_string(i) + " is " + hex_byte(be[i]) +
                              ", expected 0x00 (disabled) or 0xff (enabled)",
                          kCall, &t);
                break;
            }
    }
    if (t.get_streaming_width() == 0) violation("14.15 f)", "streaming width is 0", kCall, &t);
    if (t.is_dmi_allowed()) violation("14.16", "DMI hint is already set on the way in", kCall, &t);
    if (t.get_response_status() != tlm::TLM_INCOMPLETE_RESPONSE)
        violation("14.17 e)", "response status is not TLM_INCOMPLETE_RESPONSE on the way in", kCall, &t);
    if (t.get_gp_option() != tlm::TLM_MIN_PAYLOAD)
        violation("14.8 g)", "gp_option is not TLM_MIN_PAYLOAD on b_transport", kCall, &t);
}

void ProtocolChecker::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    ++counts_.transports;
    if (downstream_ == Downstream::kInterconnect) ++counts_.transactions;
    check_request(t);
    const Request r{t.get_command(),
                    t.get_address(),
                    t.get_data_ptr(),
                    t.get_data_length(),
                    t.get_byte_enable_ptr(),
                    t.get_byte_enable_length(),
                    t.get_streaming_width(),
                    t.get_gp_option(),
                    delay,
                    t.has_mm() ? 0 : extension_set(t)};
    const std::size_t level = in_flight_.size();
    if (saved_.size() <= level) saved_.resize(level + 1);
    {
        Saved& s = saved_[level];
        s.data.clear();
        s.byte_enables.clear();
        if (r.command == tlm::TLM_WRITE_COMMAND && r.data) s.data.assign(r.data, r.data + r.length);
        if (r.byte_enables) s.byte_enables.assign(r.byte_enables, r.byte_enables + r.byte_enable_length);
    }
    if (downstream_ == Downstream::kInterconnect) answers_.forget(t);

    // Popped on the way out, also when a report from further down throws.
    struct InFlight {
        std::vector<const tlm::tlm_generic_payload*>& v;
        ~InFlight() { v.pop_back(); }
    } in_flight{in_flight_};
    in_flight_.push_back(&t);
    initiator_socket->b_transport(t, delay);

    check_return(t, r, saved_[level], delay);  // saved_ may have grown in a nested call: index again
    if (downstream_ == Downstream::kTarget)
        answers_.record(t);
    else
        check_interconnect_answer(t);
}

void ProtocolChecker::check_return(const tlm::tlm_generic_payload& t, const Request& r, const Saved& s,
                                   const sc_core::sc_time& delay) {
    static const char* const kCall = "b_transport (on return)";
    const auto changed = [&](const char* attribute) {
        violation("14.7", std::string(attribute) + " changed during the call: only the initiator sets it", kCall, &t);
    };
    if (t.get_command() != r.command) changed("command");
    if (t.get_data_ptr() != r.data) changed("data pointer");
    if (t.get_data_length() != r.length) changed("data length");
    if (t.get_byte_enable_ptr() != r.byte_enables) changed("byte enable pointer");
    if (t.get_byte_enable_length() != r.byte_enable_length) changed("byte enable length");
    if (t.get_streaming_width() != r.streaming_width) changed("streaming width");
    if (t.get_gp_option() != r.option) changed("gp_option");
    if (downstream_ == Downstream::kTarget && t.get_address() != r.address)
        violation("14.7", "the target changed the address from " + hex_address(r.address), kCall, &t);
    if (t.get_data_ptr() == r.data && t.get_data_length() == r.length && r.data && !same_bytes(r.data, s.data))
        violation("14.7", "the data array of a write changed during the call", kCall, &t);
    if (t.get_byte_enable_ptr() == r.byte_enables && r.byte_enables && !same_bytes(r.byte_enables, s.byte_enables))
        violation("14.7", "the byte enable array changed during the call", kCall, &t);
    if (!t.has_mm()) {
        const std::uint64_t added = extension_set(t) & ~r.extensions;
        if (added)
            violation("14.5 aa)", "an extension was added to a payload without a memory manager and not removed", kCall,
                      &t);
    }
    if (t.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE)
        violation("14.17", "response status is still TLM_INCOMPLETE_RESPONSE: no target answered", kCall, &t);
    if (delay < r.delay)
        violation("11.1.3",
                  "the delay went down from " + r.delay.to_string() + " to " + delay.to_string() +
                      ": a loosely-timed callee only adds its latency to the time argument",
                  kCall, &t);
}

void ProtocolChecker::check_interconnect_answer(const tlm::tlm_generic_payload& t) {
    static const char* const kCall = "b_transport (on return)";
    const TargetAnswers::Answer* a = answers_.find(t);
    if (!a) {
        if (t.is_response_ok())
            violation("14.17", "the interconnect answered TLM_OK_RESPONSE, but no target completed the transaction",
                      kCall, &t);
        return;
    }
    if (t.get_response_status() != a->status)
        violation("14.7",
                  std::string("the interconnect changed the target's response status ") +
                      TransactionLog::response_name(a->status),
                  kCall, &t);
    const unsigned char* p = t.get_data_ptr();
    if (t.is_read() && t.is_response_ok() && p && a->read_data.size() == t.get_data_length() &&
        !same_bytes(p, a->read_data))
        violation("14.7", "the interconnect changed the data the target returned", kCall, &t);
}

tlm::tlm_sync_enum ProtocolChecker::nb_transport_fw(tlm::tlm_generic_payload& t, tlm::tlm_phase&, sc_core::sc_time&) {
    violation(nullptr,
              "nb_transport_fw on a loosely-timed link: the router takes b_transport, DMI and debug transport only",
              "nb_transport_fw", &t);
    t.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return tlm::TLM_COMPLETED;
}

tlm::tlm_sync_enum ProtocolChecker::nb_transport_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase&, sc_core::sc_time&) {
    violation(nullptr,
              "nb_transport_bw on a loosely-timed link: the router takes b_transport, DMI and debug transport only",
              "nb_transport_bw", &t);
    return tlm::TLM_COMPLETED;
}

// --- DMI ---

void ProtocolChecker::check_dmi_descriptor(const tlm::tlm_generic_payload& t, const tlm::tlm_dmi& dmi) {
    std::string fields;
    const auto field = [&](bool initial, const char* name) {
        if (!initial) fields += (fields.empty() ? "" : ", ") + std::string(name);
    };
    field(dmi.get_dmi_ptr() == nullptr, "dmi_ptr");
    field(dmi.is_none_allowed(), "granted_access");
    field(dmi.get_start_address() == 0, "start_address");
    field(dmi.get_end_address() == std::numeric_limits<sc_dt::uint64>::max(), "end_address");
    field(dmi.get_read_latency() == sc_core::SC_ZERO_TIME, "read_latency");
    field(dmi.get_write_latency() == sc_core::SC_ZERO_TIME, "write_latency");
    if (!fields.empty())
        violation("11.2.5", "the DMI descriptor is not in its initial state (tlm_dmi::init()) on the way in: " + fields,
                  "get_direct_mem_ptr", &t);
}

void ProtocolChecker::check_dmi_answer(const tlm::tlm_generic_payload& t, std::uint64_t address, bool granted,
                                       const tlm::tlm_dmi& dmi) {
    static const char* const kCall = "get_direct_mem_ptr (on return)";
    const std::uint64_t start = dmi.get_start_address(), end = dmi.get_end_address();
    if (start > end) {
        violation("11.2.5", "the DMI range [" + hex_address(start) + ", " + hex_address(end) + "] is empty", kCall, &t);
    } else if (address < start || address > end) {
        violation("11.2.5",
                  "the DMI range [" + hex_address(start) + ", " + hex_address(end) + "] does not contain the address " +
                      hex_address(address),
                  kCall, &t);
    }
    if (!granted) return;
    if (!dmi.get_dmi_ptr()) violation("11.2.5", "DMI granted with a null DMI pointer", kCall, &t);
    const tlm::tlm_command cmd = t.get_command();
    const bool allowed = cmd == tlm::TLM_READ_COMMAND    ? dmi.is_read_allowed()
                         : cmd == tlm::TLM_WRITE_COMMAND ? dmi.is_write_allowed()
                                                         : !dmi.is_none_allowed();
    if (!allowed) violation("11.2.5", "DMI granted without the access the command asked for", kCall, &t);
}

bool ProtocolChecker::get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
    ++counts_.dmi_requests;
    check_command(t, "get_direct_mem_ptr");
    check_dmi_descriptor(t, dmi);
    const tlm::tlm_command cmd = t.get_command();
    const std::uint64_t address = t.get_address();
    const bool granted = initiator_socket->get_direct_mem_ptr(t, dmi);
    if (t.get_command() != cmd)
        violation("14.7", "command changed during the call: only the initiator sets it",
                  "get_direct_mem_ptr (on return)", &t);
    if (downstream_ == Downstream::kTarget && t.get_address() != address)
        violation("14.7", "the target changed the address from " + hex_address(address),
                  "get_direct_mem_ptr (on return)", &t);
    check_dmi_answer(t, address, granted, dmi);
    return granted;
}

void ProtocolChecker::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
    ++counts_.invalidations;
    if (start > end)
        violation("11.2.6",
                  "invalidated range [" + hex_address(start) + ", " + hex_address(end) + "] ends before it starts",
                  "invalidate_direct_mem_ptr", nullptr);
    target_socket->invalidate_direct_mem_ptr(start, end);
}

// --- debug transport ---

unsigned ProtocolChecker::transport_dbg(tlm::tlm_generic_payload& t) {
    static const char* const kCall = "transport_dbg";
    ++counts_.debug_transports;
    check_command(t, kCall);
    if (t.get_data_length() > 0 && !t.get_data_ptr())
        violation("11.3.4 l)", "data pointer is null with data length " + std::to_string(t.get_data_length()), kCall,
                  &t);
    const tlm::tlm_command cmd = t.get_command();
    const std::uint64_t address = t.get_address();
    unsigned char* const data = t.get_data_ptr();
    const unsigned length = t.get_data_length();
    const unsigned n = initiator_socket->transport_dbg(t);
    static const char* const kReturn = "transport_dbg (on return)";
    if (n > length)
        violation(
            "11.3.4 s)",
            "returned " + std::to_string(n) + " bytes transferred, more than the data length " + std::to_string(length),
            kReturn, &t);
    if (t.get_command() != cmd || t.get_data_ptr() != data || t.get_data_length() != length)
        violation("11.3.4", "command, data pointer or data length changed during the call", kReturn, &t);
    if (downstream_ == Downstream::kTarget && t.get_address() != address)
        violation("11.3.4", "the target changed the address from " + hex_address(address), kReturn, &t);
    return n;
}

}  // namespace cimvp::tlmx
