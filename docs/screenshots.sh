#!/usr/bin/env bash
# Takes the guide's pictures again: for each line of docs/guide/shots.txt it opens the
# scenario in the real window under a virtual display, runs it to its end with the knobs
# given and writes docs/guide/NAME.png. Run it after any change that shows in the window
# (make screenshots builds the binary first).
#
#   docs/screenshots.sh [binary] [name ...]   # default bin/mfelab, every picture
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-bin/mfelab}")
shift || true
size=1440x900
list=docs/guide/shots.txt
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# a history file and preferences of their own, so the pictures never depend on the user's
export MFELAB_HISTORY="$scratch/history.db"
export XDG_CONFIG_HOME="$scratch/config"
taken=0
while read -r name scenario knobs; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  if (($# > 0)) && [[ " $* " != *" $name "* ]]; then
    continue
  fi
  args=(-scenario "$scenario" -size "$size" -screenshot "docs/guide/$name.png")
  for kv in $knobs; do
    args+=(-set "$kv")
  done
  # -n: the display to start looking from; -a takes the next free one from there
  if ! timeout 120 xvfb-run -a -n "${SHOTS_DISPLAY:-73}" -s "-screen 0 ${size}x24" \
    "$bin" "${args[@]}" 2>"$scratch/$name.log"; then
    echo "screenshots: $name ($scenario $knobs) failed:" >&2
    cat "$scratch/$name.log" >&2
    exit 1
  fi
  echo "docs/guide/$name.png  $scenario $knobs"
  taken=$((taken + 1))
done <"$list"
((taken > 0)) || { echo "screenshots: no picture in $list matched: $*" >&2; exit 1; }
