#!/usr/bin/env bash
# Signing speed: tldns against ldns-signzone and dnssec-signzone on the same
# seeded zone, same algorithm (ECDSA P-256), NSEC3 with 0 iterations and no
# salt, in the same run.
#   benches/sign_1m.sh [DOMAINS]
# Appends to benches/results/sign.md: wall time, CPU time, peak RSS, ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
WORK=${WORK:-/tmp/tldns-bench}
mkdir -p "$WORK" benches/results
command -v ldns-signzone >/dev/null && command -v bc >/dev/null || apt-get install -y -qq ldnsutils bind9-utils bc time >/dev/null
cargo build --release -q
BIN=$PWD/target/release/tldns
DB="sqlite://$WORK/srs-$N.sqlite"
mkcfg() { # mkcfg NAME ENABLED OPTOUT
  sed -e "s|\"mobile.reserved.txt\"|\"$PWD/zones/mobile.reserved.txt\"|" \
      -e "s|\"mobile.collision.txt\"|\"$PWD/zones/mobile.collision.txt\"|" \
      -e "s|state-dir = \"../var\"|state-dir = \"$WORK/var-$1\"|" \
      -e "s|keys-dir = \"../keys\"|keys-dir = \"$WORK/keys\"|" \
      -e "s|^enabled = true|enabled = $2|" \
      -e "s|^nsec3-opt-out = false|nsec3-opt-out = $3|" \
      -e "s|^max-delegation-change = .*|max-delegation-change = 1.0|" \
      zones/mobile.toml > "$WORK/$1.toml"
}
mkcfg unsigned false false
mkcfg signed true false
mkcfg optout true true
# tldns makes keys only when told to: the first ones, once.
ls "$WORK"/keys/*.private >/dev/null 2>&1 || "$BIN" --config "$WORK/signed.toml" keys generate >/dev/null
[ -f "$WORK/srs-$N.sqlite" ] || "$BIN" --config "$WORK/unsigned.toml" --db "$DB" srs seed --domains "$N"

measure() { # measure LABEL CMD...  -> "wall cpu rss_mb"
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/t.txt" "${@:2}" > "$WORK/$1.out" 2>&1 || { cat "$WORK/$1.out" >&2; exit 1; }
  read -r wall user sys rss < "$WORK/t.txt"
  echo "$wall $(echo "$user + $sys" | bc) $((rss / 1024))"
}

# The unsigned zone, as the other signers' input.
rm -rf "$WORK/unsigned-export" && mkdir -p "$WORK/unsigned-export"
"$BIN" --config "$WORK/unsigned.toml" --db "$DB" export --out "$WORK/unsigned-export" >/dev/null
gunzip -c "$WORK/unsigned-export/mobile.zone.gz" > "$WORK/mobile.unsigned"
# Keys for the other signers (same algorithm).
rm -rf "$WORK/lkeys" "$WORK/bkeys" && mkdir -p "$WORK/lkeys" "$WORK/bkeys"
(cd "$WORK/lkeys" && ldns-keygen -a ECDSAP256SHA256 -k mobile. >/dev/null && ldns-keygen -a ECDSAP256SHA256 mobile. >/dev/null)
(cd "$WORK/bkeys" && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK mobile. >/dev/null && dnssec-keygen -q -a ECDSAP256SHA256 mobile. >/dev/null)

t_signed=$(measure tldns "$BIN" --config "$WORK/signed.toml" --db "$DB" build)
t_optout=$(measure tldns-optout "$BIN" --config "$WORK/optout.toml" --db "$DB" build)
t_unsigned=$(measure tldns-unsigned "$BIN" --config "$WORK/unsigned.toml" --db "$DB" build)
lk=$(ls "$WORK"/lkeys/*.key | sed 's/\.key$//' | tr '\n' ' ')
t_ldns=$(measure ldns ldns-signzone -n -s "" -t 0 -f "$WORK/mobile.ldns" "$WORK/mobile.unsigned" $lk)
t_ldns_oo=$(measure ldns-optout ldns-signzone -n -p -s "" -t 0 -f "$WORK/mobile.ldns-oo" "$WORK/mobile.unsigned" $lk)
t_bind=$(measure bind dnssec-signzone -3 - -H 0 -n 2 -K "$WORK/bkeys" -S -o mobile. -f "$WORK/mobile.bind" -d "$WORK" "$WORK/mobile.unsigned")
t_bind_oo=$(measure bind-optout dnssec-signzone -3 - -H 0 -A -n 2 -K "$WORK/bkeys" -S -o mobile. -f "$WORK/mobile.bind-oo" -d "$WORK" "$WORK/mobile.unsigned")

ratio() { echo "scale=2; $1 / $2" | bc; }
w() { echo "$1" | cut -d' ' -f1; }
out=benches/results/sign.md
{
  echo
  echo "## $(date -u '+%F %H:%M') UTC, $N domains, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo
  echo "tldns rows time the whole \`tldns build\`: SRS read, policy, signing and the independent verification of every signature. Its own step timings:"
  echo
  echo "- NSEC3: $(grep '^timings' "$WORK/tldns.out")"
  echo "- opt-out: $(grep '^timings' "$WORK/tldns-optout.out")"
  echo
  echo "| signer | wall s | CPU s | peak RSS MB |"
  echo "|---|---|---|---|"
  for x in "tldns build (NSEC3):$t_signed" "tldns build (NSEC3 opt-out):$t_optout" "tldns build, unsigned:$t_unsigned" \
           "ldns-signzone -n:$t_ldns" "ldns-signzone -n -p:$t_ldns_oo" \
           "dnssec-signzone -3 - -n 2:$t_bind" "dnssec-signzone -3 - -A -n 2:$t_bind_oo"; do
    set -- ${x#*:}; echo "| ${x%%:*} | $1 | $2 | $3 |"
  done
  best=$(w "$t_ldns"); [ "$(echo "$(w "$t_bind") < $best" | bc)" = 1 ] && best=$(w "$t_bind")
  best_oo=$(w "$t_ldns_oo"); [ "$(echo "$(w "$t_bind_oo") < $best_oo" | bc)" = 1 ] && best_oo=$(w "$t_bind_oo")
  echo
  sign=$(grep '^timings' "$WORK/tldns.out" | sed 's/.*sign \([0-9.]*\)s.*/\1/')
  sign_oo=$(grep '^timings' "$WORK/tldns-optout.out" | sed 's/.*sign \([0-9.]*\)s.*/\1/')
  echo "Wall-time speed-up over the faster peer, whole build: $(ratio "$best" "$(w "$t_signed")")x (NSEC3), $(ratio "$best_oo" "$(w "$t_optout")")x (opt-out);"
  echo "signing step alone: $(ratio "$best" "$sign")x (NSEC3), $(ratio "$best_oo" "$sign_oo")x (opt-out)."
} | tee -a "$out"
