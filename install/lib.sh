# Shared helpers for the mailhealth installers (sourced, not run). POSIX sh + coreutils.
#
# Sandboxing: every path the installers touch is under $MAILHEALTH_ROOT (default empty = the real /), and every
# panel tool can be replaced through the environment, so tests run the installers in a temp dir with fake tools:
#   MAILHEALTH_ROOT, MAILHEALTH_NODE, SYSTEMCTL, INSTALL_PLUGIN, UNINSTALL_PLUGIN, REGISTER_APPCONFIG,
#   UNREGISTER_APPCONFIG, PLESK_BIN
# Paths written INTO files (unit, wrappers) are the real ones (without the prefix).

R="${MAILHEALTH_ROOT:-}"
# What the installers create is readable by everyone unless it holds a secret, and writable by root alone, whatever
# umask the admin's shell hands over (security QA: under umask 000 /etc/mailhealth was made 0777 and closed only by the
# chmod after it). Files and directories that hold secrets are made closed from the start (private_dir, umask 077).
umask 022
APP_DIR=/usr/local/mailhealth
ETC_DIR=/etc/mailhealth
VAR_DIR=/var/lib/mailhealth
UNIT=/etc/systemd/system/mailhealth.service
SOCKET_UNIT=/etc/systemd/system/mailhealth.socket   # standalone only: systemd holds the web port (install_unit)
WRAPPER=/usr/local/bin/mailhealth
CRON=/etc/cron.d/mailhealth   # written by older installs only; removed on upgrade and uninstall
SHARED_SETTINGS=/etc/mailhealth-settings.json   # the service's copy of the admin settings for the cPanel page (0644)
SYSTEMCTL="${SYSTEMCTL:-systemctl}"

say() { printf 'mailhealth: %s\n' "$*"; }
warn() { printf 'mailhealth: warning: %s\n' "$*" >&2; }
die() { printf 'mailhealth: error: %s\n' "$*" >&2; exit 1; }

# The release layout: <release>/app (compiled app) or a source checkout with dist/ (after npm run build).
find_app_source() {
  if [ -f "$SRC/app/bin/mailhealth.js" ]; then APP_SRC="$SRC/app"
  elif [ -f "$SRC/bin/mailhealth.js" ] && [ -d "$SRC/dist" ]; then APP_SRC="$SRC"
  else die "no compiled app next to the installer (expected $SRC/app or $SRC/dist; run \`npm run package\` or \`npm run build\`)"
  fi
}

require_root() {
  if [ -z "$R" ] && [ "$(id -u)" != 0 ]; then die "run as root"; fi
}

# node_ok PATH: true when PATH runs Node >= 20.
node_ok() {
  v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
  major=${v%%.*}
  case "$major" in ''|*[!0-9]*) return 1 ;; esac
  [ "$major" -ge 20 ]
}

# node_loads_app PATH: true when PATH can load the app's native database module (better-sqlite3 is compiled for one
# Node.js ABI and a minimum glibc: a newer Node, or an older system, installs fine and then fails at the first page or
# service start). Needs APP_SRC (find_app_source first). No module to check (a bare source tree): true.
node_loads_app() {
  mod="$APP_SRC/node_modules/better-sqlite3"
  [ -d "$mod" ] || return 0
  "$1" -e 'const D = require(process.argv[1]); new D(":memory:").close();' "$mod" >/dev/null 2>&1
}

# root_only PATH: true when PATH and every directory above it — both as written and with symbolic links resolved —
# are owned by root and writable by no other user (group-writable only for group root; a world-writable directory only
# with the sticky bit, as /tmp). The chosen Node.js runs as root (the service, the nightly report): one that another
# user can replace (a Node.js under someone's home, as nvm installs it) would hand them root. Sets UNSAFE to the
# reason. Skipped when the installer is not root (a sandboxed run: nothing it writes runs as root).
root_only() {
  UNSAFE=""
  [ "$(id -u)" = 0 ] || return 0
  for start in "$1" "$(readlink -f "$1" 2>/dev/null || echo "$1")"; do
    p=$start
    while :; do
      info=$(stat -Lc '%u %g %a' "$p" 2>/dev/null) || { UNSAFE="$p cannot be read"; return 1; }
      set -- $info
      if [ "$1" != 0 ]; then UNSAFE="$p belongs to uid $1, not root"; return 1; fi
      perm=$((0$3))
      if [ $((perm & 2)) -ne 0 ] && { [ ! -d "$p" ] || [ $((perm & 512)) -eq 0 ]; }; then UNSAFE="$p is writable by every user"; return 1; fi
      if [ $((perm & 16)) -ne 0 ] && [ "$2" != 0 ] && { [ ! -d "$p" ] || [ $((perm & 512)) -eq 0 ]; }; then UNSAFE="$p is writable by group $2"; return 1; fi
      case "$p" in /|.|'') break ;; esac
      p=$(dirname "$p")
    done
  done
  return 0
}

# find_node CANDIDATE... : sets NODE to the first candidate (real path; tested under the prefix) that is Node >= 20,
# loads the app's native module and only root can replace (root_only), then the system's `node`. MAILHEALTH_NODE wins
# when set. NODE_EXEC is the same Node.js as the installer runs it now (a candidate: under the prefix).
find_node() {
  NODE_EXEC=""
  find_node_path "$@"
  [ -n "$NODE_EXEC" ] || NODE_EXEC=$NODE
}

find_node_path() {
  if [ -n "${MAILHEALTH_NODE:-}" ]; then
    node_ok "$MAILHEALTH_NODE" || die "MAILHEALTH_NODE=$MAILHEALTH_NODE is not Node.js 20 or newer"
    node_loads_app "$MAILHEALTH_NODE" || die "MAILHEALTH_NODE=$MAILHEALTH_NODE ($("$MAILHEALTH_NODE" -v 2>/dev/null || echo '?')) cannot load the app's database module (better-sqlite3, built for the Node.js major version this release was built with and a glibc at least as new): use that Node.js version"
    root_only "$MAILHEALTH_NODE" || die "MAILHEALTH_NODE=$MAILHEALTH_NODE would run as root but $UNSAFE: use a Node.js only root can change (e.g. installed by the system's packages)"
    NODE=$MAILHEALTH_NODE; return 0
  fi
  unloadable=""
  unsafe=""
  for c in "$@"; do
    if [ -x "$R$c" ] && node_ok "$R$c"; then
      if ! node_loads_app "$R$c"; then unloadable="$unloadable $c ($("$R$c" -v 2>/dev/null || echo '?'))"; continue; fi
      if root_only "$R$c"; then NODE=$c; NODE_EXEC=$R$c; return 0; fi
      unsafe="$unsafe $c ($UNSAFE)"
    fi
  done
  sys=$(command -v node 2>/dev/null || true)
  if [ -n "$sys" ] && node_ok "$sys"; then
    if ! node_loads_app "$sys"; then
      unloadable="$unloadable $sys ($("$sys" -v 2>/dev/null || echo '?'))"
    elif root_only "$sys"; then
      NODE=$sys; return 0
    else
      unsafe="$unsafe $sys ($UNSAFE)"
    fi
  fi
  if [ -n "$unsafe" ]; then
    die "the service and the nightly report run as root, and every usable Node.js here can be changed by a user other than root:$unsafe. Install Node.js from the system's or the panel's packages. $NODE_HINT"
  fi
  if [ -n "$unloadable" ]; then
    die "no Node.js here can load the app's database module (better-sqlite3 is built for one Node.js major version and a minimum glibc); tried:$unloadable. $NODE_HINT"
  fi
  found=""
  for c in "$@"; do if [ -x "$R$c" ]; then found="$found $c ($("$R$c" -v 2>/dev/null || echo '?'))"; fi; done
  if [ -n "$sys" ]; then found="$found $sys ($("$sys" -v 2>/dev/null || echo '?'))"; fi
  die "Node.js 20 or newer is required. Looked for: $* and \`node\` on PATH.${found:+ Found too old:$found.} $NODE_HINT"
}

# --- Replacing the app under the service -------------------------------------------------------------------------------
# The service must never run one version's code on another's files: an old `serve` rendering the new views answered
# 500 ("ReferenceError: …/views/settings.ejs:33 lastReport is not defined"), and the installers used to swap the app and
# restart the service only at the very end, after the panel steps — for a few seconds on every upgrade, and for good
# when a panel step failed (set -eu stopped the script there; the cron entry of an older install stayed too). Now:
#   1. everything that can fail without touching the installed version comes first (Node.js, config, key, token);
#   2. install_app copies the release beside the app, stops the service, swaps the directories, removes the old cron
#      entry; install_unit, called next, starts the service again on the new code;
#   3. only then the panel steps (pages, install_plugin, register_appconfig, the Plesk extension): until they finish
#      the panel's registration is the previous one, which calls the app the way the new one does (the pages run
#      /usr/local/bin/mailhealth; the Plesk helper is versioned, sbin/mailhealth-v1) and guards nothing — the app
#      checks identities, privileges and the cPanel feature itself.
# begin_install arms an exit trap for step 2 and 3: on a failure (or Ctrl-C) it starts the service again if it was
# stopped, removes the old cron entry once the app is swapped, and says what state the server is in and what to do.
STEP=""            # what the installer is doing now: the trap names it when it fails
APP_SWAPPED=0      # 1: /usr/local/mailhealth holds this release
SWAPPING=0         # 1: between the two renames of install_app (the trap looks at the directories to know where it was)
SERVICE_DOWN=0     # 1: from the stop before the swap until the service is started again
START_SERVICE=1    # 0: the unit is written but not started (standalone without a usable panel)
SERVICE_FAILED=0   # 1: systemctl could not start the service
WITH_SOCKET=0      # 1: the service listens on mailhealth.socket (standalone.sh sets it before install_unit)

begin_install() {
  trap installer_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# The release's version (its package.json), for messages.
app_version() { sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$APP_SRC/package.json" 2>/dev/null | head -n 1; }

# start_service: (re)start the unit and remember whether it came up.
start_service() {
  if "$SYSTEMCTL" restart mailhealth.service; then SERVICE_DOWN=0; SERVICE_FAILED=0; return 0; fi
  SERVICE_FAILED=1
  say "the service did not start; see: journalctl -u mailhealth"
  return 1
}

installer_exit() {
  rc=$?
  set +e
  trap - EXIT INT TERM HUP
  [ "$rc" -eq 0 ] && exit 0
  LOST_APP=0
  if [ "$SWAPPING" = 1 ] && [ "$APP_SWAPPED" = 0 ]; then settle_swap; fi
  if [ "$LOST_APP" = 0 ]; then rm -rf "$R$APP_DIR.new"; fi
  if [ "$APP_SWAPPED" = 1 ]; then remove_old_cron; fi
  if [ "$SERVICE_DOWN" = 1 ] && [ "$START_SERVICE" = 1 ] && [ -f "$R$UNIT" ] && [ "$LOST_APP" = 0 ]; then
    "$SYSTEMCTL" daemon-reload
    if start_service; then say "started mailhealth.service again"; fi
  fi
  {
    if [ "$rc" -gt 128 ]; then how="was interrupted (signal $((rc - 128)))"; else how="stopped (exit $rc)"; fi
    printf 'mailhealth: the installer %s%s.\n' "$how" "${STEP:+ while $STEP}"
    if [ "$LOST_APP" = 1 ]; then
      printf 'mailhealth: %s is missing and could not be put back: the version installed before is in %s, this release in %s.\n' "$APP_DIR" "$APP_DIR.old" "$APP_DIR.new"
      printf 'mailhealth: the service was left stopped (it has no app to run): run %s again to install this release, or put the old one back: mv %s %s\n' "$0" "$APP_DIR.old" "$APP_DIR"
    elif [ "$APP_SWAPPED" = 1 ]; then
      printf 'mailhealth: %s holds the new version (%s); the steps from "%s" on were not done.\n' "$APP_DIR" "$(app_version)" "$STEP"
    elif [ -d "$R$APP_DIR" ]; then
      printf 'mailhealth: nothing was upgraded: %s holds the version installed before.\n' "$APP_DIR"
    else
      printf 'mailhealth: nothing was installed.\n'
    fi
    if [ ! -f "$R$UNIT" ] || [ "$LOST_APP" = 1 ]; then
      :
    elif [ "$START_SERVICE" = 0 ]; then
      printf 'mailhealth: the service is not started (configure the panel first).\n'
    elif [ "$SERVICE_FAILED" = 1 ]; then
      printf 'mailhealth: the service is not running: see journalctl -u mailhealth, then: systemctl restart mailhealth\n'
    elif [ "$APP_SWAPPED" = 1 ]; then
      printf 'mailhealth: the service runs the new version.\n'
    fi
    if [ "$rc" -gt 128 ]; then
      printf 'mailhealth: run %s again to finish (it is safe to repeat).\n' "$0"
    else
      printf 'mailhealth: fix the cause above, then run %s again (it is safe to repeat).\n' "$0"
    fi
  } >&2
  exit "$rc"
}

# settle_swap (the exit trap, when install_app was between its renames): a signal can come after `mv APP_DIR
# APP_DIR.old` and before `mv APP_DIR.new APP_DIR` — the app directory is then missing, and the trap used to delete the
# new copy, start the service on no app and say "nothing was installed". Where it stopped is read from the directories:
# - the app directory there and no new copy left: the second rename was done — the swap is complete (APP_SWAPPED);
# - no app directory but the old one renamed aside: it is put back (nothing upgraded; the service starts on it);
#   if that fails, the new copy is moved in instead; if both fail LOST_APP=1 (the message says where both copies are).
# A fresh install (no old one) with no app directory yet is "nothing was installed", as before.
settle_swap() {
  if [ -d "$R$APP_DIR" ] && [ ! -e "$R$APP_DIR.new" ]; then
    APP_SWAPPED=1
    rm -rf "$R$APP_DIR.old"
  elif [ ! -e "$R$APP_DIR" ] && [ -d "$R$APP_DIR.old" ]; then
    if mv "$R$APP_DIR.old" "$R$APP_DIR"; then
      say "put the version installed before back in $APP_DIR"
    elif mv "$R$APP_DIR.new" "$R$APP_DIR"; then
      APP_SWAPPED=1
      rm -rf "$R$APP_DIR.old"
    else
      LOST_APP=1
    fi
  fi
}

install_app() {
  STEP="copying the app next to $APP_DIR"
  rm -rf "$R$APP_DIR.new"
  mkdir -p "$R$APP_DIR.new"
  for item in bin dist node_modules views package.json; do
    if [ -e "$APP_SRC/$item" ]; then cp -R "$APP_SRC/$item" "$R$APP_DIR.new/"; fi
  done
  # World-readable code (the cPanel page runs as each user), root-owned.
  chmod -R u=rwX,go=rX "$R$APP_DIR.new"
  # From here until install_unit starts it, the service is down (a fresh install: not there yet). A standalone install
  # with mailhealth.socket keeps its port meanwhile: systemd holds it (a connection now starts the service again at
  # once, on whichever app is in place; install_unit restarts it on the new one).
  SERVICE_DOWN=1
  if [ -f "$R$UNIT" ]; then
    STEP="stopping mailhealth.service"
    "$SYSTEMCTL" stop mailhealth.service
  fi
  STEP="replacing $APP_DIR"
  rm -rf "$R$APP_DIR.old"
  # From here to APP_SWAPPED=1 a signal leaves the directories half swapped: the exit trap settles them (settle_swap).
  SWAPPING=1
  if [ -d "$R$APP_DIR" ]; then mv "$R$APP_DIR" "$R$APP_DIR.old"; fi
  if ! mv "$R$APP_DIR.new" "$R$APP_DIR"; then
    if [ -d "$R$APP_DIR.old" ]; then mv "$R$APP_DIR.old" "$R$APP_DIR"; fi
    die "could not move the new app into $APP_DIR"
  fi
  APP_SWAPPED=1
  SWAPPING=0
  rm -rf "$R$APP_DIR.old"
  remove_old_cron
  STEP="writing $WRAPPER"
  mkdir -p "$R$(dirname "$WRAPPER")"
  # Written beside and renamed: a page running the command meanwhile never reads half a file.
  cat > "$R$WRAPPER.tmp" <<WRAP
#!/bin/sh
# mailhealth command (written by the installer): the Node.js it chose, the installed app.
exec $(sh_quote "$NODE") $(sh_quote "$APP_DIR/bin/mailhealth.js") "\$@"
WRAP
  chmod 755 "$R$WRAPPER.tmp"
  mv "$R$WRAPPER.tmp" "$R$WRAPPER"
  private_dir "$ETC_DIR"
  printf '%s\n' "$NODE" > "$R$ETC_DIR/node"
  chmod 644 "$R$ETC_DIR/node"
}

# private_dir DIR: DIR (under the prefix) as a directory only root can enter, 0700 — made so at once (never open for a
# moment, whatever the umask), and tightened if an older install left it open. DIR, or anything directly in it, owned
# by another user is refused: chmod keeps the owner, who could still read the panel's API token or the history, put in
# a config naming the panel tools root runs, or rewrite /etc/mailhealth/node — the Node.js the Plesk helper runs as
# root (review: only config.json and frontdoor.key were checked; a file the installer rewrites in place with `>` keeps
# its owner, and a link another user left there — dangling too, `[ -e ]` is false for it — sends the write where that
# user chooses). Every entry, not a list: the temporary files the installers write there (config.json.new) too.
# Checked when the installer is root.
private_dir() {
  dir=$1
  if [ ! -d "$R$dir" ]; then
    mkdir -p "$R$(dirname "$dir")"
    mkdir -m 700 "$R$dir"
  fi
  if [ "$(id -u)" = 0 ]; then
    for p in "$R$dir" "$R$dir"/* "$R$dir"/.[!.]* "$R$dir"/..?*; do
      # (A pattern that matched nothing stays as written: neither a file nor a link.)
      [ -e "$p" ] || [ -L "$p" ] || continue
      shown=$dir${p#"$R$dir"}
      owner=$(stat -c %u "$p") || die "cannot read the owner of $shown"
      [ "$owner" = 0 ] || die "$shown belongs to uid $owner, not root: that user could read or replace what mailhealth keeps there (the panel's API token, the front-door key, the Node.js path root runs, the history). Check it, then: chown -R root:root $dir — and run the installer again"
    done
  fi
  chmod 700 "$R$dir"
}

# write_config JSON: /etc/mailhealth/config.json (0600), kept if it exists (the admin may have edited it).
write_config() {
  private_dir "$ETC_DIR"
  if [ ! -f "$R$ETC_DIR/config.json" ]; then
    umask 077
    printf '%s\n' "$1" > "$R$ETC_DIR/config.json"
    umask 022
    say "created $ETC_DIR/config.json"
  fi
  chmod 600 "$R$ETC_DIR/config.json"
  private_dir "$VAR_DIR"
}

# The front-door key: random, root-only, created once.
write_key() {
  if [ ! -s "$R$ETC_DIR/frontdoor.key" ]; then
    umask 077
    head -c 48 /dev/urandom | base64 | tr -d '\n=' > "$R$ETC_DIR/frontdoor.key"
    printf '\n' >> "$R$ETC_DIR/frontdoor.key"
    umask 022
  fi
  chmod 600 "$R$ETC_DIR/frontdoor.key"
}

# A value for the right-hand side of a sed s### command.
sed_escape() { printf '%s' "$1" | sed 's/[#&\\]/\\&/g'; }

# A word for a shell script: single-quoted ('…'\''…' for a quote inside), so a path with spaces or $ stays one word.
sh_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# A word for a systemd command line (systemd.service "COMMAND LINES"): double-quoted, with \ and " escaped, % as %%
# (specifiers) and $ as $$ (variable expansion) — so a Node.js path with spaces is one argument, not several.
unit_quote() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/[\\"]/\\&/g' -e 's/%/%%/g' -e 's/\$/$$/g')"; }

# install_unit MODE ARGS [no-start]: with no-start the unit is written but neither enabled nor started (the admin
# configures first; a service that cannot start would be restarted every 5 s for ever).
# WITH_SOCKET=1 (standalone): mailhealth.socket is written too, and the service Requires= it and starts After= it:
# systemd binds 127.0.0.1:8080 and holds it while the service is down, so that no local user can take the port then
# (install/mailhealth.socket). The socket is enabled and started before the service (with no-start: only written, as
# the service). Without it, a socket unit a standalone install left is removed: the panels' service listens on its Unix
# socket, and the old socket would start it on every connection to 127.0.0.1:8080.
install_unit() {
  STEP="writing and starting mailhealth.service"
  if [ "${3:-}" = no-start ]; then START_SERVICE=0; fi
  mkdir -p "$R$(dirname "$UNIT")"
  sed -e "s#@NODE@#$(sed_escape "$(unit_quote "$NODE")")#g" -e "s#@APP@#$(sed_escape "$APP_DIR")#g" -e "s#@ARGS@#$(sed_escape "$2")#g" -e "s#@MODE@#$(sed_escape "$1")#g" "$HERE/mailhealth.service" > "$R$UNIT.tmp"
  if [ "$WITH_SOCKET" = 1 ]; then
    STEP="writing and starting mailhealth.socket and mailhealth.service"
    sed -e '/^\[Unit\]$/a\
# The web port is held by systemd (mailhealth.socket), which passes it to the service: started first, kept while the\
# service is down. The service stops with it.\
Requires=mailhealth.socket\
After=mailhealth.socket' "$R$UNIT.tmp" > "$R$UNIT.tmp2"
    mv "$R$UNIT.tmp2" "$R$UNIT.tmp"
    cp "$HERE/mailhealth.socket" "$R$SOCKET_UNIT.tmp"
    chmod 644 "$R$SOCKET_UNIT.tmp"
    mv "$R$SOCKET_UNIT.tmp" "$R$SOCKET_UNIT"
  elif [ -f "$R$SOCKET_UNIT" ]; then
    remove_socket_unit
    say "removed mailhealth.socket (127.0.0.1:8080) of the standalone install: this service listens on its Unix socket in /run/mailhealth"
  fi
  mv "$R$UNIT.tmp" "$R$UNIT"
  chmod 644 "$R$UNIT"
  warn_exec_overrides
  "$SYSTEMCTL" daemon-reload
  if [ "$START_SERVICE" = 0 ]; then return 0; fi
  if [ "$WITH_SOCKET" = 1 ]; then
    "$SYSTEMCTL" enable mailhealth.socket
    start_socket || true
  fi
  "$SYSTEMCTL" enable mailhealth.service
  start_service || true
}

# start_socket: mailhealth.socket listening. `start`, never `restart`: a socket already listening is kept — a restart
# would close the port for a moment, the gap the socket is there to close. It binds only while nothing else holds the
# port: on an upgrade from a version without the socket, the old service bound 127.0.0.1:8080 itself, and install_app
# has stopped it by now; the service is started after, on the socket.
start_socket() {
  if "$SYSTEMCTL" start mailhealth.socket; then return 0; fi
  say "mailhealth.socket did not start: is another program listening on 127.0.0.1:8080 (ss -ltnp 'sport = :8080')? See: journalctl -u mailhealth.socket"
  return 1
}

# remove_socket_unit: a mailhealth.socket stopped, disabled and removed (the port is free after).
remove_socket_unit() {
  [ -f "$R$SOCKET_UNIT" ] || return 0
  "$SYSTEMCTL" disable --now mailhealth.socket || true
  rm -f "$R$SOCKET_UNIT"
}

# warn_exec_overrides: a drop-in in /etc/systemd/system/mailhealth.service.d/ (`systemctl edit mailhealth`, as the
# README's --no-report recipe makes) that sets ExecStart= replaces the unit's command line whole — Node.js path, app
# path, arguments — so what this install wrote does not run: each such line is shown with the unit's, every time the
# unit is written. A line that is the unit's with arguments added is what the recipe makes (a note); any other
# (another Node.js, or an older release's arguments) keeps running the old command silently (a warning).
warn_exec_overrides() {
  [ -d "$R$UNIT.d" ] || return 0
  mine=$(sed -n 's/^ExecStart=//p' "$R$UNIT" | head -n 1)
  for f in "$R$UNIT.d"/*.conf; do
    [ -f "$f" ] || continue
    shown=${f#"$R"}
    sed -n 's/^[[:space:]]*ExecStart[[:space:]]*=[[:space:]]*//p' "$f" | while IFS= read -r line; do
      [ -n "$line" ] || continue # the empty ExecStart= that clears the unit's before the drop-in's own
      # Compared without double quotes: `systemctl cat` shows the Node.js path quoted, a hand-written one may not be.
      case "$(printf '%s' "$line" | tr -d '"')" in
        "$(printf '%s' "$mine" | tr -d '"')"*)
          say "note: $shown replaces the service's command line with this install's plus additions: ExecStart=$line"
          say "note: an upgrade that changes the unit's line does not apply until you update that file (systemctl cat mailhealth shows both)" ;;
        *)
          warn "$shown replaces the service's command line, and not with this install's, so the service keeps running the old one:"
          warn "  drop-in: ExecStart=$line"
          warn "  unit:    ExecStart=$mine"
          warn "edit it to the unit's line plus your additions (systemctl edit mailhealth) or remove the file, then: systemctl daemon-reload && systemctl restart mailhealth" ;;
      esac
    done
  done
}

# service_blocker: why `mailhealth serve` could not start with the config as it stands (one line; nothing when nothing
# is known against it). The config is read as JSON, the way the app reads it, and judged by the panel it names (QA: a
# grep for the default "panelRoot" line held back a config that had switched to "panel": "whm" and left that line in).
# Only what fails at every start is looked at: a files panel (the kind when none is named) needs "panelRoot" with a
# panel.json in it. The other panels' settings are the service's to check: an error there stops it (exit 2 is not
# restarted, see mailhealth.service) with the reason in its journal. The panel directory is looked for under the
# sandbox root, or as it is named (a sandbox's config may name a panel outside the sandbox, as a demo copy).
# The command line the service runs counts as the app counts it: a drop-in in mailhealth.service.d/ (`systemctl edit
# mailhealth`) whose ExecStart= carries --panel, --panel-root or --config wins over the file's "panel" / "panelRoot" /
# the file itself (review r1: an admin who set the panel there was told "cannot start yet", and the upgrade left the
# running service stopped). Drop-ins are read in name order, the last ExecStart= with a command line wins, an empty one
# clears those before it (systemd's rules); a line continued with "\" is joined.
service_blocker() {
  "$NODE_EXEC" -e '
const fs = require("fs"), path = require("path");
const [file, shown, root, dropDir, dropShown] = process.argv.slice(1);
const why = (s) => { process.stdout.write(s + "\n"); process.exit(0); };
// The command line of the drop-ins, as words: "…" and \x27…\x27 quoted words, backslash escapes, %% and $$ as systemd reads them.
let line = null, from = null;
let names = [];
try { names = fs.readdirSync(dropDir).filter((n) => n.endsWith(".conf")).sort(); } catch {}
for (const n of names) {
  let text = "";
  try { text = fs.readFileSync(path.join(dropDir, n), "utf8"); } catch { continue; }
  for (const l of text.replace(/\\\r?\n/g, " ").split(/\r?\n/)) {
    const m = /^\s*ExecStart\s*=\s*(.*?)\s*$/.exec(l);
    if (!m) continue;
    if (m[1] === "") { line = null; from = null; } else { line = m[1]; from = `${dropShown}/${n}`; }
  }
}
const words = [];
if (line !== null) {
  const re = /"((?:[^"\\]|\\.)*)"|\x27([^\x27]*)\x27|((?:[^\s\\"\x27]|\\.)+)/g;
  for (let m; (m = re.exec(line)); ) {
    const w = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2] !== undefined ? m[2] : m[3].replace(/\\(.)/g, "$1");
    words.push(w.replace(/%%/g, "%").replace(/\$\$/g, "$"));
  }
}
const flag = (name) => {
  let v;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === name && i + 1 < words.length) v = words[++i];
    else if (words[i].startsWith(name + "=")) v = words[i].slice(name.length + 1);
  }
  return v;
};
const fPanel = flag("--panel"), fRoot = flag("--panel-root"), fConfig = flag("--config");
let cfgFile = file, cfgShown = shown;
if (fConfig !== undefined && fConfig !== "" && path.resolve("/", fConfig) !== shown) {
  const abs = path.resolve("/", fConfig);
  cfgFile = fs.existsSync(root + abs) ? root + abs : abs;
  cfgShown = `${fConfig} (--config in ${from})`;
}
let cfg;
try { cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8")); } catch (e) { why(`${cfgShown} is not valid JSON (${e.message})`); }
if (cfg === null || typeof cfg !== "object" || Array.isArray(cfg)) why(`${cfgShown} is not a JSON object`);
const panel = fPanel !== undefined ? fPanel : cfg.panel === undefined ? "files" : cfg.panel;
const panelFrom = fPanel !== undefined ? `--panel in ${from}` : cfgShown;
if (!["files", "cpanel", "whm", "plesk"].includes(panel)) why(`${panelFrom}: "panel" must be files, cpanel, whm or plesk (got ${JSON.stringify(panel)})`);
if (panel !== "files") process.exit(0);
const panelRoot = fRoot !== undefined ? fRoot : cfg.panelRoot;
const rootFrom = fRoot !== undefined ? `--panel-root in ${from}` : cfgShown;
if (typeof panelRoot !== "string" || panelRoot === "") why(`${rootFrom}: the files panel needs "panelRoot" (the directory with panel.json)`);
const dir = path.resolve("/", panelRoot);
if (![root + dir, dir].some((d) => fs.existsSync(path.join(d, "panel.json")))) why(`${rootFrom}: the files panel has no panel.json in ${dir}`);
' "$R$ETC_DIR/config.json" "$ETC_DIR/config.json" "$R" "$R$UNIT.d" "$UNIT.d" || echo "$ETC_DIR/config.json could not be checked ($NODE failed)"
}

# The background service runs the nightly report itself, at the settings page's schedule. Older installs also ran it
# from /etc/cron.d/mailhealth at a fixed 03:17: an upgrade removes that entry, so the report runs once a night, when
# the admin chose.
remove_old_cron() {
  if [ -e "$R$CRON" ] || [ -L "$R$CRON" ]; then
    rm -f "$R$CRON"
    say "removed $CRON from an older install: the background service runs the nightly report now"
  fi
}

remove_common() {
  reload=0
  if [ -f "$R$UNIT" ]; then
    "$SYSTEMCTL" disable --now mailhealth.service || true
    rm -f "$R$UNIT"
    reload=1
  fi
  # The standalone install's socket: the port goes with the service.
  if [ -f "$R$SOCKET_UNIT" ]; then
    remove_socket_unit
    reload=1
  fi
  # The admin's drop-ins (systemctl edit mailhealth: --no-report, limits): kept with the config by --uninstall, said
  # so, since a reinstall runs with them (and warns about one that replaces the command line); --purge removes them.
  if [ -d "$R$UNIT.d" ]; then
    if [ "$PURGE" = 1 ]; then
      rm -rf "$R$UNIT.d"
      reload=1
      say "removed $UNIT.d (drop-ins for the service)"
    else
      files=$(cd "$R$UNIT.d" && for f in *; do if [ -e "$f" ]; then printf ' %s' "$f"; fi; done)
      say "kept $UNIT.d (drop-ins for the service:${files:- none}): a reinstall runs with them; --purge removes them"
    fi
  fi
  if [ "$reload" = 1 ]; then "$SYSTEMCTL" daemon-reload || true; fi
  rm -f "$R$CRON" "$R$WRAPPER"
  rm -rf "$R$APP_DIR" "$R$APP_DIR.new" "$R$APP_DIR.old"
  if [ "$PURGE" = 1 ]; then
    rm -rf "$R$VAR_DIR" "$R$ETC_DIR" "$R$SHARED_SETTINGS"
    say "purged $VAR_DIR (history database), $ETC_DIR and $SHARED_SETTINGS"
  else
    rm -f "$R$ETC_DIR/node"
    say "kept $VAR_DIR (history database), $ETC_DIR and $SHARED_SETTINGS; use --purge to remove them"
  fi
}

# usage: the installer's header comment — every line from the second up to the first that is not a comment, without
# its "# " — so the help always lists what the header lists, whatever its length (a fixed line range once cut off
# --uninstall and --purge, or printed the script's first command). sed's q under -n stops without printing that line.
usage() {
  sed -n '1d
/^#/!q
s/^# \{0,1\}//
p' "$0"
}

parse_args() {
  ACTION=install
  PURGE=0
  for a in "$@"; do
    case "$a" in
      --uninstall) ACTION=uninstall ;;
      --purge) ACTION=uninstall; PURGE=1 ;;
      -h|--help) usage; exit 0 ;;
      *) printf 'mailhealth: error: unknown option %s\n\n' "$a" >&2; usage >&2; exit 2 ;;
    esac
  done
}
