// Digital side of one SAR converter of the ADC bank (docs/rtl.md).
//
// A partial sum psum (fixed point, FRAC bits of fraction as the comparator
// sees it) is sampled on the in_valid/in_ready handshake together with its
// column's step and base. The search decides one code bit per clock, MSB
// first: code >= k iff 2*(psum - base) >= (2k - 1)*step (docs/numerics.md),
// so comparing against the DAC midpoint (2*trial - 1)*step of the remaining
// range gives clamp(round_half_up((psum - base) / step), 0, 2^bits - 1)
// exactly. The DAC level is built from shifts and adds only: acc holds
// 2*code*step, cur holds step << (bit + 1).
//
// Timing: the first comparison happens on the sampling edge, so a conversion
// takes exactly `bits` clocks from the edge that accepts the sample to the
// edge after which out_valid is high; with out_ready high the next sample is
// accepted on the edge that hands the code over (back to back, one conversion
// per `bits` clocks). Synchronous active-high reset abandons a conversion;
// in_ready is low while rst is high, so no sample is taken by a reset edge.
//
// Input contract (docs/rtl.md): 1 <= bits <= MAX_BITS and in_step > 0 on the
// edge that takes a sample, asserted in simulation (Verilator --assert); the
// parameters are checked at elaboration.
module sar_adc #(
    parameter int PSUM_W   = 48,  // signed partial sum and base, fixed point
    parameter int STEP_W   = 40,  // unsigned step, fixed point, > 0
    parameter int MAX_BITS = 16   // widest code; bits is chosen at run time
) (
    input  logic                       clk,
    input  logic                       rst,
    input  logic [4:0]                 bits,      // resolution, 1..MAX_BITS; read on the sampling edge
    // sample side
    input  logic                       in_valid,
    output logic                       in_ready,
    input  logic signed [PSUM_W-1:0]   in_psum,
    input  logic        [STEP_W-1:0]   in_step,
    input  logic signed [PSUM_W-1:0]   in_base,
    // result side
    output logic                       out_valid,
    input  logic                       out_ready,
    output logic        [MAX_BITS-1:0] out_code,
    output logic signed [63:0]         out_value,  // base + code * step
    output logic                       busy
);
    // The comparator: 2 * (psum - base) needs PSUM_W + 2 bits, the DAC level and 2 * code * step
    // (below 2^(STEP_W + MAX_BITS + 1)) need STEP_W + MAX_BITS + 2; base + code * step then fits
    // too. It is 64 bits, and elaboration refuses parameters that need more. (The exact width,
    // 58 bits at the defaults, saves 7% of the cells but costs the Verilated model 12%: Verilator
    // masks every value narrower than its 64-bit word.)
    localparam int NEED = PSUM_W + 2 > STEP_W + MAX_BITS + 2 ? PSUM_W + 2 : STEP_W + MAX_BITS + 2;
    localparam int IW = 64;

    // Parameter legality, checked at elaboration: Verilator and Yosys stop with the message.
    if (PSUM_W < 1 || STEP_W < 1) begin : g_bad_width
        $error("sar_adc: PSUM_W and STEP_W must be at least 1");
    end
    if (MAX_BITS < 1 || MAX_BITS > 31) begin : g_bad_max_bits
        $error("sar_adc: MAX_BITS must be 1..31 (bits and the bit counter are 5 bits)");
    end
    if (NEED > IW) begin : g_bad_comparator
        $error("sar_adc: PSUM_W + 2 and STEP_W + MAX_BITS + 2 must not exceed 64 (out_value is 64 bits)");
    end

    logic signed [IW-1:0] d2_q, acc_q, cur_q, step_q, base_q;
    logic [4:0]           left_q;  // comparisons still to make
    logic [MAX_BITS-1:0]  code_q;
    logic                 valid_q;

    wire take = in_valid & in_ready;

    wire signed [IW-1:0] psum_x = IW'(in_psum);
    wire signed [IW-1:0] base_x = IW'(in_base);
    wire signed [IW-1:0] step_x = IW'({1'b0, in_step});

    // The comparator's operands: the sample being taken, or the registered search.
    wire signed [IW-1:0] d2_c   = take ? (psum_x - base_x) <<< 1 : d2_q;
    wire signed [IW-1:0] step_c = take ? step_x : step_q;
    wire signed [IW-1:0] acc_c  = take ? '0 : acc_q;
    wire signed [IW-1:0] cur_c  = take ? step_x <<< bits : cur_q;
    wire [4:0]           left_c = take ? bits : left_q;
    wire [MAX_BITS-1:0]  code_c = take ? '0 : code_q;

    wire signed [IW-1:0] level = acc_c + cur_c - step_c;  // (2*trial - 1) * step
    wire                 hit   = d2_c >= level;
    wire [MAX_BITS-1:0]  trial_bit = MAX_BITS'(1) << (left_c - 5'd1);

    always_ff @(posedge clk) begin
        if (rst) begin
            busy    <= 1'b0;
            valid_q <= 1'b0;
            left_q  <= '0;
            code_q  <= '0;
            d2_q    <= '0;
            acc_q   <= '0;
            cur_q   <= '0;
            step_q  <= '0;
            base_q  <= '0;
        end else begin
            if (valid_q && out_ready) valid_q <= 1'b0;
            if (take || busy) begin
                d2_q   <= d2_c;
                step_q <= step_c;
                if (take) base_q <= base_x;
                acc_q  <= hit ? acc_c + cur_c : acc_c;
                code_q <= hit ? code_c | trial_bit : code_c;
                cur_q  <= cur_c >>> 1;
                left_q <= left_c - 5'd1;
                busy   <= left_c != 5'd1;
                if (left_c == 5'd1) valid_q <= 1'b1;
            end
        end
    end

`ifndef SYNTHESIS
    // The input contract on the sampling edge (take is low while rst is high).
    always_ff @(posedge clk) begin
        if (take) begin
            /* verilator lint_off CMPCONST */  // always true when MAX_BITS is 31
            assert (bits != 5'd0 && 32'(bits) <= MAX_BITS)
            else $error("sar_adc: bits %0d outside 1..%0d", bits, MAX_BITS);
            /* verilator lint_on CMPCONST */
            assert (in_step != '0)
            else $error("sar_adc: step 0 (must be > 0)");
        end
    end
`endif

    assign in_ready  = !rst && !busy && (!valid_q || out_ready);
    assign out_valid = valid_q;
    assign out_code  = code_q;
    assign out_value = base_q + (acc_q >>> 1);
endmodule
