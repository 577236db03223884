#!/bin/bash
# `portmirror capture --help` and `portmirror decap --help` list every flag the two commands share
# (apps/portmirror/sink_options.h) with the same text; only the named default UDP ports differ.
set -u
BIN=$1
fails=0
help_line() {  # help_line CMD FLAG: the flag's help line, whitespace squeezed, defaults masked
  "$BIN" "$1" --help | grep -E "^ +$2( |,)" | tr -s ' ' | sed -E 's/(added to the defaults: )[0-9, ]+\)/\1...)/'
}
for flag in --format --linktype --split-by --split-pattern -C -G -W -U --vxlan-port --geneve-port \
            --tzsp-port --no-default-ports --depth --strict --dedup --timestamps --stats-json; do
  c=$(help_line capture "$flag"); d=$(help_line decap "$flag")
  if [ -z "$c" ] || [ "$c" != "$d" ]; then
    echo "FAIL: $flag differs:"; echo "  capture: $c"; echo "  decap:   $d"; fails=$((fails + 1))
  else
    echo "ok: $c"
  fi
done
# The defaults named in the help are each command's own.
"$BIN" capture --help | grep -q -- "--vxlan-port.*added to the defaults: 4789)" || { echo "FAIL: capture's VXLAN default"; fails=$((fails + 1)); }
"$BIN" decap --help | grep -q -- "--vxlan-port.*added to the defaults: 4789, 8472)" || { echo "FAIL: decap's VXLAN defaults"; fails=$((fails + 1)); }
[ "$fails" = 0 ]
