"""dnsperf query files for the four mixes, from the exported zone file.

Deterministic: the same zone and seed give the same files.
  referral  existing delegated names, type A (a referral from a TLD)
  nxdomain  random names that do not exist, type A
  mixed     60% referral, 30% nxdomain, 10% apex SOA/NS/DNSKEY and DS at a
            delegation (a quarter each)
  mixed0x20 mixed with every letter's case chosen at random (dns-0x20)
"""
import random
import string

MIXES = ["referral", "nxdomain", "mixed", "mixed0x20"]
ALPHABET = string.ascii_lowercase + string.digits


def read_zone(path, origin="mobile."):
    """Delegated names (NS owners below the apex) and those with DS."""
    delegated, with_ds = [], []
    last = None
    with open(path) as f:
        for line in f:
            parts = line.split(None, 4)
            if len(parts) < 4:
                continue
            owner, rtype = parts[0].lower(), parts[3].lower()
            if rtype == "ns" and owner != origin and owner != last:
                delegated.append(owner)
                last = owner
            elif rtype == "ds":
                with_ds.append(owner)
    return delegated, sorted(set(with_ds))


def nx_name(rng, existing, origin):
    while True:
        n = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(6, 14)))
        name = f"{n}.{origin}"
        if name not in existing:
            return name


def random_case(rng, name):
    return "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in name)


def generate(zonefile, outdir, count=100_000, seed=1, origin="mobile."):
    delegated, with_ds = read_zone(zonefile, origin)
    existing = set(delegated)
    outdir.mkdir(parents=True, exist_ok=True)
    files = {}
    for mix in MIXES:
        rng = random.Random(f"{seed}-{mix}")
        lines = []
        for _ in range(count):
            if mix == "referral":
                lines.append(f"{rng.choice(delegated)} A")
            elif mix == "nxdomain":
                lines.append(f"{nx_name(rng, existing, origin)} A")
            else:
                r = rng.random()
                if r < 0.6:
                    q = f"{rng.choice(delegated)} A"
                elif r < 0.9:
                    q = f"{nx_name(rng, existing, origin)} A"
                else:
                    k = rng.randrange(4)
                    if k == 3:
                        pool = with_ds if with_ds and rng.random() < 0.5 else delegated
                        q = f"{rng.choice(pool)} DS"
                    else:
                        q = f"{origin} {('SOA', 'NS', 'DNSKEY')[k]}"
                if mix == "mixed0x20":
                    name, t = q.split()
                    q = f"{random_case(rng, name)} {t}"
                lines.append(q)
        p = outdir / f"{mix}.txt"
        p.write_text("\n".join(lines) + "\n")
        files[mix] = p
    return files, len(delegated), len(with_ds)
