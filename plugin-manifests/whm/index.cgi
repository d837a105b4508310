#!/bin/sh
# Mail Health — WHM page (AppConfig, user=root). WHM has authenticated the user and sets REMOTE_USER; a browser
# cannot set it (request headers reach a CGI only as HTTP_*). Long work goes to the root-only service socket when
# `mailhealth service` runs; otherwise the request is handled here. Installed root-owned, mode 0755.
exec /usr/local/bin/mailhealth --config /etc/mailhealth/config.json cgi --front-door whm --service /run/mailhealth/mailhealth.sock
