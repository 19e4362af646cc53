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
// per `bits` clocks). Synchronous active-high reset abandons a conversion.
module sar_adc #(
    parameter int PSUM_W   = 48,  // signed partial sum and base, fixed point
    parameter int STEP_W   = 40,  // unsigned step, fixed point, > 0
    parameter int MAX_BITS = 16   // widest code; bits is chosen at run time
) (
    input  logic                       clk,
    input  logic                       rst,
    input  logic [4:0]                 bits,      // resolution, 1..MAX_BITS; held during a conversion
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
    localparam int IW = 64;  // comparator width: 2^(MAX_BITS+1) * 2^STEP_W and 2 * 2^PSUM_W fit

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

    assign in_ready  = !busy && (!valid_q || out_ready);
    assign out_valid = valid_q;
    assign out_code  = code_q;
    assign out_value = base_q + (acc_q >>> 1);
endmodule
