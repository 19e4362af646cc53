// Payload extension of the CIM tile's internal pipeline (sequencer -> crossbar
// macro -> ADC bank -> shift-add accumulator). One transaction carries one
// input vector through all its bit-serial reads: the payload data is the
// vector's input bit-planes, then the partial sums of every read (steps x
// cols), then the ADC values; the extension says how to interpret them.
#pragma once

#include <cstdint>

#include <systemc>
#include <tlm>

#include "tlm/error_report.h"

namespace cimvp::tlmx {

// The tile pipeline's protocol. Every transaction must carry a CimReadExtension, a mandatory
// extension, so the pipeline is not the base protocol: IEEE 1666-2011 (14.2, extensions and
// interoperability) wants such a protocol to have a protocol-types class of its own. Sockets
// typed with it bind only to each other, never to a base-protocol socket (the bus, the router).
// The payload and the phases are the generic ones; the pipeline uses b_transport only.
struct cim_read_protocol_types {
    typedef tlm::tlm_generic_payload tlm_payload_type;
    typedef tlm::tlm_phase tlm_phase_type;
};

struct CimReadContext {
    int steps = 1;             // reads: ceil(a_bits / dac_bits)
    int a_bits = 1;            // input bits; read t applies bits [t*dac_bits, min(a_bits, (t+1)*dac_bits))
    int rows = 0;              // active word lines
    int cols = 0;              // active bit lines
    int slices = 1;            // weight slices per output (per sign group when differential)
    bool differential = false; // an output's columns: `slices` positive, then `slices` negative ones
    int dac_bits = 1;          // shift per step
    int cell_bits = 1;         // shift per slice
    int outs = 0;              // outputs (cols / numerics::cols_per_output(slices, differential))
    std::int64_t weight_scale = 1;
    std::int64_t offset = 0;
    std::int64_t input_sum = 0;     // sum of the vector's inputs on this tile's rows
    std::uint64_t vector_index = 0; // global index: keys the read noise
    std::uint32_t out_slot = 0;     // position of the vector in the output buffer
    bool emit_sum = false;          // write input_sum after the outputs (slot stride outs + 1)
    std::uint32_t zero_steps = 0;   // bit t: every value of read t is 0 (a shortcut, not a semantic)
    bool integer_psum = true;       // partial sums are whole LSBs (ideal devices), so a unit ADC is exact

    int step_bits(int t) const { return dac_bits < a_bits - t * dac_bits ? dac_bits : a_bits - t * dac_bits; }
};

class CimReadExtension : public tlm::tlm_extension<CimReadExtension> {
public:
    CimReadContext ctx;

    tlm::tlm_extension_base* clone() const override {
        auto* e = new CimReadExtension;
        e->ctx = ctx;
        return e;
    }
    void copy_from(const tlm::tlm_extension_base& other) override {
        ctx = static_cast<const CimReadExtension&>(other).ctx;
    }
};

// A cim_read transaction without its mandatory extension: the initiator broke the protocol, a
// modelling bug rather than a bus error, so it is an SC_REPORT_ERROR (whose default action throws
// and stops the simulation); should a handler let it return, the transaction ends in COMMAND_ERROR.
inline void missing_extension(tlm::tlm_generic_payload& t, const char* msg_type, const char* who) {
    t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    report_error(msg_type, who, "a transaction without the CimReadExtension the cim_read protocol requires");
}

// Sends a vector on to the next stage of the pipeline under the same context,
// reusing the stage's own payload; returns the downstream response. The payload holds the
// context's extension only for the call, also when a stage throws (an RTL twin's broken
// contract): left on it, the payload's destructor would free an extension it does not own.
template <typename Socket>
tlm::tlm_response_status forward_vector(Socket& socket, tlm::tlm_generic_payload& out, void* data, unsigned bytes,
                                        CimReadExtension* ext, sc_core::sc_time& delay) {
    out.set_command(tlm::TLM_WRITE_COMMAND);
    out.set_address(0);
    out.set_data_ptr(static_cast<unsigned char*>(data));
    out.set_data_length(bytes);
    out.set_streaming_width(bytes);
    out.set_byte_enable_ptr(nullptr);
    out.set_dmi_allowed(false);
    out.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    out.set_extension(ext);
    try {
        socket->b_transport(out, delay);
    } catch (...) {
        out.clear_extension(ext);
        throw;
    }
    out.clear_extension(ext);
    return out.get_response_status();
}

}  // namespace cimvp::tlmx
