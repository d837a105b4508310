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
WHM_APPCONFIG=/var/cpanel/apps/mailhealth.conf   # register_appconfig's copy of plugin-manifests/whm/mailhealth.conf
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
  # Each registration is undone while there is a sign of it, and what marks it is removed only once its tool has
  # succeeded: a run where a tool failed can be repeated until it succeeds (review r7: the page directories, the only
  # signs the retry looked at, were deleted even when the tool failed — the Jupiter link and the WHM entry then pointed
  # at deleted pages for good, and the next run called neither tool and said "uninstalled"). The WHM registration is
  # the file register_appconfig copies to /var/cpanel/apps (cpanel.md 9.3), so a registration an older installer left
  # behind that way is undone too; the Jupiter link and its feature are marked by the page directory and the feature
  # file (install_plugin writes that file; kept while the link stays, so Feature Manager can still turn it off).
  left=""
  if [ -d "$R$JUPITER_DIR" ] || [ -f "$R$FEATURE_FILE" ]; then
    if "$UNINSTALL_PLUGIN" "$MANIFESTS/cpanel" --theme=jupiter; then
      rm -rf "$R$JUPITER_DIR"
      rm -f "$R$FEATURE_FILE"
    else
      warn "uninstall_plugin failed: the Mail Health link in cPanel's Jupiter theme is still registered (kept: $JUPITER_DIR, $FEATURE_FILE)"
      left="$left the cPanel page (uninstall_plugin);"
    fi
  fi
  if [ -d "$R$WHM_CGI_DIR" ] || [ -f "$R$WHM_APPCONFIG" ]; then
    if "$UNREGISTER_APPCONFIG" mailhealth; then
      rm -rf "$R$WHM_CGI_DIR"
      rm -f "$R$WHM_ICON"
    else
      warn "unregister_appconfig failed: WHM » Plugins » Mail Health is still registered (kept: $WHM_CGI_DIR, $WHM_ICON)"
      left="$left the WHM page (unregister_appconfig);"
    fi
  fi
  # The app and the service go either way: the admin asked for them to go, and the panel's registrations do not need
  # them to be undone.
  remove_common
  if [ -n "$left" ]; then
    again=--uninstall
    if [ "$PURGE" = 1 ]; then again=--purge; fi
    printf 'mailhealth: error: not uninstalled from the panel:%s Fix the cause above, then run %s %s again (it is safe to repeat).\n' "${left%;}." "$0" "$again" >&2
    exit 1
  fi
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
# The panel is named on the command line, as the front door's in-process fallback names it (cgi.ts): a config kept from a
# standalone install says "panel": "files", and the service would run on that panel (review r7).
install_unit "cPanel & WHM front-door service" "--panel whm service --socket /run/mailhealth/mailhealth.sock --key $ETC_DIR/frontdoor.key"

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

# The feature is on for every package once installed (cPanel counts an add-on feature as on until a feature list turns
# it off): the message says how to turn it off, not to turn it on (review r7).
say "installed. The \"mailhealth\" feature is on for every package until you turn it off in WHM » Feature Manager; WHM » Plugins » Mail Health for resellers and root."
