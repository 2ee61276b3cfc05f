"""benches/results/load.md and load.png from load.json.

Also usable alone: python3 report.py benches/results/load.json
"""
import json
import sys
from pathlib import Path

import compare

SERVERS = ["tldns", "nsd", "knot"]
LABEL = {"tldns": "tldns", "nsd": "NSD", "knot": "Knot"}


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def f0(x):
    return f"{x:,.0f}" if x is not None else "-"


def ms(x):
    return f"{x * 1000:.2f}" if x is not None else "-"


def lg(r, p):
    """dnsperf's CPU over the run, in cores (older results lack it)."""
    x = r.get("loadgen_cpu_s")
    return f"{x / p['duration']:.2f}" if x is not None else "-"


def write(res, out):
    out = Path(out)
    runs = res["runs"]
    cells = []
    for r in runs:
        k = (r["transport"], r["mix"])
        if k not in cells:
            cells.append(k)
    get = lambda t, m, s: [r for r in runs if (r["transport"], r["mix"], r["server"]) == (t, m, s)]  # noqa: E731
    m = res["machine"]
    p = res["params"]
    L = []
    L.append("# Side by side: tldns, NSD, Knot DNS on the same signed zone\n")
    L.append(f"{m['date']}; tldns {m['git']}. Made by `benches/side_by_side.sh` "
             "(benches/load/bench.py); raw numbers in `load.json`.\n")
    L.append("| | |\n|---|---|")
    L.append(f"| machine | {m['nproc']} CPUs, {m['cpu']}, {m['memory']} RAM, kernel {m['kernel']} |")
    for s in SERVERS:
        if s in res["versions"]:
            L.append(f"| {LABEL[s]} | {res['versions'][s]} |")
    L.append(f"| dnsperf | {m['dnsperf']} |")
    for size, z in sorted(res["sizes"].items(), key=lambda x: int(x[0])):
        L.append(f"| zone, {int(size):,} seeded | {z['delegations']:,} delegations "
                 f"({z['with_ds']:,} with DS), NSEC3 no opt-out, ECDSA P-256; "
                 f"{z['zone_bytes'] / 1e6:.0f} MB master file; seed {z['seed']}, "
                 f"`tldns export` (build, sign, verify, write) {z['export']} |")
    L.append(f"| servers | each on CPU 0, one worker (tldns `udp-workers = 1`; NSD "
             f"`server-count: 1`; Knot 1 UDP, 1 TCP, 1 background worker), RRL off, "
             f"minimal responses; CPU quota: {res['quota']} |")
    L.append(f"| load | dnsperf on CPU 1, {p['clients']} clients, 100 outstanding, "
             f"{p['duration']} s per run, {p['rounds']} rounds, servers alternating within "
             f"each cell (A B C, A B C); UDP with EDNS and DO clear, UDP with DO, TCP with DO |")
    L.append("")
    L.append("Mixes: **referral** existing delegations, type A; **nxdomain** random "
             "non-existent names, type A (with DO: NSEC3 closest-encloser proof); "
             "**mixed** 60% referral, 30% nxdomain, 10% apex SOA/NS/DNSKEY and DS; "
             "**mixed0x20** the same with random letter case.\n")

    if runs:
        goals(L, res, cells, get)
        L.append("## Queries per second (round 1 / round 2) and ratios of the means\n")
        L.append("| transport | mix | tldns | NSD | Knot | tldns/NSD | tldns/Knot |")
        L.append("|---|---|---|---|---|---|---|")
        for t, mx in cells:
            q = {s: [r["qps"] for r in get(t, mx, s)] for s in SERVERS}
            L.append(f"| {t} | {mx} | " + " | ".join(" / ".join(f0(x) for x in q[s]) for s in SERVERS)
                     + f" | {ratio(mean(q['tldns']), mean(q['nsd']))} | "
                     f"{ratio(mean(q['tldns']), mean(q['knot']))} |")
        L.append("")
        tcp = [(t, mx) for t, mx in cells if t.startswith("tcp")]
        if tcp:
            L.append("TCP, with the connection cap and idle timeout in force (tldns "
                     "`tcp-max-connections = 1000`, `tcp-idle-timeout-ms = 10000`; NSD "
                     "`tcp-count: 1000`, `tcp-timeout: 10`; Knot `tcp-max-clients: 1000`, "
                     "`tcp-idle-timeout: 10`), against the better of NSD and Knot (means of "
                     "the rounds):\n")
            L.append("| mix | tldns | better peer | tldns / better | at least as many? |")
            L.append("|---|---|---|---|---|")
            for t, mx in tcp:
                q = {s: mean([r["qps"] for r in get(t, mx, s)]) for s in SERVERS}
                best = max(("nsd", "knot"), key=lambda s: q[s] or 0)
                ok = q["tldns"] and q[best] and q["tldns"] >= q[best]
                L.append(f"| {mx} | {f0(q['tldns'])} | {LABEL[best]} {f0(q[best])} | "
                         f"{ratio(q['tldns'], q[best])} | {'yes' if ok else '**no**'} |")
            L.append("")
        L.append("## CPU seconds per million queries (utime+stime of all threads, mean of rounds; "
                 "lower is better) and ratios\n")
        L.append("| transport | mix | tldns | NSD | Knot | tldns/NSD | tldns/Knot |")
        L.append("|---|---|---|---|---|---|---|")
        for t, mx in cells:
            c = {s: mean([r["cpu_s_per_mq"] for r in get(t, mx, s)]) for s in SERVERS}
            L.append(f"| {t} | {mx} | " + " | ".join(f"{c[s]:.2f}" if c[s] else "-" for s in SERVERS)
                     + f" | {ratio(c['tldns'], c['nsd'])} | {ratio(c['tldns'], c['knot'])} |")
        L.append("")
        L.append("## Every run\n")
        L.append("Latency is dnsperf's per-query time (from `-v`), with 100 queries "
                 "outstanding per client against a server held to its quota: it is mostly "
                 "queueing. Memory is after the run. *Cores* is the server's CPU time over "
                 "the run's length: at the quota, the server was the limit; well below it, "
                 "something else was (dnsperf, or other work on a shared machine).\n")
        L.append("| transport | mix | server | round | q/s | lost | p50 ms | p99 ms | "
                 "CPU s / M queries | cores | dnsperf cores | RSS MB |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for t, mx in cells:
            for s in SERVERS:
                for r in get(t, mx, s):
                    L.append(f"| {t} | {mx} | {LABEL[s]} | {r['round']} | {f0(r['qps'])} | "
                             f"{r['lost']} | {ms(r['p50'])} | {ms(r['p99'])} | "
                             f"{r['cpu_s_per_mq']:.2f} | {r['cpu_s'] / p['duration']:.2f} | "
                             f"{lg(r, p)} | "
                             f"{r['rss'] / 2**20:.0f} |"
                             if r["cpu_s_per_mq"] else
                             f"| {t} | {mx} | {LABEL[s]} | {r['round']} | - | - | - | - | - | - | - | - |")
        L.append("")

    mem = res["memory"]
    if mem:
        L.append("## Memory\n")
        L.append("PSS summed over the server's processes (NSD's forked server shares the zone "
                 "with its parent; PSS counts shared pages once), after load; RSS of the "
                 "largest process beside it.\n")
        L.append("| delegations | server | PSS MB | largest RSS MB | bytes per delegation (PSS) "
                 "| idle PSS MB before load | seconds to serve (all 3 starting together) |")
        L.append("|---|---|---|---|---|---|---|")
        for e in sorted(mem, key=lambda e: (e["delegations"], SERVERS.index(e["server"]))):
            L.append(f"| {e['delegations']:,} | {LABEL[e['server']]} | {e['pss'] / 2**20:,.0f} | "
                     f"{e['rss'] / 2**20:,.0f} | {e['pss'] / e['delegations']:,.0f} | "
                     f"{e['idle_pss'] / 2**20:,.0f} | {e['load_seconds']:.0f} |")
        sizes = sorted({e["delegations"] for e in mem})
        if len(sizes) > 1:
            lo, hi = sizes[0], sizes[-1]
            L.append("")
            L.append(f"Growth from {lo:,} to {hi:,} delegations (bytes of PSS per added delegation):\n")
            L.append("| server | PSS at small | PSS at large | bytes per added delegation |")
            L.append("|---|---|---|---|")
            for s in SERVERS:
                a = [e for e in mem if e["server"] == s and e["delegations"] == lo]
                b = [e for e in mem if e["server"] == s and e["delegations"] == hi]
                if a and b:
                    g = (b[0]["pss"] - a[0]["pss"]) / (hi - lo)
                    L.append(f"| {LABEL[s]} | {a[0]['pss'] / 2**20:,.0f} MB | "
                             f"{b[0]['pss'] / 2**20:,.0f} MB | {g:,.0f} |")
        L.append("")

    cmp_ = res["compare"]
    if cmp_:
        L.append("## Answers under load against NSD's\n")
        L.append("After each cell, a sample of the cell's questions (same DO bit and transport) "
                 "went to the server and to NSD; the responses were compared field by field: "
                 "RCODE, every header flag, the question with its case, EDNS and DO, and each "
                 "section as an order-insensitive multiset of records. The SOA serial and "
                 "RRSIG inception, expiration and signature are not compared (each server "
                 "holds the same content signed in its own run; ECDSA signatures are "
                 "randomized). Knot against NSD is a check of the check.\n")
        L.append("| tested | answers compared | differences | kinds |")
        L.append("|---|---|---|---|")
        for tested in ("tldns", "knot"):
            cs = [c for c in cmp_ if c["tested"] == tested]
            diffs = [d for c in cs for d in c["diffs"]]
            kinds = compare.summarize(diffs)
            L.append(f"| {LABEL[tested]} | {sum(c['asked'] for c in cs):,} | {len(diffs)} | "
                     + (", ".join(f"{k} ({n})" for k, (n, _) in sorted(kinds.items())) or "none")
                     + " |")
        L.append("")
        for tested in ("tldns", "knot"):
            diffs = [dict(d, cell=f"{c['transport']} {c['mix']} r{c['round']}")
                     for c in cmp_ if c["tested"] == tested for d in c["diffs"]]
            if not diffs:
                continue
            L.append(f"### {LABEL[tested]} differs from NSD\n")
            for k, (n, ex) in sorted(compare.summarize(diffs).items()):
                L.append(f"- **{k}** ({n}×), e.g. `{ex['query']}` ({ex['cell']}): {ex['detail']}")
                why = compare.EXPLAINED.get(k) if tested == "tldns" else None
                L.append(f"  - {why}" if why else "  - not explained yet")
            L.append("")
    (out / "load.md").write_text("\n".join(L) + "\n")
    if runs:
        chart(res, cells, get, out / "load.png")


def goals(L, res, cells, get):
    """The performance goals, each as a ratio in this run: per mix, UDP with
    DO set, q/s at least 1.3x and CPU per query at most 0.7x the better of
    NSD and Knot, no lost queries where the peers lose none; memory at the
    largest size no more than NSD's; TCP q/s at least the better peer's."""
    L.append("## Goals, in this run\n")
    L.append("Per mix, UDP with DO set, against the better of NSD and Knot (means of the "
             "rounds); memory (PSS) at the largest size against NSD; TCP against the better "
             "peer.\n")
    L.append("| goal | mix | tldns | better peer | ratio | met? |")
    L.append("|---|---|---|---|---|---|")
    yes = lambda ok: "yes" if ok else "**no**"  # noqa: E731
    for t, mx in cells:
        if t != "udp+do":
            continue
        q = {s: mean([r["qps"] for r in get(t, mx, s)]) for s in SERVERS}
        c = {s: mean([r["cpu_s_per_mq"] for r in get(t, mx, s)]) for s in SERVERS}
        lost = {s: sum(r["lost"] for r in get(t, mx, s)) for s in SERVERS}
        bq = max(("nsd", "knot"), key=lambda s: q[s] or 0)
        bc = min(("nsd", "knot"), key=lambda s: c[s] or float("inf"))
        if q["tldns"] and q[bq]:
            L.append(f"| q/s >= 1.3x | {mx} | {f0(q['tldns'])} | {LABEL[bq]} {f0(q[bq])} | "
                     f"{ratio(q['tldns'], q[bq])} | {yes(q['tldns'] >= 1.3 * q[bq])} |")
        if c["tldns"] and c[bc]:
            L.append(f"| CPU/query <= 0.7x | {mx} | {c['tldns']:.2f} s/Mq | {LABEL[bc]} "
                     f"{c[bc]:.2f} s/Mq | {ratio(c['tldns'], c[bc])} | "
                     f"{yes(c['tldns'] <= 0.7 * c[bc])} |")
        peers_lost = lost["nsd"] + lost["knot"]
        L.append(f"| no lost queries (peers lost {peers_lost}) | {mx} | {lost['tldns']} lost | | | "
                 f"{yes(lost['tldns'] == 0 or peers_lost > 0)} |")
    for t, mx in cells:
        if not t.startswith("tcp"):
            continue
        q = {s: mean([r["qps"] for r in get(t, mx, s)]) for s in SERVERS}
        bq = max(("nsd", "knot"), key=lambda s: q[s] or 0)
        if q["tldns"] and q[bq]:
            L.append(f"| TCP q/s >= better | {mx} | {f0(q['tldns'])} | {LABEL[bq]} {f0(q[bq])} | "
                     f"{ratio(q['tldns'], q[bq])} | {yes(q['tldns'] >= q[bq])} |")
    mem = res.get("memory") or []
    if mem:
        top = max(int(m["size"]) for m in mem)
        pss = {m["server"]: m["pss"] for m in mem if int(m["size"]) == top}
        if "tldns" in pss and "nsd" in pss:
            L.append(f"| memory <= NSD's | {top:,} domains | {pss['tldns'] / 2**20:,.0f} MB | "
                     f"NSD {pss['nsd'] / 2**20:,.0f} MB | {ratio(pss['tldns'], pss['nsd'])} | "
                     f"{yes(pss['tldns'] <= pss['nsd'])} |")
    L.append("")


def chart(res, cells, get, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(12, 8), sharex=True)
    x = range(len(cells))
    w = 0.27
    colors = {"tldns": "#d95f02", "nsd": "#1b9e77", "knot": "#7570b3"}
    for i, s in enumerate(SERVERS):
        for ax, key, scale in ((axes[0], "qps", 1e-3), (axes[1], "cpu_s_per_mq", 1.0)):
            vals = [[r[key] * scale for r in get(t, m, s) if r[key]] for t, m in cells]
            mid = [mean(v) or 0 for v in vals]
            lo = [mid[j] - (min(v) if v else 0) for j, v in enumerate(vals)]
            hi = [(max(v) if v else 0) - mid[j] for j, v in enumerate(vals)]
            ax.bar([j + (i - 1) * w for j in x], mid, w, yerr=[lo, hi], capsize=2,
                   label=LABEL[s], color=colors[s])
    axes[0].set_ylabel("thousand queries/s\n(higher is better)")
    axes[1].set_ylabel("CPU s per million queries\n(lower is better)")
    axes[1].set_xticks(list(x))
    axes[1].set_xticklabels([f"{t}\n{m}" for t, m in cells], fontsize=8)
    axes[0].legend()
    m = res["machine"]
    axes[0].set_title(f"{max(e['delegations'] for e in res['memory']) if res['memory'] else ''} "
                      f"delegations, NSEC3; each server on 1 core held to {res['quota']}\n"
                      f"{m['cpu']}, {m['nproc']} CPUs, kernel {m['kernel']}; bars: mean, "
                      f"whiskers: min/max of rounds", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    p = Path(sys.argv[1] if len(sys.argv) > 1 else "benches/results/load.json")
    write(json.loads(p.read_text()), p.parent)
