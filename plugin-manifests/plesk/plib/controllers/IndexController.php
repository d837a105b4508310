<?php
// Thin shim between Plesk and the Node app. It decides nothing about mail DNS; it only
//   1. takes the identity from the Plesk login session (pm_Session::getClient(): login and role) and, for resellers
//      and customers, the domains that client may access (pm_Domain + hasAccessToDomain);
//   2. runs the extension's root helper sbin/mailhealth-v1 through pm_ApiCli::callSbin with `--user LOGIN --role ROLE`,
//      the request as CGI variables in $env and the body on $stdin (both need Plesk 18.0.55+). The domain list goes in
//      a temporary file (one name per line, mode 0600, in the extension's var dir) named by
//      MAILHEALTH_ALLOWED_DOMAINS_FILE, removed once the helper has answered: Linux limits one environment string to
//      128 KiB, which a reseller's thousands of names would exceed (exec fails with E2BIG);
//   3. copies the helper's CGI answer (Status, headers, body) into the response.
// The browser never supplies the identity: it comes from pm_Session on the server side, and only this extension's
// code can call its sbin helper (which runs as root and re-validates its arguments).
class IndexController extends pm_Controller_Action
{
    protected $_accessLevel = ['admin', 'reseller', 'client'];

    /** URL path of the app inside Plesk: /modules/mailhealth/index.php/index/app (+ the app's own path). */
    const APP_ACTION = '/index/app';

    public function indexAction()
    {
        $this->_redirect(pm_Context::getBaseUrl() . 'index.php' . self::APP_ACTION . '/domains');
    }

    public function appAction()
    {
        $this->_helper->layout()->disableLayout();
        $this->_helper->viewRenderer->setNoRender(true);

        $client = pm_Session::getClient();
        if ($client->isAdmin()) {
            $role = 'admin';
        } elseif ($client->isReseller()) {
            $role = 'reseller';
        } else {
            $role = 'customer';
        }

        $body = (string) file_get_contents('php://input');
        $env = $this->cgiEnvironment(strlen($body));
        $scopeFile = null;
        try {
            if ($role !== 'admin') {
                $scopeFile = $this->writeScopeFile($this->accessibleDomains($client));
                if ($scopeFile === null) {
                    $this->sendFailure(500, 'could not write the list of domains this user may access to ' . pm_Context::getVarDir());
                    return;
                }
                $env['MAILHEALTH_ALLOWED_DOMAINS_FILE'] = $scopeFile;
            }
            $result = pm_ApiCli::callSbin('mailhealth-v1', ['--user', $client->getLogin(), '--role', $role], pm_ApiCli::RESULT_FULL, $env, $body);
        } finally {
            if ($scopeFile !== null && file_exists($scopeFile)) {
                @unlink($scopeFile);
            }
        }
        $this->sendCgiAnswer(is_array($result) ? $result : ['code' => 1, 'stdout' => '', 'stderr' => 'no answer']);
    }

    /**
     * The domain list for the helper: a new file (one name per line, mode 0600) in the extension's var dir, or null
     * when it cannot be written in full. The caller removes it once the helper has answered.
     */
    private function writeScopeFile(array $names)
    {
        $path = tempnam(pm_Context::getVarDir(), 'scope-');
        if ($path === false) {
            return null;
        }
        $data = count($names) > 0 ? implode("\n", $names) . "\n" : '';
        if (!chmod($path, 0600) || file_put_contents($path, $data) !== strlen($data)) {
            @unlink($path);
            return null;
        }
        return $path;
    }

    private function sendFailure($status, $why)
    {
        $response = $this->getResponse();
        $response->setHttpResponseCode($status);
        $response->setHeader('Content-Type', 'text/plain; charset=utf-8', true);
        $response->setBody("Mail Health could not answer.\n");
        error_log('mailhealth: ' . $why);
    }

    /** Names of the domains this reseller or customer may access, as Plesk itself decides. */
    private function accessibleDomains(pm_Client $client)
    {
        $names = [];
        foreach (pm_Domain::getAllDomains() as $domain) {
            if ($client->hasAccessToDomain($domain->getId())) {
                $names[] = $domain->getName();
            }
        }
        return $names;
    }

    /** The request as RFC 3875 meta-variables. Only the app's own cookie is passed on, never Plesk's session. */
    private function cgiEnvironment($contentLength)
    {
        $uri = isset($_SERVER['REQUEST_URI']) ? (string) $_SERVER['REQUEST_URI'] : '/';
        $path = (string) parse_url($uri, PHP_URL_PATH);
        $query = (string) parse_url($uri, PHP_URL_QUERY);
        $at = strpos($path, 'index.php' . self::APP_ACTION);
        $base = $at === false ? pm_Context::getBaseUrl() . 'index.php' . self::APP_ACTION : substr($path, 0, $at) . 'index.php' . self::APP_ACTION;
        $rest = $at === false ? '/' : (string) substr($path, $at + strlen('index.php' . self::APP_ACTION));
        if ($rest === '' || $rest[0] !== '/') {
            $rest = '/' . $rest;
        }

        $cookies = [];
        foreach ($_COOKIE as $name => $value) {
            if ($name === 'mh_session') {
                $cookies[] = $name . '=' . rawurlencode((string) $value);
            }
        }

        $env = [
            'GATEWAY_INTERFACE' => 'CGI/1.1',
            'REQUEST_METHOD' => isset($_SERVER['REQUEST_METHOD']) ? (string) $_SERVER['REQUEST_METHOD'] : 'GET',
            'SCRIPT_NAME' => $base,
            'PATH_INFO' => rawurldecode($rest),
            'QUERY_STRING' => $query,
            'CONTENT_LENGTH' => (string) $contentLength,
            'CONTENT_TYPE' => isset($_SERVER['CONTENT_TYPE']) ? (string) $_SERVER['CONTENT_TYPE'] : '',
            'HTTPS' => (!empty($_SERVER['HTTPS']) && $_SERVER['HTTPS'] !== 'off') ? 'on' : 'off',
            'HTTP_ACCEPT' => isset($_SERVER['HTTP_ACCEPT']) ? (string) $_SERVER['HTTP_ACCEPT'] : '*/*',
            'HTTP_COOKIE' => implode('; ', $cookies),
        ];
        if (isset($_SERVER['HTTP_X_CSRF_TOKEN'])) {
            $env['HTTP_X_CSRF_TOKEN'] = (string) $_SERVER['HTTP_X_CSRF_TOKEN'];
        }
        // The browser's Sec-Fetch-Site: a page opened from a link on another site checks nothing and takes no audit
        // token (README "Rate limits"). Dropping it here served such a link as a browser that sends none would be.
        if (isset($_SERVER['HTTP_SEC_FETCH_SITE'])) {
            $env['HTTP_SEC_FETCH_SITE'] = (string) $_SERVER['HTTP_SEC_FETCH_SITE'];
        }
        return $env;
    }

    /** Copy a CGI answer ("Status: 200 OK", headers, blank line, body) into the Zend response. */
    private function sendCgiAnswer(array $result)
    {
        $response = $this->getResponse();
        $out = isset($result['stdout']) ? (string) $result['stdout'] : '';
        $split = strpos($out, "\r\n\r\n");
        if ((int) $result['code'] !== 0 || $split === false) {
            $response->setHttpResponseCode(502);
            $response->setHeader('Content-Type', 'text/plain; charset=utf-8', true);
            $response->setBody("Mail Health could not answer.\n");
            error_log('mailhealth helper: exit ' . $result['code'] . ': ' . (isset($result['stderr']) ? $result['stderr'] : ''));
            return;
        }
        $status = 200;
        foreach (explode("\r\n", substr($out, 0, $split)) as $line) {
            $colon = strpos($line, ':');
            if ($colon === false) {
                continue;
            }
            $name = trim(substr($line, 0, $colon));
            $value = trim(substr($line, $colon + 1));
            if (strcasecmp($name, 'Status') === 0) {
                $status = (int) $value;
            } elseif (strcasecmp($name, 'Content-Length') !== 0) {
                $response->setHeader($name, $value, strcasecmp($name, 'Set-Cookie') !== 0);
            }
        }
        $response->setHttpResponseCode($status >= 100 && $status < 600 ? $status : 502);
        $response->setBody(substr($out, $split + 4));
    }
}
