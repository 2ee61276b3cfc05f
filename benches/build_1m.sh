#!/usr/bin/env bash
# Build time and peak memory of the whole pipeline on a large seeded SRS.
#   benches/build_1m.sh [DOMAINS] [signed|unsigned]
# Seeds a SQLite SRS (kept in $WORK between runs), then runs `tldns build`
# under /usr/bin/time -v and appends a line to benches/results/build.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
MODE=${2:-signed}
WORK=${WORK:-/tmp/tldns-bench}
mkdir -p "$WORK" benches/results
cargo build --release -q
BIN=target/release/tldns
DB="sqlite://$WORK/srs-$N.sqlite"
ENABLED=true; [ "$MODE" = unsigned ] && ENABLED=false
CFG="$WORK/mobile-$MODE.toml"
sed -e "s|\"mobile.reserved.txt\"|\"$PWD/zones/mobile.reserved.txt\"|" \
    -e "s|\"mobile.collision.txt\"|\"$PWD/zones/mobile.collision.txt\"|" \
    -e "s|state-dir = \"../var\"|state-dir = \"$WORK/var\"|" \
    -e "s|keys-dir = \"../keys\"|keys-dir = \"$WORK/keys\"|" \
    -e "s|^enabled = true|enabled = $ENABLED|" \
    zones/mobile.toml > "$CFG"
# tldns makes keys only when told to: the first ones, once.
ls "$WORK"/keys/*.private >/dev/null 2>&1 || "$BIN" --config "$CFG" keys generate >/dev/null
if [ ! -f "$WORK/srs-$N.sqlite" ]; then
  /usr/bin/time -f "seed: %e s wall, %M KB peak RSS" "$BIN" --config "$CFG" --db "$DB" srs seed --domains "$N"
fi
/usr/bin/time -v "$BIN" --config "$CFG" --db "$DB" build --report "$WORK/report.json" 2> "$WORK/time.txt" | tee "$WORK/build.txt"
wall=$(grep 'Elapsed (wall clock)' "$WORK/time.txt" | awk '{print $NF}')
rss=$(grep 'Maximum resident set size' "$WORK/time.txt" | awk '{print $NF}')
user=$(grep 'User time' "$WORK/time.txt" | awk '{print $NF}')
sys=$(grep 'System time' "$WORK/time.txt" | awk '{print $NF}')
line="| $(date -u +%F) | $N | $MODE | $wall | $user | $sys | $((rss / 1024)) MB | $(cat "$WORK/build.txt" | head -1) |"
[ -f benches/results/build.md ] || printf '| date | domains | mode | wall | user s | sys s | peak RSS | tldns said |\n|---|---|---|---|---|---|---|---|\n' > benches/results/build.md
echo "$line" >> benches/results/build.md
echo "$line"
