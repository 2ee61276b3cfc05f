"""Answers under load are the same as without: ask tldns and a reference
server (NSD) the same questions and compare the responses field by field.

Compared: RCODE (with extended bits), every header flag, the question
(case-sensitively: RFC 1035 §7.3 / dns-0x20 want it echoed as sent), EDNS
presence and DO, and each section as an order-insensitive multiset of
(owner, TTL, class, type, RDATA). Not compared, because the servers got the
same zone content signed in separate runs: the SOA serial and an RRSIG's
inception, expiration and signature (ECDSA signatures are randomized); an
RRSIG's covered type, algorithm, labels, original TTL, key tag and signer
are compared.

Usable alone: python3 compare.py QUERYFILE PORT_A PORT_B [--do] [--tcp] [-n N]
"""
import argparse
import random

import dns.flags
import dns.message
import dns.query
import dns.rdatatype

FLAG_NAMES = ["QR", "AA", "TC", "RD", "RA", "AD", "CD"]

# What each kind of difference means, with the RFC text that decides it.
# Filled from differences actually seen; a kind not listed here is shown
# as unexplained.
EXPLAINED = {}


def _rdata(rrtype, rd):
    if rrtype == dns.rdatatype.RRSIG:
        return (f"{dns.rdatatype.to_text(rd.type_covered)} {rd.algorithm} {rd.labels} "
                f"{rd.original_ttl} {rd.key_tag} {rd.signer.to_text().lower()}")
    if rrtype == dns.rdatatype.SOA:
        t = rd.to_text().lower().split()
        t[2] = "SERIAL"
        return " ".join(t)
    return rd.to_text().lower()


def rrs(section):
    out = []
    for rrset in section:
        for rd in rrset:
            out.append((rrset.name.to_text().lower(), rrset.ttl, rrset.rdclass,
                        dns.rdatatype.to_text(rrset.rdtype), _rdata(rrset.rdtype, rd)))
    return sorted(out)


def flags(r):
    return {f for f in FLAG_NAMES if r.flags & getattr(dns.flags, f)}


def ask(qname, qtype, port, do, tcp, timeout=3.0):
    q = dns.message.make_query(qname, qtype, use_edns=0, payload=1232, want_dnssec=do)
    if tcp:
        return q, dns.query.tcp(q, "127.0.0.1", port=port, timeout=timeout)
    return q, dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout,
                            ignore_trailing=True)


def diff(q, a, b):
    """Differences between responses `a` (server under test) and `b`
    (reference), as (kind, detail) pairs."""
    out = []
    if a.rcode() != b.rcode():
        out.append(("rcode", f"{a.rcode()} vs {b.rcode()}"))
    fa, fb = flags(a), flags(b)
    for f in sorted(fa ^ fb):
        out.append((f"flag {f}", f"{'set' if f in fa else 'clear'} vs {'set' if f in fb else 'clear'}"))
    qs = q.question[0].name.to_text()
    for who, r in (("tested", a), ("reference", b)):
        if not r.question or r.question[0].name.to_text() != qs:
            got = r.question[0].name.to_text() if r.question else "-"
            out.append((f"question case ({who})", f"{got} for {qs}"))
    if (a.edns >= 0) != (b.edns >= 0):
        out.append(("EDNS", f"{a.edns} vs {b.edns}"))
    elif a.edns >= 0 and (a.ednsflags & dns.flags.DO) != (b.ednsflags & dns.flags.DO):
        out.append(("EDNS DO echo", f"{a.ednsflags} vs {b.ednsflags}"))
    for name, sa, sb in (("answer", a.answer, b.answer),
                         ("authority", a.authority, b.authority),
                         ("additional", a.additional, b.additional)):
        ra, rb = rrs(sa), rrs(sb)
        if ra != rb:
            only_a = [r for r in ra if r not in rb]
            only_b = [r for r in rb if r not in ra]
            for r in only_a:
                out.append((f"{name}: only in tested, {r[3]}", " ".join(map(str, r))))
            for r in only_b:
                out.append((f"{name}: only in reference, {r[3]}", " ".join(map(str, r))))
            if not only_a and not only_b:
                out.append((f"{name}: duplicate records", f"{len(ra)} vs {len(rb)}"))
    return out


def compare(queryfile, port_a, port_b, do, tcp, n=200, seed=0):
    """Ask `n` questions sampled from `queryfile`; returns (asked, diffs)
    where diffs is a list of dicts."""
    lines = [l.split() for l in open(queryfile) if l.strip()]
    rng = random.Random(seed)
    sample = rng.sample(lines, min(n, len(lines)))
    diffs = []
    for qname, qtype in sample:
        try:
            q, a = ask(qname, qtype, port_a, do, tcp)
            _, b = ask(qname, qtype, port_b, do, tcp)
        except Exception as e:  # a timeout is a difference too
            diffs.append({"query": f"{qname} {qtype}", "kind": "no answer", "detail": repr(e)})
            continue
        for kind, detail in diff(q, a, b):
            diffs.append({"query": f"{qname} {qtype}", "kind": kind, "detail": detail})
    return len(sample), diffs


def summarize(diffs):
    """kind -> (count, first example)."""
    out = {}
    for d in diffs:
        k = d["kind"]
        c, ex = out.get(k, (0, d))
        out[k] = (c + 1, ex)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("queryfile")
    ap.add_argument("port_a", type=int)
    ap.add_argument("port_b", type=int)
    ap.add_argument("--do", action="store_true")
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("-n", type=int, default=200)
    a = ap.parse_args()
    asked, diffs = compare(a.queryfile, a.port_a, a.port_b, a.do, a.tcp, a.n)
    print(f"{asked} questions, {len(diffs)} differences")
    for k, (c, ex) in sorted(summarize(diffs).items()):
        print(f"  {c:5}  {k}: e.g. {ex['query']}: {ex['detail']}")
