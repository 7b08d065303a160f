#!/bin/sh
# Replays every stored scenario through the real Erlang/OTP and Elixir, and
# compares each result with the stored trace (oracle.exs check).
#
#   ./check_all.sh [-j N] [DIR|S.scn ...]
#
# DIRs are searched recursively for *.scn (default: ../public and
# ../project, relative to this script). -j N runs N scenarios at a time (default 1, or
# $ORACLE_JOBS); every scenario runs in real time in a BEAM of its own.
# Prints `ok NAME (exact|per-actor|multiset)` or `FAIL NAME` per scenario,
# the details of each failure, a summary line and the elapsed time; exits 1
# if any scenario failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
base=$(dirname "$here")
jobs=${ORACLE_JOBS:-1}

while [ $# -gt 0 ]; do
  case "$1" in
    -j) jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 0 ] && set -- "$base/public" "$base/project"

# Absolute paths (names are printed relative to tests/conformance when they
# are inside it). A .scn file may be given instead of a directory.
abs=
for d in "$@"; do
  if [ -d "$d" ]; then d=$(cd "$d" && pwd)
  elif [ -f "$d" ]; then d="$(cd "$(dirname "$d")" && pwd)/$(basename "$d")"
  else echo "no such directory: $d" >&2; exit 2
  fi
  abs="$abs
$d"
done

command -v elixir >/dev/null 2>&1 || {
  echo "elixir not found (Debian: apt-get install -y erlang-nox elixir)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
start=$(date +%s)

printf '%s\n' "$abs" | sed '/^$/d' | while IFS= read -r d; do
  find "$d" -name '*.scn' -type f
done | sort > "$tmp/list"
total=$(wc -l < "$tmp/list")
[ "$total" -gt 0 ] || { echo "no .scn files under: $*" >&2; exit 2; }

# One scenario: its result line on stdout, its details kept in $tmp.
export here base tmp
check_one() {
  f=$1
  name=${f#"$base"/}
  name=${name%.scn}
  key=$(printf '%s' "$name" | tr '/.' '__')
  if elixir --erl "+S 1" "$here/oracle.exs" check "$f" < /dev/null > "$tmp/$key.out" 2>&1; then
    how=$(sed -n 's/^ok .* (\([a-z-]*\)).*/\1/p' "$tmp/$key.out" | head -n 1)
    extra=$(sed -n 's/^ok .*\(\[matches .*\]\)$/ \1/p' "$tmp/$key.out" | head -n 1)
    echo "ok $name ($how)$extra"
    echo ok >> "$tmp/$key.res"
  else
    echo "FAIL $name"
    echo fail >> "$tmp/$key.res"
  fi
}

if [ "$jobs" -gt 1 ]; then
  # xargs runs a fresh shell per scenario; the function is passed as text.
  fn=$(sed -n '/^check_one() {$/,/^}$/p' "$0")
  xargs -P "$jobs" -I{} sh -c "$fn
check_one \"\$1\"" _ {} < "$tmp/list"
else
  while IFS= read -r f; do check_one "$f"; done < "$tmp/list"
fi

passed=$(cat "$tmp"/*.res 2>/dev/null | grep -c '^ok$')
failed=$((total - passed))

if [ "$failed" -gt 0 ]; then
  echo
  echo "details of the failures:"
  for out in "$tmp"/*.out; do
    grep -q '^ok ' "$out" || { cat "$out"; echo; }
  done
fi

end=$(date +%s)
elapsed=$((end - start))
echo "oracle check: $passed passed, $failed failed"
printf 'elapsed: %dm%02ds (%d scenarios, %s at a time)\n' $((elapsed / 60)) $((elapsed % 60)) "$total" "$jobs"
[ "$failed" -eq 0 ]
