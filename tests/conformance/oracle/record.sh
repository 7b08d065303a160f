#!/bin/sh
# Records the expected trace of scenarios on the real Erlang/OTP and Elixir.
#
#   ./record.sh [-f] S.scn...
#
# Each scenario is run twice, one run after the other, each in a fresh BEAM
# (oracle.exs run). S.trace is written next to S.scn only when the two runs
# give the same trace; otherwise both runs are shown and nothing is written.
# An existing S.trace is kept unless -f is given. Exits 1 if any scenario
# was not recorded.
set -u
here=$(cd "$(dirname "$0")" && pwd)
force=no
if [ "${1:-}" = "-f" ]; then force=yes; shift; fi
if [ $# -eq 0 ]; then sed -n '2,11p' "$0"; exit 2; fi

command -v elixir >/dev/null 2>&1 || {
  echo "elixir not found (Debian: apt-get install -y erlang-nox elixir)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
bad=0

for scn in "$@"; do
  case "$scn" in
    *.scn) ;;
    *) echo "SKIP $scn: not a .scn file"; bad=$((bad + 1)); continue ;;
  esac
  trace=${scn%.scn}.trace
  if [ -e "$trace" ] && [ $force = no ]; then
    echo "KEEP $trace exists (use -f to record it again)"
    bad=$((bad + 1)); continue
  fi
  ok=yes
  for run in 1 2; do
    if ! elixir --erl "+S 1" "$here/oracle.exs" run "$scn" < /dev/null > "$tmp/run$run" 2> "$tmp/err$run"; then
      echo "ERROR $scn (run $run):"; cat "$tmp/err$run"; ok=no; break
    fi
  done
  if [ $ok = yes ] && cmp -s "$tmp/run1" "$tmp/run2"; then
    cp "$tmp/run1" "$trace"
    echo "recorded $trace ($(wc -l < "$trace") lines)"
  else
    if [ $ok = yes ]; then
      echo "NOT RECORDED $scn: the two runs differ"
      diff "$tmp/run1" "$tmp/run2" | sed 's/^/  /'
    fi
    bad=$((bad + 1))
  fi
done

[ $bad -eq 0 ]
