#!/usr/bin/env bash
# Does the probe's UDP resolution RTT agree with an independent client?
#
# tldns serves the signed demo zone on 127.0.0.1; in the same run, twice
# and alternating (probe, dnsperf, probe, dnsperf), 1,000 UDP queries at
# 1,000 q/s of the same mix (apex SOA/NS/DNSKEY, apex A nodata, referrals,
# NXDOMAIN; DO set) go from `tldns probe --load` and from `dnsperf -v`
# (which prints each query's latency). The p50 of each is printed, and the
# ratio probe/dnsperf. Acceptance: within 20%.
#
# Usage: benches/probe_rtt.sh [DOMAINS]   (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
DOMAINS=${1:-10000}
N=1000
QPS=1000
for t in dnsperf taskset; do
  command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }
done
cargo build --release -q
BIN=$PWD/target/release/tldns
W=$(mktemp -d /tmp/tldns-probe-bench.XXXXXX)
PORT=$((20000 + RANDOM % 20000))
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

sed -e "s#\"mobile.reserved.txt\"#\"$PWD/zones/mobile.reserved.txt\"#" \
    -e "s#\"mobile.collision.txt\"#\"$PWD/zones/mobile.collision.txt\"#" \
    -e "s#state-dir = \"../var\"#state-dir = \"$W/var\"#" \
    -e "s#keys-dir = \"../keys\"#keys-dir = \"$W/keys\"#" \
    -e "s#127.0.0.1:5353#127.0.0.1:$PORT#" -e "/metrics-listen/d" \
    zones/mobile.toml > "$W/mobile.toml"
# tldns makes keys only when told to: the zone's first ones.
"$BIN" --config "$W/mobile.toml" keys generate >/dev/null
DB="sqlite://$W/srs.sqlite"
T() { "$BIN" --config "$W/mobile.toml" --db "$DB" "$@"; }
T srs init >/dev/null
T srs seed --domains "$DOMAINS" >/dev/null
taskset -c 0 "$BIN" --config "$W/mobile.toml" --db "$DB" serve 2>"$W/serve.log" &
SERVER=$!
for _ in $(seq 100); do
  dig +short +time=1 +tries=1 @127.0.0.1 -p "$PORT" mobile SOA >/dev/null 2>&1 && break
  sleep 0.5
done

# The same query mix for both clients.
# Registered names that are delegated (some are held or refused by policy).
T srs list --limit 200 > "$W/all.txt"
"$BIN" probe --zone mobile --server "127.0.0.1:$PORT" --trust-anchor "$W/keys" \
  --names "$W/all.txt" --referrals 200 --nxdomains 0 --transport udp --once --json 2>/dev/null |
  python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("expect") == "referral" and o["answered"]:
        print(o["qname"])' > "$W/names.txt" || true
{
  echo "mobile. SOA"; echo "mobile. NS"; echo "mobile. DNSKEY"; echo "mobile. A"
  head -4 "$W/names.txt" | sed 's/$/ A/'
  for i in 1 2; do printf 'tp--%016x.mobile. A\n' $((RANDOM * RANDOM)); done
} > "$W/queries.txt"

probe_p50() {
  taskset -c 1 "$BIN" probe --zone mobile --server "127.0.0.1:$PORT" \
    --trust-anchor "$W/keys" --names "$W/names.txt" --referrals 4 --nxdomains 2 \
    --load "$QPS" --duration "$((N / QPS))s" --transport udp --json |
    python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("kind") == "summary":
        assert o["unanswered"] == 0, o
        print("%.4f" % o["p50_ms"])'
}

dnsperf_p50() {
  local per=$(( N / $(wc -l < "$W/queries.txt") ))
  taskset -c 1 dnsperf -s 127.0.0.1 -p "$PORT" -d "$W/queries.txt" -n "$per" \
    -Q "$QPS" -D -v 2>/dev/null |
    awk '/^> /{print $NF * 1000}' | sort -g |
    awk '{a[NR]=$1} END{i=int((NR+1)/2); printf "%.4f\n", a[i]}'
}

echo "tldns signed demo zone, $DOMAINS domains; $N UDP queries at $QPS q/s per run"
printf "%-6s %12s %14s %8s\n" run probe_p50_ms dnsperf_p50_ms ratio
for run in 1 2; do
  p=$(probe_p50)
  d=$(dnsperf_p50)
  r=$(python3 -c "print('%.2f' % ($p / $d))")
  printf "%-6s %12s %14s %8s\n" "$run" "$p" "$d" "$r"
done
