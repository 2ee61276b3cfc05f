#!/usr/bin/env bash
# Side-by-side load benchmark: tldns, NSD and Knot DNS on the same signed
# NSEC3 zone, with dnsperf. Writes benches/results/load.{md,json,png}.
#
#   benches/side_by_side.sh                  # 1,000,000 domains (memory also at 100,000)
#   QUICK=1 benches/side_by_side.sh          # 100,000 domains, 3 s runs: for development
#   benches/side_by_side.sh --duration 20    # any option of benches/load/bench.py
#
# Needs root (cgroup CPU quota, Debian packages). Seeded SRS, keys and the
# exported zone are kept in $WORK (default /tmp/tldns-loadbench) and reused;
# remove that directory to start over. benches/load/bench.py describes the
# method.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for t in nsd:nsd knotd:knot knotc:knot kdig:knot-dnsutils dnsperf:dnsperf \
         ldns-read-zone:ldnsutils dig:bind9-dnsutils taskset:util-linux gzip:gzip; do
  command -v "${t%%:*}" >/dev/null || need+=("${t##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian starts the packaged daemons on install; they must not share the CPUs.
for svc in nsd knot; do
  if command -v systemctl >/dev/null && systemctl is-active -q "$svc" 2>/dev/null; then
    systemctl stop "$svc"
  fi
done
python3 -c 'import dns.message, matplotlib' 2>/dev/null ||
  python3 -m pip install -q dnspython matplotlib

cargo build --release -q

args=()
if [ "${QUICK:-0}" = 1 ]; then
  args=(--domains 100000 --mem-sizes 10000,100000 --duration 3 --sample 50)
fi
exec python3 benches/load/bench.py --work "${WORK:-/tmp/tldns-loadbench}" "${args[@]}" "$@"
