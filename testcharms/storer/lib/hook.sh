# Sourced by every hook: append the hook name to <ledger-dir>/<app>-<n>;
# storage hooks also append their environment and what the storage tools
# say to <ledger-dir>/<app>-<n>.storage.
set -eu
ledger_dir=$(config-get ledger-dir)
ledger="$ledger_dir/$(printf '%s' "$JUJU_UNIT_NAME" | tr / -)"
printf '%s\n' "$JUJU_HOOK_NAME" >>"$ledger"
case "$JUJU_HOOK_NAME" in
*-storage-attached|*-storage-detaching)
	{
		printf 'hook=%s id=%s kind=%s location=%s\n' "$JUJU_HOOK_NAME" "${JUJU_STORAGE_ID-unset}" "${JUJU_STORAGE_KIND-unset}" "${JUJU_STORAGE_LOCATION-unset}"
		printf 'get-location=%s\n' "$(storage-get location)"
		printf 'get-kind=%s\n' "$(storage-get kind)"
		printf 'get-json=%s\n' "$(storage-get --format=json -s "$JUJU_STORAGE_ID")"
		printf 'list=%s\n' "$(storage-list data --format=json)"
	} >>"$ledger.storage"
	;;
esac
