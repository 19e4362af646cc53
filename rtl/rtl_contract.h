// An RTL block's input contract broken in simulation (docs/rtl.md, "Input contracts"). The
// blocks assert their contracts (Verilator --assert); by Verilator's default a failed assertion
// prints its message and aborts the process. The adapters' contexts keep the error instead:
// Verilator's message is kept (rtl/rtl_verilator_print.h) and, after the clock on which the
// assertion failed, the adapter throws RtlContractError, which names the block, the assertion's
// message and where it was driven from; `cimvp` prints it as one line and exits with 2.
#pragma once

#include <stdexcept>
#include <string>

class VerilatedContext;

namespace cimvp {

class RtlContractError : public std::runtime_error {
public:
    RtlContractError(std::string block, std::string rule, std::string source, std::string where);

    const std::string& block() const { return block_; }    // "sar_adc" or "swis_pe"
    const std::string& rule() const { return rule_; }      // the assertion's message, "sar_adc: step 0 (must be > 0)"
    const std::string& source() const { return source_; }  // the assertion's line, "sar_adc.sv:121" (may be empty)
    const std::string& where() const { return where_; }    // what drove the block: the adapter, its input, the process

private:
    std::string block_, rule_, source_, where_;
};

// Makes `ctx` keep a failed assertion (gotError(), and Verilator's message for it) instead of
// aborting the process. A context that does not keep its errors prints and aborts as before.
void keep_contract_errors(VerilatedContext& ctx);

// After an eval on which ctx.gotError(): throws the RtlContractError for the assertion(s) that
// failed (several on one clock: their messages joined by "; "), `block` when the message does not
// name one, and clears ctx's error state. `where` names what drove the block.
[[noreturn]] void throw_contract_error(VerilatedContext& ctx, const std::string& block, const std::string& where);

// Where the simulation is, for `where`: " at <time> in <process>" in a running SystemC process, else "".
std::string simulation_point();

}  // namespace cimvp
