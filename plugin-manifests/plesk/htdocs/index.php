<?php
// Entry point of the extension's UI (served at /modules/mailhealth/ to logged-in Plesk users only; public files
// would live in htdocs/public/). Standard pm_Application bootstrap: requests are routed to plib/controllers.
pm_Context::init('mailhealth');
$application = new pm_Application();
$application->run();
