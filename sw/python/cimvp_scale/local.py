"""The local executor: the points' runs on this machine, `jobs` at a time (each `cimvp run` is one
SystemC process, single-threaded but for its reference check), one line of progress per finished point."""
import concurrent.futures
import sys
import threading
import time

from cimvp_scale.runner import run_point


def run_local(out, points, cimvp, jobs, timeout=None, stream=sys.stderr):
    """Runs `points`; returns the number that failed. An interrupt ends the running points (recorded
    as killed) and raises KeyboardInterrupt once they are."""
    running, lock, stopping = set(), threading.Lock(), threading.Event()
    failed, done, n, t0 = 0, 0, len(points), time.monotonic()
    width = len(str(n))

    def started(proc):
        with lock:
            running.add(proc)
            if stopping.is_set():  # a point that was waiting (for the training lock) when interrupted
                proc.terminate()

    def one(point):
        st = run_point(out, point.id, cimvp, "local", "", timeout, on_start=started)
        return point, st

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(one, p) for p in points]
        for fut in concurrent.futures.as_completed(futures):
            point, st = fut.result()
            done += 1
            ok = st["exit_code"] == 0 and not st["error"]
            failed += not ok
            outcome = f"ok in {st['run_seconds']:.1f} s" if ok else f"FAILED (exit {st['exit_code']}): {st['error']}"
            print(f"[{done:{width}}/{n}] {point.id} {point.label()}: {outcome}  "
                  f"({time.monotonic() - t0:.0f} s)", file=stream, flush=True)
    except KeyboardInterrupt:
        stopping.set()
        pool.shutdown(wait=False, cancel_futures=True)
        with lock:
            for proc in running:
                if proc.poll() is None:
                    proc.terminate()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)
    return failed
