#!/bin/sh
# Install mailhealth without a panel front door: the app and `mailhealth serve` (login form, admin token, and the
# nightly report — no cron entry) on 127.0.0.1:8080 as a systemd unit. systemd holds the port (mailhealth.socket) and
# hands it to the service, so no local user can take it while the service is down. Put your panel or a reverse proxy
# in front, terminating TLS and appending the browser's address, e.g. nginx:
#   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;  proxy_set_header X-Forwarded-Proto $scheme;
# (the login limit is per browser address; without the header every browser shares the proxy's).
# Edit /etc/mailhealth/config.json for the panel (files/cpanel/whm/plesk; see README), then set logins with
#   mailhealth user set-password USER
#   install/standalone.sh              install or upgrade
#   install/standalone.sh --uninstall  remove everything but /var/lib/mailhealth (history) and /etc/mailhealth
#   install/standalone.sh --purge      remove those too
#   install/standalone.sh --help       this help (also -h)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${MAILHEALTH_SRC:-$(dirname "$HERE")}
. "$HERE/lib.sh"
NODE_HINT="Install Node.js 20 or newer (https://nodejs.org or your distribution), or point MAILHEALTH_NODE at one."

parse_args "$@"
require_root

if [ "$ACTION" = uninstall ]; then
  remove_common
  say "uninstalled"
  exit 0
fi

find_app_source
find_node /opt/cpanel/ea-nodejs20/bin/node /opt/plesk/node/20/bin/node
say "using Node.js at $NODE"
# Nothing installed is touched before this point; from here a failure says where it stopped and what to do (lib.sh).
begin_install
STEP="writing $ETC_DIR"
write_config '{"panel": "files", "panelRoot": "/etc/mailhealth/panel"}'
# The default config names a files panel at /etc/mailhealth/panel, which nothing creates: until the admin points the
# config at a panel (or fills that directory), the service could not start. Judged on the panel the config names,
# read as JSON (lib.sh service_blocker), before the app is replaced: the exit trap does not start it either.
STEP="checking $ETC_DIR/config.json"
blocker=$(service_blocker)
# An upgrade leaves a running service running: the app must be stopped to be replaced, and one that was running had
# a panel to run with, whatever the check above makes of it — set where it does not look (review r1: the older
# installer left it running; stopping it for good on a guess took the admin's site down). Started again after the
# swap, as every upgrade does; if it cannot start, its journal says why and the installer says it did not start.
if [ -n "$blocker" ] && [ -f "$R$UNIT" ] && "$SYSTEMCTL" is-active --quiet mailhealth.service; then
  say "note: $blocker"
  say "note: mailhealth.service is running, so it has a panel to run with: it is started again after the upgrade"
  blocker=""
fi
if [ -n "$blocker" ]; then START_SERVICE=0; fi
install_app
# The service listens on mailhealth.socket (lib.sh install_unit): 127.0.0.1:8080 is bound by systemd, which keeps it
# while the service is down (upgrades, restarts, boot) — a local user who bound it then would be handed what the
# reverse proxy forwards, logins included. The --host and --port below are what `serve` uses without the socket.
WITH_SOCKET=1
if [ -n "$blocker" ]; then
  install_unit "standalone web UI" "serve --host 127.0.0.1 --port 8080" no-start
  say "the service cannot start yet: $blocker"
  say "installed, not started: configure the panel in $ETC_DIR/config.json (see README), then: systemctl enable --now mailhealth.socket mailhealth"
else
  install_unit "standalone web UI" "serve --host 127.0.0.1 --port 8080"
  say "installed: http://127.0.0.1:8080 (loopback only; the port is held by systemd, mailhealth.socket). Configure the panel in $ETC_DIR/config.json."
fi
