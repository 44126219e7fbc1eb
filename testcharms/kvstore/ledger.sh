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

# span_begin records, when the span-dir option is set, when this hook run
# started and on which machine, in <span-dir>/<app>-<n>:
#   start|<run>|<machine>|<hook>|<unix ns>
# and has its end recorded when the hook exits, however it exits:
#   end|<run>|<unix ns>|<exit status>
# A SIGKILLed hook records no end. The chaos suite checks from these that
# no two hook runs on one machine overlapped (the machine lock).
span_begin() {
	span_t=$(date +%s%N)
	span_dir=$(config-get span-dir)
	[ -n "$span_dir" ] || return 0
	span_file="$span_dir/$(printf '%s' "$JUJU_UNIT_NAME" | tr / -)"
	span_run="$$.$span_t"
	printf 'start|%s|%s|%s|%s\n' "$span_run" "${JUJU_MACHINE_ID:-}" "$hook" "$span_t" >>"$span_file"
	trap 'span_end $?' EXIT
}

span_end() {
	printf 'end|%s|%s|%s\n' "$span_run" "$(date +%s%N)" "$1" >>"$span_file"
}
