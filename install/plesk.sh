#!/bin/sh
# Install mailhealth on a Plesk Obsidian server: the app, the Plesk extension (plesk bin extension -i, needs Plesk
# 18.0.55+), a REST API key for loopback (plesk bin secret_key) in /etc/mailhealth/config.json and the root-only
# background service (systemd), which also runs the nightly report (no cron entry). Idempotent: run it again to upgrade.
#   install/plesk.sh [--zip FILE]   install or upgrade (default zip: release/mailhealth-plesk-<version>.zip)
#   install/plesk.sh --uninstall    remove everything but /var/lib/mailhealth (history) and /etc/mailhealth
#   install/plesk.sh --purge        remove those too
#   install/plesk.sh --help         this help (also -h)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${MAILHEALTH_SRC:-$(dirname "$HERE")}
. "$HERE/lib.sh"

PLESK_BIN="${PLESK_BIN:-plesk}"
NODE_HINT="On Plesk add the Node.js component (Tools & Settings » Updates » Add/Remove Components, or: plesk installer add --components nodejs), or point MAILHEALTH_NODE at a Node.js 20 binary."

ZIP=""
args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --zip) [ $# -ge 2 ] || die "--zip needs a file"; ZIP=$2; shift 2 ;;
    *) args="$args $1"; shift ;;
  esac
done
# shellcheck disable=SC2086
parse_args $args
require_root
command -v "$PLESK_BIN" >/dev/null 2>&1 || [ -x "$PLESK_BIN" ] || die "plesk not found ($PLESK_BIN) — is this a Plesk server?"

if [ "$ACTION" = uninstall ]; then
  if "$PLESK_BIN" bin extension --list 2>/dev/null | grep -q '^mailhealth\b'; then
    "$PLESK_BIN" bin extension --uninstall mailhealth || say "extension --uninstall failed (continuing)"
  fi
  remove_common
  say "uninstalled (the REST API key created for mailhealth stays listed in: plesk bin secret_key --list)"
  exit 0
fi

find_app_source
find_node /opt/plesk/node/20/bin/node /opt/plesk/node/22/bin/node
if [ -z "$ZIP" ]; then
  version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$APP_SRC/package.json" | head -n 1)
  for c in "$SRC/release/mailhealth-plesk-$version.zip" "$SRC/mailhealth-plesk-$version.zip"; do
    if [ -f "$c" ]; then ZIP=$c; break; fi
  done
fi
[ -n "$ZIP" ] && [ -f "$ZIP" ] || die "no extension zip found; run \`npm run package\` or pass --zip FILE"
say "using Node.js at $NODE"

# Nothing installed is touched before this point; from here a failure says where it stopped and what to do (lib.sh).
# The config, key and REST API key first: a failure there leaves the installed version as it was, running.
begin_install
STEP="writing $ETC_DIR"
write_config '{"panel": "plesk"}'
write_key

# A REST API key bound to loopback, once; stored only in the root-only config (never on a command line later).
if ! grep -q '"token"' "$R$ETC_DIR/config.json"; then
  STEP="creating a Plesk REST API key (plesk bin secret_key --create)"
  key=$("$PLESK_BIN" bin secret_key --create -ip-address 127.0.0.1 -description "mailhealth (loopback)" | tr -d '[:space:]')
  [ -n "$key" ] || die "plesk bin secret_key --create returned no key"
  case "$key" in *[!A-Za-z0-9-]*) die "plesk bin secret_key --create returned something that is not a key" ;; esac
  umask 077
  # The admin's config (kept on upgrades) gets the token as one more key; only an empty one is written anew
  # (QA: a config without "token" — the token given in MAILHEALTH_PANEL_TOKEN, or a standalone install moved here —
  # was replaced whole, losing panelUrl, ca, bins and the rest).
  # The key goes into the file through shell built-ins only (printf, parameter expansion), never as an argument of a
  # command: every local user can read a running process's command line (/proc/PID/cmdline), and this key is the Plesk
  # administrator's for 127.0.0.1, where every local user is (security QA: it was spliced in by `sed "…KEY…"`).
  if [ "$(tr -d '[:space:]' < "$R$ETC_DIR/config.json")" = '{"panel":"plesk"}' ] || [ "$(tr -d '[:space:]' < "$R$ETC_DIR/config.json")" = '{}' ]; then
    printf '{"panel": "plesk", "token": "%s"}\n' "$key" > "$R$ETC_DIR/config.json.new"
  else
    cfg=$(cat "$R$ETC_DIR/config.json")
    case "$cfg" in *'{'*) ;; *) die "$ETC_DIR/config.json is not a JSON object: add \"token\": \"$key\" to it (a Plesk REST API key for 127.0.0.1 was created)" ;; esac
    # After the first "{": what is before it, the key, the rest as it was.
    printf '%s{"token": "%s", %s\n' "${cfg%%\{*}" "$key" "${cfg#*\{}" > "$R$ETC_DIR/config.json.new"
  fi
  umask 022
  mv "$R$ETC_DIR/config.json.new" "$R$ETC_DIR/config.json"
  chmod 600 "$R$ETC_DIR/config.json"
  say "created a Plesk REST API key for 127.0.0.1"
fi

# The app, and the service restarted on it at once (it stops before the swap): never old code on new files.
install_app
# The panel is named on the command line, as the front door's in-process fallback names it (cgi.ts): a config kept
# from a standalone install says "panel": "files" (this installer only adds "token"), and the service would run on
# that panel (review r7).
install_unit "Plesk front-door service" "--panel plesk service --socket /run/mailhealth/mailhealth.sock --key $ETC_DIR/frontdoor.key"

# The extension last: until it is upgraded the previous one calls the new app (through its versioned sbin helper,
# mailhealth-v1) as before.
STEP="installing the Plesk extension (plesk bin extension) from $ZIP"
if "$PLESK_BIN" bin extension --list 2>/dev/null | grep -q '^mailhealth\b'; then
  "$PLESK_BIN" bin extension --upgrade "$ZIP"
else
  "$PLESK_BIN" bin extension -i "$ZIP"
fi

say "installed. Mail Health appears in the navigation of administrators, resellers and customers."
