"""The three servers under test (tldns, NSD, Knot DNS), started from one
zone, plus what the harness reads about them from /proc and what it does
to them with cgroups and CPU affinity.

Every process here is started by the harness and stopped by its own id.
"""
import os
import signal
import subprocess
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

CLK_TCK = os.sysconf("SC_CLK_TCK")


def descendants(pid):
    """`pid` and every process below it (NSD forks xfrd and its server)."""
    children = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if Path(f"/proc/{p}").exists():
            out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids):
    """utime + stime of all threads of `pids` (process-wide counters)."""
    total = 0
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # Fields 14 and 15 of stat; after "comm)" the state is field 3.
        total += int(f[11]) + int(f[12])
    return total / CLK_TCK


def memory(pids):
    """(sum of PSS, largest VmRSS) in bytes. PSS splits pages NSD's
    processes share after fork, so the sum is what the server costs."""
    pss, rss = 0, 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss = max(rss, int(line.split()[1]) * 1024)
        except OSError:
            continue
    return pss, rss


def pin(pids, cpu):
    for p in pids:
        subprocess.run(["taskset", "-a", "-p", "-c", str(cpu), str(p)],
                       check=True, stdout=subprocess.DEVNULL)


class Quota:
    """A CPU quota (fraction of one core) as a cgroup: v1 (cpu controller
    at /sys/fs/cgroup/cpu) or v2 (/sys/fs/cgroup/cpu.max). `kind` is None
    when neither is writable; the harness then runs without a quota and
    says so in the results."""

    def __init__(self, name, fraction):
        self.path, self.kind, self.fraction = None, None, fraction
        self.why = ""
        period = 100000
        quota = int(period * fraction)
        v1 = Path("/sys/fs/cgroup/cpu")
        v2 = Path("/sys/fs/cgroup")
        try:
            if (v1 / "cpu.cfs_quota_us").exists():
                p = v1 / name
                p.mkdir(exist_ok=True)
                (p / "cpu.cfs_period_us").write_text(str(period))
                (p / "cpu.cfs_quota_us").write_text(str(quota))
                self.path, self.kind = p, "cgroup v1 cpu.cfs_quota_us"
            elif (v2 / "cpu.max").exists() or (v2 / "cgroup.controllers").exists():
                ctl = (v2 / "cgroup.subtree_control")
                if "cpu" not in ctl.read_text().split():
                    ctl.write_text("+cpu")
                p = v2 / name
                p.mkdir(exist_ok=True)
                (p / "cpu.max").write_text(f"{quota} {period}")
                self.path, self.kind = p, "cgroup v2 cpu.max"
            else:
                self.why = "no cgroup cpu controller found"
        except OSError as e:
            self.why = f"cgroup not writable: {e}"
            self.path, self.kind = None, None

    def add(self, pids):
        if not self.path:
            return
        for p in pids:
            try:
                (self.path / "cgroup.procs").write_text(str(p))
            except OSError:
                pass

    def remove(self):
        if self.path:
            for _ in range(50):
                try:
                    self.path.rmdir()
                    return
                except OSError:
                    time.sleep(0.1)


def soa_ready(port, timeout):
    """Wait until 127.0.0.1:`port` answers `mobile. SOA` authoritatively."""
    q = dns.message.make_query("mobile.", "SOA")
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            r = dns.query.udp(q, "127.0.0.1", port=port, timeout=0.5)
            if r.rcode() == dns.rcode.NOERROR and r.answer:
                return True
        except Exception:
            pass
        time.sleep(0.5)
    return False


class Server:
    name = "?"

    def __init__(self, work, port, zonefile):
        self.work, self.port, self.zonefile = Path(work), port, Path(zonefile)
        self.proc = None
        self.started = None
        self.load_seconds = None

    def command(self):
        raise NotImplementedError

    def start(self):
        self.work.mkdir(parents=True, exist_ok=True)
        self.log = open(self.work / f"{self.name}.log", "w")
        self.started = time.time()
        self.proc = subprocess.Popen(self.command(), stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, timeout):
        ok = soa_ready(self.port, timeout)
        if not ok or self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} did not start; see {self.work / (self.name + '.log')}")
        self.load_seconds = time.time() - self.started
        return ok

    def pids(self):
        return descendants(self.proc.pid) if self.proc else []

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        pids = self.pids()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for p in pids:  # children that outlived their parent
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def version(self):
        return ""


class Tldns(Server):
    name = "tldns"

    def __init__(self, work, port, zonefile, binary, config, db):
        super().__init__(work, port, zonefile)
        self.binary, self.config, self.db = binary, config, db

    def command(self):
        return [str(self.binary), "--config", str(self.config), "--db", self.db,
                "serve"]

    def version(self):
        return subprocess.run([str(self.binary), "--version"], capture_output=True,
                              text=True).stdout.strip()


class Nsd(Server):
    name = "nsd"

    def command(self):
        d = self.work
        conf = d / "nsd.conf"
        conf.write_text(f"""server:
    ip-address: 127.0.0.1@{self.port}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{d}"
    database: ""
    zonelistfile: "{d}/zone.list"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    pidfile: "{d}/nsd.pid"
    verbosity: 1
    zonefiles-check: no
    zonefiles-write: 0
    # Response rate limiting off: the benchmark measures throughput, and RRL
    # would drop the load generator's repeated queries.
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    # tldns answers minimally; so should the peer we compare with.
    minimal-responses: yes
    refuse-any: yes
    hide-version: yes
    tcp-count: 1000
    tcp-timeout: 10
remote-control:
    control-enable: no
zone:
    name: "mobile."
    zonefile: "{self.zonefile}"
""")
        return ["nsd", "-d", "-c", str(conf)]

    def version(self):
        out = subprocess.run(["nsd", "-v"], capture_output=True, text=True)
        return (out.stdout + out.stderr).splitlines()[0].strip()


class Knot(Server):
    name = "knot"

    def command(self):
        d = self.work
        (d / "knot-db").mkdir(parents=True, exist_ok=True)
        conf = d / "knot.conf"
        conf.write_text(f"""server:
    rundir: "{d}"
    pidfile: "{d}/knot.pid"
    listen: 127.0.0.1@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    tcp-max-clients: 1000
    tcp-idle-timeout: 10
    version: ""
database:
    storage: "{d}/knot-db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "{d}"
    semantic-checks: off
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    # The zone is signed already (by tldns); Knot serves it as it is.
    dnssec-signing: off
zone:
  - domain: mobile.
    file: "{self.zonefile}"
""")
        return ["knotd", "-c", str(conf)]

    def version(self):
        out = subprocess.run(["knotd", "-V"], capture_output=True, text=True)
        return out.stdout.strip()
