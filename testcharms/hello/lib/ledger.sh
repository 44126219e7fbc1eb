# Sourced by every hook: record the hook in the unit's ledger, and, when
# the ledger-dir option is set, in <ledger-dir>/<app>-<n> too (that copy
# outlives the unit's machine, so tests can read a removed unit's hooks).
printf '%s\n' "$JUJU_HOOK_NAME" >>"$CHARM_DIR/../hook-ledger"
ledger_dir=$(config-get ledger-dir)
if [ -n "$ledger_dir" ]; then
	printf '%s\n' "$JUJU_HOOK_NAME" >>"$ledger_dir/$(printf '%s' "$JUJU_UNIT_NAME" | tr / -)"
fi
