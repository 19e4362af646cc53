"""A real single-node Slurm cluster as local processes, for the sweep tests (docs/scale.md).

Debian's `munge` and `slurm-wlm` daemons run from a temporary directory with a generated
slurm.conf: munged on its own socket and key, slurmctld and slurmd in the foreground, on free
ports, the node being this machine under its real host name. Client commands (sbatch, squeue,
sinfo) reach it through SLURM_CONF. Nothing outside the directory is touched, and stopping
ends the three daemons (and any job step left) and removes the directory.

    with SlurmCluster() as cluster:          # waits until the node is idle
        env = cluster.env()                  # os.environ with SLURM_CONF set
        subprocess.run(["sbatch", ...], env=env)

By hand: `python3 testbench/slurm_cluster.py start DIR` prints the `export SLURM_CONF=...` line and
leaves the cluster running; `python3 testbench/slurm_cluster.py stop DIR` ends it."""
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DAEMONS = ("munged", "slurmctld", "slurmd")
PR_SET_PDEATHSIG = 1


class ClusterError(Exception):
    pass


def missing_programs():
    """The programs a cluster needs that are not installed (Debian: munge, slurm-wlm)."""
    return [p for p in ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
            if shutil.which(p) is None and not os.path.exists(os.path.join("/usr/sbin", p))]


def program(name):
    return shutil.which(name) or os.path.join("/usr/sbin", name)


def end_with_parent():
    """In the child before exec: SIGTERM when the process that started it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def memory_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 1024


def slurm_conf(d, host, user, ctld_port, slurmd_port, cpus, mem_mb):
    return f"""# A single-node test cluster (testbench/slurm_cluster.py)
ClusterName=cimvptest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge.socket
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
MinJobAge=5
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


class SlurmCluster:
    def __init__(self, directory=None, cpus=None, start_timeout=60, tied=True):
        """`tied`: the daemons end with this process (PR_SET_PDEATHSIG), so a test killed at its timeout
        leaves none behind; `start` from the command line leaves them running instead."""
        self.tied = tied
        self.owns_dir = directory is None
        self.dir = directory or tempfile.mkdtemp(prefix="cimvp-slurm-")
        self.cpus = cpus or os.cpu_count() or 1
        self.start_timeout = start_timeout
        self.host = socket.gethostname().split(".")[0]
        self.conf = os.path.join(self.dir, "slurm.conf")
        self.procs = {}

    def env(self):
        e = dict(os.environ)
        e["SLURM_CONF"] = self.conf
        return e

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _spawn(self, name, argv):
        log = open(os.path.join(self.dir, name + ".out"), "w")
        # Its own session, so that stopping it also ends what it started (slurmd's job steps).
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, env=self.env(),
                                            preexec_fn=end_with_parent if self.tied else None)
        with open(os.path.join(self.dir, name + ".pgid"), "w") as f:
            f.write(str(self.procs[name].pid))
        log.close()

    def start(self):
        missing = missing_programs()
        if missing:
            raise ClusterError("a local Slurm cluster needs " + ", ".join(missing) +
                               ": install munge and slurm-wlm (bash scripts/setup.sh)")
        d = self.dir
        for sub in ("state", "spool"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        os.chmod(d, 0o700)
        user = pwd.getpwuid(os.getuid()).pw_name
        ctld_port, slurmd_port = free_ports(2)
        with open(self.conf, "w") as f:
            f.write(slurm_conf(d, self.host, user, ctld_port, slurmd_port, self.cpus,
                               max(256, memory_mb() - 512)))
        key = os.path.join(d, "munge.key")
        subprocess.run([program("mungekey"), "--create", "--keyfile", key], check=True,
                       capture_output=True)
        self._spawn("munged", [program("munged"), "--foreground", "--force", "--socket", d + "/munge.socket",
                               "--key-file", key, "--pid-file", d + "/munged.pid", "--log-file", d + "/munged.log",
                               "--seed-file", d + "/munged.seed"])
        self._wait(lambda: os.path.exists(d + "/munge.socket"), "munged's socket")
        self._spawn("slurmctld", [program("slurmctld"), "-D", "-f", self.conf])
        self._spawn("slurmd", [program("slurmd"), "-D", "-f", self.conf])
        self._wait(self._node_idle, "the node idle in sinfo")

    def _node_idle(self):
        p = subprocess.run(["sinfo", "-h", "-n", self.host, "-o", "%t"], capture_output=True, text=True,
                           env=self.env(), timeout=30)
        return p.returncode == 0 and p.stdout.strip() == "idle"

    def _wait(self, ready, what):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise ClusterError(f"{name} exited with status {p.returncode} while waiting for {what}:\n" +
                                       self.logs())
            if ready():
                return
            time.sleep(0.3)
        raise ClusterError(f"no {what} after {self.start_timeout} s:\n" + self.logs())

    def logs(self):
        out = []
        for name in ("munged.out", "munged.log", "slurmctld.out", "slurmctld.log", "slurmd.out", "slurmd.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out.append(f"--- {name} (last lines)\n" + "".join(f.readlines()[-15:]))
        return "\n".join(out)

    def stop(self):
        stop_dir(self.dir, self.procs)
        self.procs = {}
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def stop_dir(d, procs=None):
    """Ends the daemons started in `d` (their sessions: job steps included), slurmd first."""
    pgids = []
    for name in reversed(DAEMONS):
        path = os.path.join(d, name + ".pgid")
        if os.path.exists(path):
            with open(path) as f:
                pgids.append(int(f.read().strip()))
            os.remove(path)
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    for p in (procs or {}).values():
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for p in (procs or {}).values():
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    d = os.path.abspath(argv[2])
    if argv[1] == "stop":
        stop_dir(d)
        return 0
    os.makedirs(d, exist_ok=True)
    cluster = SlurmCluster(d, tied=False)
    try:
        cluster.start()
    except ClusterError as e:
        cluster.stop()
        print(f"slurm_cluster: {e}", file=sys.stderr)
        return 1
    print(f"export SLURM_CONF={cluster.conf}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
