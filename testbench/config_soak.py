#!/usr/bin/python3
"""Soak of random valid configs (docs/hardening.md, "Soak"): a property test of the whole `cimvp run`.

    config_soak.py --cimvp build/cimvp [--count N | --minutes M] [--seed S] [--out DIR]

Each run draws a random valid configuration within the ranges of docs/config.md (crossbar size, cell
and DAC bits, ADC bits, architecture, ADCs per macro, fraction bits, step mode, every timing value,
tiles, the tile, global and PE-array buffers, ping-pong, a technology file of configs/technology/ or
none, device non-idealities, the protocol checkers) and a run (a shipped model on the first images of
the test set, with random batch, PE layers, shift form and sometimes the RTL in the loop, or the tiny
trace), runs it as its own `cimvp run` (SystemC elaborates once per process) and checks it:

- exit 0: the results file says every image agrees with the C++ reference (agreement 1.0; the
  reference models the same ADC and the same device draws) and has the images asked for;
- exit 2: the run was refused before it ran, with a one-line message naming the input it refuses
  (a model or trace that does not fit the drawn chip): never a config the validator refuses (the
  draw stays inside the documented ranges, so such a refusal is a disagreement between
  docs/config.md and hw/arch_config.cpp), never an error of the platform during the run (a
  controller or DMA error), never a crash;
- anything else (another exit status, a signal, a time-out, a traceback-like message) is a failure;
- memory: the child's resident memory is sampled at every progress line (each tenth of its images)
  and every RSS_POLL_S between them, from its first progress line on; its growth is the last sample
  minus the highest sample of the first half of the images, which must stay within
  GROWTH_BYTES_PER_IMAGE per image run after that half plus GROWTH_SLACK_BYTES (allocator noise):
  what a run keeps per image is its logits (docs/hardening.md), so more is a leak. The highest of the
  first half, not the first sample: a block freed and allocated again (a sawtooth of resident memory)
  is no growth, a leak raises the last sample above every earlier one. Peak resident memory
  (getrusage of the child) is reported against the images of the run.

Prints a line per run, and every --checkpoint runs the runs, images and peak memory so far; writes
every run to OUT/runs.csv and the summary to OUT/summary.json. Exit 0 when every run passed, 1 when
one failed (the failing configs stay in OUT/failures/), 2 for a bad option. A run is reproduced with
the config and command OUT/failures/<index>/ holds, or by --seed S --first I --count 1.
SIGTERM or SIGINT stops the soak after the run in progress and still writes the summary, so a long soak
is split into pieces (--first continues the sequence of draws where a piece stopped).
"""
import argparse
import csv
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROWTH_BYTES_PER_IMAGE = 2048
GROWTH_SLACK_BYTES = 2 << 20
GROWTH_MIN_IMAGES = 32
RSS_POLL_S = 1.0
RUN_TIMEOUT_S = 900
MODELS = ("fmnist-int8", "fmnist-bwma", "fmnist-columnwise")
COLUMNWISE_CELLS = {"cell_bits": 2, "dac_bits": 4}  # what fmnist-columnwise.cimvp needs (configs/columnwise.json)
COLUMNWISE_FRAC_BITS = 8
TRACE = os.path.join(SOURCE, "testbench", "data", "tiny.trace")
# Messages of a crash or an internal error rather than a refusal of the input.
CRASH_SIGNS = re.compile(r"terminate called|Assertion|Aborting|Segmentation|std::|what\(\)|Traceback|internal error")


def log_uniform(rng, lo, hi):
    return lo * (hi / lo) ** rng.random()


def technology_files():
    d = os.path.join(SOURCE, "configs", "technology")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".json"))


def draw_config(rng, max_tiles):
    """A random config inside the documented ranges (docs/config.md), kept to chips a run simulates in
    seconds: the validator's extremes (4096-row arrays, 16384 tiles, 1 s reads) are the unit tests'."""
    rows = rng.choice([16, 32, 64, 100, 128, 256, 512])
    cols = rng.choice([8, 16, 32, 50, 64, 128, 256])
    cfg = {
        "crossbar": {
            "rows": rows, "cols": cols, "cell_bits": rng.choice([1, 2]), "dac_bits": rng.randint(1, 8),
            "read_ns": round(log_uniform(rng, 1, 1000), 3),
            "read_pj_per_cell": round(log_uniform(rng, 1e-4, 1), 6),
            "read_pj_per_column": rng.choice([0.0, round(log_uniform(rng, 1e-3, 10), 6)]),
            "write_ns_per_row": round(log_uniform(rng, 1, 1000), 3),
            "write_pj_per_cell": round(log_uniform(rng, 0.01, 100), 4),
        },
        "adc": {
            "bits": rng.randint(1, 16), "architecture": rng.choice(["sar", "flash"]),
            "adcs_per_macro": rng.randint(1, cols), "frac_bits": rng.randint(0, 16),
            "cycle_ns": round(log_uniform(rng, 0.05, 20), 4), "pj_per_conversion": round(log_uniform(rng, 0.01, 100), 4),
            "step_mode": rng.choice(["column", "layer"]), "clip_sigmas": round(log_uniform(rng, 0.5, 100), 3),
        },
        "digital": {
            "clock_ns": round(log_uniform(rng, 0.1, 20), 4), "shift_add_pj": round(log_uniform(rng, 0.001, 10), 5),
            "controller_cycles_per_cmd": rng.randint(0, 64), "post_process_pj": round(log_uniform(rng, 0.01, 100), 4),
            "post_process_lanes": rng.choice([1, 4, 16, 64, 4096]),
        },
        "dma": {"setup_ns": round(log_uniform(rng, 1, 1000), 3), "bytes_per_ns": round(log_uniform(rng, 0.01, 1e4), 4),
                "pj_per_byte": round(log_uniform(rng, 0.01, 10), 4)},
        "platform": {
            "tiles": rng.choice([t for t in (1, 2, 8, 32, 64, 128, 256, 512, 1024) if t <= max_tiles]),
            "quantum_ns": rng.choice([100.0, 1000.0, 10000.0, 1e6]),
            "check_protocol": rng.random() < 0.15,
            "ping_pong": rng.random() < 0.5,
            "input_buffer": {"size_bytes": 8 * rng.randint(16, 8192)},
            "output_buffer": {"size_bytes": 8 * rng.randint(16, 8192)},
            "global_buffer": {"size_bytes": rng.choice([0, 8 * rng.randint(1, 1 << 16), 1 << 20, 1 << 22])},
            "dram": {"size_bytes": rng.choice([1 << 26, 1 << 28, 1 << 30]),
                     "latency_ns": round(log_uniform(rng, 1, 500), 3),
                     "bytes_per_ns": round(log_uniform(rng, 0.1, 1e3), 4)},
        },
    }
    for mem in ("input_buffer", "output_buffer", "global_buffer"):
        m = cfg["platform"][mem]
        m["latency_ns"] = round(log_uniform(rng, 0.1, 50), 4)
        m["bytes_per_ns"] = round(log_uniform(rng, 1, 1e3), 4)
        m["dmi"] = rng.random() < 0.8
    pe_rows, pe_cols = rng.choice([1, 2, 4, 8, 16]), rng.choice([1, 2, 4, 8, 16])
    cfg["pe_array"] = {
        "rows": pe_rows, "cols": pe_cols,
        "act_buffer_bytes": rng.choice([1 << 12, 1 << 14, 1 << 16, 1 << 18]),
        "weight_buffer_bytes": rng.choice([1 << 12, 1 << 14, 1 << 16, 1 << 18]),
        "out_buffer_bytes": max(pe_rows * pe_cols * 8, rng.choice([1 << 10, 1 << 14, 1 << 16])),
        "bytes_per_ns": round(log_uniform(rng, 0.1, 1e3), 4),
    }
    if rng.random() < 0.25:
        cfg["nonideal"] = {"conductance_sigma": rng.choice([0.0, 0.05, 0.2, 1.0]),
                           "stuck_at_rate": rng.choice([0.0, 0.001, 0.01, 0.1]),
                           "read_noise_sigma": rng.choice([0.0, 0.25, 1.0, 3.0]),
                           "seed": rng.randint(0, (1 << 64) - 1)}
    if rng.random() < 0.5:
        with open(rng.choice(technology_files())) as f:
            cfg["technology"] = json.load(f)  # inline: the written config stands alone
    return cfg


def draw_run(rng, max_images):
    """The `cimvp run` arguments of a run (besides --config and --json) and the images it simulates."""
    if rng.random() < 0.15:
        images = min(max_images, rng.randint(1, 3))
        return ["--trace", TRACE, "--images", str(images), "--map", rng.choice(["trace", "crossbar", "pe"]),
                "--seed", str(rng.randint(0, 1000))], images, "trace"
    model = rng.choice(MODELS)
    rtl = rng.random() < 0.08
    images = min(max_images, rng.randint(1, 12) if rtl else int(log_uniform(rng, 4, 200)))
    args = ["--model", os.path.join(SOURCE, "models", model + ".cimvp"), "--limit", str(images),
            "--batch", str(rng.choice([1, 4, 16, 32, 64]))]
    if model == "fmnist-int8":
        args += ["--pe-layers", rng.choice(["default", "none", "all", "0", "1,3"])]
        if rng.random() < 0.3:
            args += ["--swis-shifts", str(rng.randint(1, 8))]
    if rng.random() < 0.3:
        args.append("--single-shift")
    if rtl:
        args.append("--rtl")
    return args, images, model + (" rtl" if rtl else "")


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def memory_growth(samples):
    """samples: (images done, resident bytes), two or more, in time order. Returns the baseline (images,
    bytes: the first half's highest sample), the last sample and whether the growth between them is
    more than the bound (the module's docstring)."""
    n1, r1 = samples[-1]
    half = (samples[0][0] + n1) / 2
    n0 = max(n for n, _ in samples if n <= half)
    r0 = max(r for n, r in samples if n <= half)
    return (n0, r0), (n1, r1), r1 - r0 > GROWTH_BYTES_PER_IMAGE * (n1 - n0) + GROWTH_SLACK_BYTES


def run_one(a, index, rng, work):
    """Draws, runs and checks run `index`; returns its record."""
    cfg = draw_config(rng, a.max_tiles)
    args, images, kind = draw_run(rng, a.max_images)
    if kind.startswith("fmnist-columnwise") and rng.random() < 0.8:
        # Mostly a chip it fits: the model's cells and DACs, and the fraction bits of its ADC tables.
        cfg["crossbar"].update(COLUMNWISE_CELLS)
        cfg["adc"]["frac_bits"] = COLUMNWISE_FRAC_BITS
    # Differential cell mapping a quarter of the time, from a generator of its own so that the draws
    # above stay what they were before the key existed (a run's seed and index still reproduce it).
    if random.Random(f"{a.seed}:{index}:mapping").random() < 0.25:
        cfg["crossbar"]["mapping"] = "differential"
    d = os.path.join(work, str(index))
    os.makedirs(d, exist_ok=True)
    cfg_path, res_path = os.path.join(d, "config.json"), os.path.join(d, "results.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    inputs = [cfg_path] + [args[i + 1] for i, x in enumerate(args) if x in ("--model", "--trace")]
    argv = [a.cimvp, "run", "--config", cfg_path, "--json", res_path, *args]
    rec = {"index": index, "kind": kind, "images": images, "tiles": cfg["platform"]["tiles"],
           "crossbar": f"{cfg['crossbar']['rows']}x{cfg['crossbar']['cols']}", "adc_bits": cfg["adc"]["bits"],
           "mapping": cfg["crossbar"].get("mapping", "offset"), "nonideal": "nonideal" in cfg, "technology": cfg.get("technology", {}).get("name", ""),
           "check_protocol": cfg["platform"]["check_protocol"], "command": shlex.join(argv),
           "outcome": "", "message": "", "exit_code": None, "agreement": None, "wall_s": 0.0,
           "peak_rss_kb": 0, "rss_first_kb": None, "rss_last_kb": None, "growth_bytes_per_image": None}
    t0 = time.monotonic()
    err_lines, samples = [], []  # samples: (images done, resident bytes) from the first progress line on
    done = threading.Event()
    with open(os.path.join(d, "stdout.log"), "w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                errors="replace", start_new_session=True)  # a Ctrl-C stops the soak, not the run
        watchdog = threading.Timer(RUN_TIMEOUT_S, proc.kill)  # a hang ends as a failure, not the soak's
        watchdog.start()

        def poll():  # between progress lines, at the images of the last one
            while not done.wait(RSS_POLL_S):
                r = rss_bytes(proc.pid)
                if samples and r is not None:
                    samples.append((samples[-1][0], r))
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        for line in proc.stderr:  # ends when the child closes stderr (exits)
            err_lines.append(line.rstrip("\n"))
            m = re.match(r"^(\d+)/(\d+) images", line)
            if m:
                r = rss_bytes(proc.pid)
                if r is not None:
                    samples.append((int(m.group(1)), r))
        done.set()
        poller.join()
        _, status, usage = os.wait4(proc.pid, 0)
        watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    rec["wall_s"] = round(time.monotonic() - t0, 3)
    rec["peak_rss_kb"] = usage.ru_maxrss
    rec["exit_code"] = code = proc.returncode
    with open(os.path.join(d, "stderr.log"), "w") as f:
        f.write("\n".join(err_lines) + "\n")
    message = next((x for x in reversed(err_lines) if x.startswith("cimvp:") or ": " in x), "")
    rec["message"] = message[:300]
    failures = []
    if time.monotonic() > t0 + RUN_TIMEOUT_S:
        failures.append(f"timed out after {RUN_TIMEOUT_S} s")
    if code == 0:
        try:
            with open(res_path) as f:
                res = json.load(f)
            rec["agreement"] = res.get("agreement")
            if res.get("agreement") != 1.0:
                failures.append(f"agreement {res.get('agreement')} with the C++ reference, expected 1.0")
            if res.get("images") != images:
                failures.append(f"{res.get('images')} images in the results, expected {images}")
            checks = res.get("protocol_checks")
            if cfg["platform"]["check_protocol"] and (not checks or checks.get("violations") != 0):
                failures.append(f"protocol checks {checks}, expected some and no violation")
        except (OSError, ValueError) as e:
            failures.append(f"exit 0 without a readable results file: {e}")
        rec["outcome"] = "ok"
    elif code == 2 and any(f"cimvp: {p}" in message for p in inputs) and not CRASH_SIGNS.search("\n".join(err_lines)):
        # Refused before it ran, naming the input it refuses (docs: a message naming the file and field):
        # an error of the platform during the run (a controller or DMA error) is a failure instead.
        rec["outcome"] = "refused"
        if re.search(re.escape(cfg_path) + r": [\w.]+: expected", message):
            failures.append("the validator refused a config drawn inside docs/config.md's ranges")
    else:
        failures.append(f"exit {code}" + (" (a signal)" if code < 0 else ""))
    if len(samples) >= 2:
        (n0, r0), (n1, r1), leak = memory_growth(samples)
        rec["rss_first_kb"], rec["rss_last_kb"] = r0 // 1024, r1 // 1024
        if n1 - n0 >= GROWTH_MIN_IMAGES:  # fewer: allocator noise over a handful of images, not a rate
            rec["growth_bytes_per_image"] = round((r1 - r0) / (n1 - n0))
        if leak:
            failures.append(f"resident memory grew {(r1 - r0) // 1024} KiB over images {n0}..{n1}, more than "
                            f"{GROWTH_BYTES_PER_IMAGE} B per image + {GROWTH_SLACK_BYTES >> 20} MiB")
    if failures:
        rec["outcome"] = "FAILED"
        rec["message"] = "; ".join(failures) + (f" | {message}" if message else "")
    return rec, d


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Soak of random valid configs: every run a `cimvp run` checked "
                                             "against the C++ reference, with its memory (docs/hardening.md).")
    ap.add_argument("--cimvp", required=True, help="the cimvp executable")
    ap.add_argument("--count", type=int, help="runs to make (default 20 unless --minutes)")
    ap.add_argument("--minutes", type=float, help="make runs until this much wall time has passed")
    ap.add_argument("--seed", type=int, default=1, help="seed of the draws (default 1)")
    ap.add_argument("--first", type=int, default=0, help="index of the first run (to reproduce one)")
    ap.add_argument("--max-images", type=int, default=200, help="images of a run at most (default 200)")
    ap.add_argument("--max-tiles", type=int, default=1024, help="tiles of a drawn chip at most (default 1024)")
    ap.add_argument("--checkpoint", type=int, default=10, help="print the totals every N runs (default 10)")
    ap.add_argument("--out", help="keep OUT/runs.csv, OUT/summary.json and the failing runs' files here "
                                  "(default: a temporary directory, removed)")
    ap.add_argument("--quiet", action="store_true", help="no line per run")
    a = ap.parse_args(argv)
    if a.count is None and a.minutes is None:
        a.count = 20
    if (a.count is not None and a.count < 1) or (a.minutes is not None and a.minutes <= 0) or a.checkpoint < 1 or \
            a.max_images < 1 or a.max_tiles < 1:
        ap.error("--count, --minutes, --checkpoint, --max-images and --max-tiles must be positive")
    if not os.access(a.cimvp, os.X_OK):
        ap.error(f"--cimvp: {a.cimvp}: not an executable")
    return a


def main(argv):
    a = parse_args(argv)
    work = tempfile.mkdtemp(prefix="cimvp-soak-")
    out = a.out or work
    os.makedirs(out, exist_ok=True)
    records, checkpoints = [], []
    t0 = time.monotonic()
    index = a.first
    stop = []  # a stop request: finish the run in progress, then write the summary

    def request_stop(signum, _frame):
        if not stop:
            print(f"{signal.Signals(signum).name}: stopping after run {index}", file=sys.stderr, flush=True)
        stop.append(signum)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        while not stop and (a.count is None or index - a.first < a.count) and \
                (a.minutes is None or time.monotonic() - t0 < 60 * a.minutes):
            rng = random.Random(a.seed * 1000003 + index)  # each run alone reproducible
            rec, d = run_one(a, index, rng, work)
            records.append(rec)
            if rec["outcome"] == "FAILED":
                keep = os.path.join(out, "failures", str(index))
                if os.path.abspath(keep) != os.path.abspath(d):
                    shutil.copytree(d, keep, dirs_exist_ok=True)
            if not a.quiet:
                print(f"run {index}: {rec['outcome']:7} {rec['kind']:22} {rec['images']:4} images "
                      f"{rec['crossbar']:>8} adc {rec['adc_bits']:2} tiles {rec['tiles']:5} {rec['wall_s']:7.2f} s "
                      f"peak {rec['peak_rss_kb'] / 1024:6.1f} MiB"
                      + (f" growth {rec['growth_bytes_per_image']} B/image" if rec["growth_bytes_per_image"] is not None else "")
                      + (f": {rec['message']}" if rec["outcome"] != "ok" else ""), flush=True)
            shutil.rmtree(d, ignore_errors=True)
            index += 1
            n = len(records)
            if n % a.checkpoint == 0:
                cp = {"runs": n, "images": sum(r["images"] for r in records if r["outcome"] == "ok"),
                      "wall_s": round(time.monotonic() - t0, 1),
                      "peak_rss_kb": max(r["peak_rss_kb"] for r in records),
                      "max_growth_bytes_per_image": max((r["growth_bytes_per_image"] for r in records
                                                         if r["growth_bytes_per_image"] is not None), default=None),
                      "driver_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "failed": sum(r["outcome"] == "FAILED" for r in records)}
                checkpoints.append(cp)
                print("checkpoint: " + ", ".join(f"{k} {v}" for k, v in cp.items()), flush=True)
    finally:
        if a.out:  # the runs' scratch; OUT keeps the records and the failures
            shutil.rmtree(work, ignore_errors=True)
    ok = [r for r in records if r["outcome"] == "ok"]
    failed = [r for r in records if r["outcome"] == "FAILED"]
    summary = {"seed": a.seed, "first": a.first, "next": index, "stopped_by_signal": bool(stop), "runs": len(records), "ok": len(ok), "refused": len(records) - len(ok) - len(failed),
               "failed": len(failed), "images": sum(r["images"] for r in ok),
               "wall_s": round(time.monotonic() - t0, 1),
               "peak_rss_kb": max((r["peak_rss_kb"] for r in records), default=0),
               "max_growth_bytes_per_image": max((r["growth_bytes_per_image"] for r in records
                                                 if r["growth_bytes_per_image"] is not None), default=None),
               "checkpoints": checkpoints, "failures": [{k: r[k] for k in ("index", "command", "message")} for r in failed]}
    if a.out:
        with open(os.path.join(out, "runs.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(records[0].keys()) if records else ["index"])
            w.writeheader()
            w.writerows(records)
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{summary['runs']} runs ({summary['ok']} ok, {summary['refused']} refused with a message, "
          f"{summary['failed']} failed), {summary['images']} images, {summary['wall_s']} s, peak resident "
          f"{summary['peak_rss_kb'] / 1024:.1f} MiB, largest growth {summary['max_growth_bytes_per_image']} B/image")
    for r in failed:
        print(f"FAILED run {r['index']}: {r['message']}\n  {r['command']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
