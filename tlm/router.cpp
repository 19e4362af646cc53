#include "tlm/router.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "tlm/error_report.h"

namespace cimvp::tlmx {

namespace {

const bool kLogOff = false;
const std::string kUnmapped = "<unmapped>";

std::string describe_region(const Router::Region& r) {
    return "'" + r.name + "' [" + hex_address(r.base) + ", " + hex_address(r.last()) + "]";
}

// "4 KiB" when the size is a whole number of a binary unit, else bytes.
std::string human_size(std::uint64_t size) {
    static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (unit < 4 && size >= 1024 && size % 1024 == 0) {
        size /= 1024;
        ++unit;
    }
    return std::to_string(size) + " " + kUnits[unit];
}

}  // namespace

Router::Router(sc_core::sc_module_name name, bool check_protocol)
    : sc_core::sc_module(name), target_socket("target_socket"), initiator_socket("initiator_socket"),
      log_on_(&kLogOff), answers_(check_protocol ? std::make_unique<TargetAnswers>() : nullptr) {
    target_socket.register_b_transport(this, &Router::b_transport);
    target_socket.register_get_direct_mem_ptr(this, &Router::get_direct_mem_ptr);
    target_socket.register_transport_dbg(this, &Router::transport_dbg);
    initiator_socket.register_invalidate_direct_mem_ptr(this, &Router::invalidate_direct_mem_ptr);
}

void Router::map(const std::string& target_name, std::uint64_t base, std::uint64_t size,
                 tlm::tlm_target_socket<32>& target) {
    Region r{target_name, base, size, static_cast<unsigned>(by_port_.size())};
    if (size == 0) throw std::invalid_argument(std::string(name()) + ": region '" + target_name + "' has size 0");
    if (size - 1 > std::numeric_limits<std::uint64_t>::max() - base)
        throw std::invalid_argument(std::string(name()) + ": region '" + target_name + "' at " + hex_address(base) +
                                    " wraps past the end of the address space");
    auto next = std::upper_bound(regions_.begin(), regions_.end(), base,
                                 [](std::uint64_t a, const Region& x) { return a < x.base; });
    const Region* clash = nullptr;
    if (next != regions_.end() && next->base <= r.last()) clash = &*next;
    if (next != regions_.begin() && std::prev(next)->last() >= base) clash = &*std::prev(next);
    if (clash)
        throw std::invalid_argument(std::string(name()) + ": region " + describe_region(r) + " overlaps region " +
                                    describe_region(*clash));
    // First, so a failed bind leaves the map unchanged.
    if (answers_) {
        ProtocolChecker& c = add_checker(basename(), target_name, ProtocolChecker::Downstream::kTarget);
        c.initiator_socket.bind(target);
        initiator_socket.bind(c.target_socket);
    } else {
        initiator_socket.bind(target);
    }
    regions_.insert(next, r);
    by_port_.push_back(std::move(r));
}

void Router::attach(const std::string& initiator_name, tlm::tlm_initiator_socket<32>& initiator) {
    // The multi socket numbers its ports in bind order.
    if (answers_) {
        ProtocolChecker& c = add_checker(initiator_name, basename(), ProtocolChecker::Downstream::kInterconnect);
        initiator.bind(c.target_socket);
        c.initiator_socket.bind(target_socket);
    } else {
        initiator.bind(target_socket);
    }
    initiator_names_.push_back(initiator_name);
}

ProtocolChecker& Router::add_checker(const std::string& from, const std::string& to, ProtocolChecker::Downstream d) {
    // A module name: "host_to_router", "router_to_tile0_crossbar" (no dots, which SystemC reserves).
    std::string module = from + "_to_" + to;
    for (char& ch : module)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '_';
    checkers_.push_back(std::make_unique<ProtocolChecker>(module.c_str(), from + " -> " + to, d, *answers_));
    return *checkers_.back();
}

ProtocolCounts Router::protocol_counts() const {
    ProtocolCounts sum;
    for (const auto& c : checkers_) sum += c->counts();
    return sum;
}

void Router::set_log(TransactionLog* log) {
    log_ = log;
    log_on_ = log ? log->enabled_flag() : &kLogOff;
}

void Router::end_of_elaboration() {
    // Initiators bound directly, without attach(), still get a name in the log.
    for (std::size_t i = initiator_names_.size(); i < target_socket.size(); ++i)
        initiator_names_.push_back("initiator" + std::to_string(i));
}

const Router::Region* Router::find(std::uint64_t addr) const {
    auto next = std::upper_bound(regions_.begin(), regions_.end(), addr,
                                 [](std::uint64_t a, const Region& x) { return a < x.base; });
    if (next == regions_.begin()) return nullptr;
    const Region& r = *std::prev(next);
    return addr - r.base < r.size ? &r : nullptr;
}

const std::string& Router::initiator_name(int id) const {
    static const std::string kUnknown = "?";
    return id >= 0 && static_cast<std::size_t>(id) < initiator_names_.size() ? initiator_names_[id] : kUnknown;
}

void Router::b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const sc_core::sc_time delay_at_call = delay;
    const std::uint64_t addr = t.get_address();
    const Region* r = find(addr);
    // A streaming access touches only streaming_width bytes of the target.
    const unsigned len = t.get_data_length();
    const unsigned width = t.get_streaming_width();
    const std::uint64_t extent = width != 0 && width < len ? width : len;
    if (!r || extent > r->size - (addr - r->base)) {
        reject(t, tlm::TLM_ADDRESS_ERROR_RESPONSE, kReportId, name(),
               r ? "runs past the end of its region" : "no region is mapped there");
    } else {
        t.set_address(addr - r->base);
        initiator_socket[r->port]->b_transport(t, delay);
        t.set_address(addr);
    }
    if (*log_on_)
        log_->record(sc_core::sc_time_stamp() + delay_at_call, initiator_name(id), r ? r->name : kUnmapped, t);
}

bool Router::get_direct_mem_ptr(int, tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
    const std::uint64_t addr = t.get_address();
    const Region* r = find(addr);
    if (!r) {
        deny_gap(addr, dmi);
        return false;
    }
    t.set_address(addr - r->base);
    bool granted = initiator_socket[r->port]->get_direct_mem_ptr(t, dmi);
    t.set_address(addr);
    // Clamp in local offsets first: a target may answer with [0, 2^64-1] and base + end would wrap.
    std::uint64_t start = dmi.get_start_address();
    std::uint64_t end = std::min<std::uint64_t>(dmi.get_end_address(), r->size - 1);
    if (start > end) {  // nothing of the answer lies inside the region
        start = 0;
        end = r->size - 1;
        dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_NONE);
        dmi.set_dmi_ptr(nullptr);
        granted = false;
    }
    dmi.set_start_address(r->base + start);
    dmi.set_end_address(r->base + end);
    return granted;
}

void Router::deny_gap(std::uint64_t addr, tlm::tlm_dmi& dmi) const {
    auto next = std::upper_bound(regions_.begin(), regions_.end(), addr,
                                 [](std::uint64_t a, const Region& x) { return a < x.base; });
    dmi.set_start_address(next == regions_.begin() ? 0 : std::prev(next)->last() + 1);
    dmi.set_end_address(next == regions_.end() ? std::numeric_limits<std::uint64_t>::max() : next->base - 1);
    dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_NONE);
    dmi.set_dmi_ptr(nullptr);
}

unsigned Router::transport_dbg(int, tlm::tlm_generic_payload& t) {
    const std::uint64_t addr = t.get_address();
    const Region* r = find(addr);
    if (!r) return 0;
    // Truncate at the region end so the target never sees bytes of its neighbour.
    const unsigned len = t.get_data_length();
    const std::uint64_t room = r->size - (addr - r->base);
    t.set_address(addr - r->base);
    t.set_data_length(room < len ? static_cast<unsigned>(room) : len);
    const unsigned done = initiator_socket[r->port]->transport_dbg(t);
    t.set_address(addr);
    t.set_data_length(len);
    return done;
}

void Router::invalidate_direct_mem_ptr(int port, sc_dt::uint64 start, sc_dt::uint64 end) {
    if (port < 0 || static_cast<std::size_t>(port) >= by_port_.size()) return;
    const Region& r = by_port_[port];
    if (start > end || start >= r.size) return;
    const std::uint64_t last = std::min<std::uint64_t>(end, r.size - 1);
    for (unsigned i = 0; i < target_socket.size(); ++i)
        target_socket[i]->invalidate_direct_mem_ptr(r.base + start, r.base + last);
}

std::string Router::describe() const {
    std::string out = std::string(name()) + ": " + std::to_string(regions_.size()) + " region" +
                      (regions_.size() == 1 ? "" : "s") + "\n";
    char line[64];
    for (const Region& r : regions_) {
        std::snprintf(line, sizeof line, "  0x%016" PRIx64 "-0x%016" PRIx64 "  %10s  ", r.base, r.last(),
                      human_size(r.size).c_str());
        out += line + r.name + "\n";
    }
    return out;
}

}  // namespace cimvp::tlmx
