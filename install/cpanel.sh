#!/bin/sh
# Install mailhealth on a cPanel & WHM server: the app, the customer's Jupiter page (install_plugin + Feature Manager
# feature "mailhealth"), the WHM page (register_appconfig) and the root-only background service (systemd), which also
# runs the nightly report (no cron entry). Idempotent: run it again to upgrade.
#   install/cpanel.sh              install or upgrade
#   install/cpanel.sh --uninstall  remove everything but /var/lib/mailhealth (history) and /etc/mailhealth
#   install/cpanel.sh --purge      remove those too
#   install/cpanel.sh --help       this help (also -h)
# Customers' own histories live in their homes (~/.local/share/mailhealth/) and go with their accounts.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${MAILHEALTH_SRC:-$(dirname "$HERE")}
. "$HERE/lib.sh"

CPANEL=/usr/local/cpanel
JUPITER_DIR=$CPANEL/base/frontend/jupiter/mailhealth
WHM_CGI_DIR=$CPANEL/whostmgr/docroot/cgi/mailhealth
WHM_ICON=$CPANEL/whostmgr/docroot/addon_plugins/mailhealth.png
FEATURE_FILE=$CPANEL/whostmgr/addonfeatures/mailhealth
INSTALL_PLUGIN="${INSTALL_PLUGIN:-$CPANEL/scripts/install_plugin}"
UNINSTALL_PLUGIN="${UNINSTALL_PLUGIN:-$CPANEL/scripts/uninstall_plugin}"
REGISTER_APPCONFIG="${REGISTER_APPCONFIG:-$CPANEL/bin/register_appconfig}"
UNREGISTER_APPCONFIG="${UNREGISTER_APPCONFIG:-$CPANEL/bin/unregister_appconfig}"
NODE_HINT="On cPanel install it with: dnf install ea-nodejs20 (or yum; WHM » EasyApache 4 » Additional Packages), or point MAILHEALTH_NODE at a Node.js 20 binary."
MANIFESTS="$SRC/plugin-manifests"

parse_args "$@"
require_root

tool() { # tool VAR PATH: the panel tool must exist
  [ -x "$2" ] || command -v "$2" >/dev/null 2>&1 || die "$1 not found at $2 — is this a cPanel & WHM server?"
}

if [ "$ACTION" = uninstall ]; then
  if [ -d "$R$JUPITER_DIR" ]; then "$UNINSTALL_PLUGIN" "$MANIFESTS/cpanel" --theme=jupiter || say "uninstall_plugin failed (continuing)"; fi
  if [ -d "$R$WHM_CGI_DIR" ]; then "$UNREGISTER_APPCONFIG" mailhealth || say "unregister_appconfig failed (continuing)"; fi
  rm -rf "$R$JUPITER_DIR" "$R$WHM_CGI_DIR"
  rm -f "$R$WHM_ICON" "$R$FEATURE_FILE"
  remove_common
  say "uninstalled"
  exit 0
fi

[ -f "$MANIFESTS/cpanel/install.json" ] || die "missing $MANIFESTS/cpanel/install.json (run from the release or a checkout)"
tool install_plugin "$INSTALL_PLUGIN"
tool register_appconfig "$REGISTER_APPCONFIG"
find_app_source
find_node /opt/cpanel/ea-nodejs20/bin/node /opt/cpanel/ea-nodejs22/bin/node
say "using Node.js at $NODE"

# Nothing installed is touched before this point; from here a failure says where it stopped and what to do (lib.sh).
begin_install
STEP="writing $ETC_DIR"
write_config '{"panel": "whm"}'
write_key

# The app, and the service restarted on it at once (it stops before the swap): never old code on new files.
install_app
install_unit "cPanel & WHM front-door service" "service --socket /run/mailhealth/mailhealth.sock --key $ETC_DIR/frontdoor.key"

# Customer page: the code lives in the theme directory; install_plugin only registers the link and the feature.
STEP="installing the cPanel page (install_plugin)"
mkdir -p "$R$JUPITER_DIR"
cp "$MANIFESTS/cpanel/mailhealth/index.live.cgi" "$R$JUPITER_DIR/index.live.cgi"
cp "$MANIFESTS/cpanel/mailhealth.svg" "$MANIFESTS/cpanel/mailhealth.png" "$R$JUPITER_DIR/"
chmod 755 "$R$JUPITER_DIR" "$R$JUPITER_DIR/index.live.cgi"
chmod 644 "$R$JUPITER_DIR/mailhealth.svg" "$R$JUPITER_DIR/mailhealth.png"
"$INSTALL_PLUGIN" "$MANIFESTS/cpanel" --theme=jupiter
# install_plugin writes the feature file itself; writing the same line keeps it present if a cPanel update drops it.
mkdir -p "$R$(dirname "$FEATURE_FILE")"
cp "$MANIFESTS/cpanel/mailhealth.feature" "$R$FEATURE_FILE"
chmod 644 "$R$FEATURE_FILE"

# WHM page.
STEP="installing the WHM page (register_appconfig)"
mkdir -p "$R$WHM_CGI_DIR" "$R$(dirname "$WHM_ICON")"
cp "$MANIFESTS/whm/index.cgi" "$R$WHM_CGI_DIR/index.cgi"
chmod 755 "$R$WHM_CGI_DIR" "$R$WHM_CGI_DIR/index.cgi"
cp "$MANIFESTS/whm/mailhealth.png" "$R$WHM_ICON"
"$REGISTER_APPCONFIG" "$MANIFESTS/whm/mailhealth.conf"

say "installed. Enable the \"mailhealth\" feature for your packages in WHM » Feature Manager; WHM » Plugins » Mail Health for resellers and root."
