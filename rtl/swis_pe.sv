// One SWIS processing element (arXiv 2103.01308 section 3.1; hw/swis_pe.h is
// the cycle model it mirrors, docs/rtl.md the ports and timing).
//
// M = LANES lanes (4, the PE array's group; 1..16 for synthesis studies) of
// 8-bit activations against one weight group: a sign per
// weight, n shared shift positions (3 bits each), a mask bit per weight and
// shift. Each enabled clock the lanes AND their activation with the mask bit
// of the current shift, the signs negate, an adder tree sums the lanes, a
// barrel shifter applies the shift and the accumulator adds the result: one
// shift per clock (DOUBLE_SHIFT = 0, n clocks per group) or two
// (DOUBLE_SHIFT = 1, ceil(n / 2) clocks). The group and activations stay on
// the inputs until group_last; clear zeroes the accumulator on the same edge
// as that clock's step (acc <= 0 + contribution), so a new output costs no
// extra clock.
//
// Input contract (docs/rtl.md): w_n <= 8; the group and activations held from
// a group's first clock to its last; clear only between groups; the
// accumulator's sum within ACC_W bits. Asserted in simulation (Verilator
// --assert); the parameters are checked at elaboration.
module swis_pe #(
    parameter int DOUBLE_SHIFT = 0,
    parameter int ACC_W        = 64,
    parameter int LANES        = 4
) (
    input  logic                    clk,
    input  logic                    rst,
    input  logic                    clear,      // the accumulator starts again from 0 at this edge
    input  logic                    en,         // one PE clock on the group below
    input  logic [8*LANES-1:0]      act,        // lane i: act[8i +: 8], unsigned
    input  logic [3:0]              w_n,        // shifts in the group, 0..8
    input  logic [LANES-1:0]        w_sign,     // bit i: weight i negative
    input  logic [8*LANES-1:0]      w_mask,     // lane i: w_mask[8i +: 8], bit j uses shift j
    input  logic [23:0]             w_shift,    // shift j: w_shift[3j +: 3]
    output logic                    group_last, // this enabled clock is the group's last
    output logic [3:0]              phase,      // clocks into the current group
    output logic signed [ACC_W-1:0] acc
);
    // LANES * 255 << 7, signed, plus a carry for the two shifts: 20 bits at 4 lanes
    localparam int SUM_W = 18 + $clog2(LANES);

    logic [3:0] phase_q;
    logic signed [ACC_W-1:0] acc_q;

    wire [3:0] total = DOUBLE_SHIFT != 0 ? (w_n + 4'd1) >> 1 : w_n;
    wire [3:0] j0 = DOUBLE_SHIFT != 0 ? {phase_q[2:0], 1'b0} : phase_q;
    wire [3:0] j1 = j0 + 4'd1;
    wire use0 = j0 < w_n;
    wire use1 = DOUBLE_SHIFT != 0 && j1 < w_n;

    // Parameter legality, checked at elaboration: Verilator and Yosys stop with the message.
    if (DOUBLE_SHIFT != 0 && DOUBLE_SHIFT != 1) begin : g_bad_double_shift
        $error("swis_pe: DOUBLE_SHIFT must be 0 or 1");
    end
    if (LANES < 1 || LANES > 16) begin : g_bad_lanes
        $error("swis_pe: LANES must be 1..16");
    end
    if (ACC_W < SUM_W) begin : g_bad_acc_w
        $error("swis_pe: ACC_W must be at least 18 + clog2(LANES) (one clock's shifted sums)");
    end

    // The adder tree for shift j: sum of +-(a_i AND mask_i[j]).
    function automatic logic signed [SUM_W-1:0] lanes(input logic [8*LANES-1:0] a, input logic [8*LANES-1:0] m,
                                                      input logic [LANES-1:0] s, input logic [2:0] j);
        logic signed [SUM_W-1:0] sum;
        logic signed [SUM_W-1:0] v;
        integer i;
        sum = '0;
        for (i = 0; i < LANES; i = i + 1) begin
            v = m[8 * i + {29'd0, j}] ? SUM_W'({1'b0, a[8 * i +: 8]}) : '0;
            sum = s[i] ? sum - v : sum + v;
        end
        lanes = sum;
    endfunction

    wire signed [SUM_W-1:0] tree0 = use0 ? lanes(act, w_mask, w_sign, j0[2:0]) : '0;
    wire signed [SUM_W-1:0] tree1 = use1 ? lanes(act, w_mask, w_sign, j1[2:0]) : '0;
    wire [2:0] sh0 = w_shift[5'd3 * {2'b00, j0[2:0]} +: 3];
    wire [2:0] sh1 = w_shift[5'd3 * {2'b00, j1[2:0]} +: 3];
    wire signed [ACC_W-1:0] term = (ACC_W'(tree0) <<< sh0) + (ACC_W'(tree1) <<< sh1);

    assign group_last = phase_q + 4'd1 >= total;

    always_ff @(posedge clk) begin
        if (rst) begin
            phase_q <= '0;
            acc_q   <= '0;
        end else begin
            if (en) begin
                acc_q   <= (clear ? '0 : acc_q) + term;
                phase_q <= group_last ? 4'd0 : phase_q + 4'd1;
            end else if (clear) begin
                acc_q <= '0;
            end
        end
    end

`ifndef SYNTHESIS
    // The input contract (docs/rtl.md), checked on every clock out of reset: at most 8 shifts;
    // the group and activations held from a group's first clock to its last; clear only
    // between groups; the accumulator's sum within ACC_W bits.
    logic [8*LANES-1:0] held_act_q, held_mask_q;  // the inputs of the last enabled clock
    logic [27+LANES:0] held_grp_q;
    wire signed [ACC_W-1:0] acc_from = clear ? '0 : acc_q;
    wire signed [ACC_W-1:0] acc_next = acc_from + term;
    always_ff @(posedge clk) begin
        if (!rst) begin
            if (en) begin
                assert (w_n <= 4'd8)
                else $error("swis_pe: w_n %0d above 8", w_n);
                assert (phase_q == 4'd0 || (act == held_act_q && w_mask == held_mask_q &&
                                            {w_n, w_sign, w_shift} == held_grp_q))
                else $error("swis_pe: the group or activations changed on clock %0d of a group", phase_q);
                assert (acc_from[ACC_W-1] != term[ACC_W-1] || acc_next[ACC_W-1] == term[ACC_W-1])
                else $error("swis_pe: accumulator overflow: %0d + %0d leaves %0d bits", acc_from, term, ACC_W);
                held_act_q  <= act;
                held_mask_q <= w_mask;
                held_grp_q  <= {w_n, w_sign, w_shift};
            end
            assert (!clear || phase_q == 4'd0)
            else $error("swis_pe: clear on clock %0d of a group (only between groups)", phase_q);
        end
    end
`endif

    assign phase = phase_q;
    assign acc = acc_q;
endmodule
