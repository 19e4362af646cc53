// Where Verilator's runtime prints: every Verilated build of the blocks compiles the runtime with
// VL_PRINTF (verilated.h: "redefine if desired") as this function and this header force-included
// (rtl/CMakeLists.txt). It prints as printf does, except for a context that keeps its errors
// (rtl/rtl_contract.h): there it keeps the text (an assertion's message) for the adapter's error.
#pragma once

void cimvp_verilator_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));
