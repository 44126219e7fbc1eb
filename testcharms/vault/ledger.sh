# Sourced by dispatch. record EXTRA appends one line
#   <hook>|<remote unit>|<remote app>|<departing unit>|<extra>|<context id>
# to the unit's ledger next to its charm dir and, when the ledger-dir
# option is set, to <ledger-dir>/<app>-<n>, which outlives the unit.
record() {
	line="$hook|${JUJU_REMOTE_UNIT:-}|${JUJU_REMOTE_APP:-}|${JUJU_DEPARTING_UNIT:-}|$1|$JUJU_CONTEXT_ID"
	printf '%s\n' "$line" >>"$CHARM_DIR/../hook-ledger"
	dir=$(config-get ledger-dir)
	if [ -n "$dir" ]; then
		printf '%s\n' "$line" >>"$dir/$(printf '%s' "$JUJU_UNIT_NAME" | tr / -)"
	fi
}
