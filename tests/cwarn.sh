# Sourced by the C test scripts: sets CWARN from mk/cwarn.mk. Needs $top, the tree's root.
CWARN=$(sed -n 's/^CWARN *= *//p' "$top/mk/cwarn.mk")
[ -n "$CWARN" ] || { echo "no CWARN line in $top/mk/cwarn.mk" >&2; exit 2; }
