# Sourced by every hook and action.
unit_dir=$(cd "$CHARM_DIR/.." && pwd)
ledger() {
	printf '%s|%s\n' "${JUJU_HOOK_NAME:-action}" "$1" >>"$unit_dir/hook-ledger"
}
