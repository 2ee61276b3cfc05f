"""Side-by-side load benchmark: tldns, NSD and Knot DNS serving the same
signed NSEC3 zone, measured with dnsperf. Run it through
benches/side_by_side.sh, which installs what this needs.

Method (why each choice: the machine has 2 cores, so servers and load
generator must not share one, and a peer must get the same CPU as tldns):
- One zone for all: `tldns srs seed` (deterministic), then `tldns export`
  (build, sign with NSEC3 and ECDSA P-256, verify, write the CZDS file);
  NSD and Knot load that file, tldns serves the same SRS with the same keys.
- Each server on CPU 0 with one worker (tldns `udp-workers = 1`, NSD
  `server-count: 1`, Knot one UDP, TCP and background worker), response
  rate limiting off, minimal responses, and held to a CPU quota of half a
  core by a cgroup (v1 or v2, whichever is writable; if neither, no quota,
  and the results say so). dnsperf runs on CPU 1: on these machines it
  saturates its own core near 130k q/s, so without the quota the load
  generator, not the server, would be measured.
- Servers start together and unpinned (loading is not measured), then are
  pinned and capped. Every cell (transport x mix) runs A B C, and the
  whole matrix runs again for round 2.
- Per run: dnsperf's q/s and lost queries, p50/p99 of its per-query
  latencies (`-v`), CPU seconds per million answered queries from
  utime+stime in /proc/PID/stat of every process of the server, and memory
  (PSS summed over its processes, largest VmRSS).
- After each cell, a sample of its questions goes to tldns and to NSD (and
  to Knot and NSD as a control); compare.py lists every difference.
- Memory is also measured at the other --mem-sizes after a short load.
Results: --out (benches/results/) load.md, load.json, load.png.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import compare  # noqa: E402
import queries  # noqa: E402
import tomlcfg  # noqa: E402
from servers import Knot, Nsd, Quota, Tldns, cpu_seconds, memory, pin, soa_ready  # noqa: E402

REPO = HERE.parent.parent
SERVER_CPU, LOADGEN_CPU = 0, 1
# (label, dnsperf mode, DO bit)
TRANSPORTS = [("udp", "udp", False), ("udp+do", "udp", True), ("tcp+do", "tcp", True)]


def log(*a):
    print(f"[{datetime.datetime.now():%H:%M:%S}]", *a, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def prepare(size, work, binary, base_port):
    """Seeded SRS, keys, the exported zone file and query files for `size`
    delegations, reused from earlier runs when present (delete WORK to redo)."""
    d = work / str(size)
    d.mkdir(parents=True, exist_ok=True)
    cfg = tomlcfg.write_config(REPO, d, base_port)
    db = f"sqlite://{d / 'srs.sqlite'}"
    tl = [str(binary), "--config", str(cfg), "--db", db]
    if not (d / "seeded").exists():
        for f in d.glob("srs.sqlite*"):
            f.unlink()
        log(f"seeding {size} domains")
        t = time.time()
        run(tl + ["srs", "seed", "--domains", str(size), "--seed", "1"], stdout=subprocess.DEVNULL)
        (d / "seeded").write_text(f"{time.time() - t:.1f} s\n")
    # tldns makes keys only when told to: the zone's first ones, once.
    if not any((d / "keys").glob("*.private")):
        run(tl + ["keys", "generate"], stdout=subprocess.DEVNULL)
    zonefile = d / "mobile.zone"
    if not zonefile.exists():
        log(f"building, signing and exporting the {size}-domain zone (tldns export)")
        t = time.time()
        out = d / "export"
        shutil.rmtree(out, ignore_errors=True)
        run(tl + ["export", "--out", str(out)], stdout=subprocess.DEVNULL,
            stderr=open(d / "export.log", "w"))
        # The CZDS file ends with the SOA again (Spec 4 §2.1.4); a master
        # file for NSD and Knot has it once, first.
        tmp = zonefile.with_suffix(".tmp")
        with subprocess.Popen(["gzip", "-dc", str(out / "mobile.zone.gz")],
                              stdout=subprocess.PIPE, text=True) as gz, open(tmp, "w") as f:
            soa = 0
            for line in gz.stdout:
                p = line.split(None, 4)
                if len(p) > 3 and p[3].lower() == "soa":
                    soa += 1
                    if soa > 1:
                        continue
                f.write(line)
        tmp.rename(zonefile)
        (d / "exported").write_text(f"{time.time() - t:.1f} s\n")
    qdir = d / "queries"
    if not (qdir / "done").exists():
        log("writing dnsperf query files")
        queries.generate(zonefile, qdir, count=100_000, seed=1)
        (qdir / "done").write_text("")
    files = {m: qdir / f"{m}.txt" for m in queries.MIXES}
    servers = [
        Tldns(d / "tldns", base_port, zonefile, binary, cfg, db),
        Nsd(d / "nsd", base_port + 1, zonefile),
        Knot(d / "knot", base_port + 2, zonefile),
    ]
    return d, servers, files


def start_all(servers, quotas, timeout):
    """Start every server (unpinned, so loading is not the measurement),
    then pin each to the server CPU and put it under its quota."""
    for s in servers:
        s.start()
    waiting, deadline = list(servers), time.time() + timeout
    while waiting:
        for s in list(waiting):
            if s.proc.poll() is not None:
                raise RuntimeError(f"{s.name} exited; see {s.work / (s.name + '.log')}")
            if soa_ready(s.port, 0.5):
                s.load_seconds = time.time() - s.started
                waiting.remove(s)
                log(f"{s.name} serving after {s.load_seconds:.1f} s (all started together)")
        if time.time() > deadline:
            raise RuntimeError(f"not serving after {timeout} s: {[s.name for s in waiting]}")
        time.sleep(1)
    for s in servers:
        pin(s.pids(), SERVER_CPU)
        quotas[s.name].add(s.pids())


def dnsperf(server, qfile, mode, do, duration, clients, outdir, tag):
    cmd = ["taskset", "-c", str(LOADGEN_CPU), "dnsperf", "-s", "127.0.0.1",
           "-p", str(server.port), "-d", str(qfile), "-l", str(duration),
           "-c", str(clients), "-q", "100", "-t", "2", "-m", mode, "-v"]
    cmd += ["-D"] if do else ["-e"]
    out = outdir / f"{tag}.dnsperf"
    pids = server.pids()
    cpu0 = cpu_seconds(pids)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=False)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1 = cpu_seconds(server.pids())
    r = parse_dnsperf(out)
    r["cpu_s"] = cpu1 - cpu0
    # dnsperf's own CPU: near 1 core means the load generator was the limit.
    r["loadgen_cpu_s"] = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    r["cpu_s_per_mq"] = r["cpu_s"] / r["completed"] * 1e6 if r["completed"] else None
    r["pss"], r["rss"] = memory(server.pids())
    r["cmd"] = " ".join(cmd)
    out.unlink()  # hundreds of MB per run in -v mode; the summary is kept
    return r


def parse_dnsperf(path):
    lat, codes = [], {}
    r = {"sent": 0, "completed": 0, "lost": 0, "qps": 0.0, "avg": None}
    with open(path) as f:
        for line in f:
            if line.startswith("> "):
                # "> RCODE name type latency", or "> T name type" for a timeout.
                p = line.split()
                if p[1] == "T":
                    codes["timeout"] = codes.get("timeout", 0) + 1
                    continue
                try:
                    lat.append(float(p[-1]))
                except ValueError:
                    continue
                codes[p[1]] = codes.get(p[1], 0) + 1
            elif "Queries sent:" in line:
                r["sent"] = int(line.split()[2])
            elif "Queries completed:" in line:
                r["completed"] = int(line.split()[2])
            elif "Queries lost:" in line:
                r["lost"] = int(line.split()[2])
            elif "Queries per second:" in line:
                r["qps"] = float(line.split()[3])
            elif "Average Latency" in line:
                r["avg"] = float(line.split()[3])
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None  # noqa: E731
    r["p50"], r["p99"] = pct(0.50), pct(0.99)
    r["rcodes"] = codes
    return r


def machine():
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = ""
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) // 1024} MB"
    dp = subprocess.run(["dnsperf", "-h"], capture_output=True, text=True)
    dpv = re.search(r"Version (\S+)", dp.stdout + dp.stderr)
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "memory": mem, "dnsperf": dpv.group(1) if dpv else "?",
            "git": rev + (" (with uncommitted changes)" if dirty else ""),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--domains", type=int, default=1_000_000)
    ap.add_argument("--mem-sizes", default="100000,1000000",
                    help="sizes whose memory is measured (the --domains size always is)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per dnsperf run")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--quota", type=float, default=0.5, help="server CPU quota, cores")
    ap.add_argument("--sample", type=int, default=150, help="answers compared after each run")
    ap.add_argument("--work", type=Path, default=Path("/tmp/tldns-loadbench"))
    ap.add_argument("--binary", type=Path, default=REPO / "target/release/tldns")
    ap.add_argument("--out", type=Path, default=REPO / "benches/results")
    ap.add_argument("--port", type=int, default=15300)
    a = ap.parse_args()

    a.work.mkdir(parents=True, exist_ok=True)
    a.out.mkdir(parents=True, exist_ok=True)
    # The shared target dir is rebuilt by others; run one fixed binary.
    binary = a.work / "tldns"
    shutil.copy2(a.binary, binary)
    sizes = sorted({a.domains} | {int(x) for x in a.mem_sizes.split(",") if x})
    names = ["tldns", "nsd", "knot"]
    quotas = {n: Quota(f"tldns-bench-{n}", a.quota) for n in names}
    q0 = quotas["tldns"]
    quota_note = (f"{a.quota} core per server ({q0.kind})" if q0.kind
                  else f"none ({q0.why}): the load generator may be the limit")
    res = {"machine": machine(), "params": vars(a) | {"work": str(a.work), "binary": str(a.binary),
                                                       "out": str(a.out)},
           "quota": quota_note, "runs": [], "memory": [], "compare": [], "versions": {},
           "sizes": {}}
    res["params"].pop("func", None)
    log(f"quota: {quota_note}")
    try:
        for size in sizes:
            port = a.port + 10 * sizes.index(size)
            d, servers, files = prepare(size, a.work, binary, port)
            ndeleg, nds = queries.read_zone(d / "mobile.zone")
            ndeleg, nds = len(ndeleg), len(nds)
            res["sizes"][size] = {"delegations": ndeleg, "with_ds": nds,
                                  "zone_bytes": (d / "mobile.zone").stat().st_size,
                                  "seed": (d / "seeded").read_text().strip(),
                                  "export": (d / "exported").read_text().strip()}
            log(f"{size}: {ndeleg} delegations ({nds} with DS), zone file "
                f"{res['sizes'][size]['zone_bytes'] / 1e6:.0f} MB")
            try:
                start_all(servers, quotas, timeout=1800)
                for s in servers:
                    res["versions"][s.name] = s.version()
                idle = {s.name: memory(s.pids()) for s in servers}
                if size == a.domains:
                    matrix(a, servers, files, res, d)
                else:
                    # Memory only: a short mixed load, so lazily touched pages count.
                    for s in servers:
                        dnsperf(s, files["mixed"], "udp", True, min(a.duration, 5),
                                a.clients, d, f"warm-{s.name}")
                for s in servers:
                    pss, rss = memory(s.pids())
                    res["memory"].append({"size": size, "delegations": ndeleg, "server": s.name,
                                          "pss": pss, "rss": rss, "idle_pss": idle[s.name][0],
                                          "load_seconds": s.load_seconds})
                    log(f"{s.name} at {size}: PSS {pss / 2**20:.0f} MB, RSS {rss / 2**20:.0f} MB")
            finally:
                for s in servers:
                    s.stop()
            (a.out / "load.json").write_text(json.dumps(res, indent=1, default=str))
    finally:
        for q in quotas.values():
            q.remove()
    (a.out / "load.json").write_text(json.dumps(res, indent=1, default=str))
    import report
    report.write(res, a.out)
    log(f"results: {a.out / 'load.md'}")


def matrix(a, servers, files, res, d):
    by = {s.name: s for s in servers}
    # Rounds outermost: each cell is A B C, and round 2 comes minutes later.
    for rnd in range(1, a.rounds + 1):
        for label, mode, do in TRANSPORTS:
            for mix in queries.MIXES:
                for s in servers:
                    r = dnsperf(s, files[mix], mode, do, a.duration, a.clients, d,
                                f"{s.name}-{mix}-{label}-{rnd}")
                    r.update(server=s.name, mix=mix, transport=label, round=rnd)
                    res["runs"].append(r)
                    (a.out / "load.json").write_text(json.dumps(res, indent=1, default=str))
                    log(f"r{rnd} {label:7} {mix:9} {s.name:5} {r['qps']:9.0f} q/s "
                        f"lost {r['lost']:5} p50 {fmt_ms(r['p50'])} p99 {fmt_ms(r['p99'])} "
                        f"cpu {r['cpu_s_per_mq'] or 0:6.1f} s/Mq")
                # After the run: the same questions to tldns and NSD (and
                # Knot against NSD, a check of the check).
                seed = f"{rnd}-{label}-{mix}"
                for tested in ("tldns", "knot"):
                    asked, diffs = compare.compare(files[mix], by[tested].port, by["nsd"].port,
                                                   do, mode == "tcp", a.sample, seed)
                    res["compare"].append({"tested": tested, "reference": "nsd", "mix": mix,
                                           "transport": label, "round": rnd, "asked": asked,
                                           "diffs": diffs})
                    if diffs:
                        log(f"   {tested} vs nsd: {len(diffs)} differences in {asked} answers")


def fmt_ms(x):
    return f"{x * 1000:6.2f}ms" if x is not None else "   -   "


if __name__ == "__main__":
    main()
