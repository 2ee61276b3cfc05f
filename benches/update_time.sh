#!/usr/bin/env bash
# DNS update time (Spec 10: SRS commit to answers): seed a large signed
# zone, start `tldns serve` as primary with NSD (Debian's package) as its
# secondary over TSIG (NOTIFY, IXFR), commit new domains one at a time and
# time each from its commit to the first UDP answer that shows it, on the
# primary and on NSD.
#   benches/update_time.sh [DOMAINS] [CHANGES]      (NSD=0: primary only)
# Appends p50/p95/max to benches/results/update_time.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
CHANGES=${2:-120}
WORK=${WORK:-/tmp/tldns-bench}
PORT=${PORT:-15399}
NSD_PORT=${NSD_PORT:-15398}
NSD=${NSD:-1}
if [ "$NSD" = 1 ] && ! command -v nsd >/dev/null; then
  echo "installing nsd (Debian's package)"; apt-get install -y -qq nsd >/dev/null
fi
mkdir -p "$WORK" benches/results
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q
BIN=${BIN:-$PWD/target/release/tldns}
DBFILE="$WORK/srs-$N.sqlite"
DB="sqlite://$DBFILE"
CFG="$WORK/mobile-update.toml"
sed -e "s|\"mobile.reserved.txt\"|\"$PWD/zones/mobile.reserved.txt\"|" \
    -e "s|\"mobile.collision.txt\"|\"$PWD/zones/mobile.collision.txt\"|" \
    -e "s|state-dir = \"../var\"|state-dir = \"$WORK/var-update\"|" \
    -e "s|keys-dir = \"../keys\"|keys-dir = \"$WORK/keys\"|" \
    -e "s|listen = \[\"127.0.0.1:5353\"\]|listen = [\"127.0.0.1:$PORT\"]|" \
    -e "/^metrics-listen/d" \
    zones/mobile.toml > "$CFG"
# tldns makes keys only when told to: the first ones, once.
ls "$WORK"/keys/*.private >/dev/null 2>&1 || "$BIN" --config "$CFG" keys generate >/dev/null
# No CZDS export during the measurement.
python3 - "$CFG" <<'EOF'
import sys, re
p = sys.argv[1]
s = open(p).read()
if '[export]\nenabled = true' in s:
    s = s.replace('[export]\nenabled = true', '[export]\nenabled = false', 1)
else:
    s = s.replace('[export]\n', '[export]\nenabled = false\n', 1)
open(p, 'w').write(s)
EOF
if [ "$NSD" = 1 ]; then
  # A bench-only TSIG secret, made for this run.
  SECRET=$(head -c 32 /dev/urandom | base64)
  cat >> "$CFG" <<EOF
[[tsig-key]]
name = "bench-nsd."
algorithm = "hmac-sha256"
secret = "$SECRET"
[transfer]
ixfr-history = 200
[[transfer.secondaries]]
address = "127.0.0.1:$NSD_PORT"
notify = true
tsig-key = "bench-nsd."
EOF
  NSDDIR="$WORK/nsd-update"
  rm -rf "$NSDDIR"; mkdir -p "$NSDDIR"
  cat > "$NSDDIR/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$NSD_PORT
    port: $NSD_PORT
    zonesdir: "$NSDDIR"
    pidfile: "$NSDDIR/nsd.pid"
    xfrdfile: "$NSDDIR/xfrd.state"
    zonelistfile: "$NSDDIR/zone.list"
    database: ""
    username: ""
    chroot: ""
    logfile: "$NSDDIR/nsd.log"
    server-count: 1
    verbosity: 2
    # The bench polls NSD every 2 ms while it waits: no response rate limit.
    rrl-ratelimit: 0
remote-control:
    control-enable: no
key:
    name: "bench-nsd."
    algorithm: hmac-sha256
    secret: "$SECRET"
zone:
    name: "mobile."
    zonefile: "mobile.zone"
    allow-notify: 127.0.0.1 bench-nsd.
    request-xfr: 127.0.0.1@$PORT bench-nsd.
EOF
fi
if [ ! -f "$DBFILE" ]; then
  /usr/bin/time -f "seed: %e s wall, %M KB peak RSS" "$BIN" --config "$CFG" --db "$DB" srs seed --domains "$N"
fi
LOG="$WORK/serve-update.log"
"$BIN" --config "$CFG" --db "$DB" serve 2> "$LOG" &
PID=$!
NSDPID=
trap 'kill $PID $NSDPID 2>/dev/null || true' EXIT
if [ "$NSD" = 1 ]; then
  nsd -c "$NSDDIR/nsd.conf" -d 2> "$NSDDIR/nsd.stderr" &
  NSDPID=$!
  SECONDARY=$NSD_PORT
else
  SECONDARY=0
fi
python3 - "$DBFILE" "$PORT" "$CHANGES" "$N" "$LOG" "$SECONDARY" <<'EOF'
import os, random, socket, sqlite3, statistics, struct, sys, time
db, port, changes, n, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
nsd_port = int(sys.argv[6])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(0.05)

def query(name, qtype, port=port):
    qid = random.randrange(65536)
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.strip(".").split(".")) + b"\0"
    msg = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)
    sock.sendto(msg, ("127.0.0.1", port))
    while True:
        try:
            data, _ = sock.recvfrom(4096)
        except socket.timeout:
            return None
        if struct.unpack(">H", data[:2])[0] == qid:
            return data

def rcode(data):
    return data[3] & 0x0F

# Wait for the first version (a full build of a large zone takes minutes).
t = time.time()
while query("mobile.", 6) is None:
    if time.time() - t > 3600:
        sys.exit("server did not come up")
    time.sleep(0.5)
print(f"first version served after {time.time() - t:.0f} s", file=sys.stderr)
time.sleep(2)

def serial(p):
    r = query("mobile.", 6, p)
    if r is None or rcode(r) != 0 or r[7] == 0:
        return None
    # Question (mobile. SOA IN), then the SOA: owner, type, class, TTL,
    # RDLENGTH, then MNAME and RNAME (each compressed or not), SERIAL.
    i = 12 + 8 + 4
    i += 2 if r[i] & 0xC0 == 0xC0 else 8
    i += 10
    for _ in range(2):
        while r[i] != 0 and r[i] & 0xC0 != 0xC0:
            i += 1 + r[i]
        i += 2 if r[i] & 0xC0 == 0xC0 else 1
    return struct.unpack(">I", r[i:i + 4])[0]

if nsd_port:
    t = time.time()
    while serial(nsd_port) is None or serial(nsd_port) != serial(port):
        if time.time() - t > 3600:
            sys.exit("NSD did not load the zone")
        time.sleep(1)
    print(f"NSD serves serial {serial(nsd_port)} after {time.time() - t:.0f} s", file=sys.stderr)

con = sqlite3.connect(db, timeout=30, isolation_level=None)
run = f"{os.getpid()}-{int(time.time())}"
def delegated(r):
    # NOERROR with NS records in the answer or authority section.
    return r is not None and rcode(r) == 0 and (r[7] > 0 or r[9] > 0)

lat, lat_nsd = [], []
for i in range(changes):
    name = f"upd{run}-{i}.mobile"
    assert rcode(query(name + ".", 2) or b"\0\0\0\3") == 3
    # The same rows `tldns srs add-domain` writes; the triggers journal them.
    con.execute("BEGIN IMMEDIATE")
    cur = con.execute("INSERT INTO domain (name) VALUES (?) RETURNING id", (name,))
    did = cur.fetchone()[0]
    con.execute("INSERT INTO domain_ns (domain_id, host_name) VALUES (?, 'ns1.bench-hoster.net')", (did,))
    con.execute("COMMIT")
    t0 = time.perf_counter()
    while True:
        r = query(name + ".", 2)
        if r is not None and rcode(r) == 0:
            break
        time.sleep(0.002)
        if time.perf_counter() - t0 > 600:
            sys.exit(f"{name} not served after 600 s")
    lat.append(time.perf_counter() - t0)
    while nsd_port and not delegated(query(name + ".", 2, nsd_port)):
        time.sleep(0.002)
        if time.perf_counter() - t0 > 600:
            sys.exit(f"{name} not served by NSD after 600 s")
    if nsd_port:
        lat_nsd.append(time.perf_counter() - t0)
    time.sleep(random.uniform(0.05, 0.3))

lat.sort()
lat_nsd.sort()
def pct(v, q):
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]
p = lambda q: pct(lat, q)
import re
incr = []
for line in open(log):
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)
    m = re.search(r"published .*incremental=\d+ ms=(\d+)", line)
    if m:
        incr.append(int(m.group(1)))
srv = ""
if incr:
    incr.sort()
    srv = f"server build+publish p50 {incr[len(incr)//2]} ms, max {incr[-1]} ms"
line = (f"| {time.strftime('%Y-%m-%d', time.gmtime())} | {n} | {len(lat)} | primary (SQLite, poll 50 ms) "
        f"| {p(0.5)*1000:.0f} ms | {p(0.95)*1000:.0f} ms | {lat[-1]*1000:.0f} ms | {srv} |")
path = "benches/results/update_time.md"
if not os.path.exists(path):
    with open(path, "w") as f:
        f.write("| date | domains | changes | where | p50 | p95 | max | notes |\n|---|---|---|---|---|---|---|---|\n")
lines = [line]
if lat_nsd:
    lines.append(f"| {time.strftime('%Y-%m-%d', time.gmtime())} | {n} | {len(lat_nsd)} | NSD secondary (NOTIFY, IXFR, TSIG) "
                 f"| {pct(lat_nsd, 0.5)*1000:.0f} ms | {pct(lat_nsd, 0.95)*1000:.0f} ms | {lat_nsd[-1]*1000:.0f} ms | same commits |")
with open(path, "a") as f:
    for l in lines:
        f.write(l + "\n")
print("\n".join(lines))
EOF
