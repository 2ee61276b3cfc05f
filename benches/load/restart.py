"""Restart to answering: how long after its start each server answers
`mobile. SOA` for the same signed zone, one server at a time (each has
both cores; nothing else runs).

- tldns, cold: no stored version (snapshot and journal removed), so it
  builds, signs and verifies the zone from the SRS, as every start did
  before the durable state.
- tldns, restart after SIGTERM, and after SIGKILL: it reads the stored
  version back (snapshot plus journal, SHA-256 checked) and serves it.
- NSD and Knot loading the zone file tldns exported (the same records).

The zone, SRS and query files are bench.py's (`prepare`), reused when
present. Writes benches/results/restart-<date>-<commit>.md.

    python3 benches/load/restart.py --domains 1000000
"""
import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
from servers import memory  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def answers(port, deadline):
    """Poll 127.0.0.1:`port` for `mobile. SOA` every 50 ms until it
    answers authoritatively; the time of the first answer, or None."""
    q = dns.message.make_query("mobile.", "SOA")
    while time.time() < deadline:
        try:
            r = dns.query.udp(q, "127.0.0.1", port=port, timeout=0.05)
            if r.rcode() == dns.rcode.NOERROR and r.answer:
                return time.time()
        except Exception:
            time.sleep(0.05)
    return None


def timed_start(server, timeout):
    server.start()
    at = answers(server.port, time.time() + timeout)
    if at is None or server.proc.poll() is not None:
        raise RuntimeError(f"{server.name} did not start; see {server.work}")
    seconds = at - server.started
    rss = memory(server.pids())
    return seconds, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--domains", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/tldns-loadbench"))
    ap.add_argument("--binary", type=Path, default=REPO / "target/release/tldns")
    ap.add_argument("--out", type=Path, default=REPO / "benches/results")
    ap.add_argument("--port", type=int, default=15300)
    ap.add_argument("--timeout", type=int, default=900)
    a = ap.parse_args()

    d, servers, _ = bench.prepare(a.domains, a.work, a.binary, a.port)
    tldns, nsd, knot = servers
    var = d / "var"
    rows = []

    def measure(label, server, kill=signal.SIGTERM):
        seconds, mem = timed_start(server, a.timeout)
        bench.log(f"{label}: answering after {seconds:.1f} s")
        rows.append({"case": label, "seconds": round(seconds, 1), "memory": mem})
        if kill == signal.SIGKILL:
            server.proc.kill()
            server.proc.wait()
        else:
            server.stop()

    for f in list(var.glob("*.snapshot")) + list(var.glob("*.journal")):
        f.unlink()
    measure("tldns, cold (no stored version: build, sign, verify)", tldns)
    measure("tldns, restart after SIGTERM (stored version read back)", tldns, signal.SIGKILL)
    measure("tldns, restart after SIGKILL (stored version read back)", tldns)
    log_text = (tldns.work / "tldns.log").read_text(errors="replace")
    restored = "serving the stored version" in log_text
    measure("NSD, zone file", nsd)
    measure("Knot, zone file", knot)

    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    stamp = time.strftime("%Y-%m-%dT%H%M", time.gmtime())
    base = a.out / f"restart-{stamp}-{commit}"
    peers = [r["seconds"] for r in rows if not r["case"].startswith("tldns")]
    best_peer = min(peers)
    lines = [
        f"# Restart to answering, {a.domains:,} delegations ({commit}, {cpu}, 2 cores)",
        "",
        "One server at a time; seconds from exec to the first authoritative SOA answer.",
        f"Last restart's log says it served the stored version: {restored}.",
        "",
        "| case | seconds | vs faster peer | memory after start |",
        "|---|---|---|---|",
    ]
    for r in rows:
        mem_s = f"{r['memory'][0] // 2**20:,} MB PSS"
        lines.append(f"| {r['case']} | {r['seconds']} | {r['seconds'] / best_peer:.2f} | {mem_s} |")
    a.out.mkdir(parents=True, exist_ok=True)
    base.with_suffix(".md").write_text("\n".join(lines) + "\n")
    base.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
