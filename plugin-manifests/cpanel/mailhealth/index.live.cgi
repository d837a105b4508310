#!/bin/sh
# Mail Health — cPanel (Jupiter) page. cpsrvd runs *.live.cgi files as the logged-in cPanel user, with REMOTE_USER
# and the LiveAPI socket (CPANEL_CONNECT_SOCKET) in the environment (shared/reference/cpanel.md §9.2). The app checks
# that REMOTE_USER is the user it runs as and acts only through that user's UAPI. Installed root-owned, mode 0755.
exec /usr/local/bin/mailhealth cgi --front-door cpanel
