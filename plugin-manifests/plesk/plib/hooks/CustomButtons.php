<?php
// Navigation entries: the administrator's and resellers' navigation, and the customer's hosting panel navigation
// (pm_Hook_CustomButtons places, shared/reference/plesk.md §7.3). All open the same controller; the shim decides the
// role from pm_Session, so a link in the wrong place cannot widen anyone's scope.
class Modules_Mailhealth_CustomButtons extends pm_Hook_CustomButtons
{
    public function getButtons()
    {
        $common = [
            'title' => 'Mail Health',
            'description' => 'Audit and fix SPF, DKIM, DMARC, MX and MailChannels records',
            'icon' => pm_Context::getBaseUrl() . 'icon.png',
            'link' => pm_Context::getBaseUrl() . 'index.php/index/app/domains',
        ];
        return [
            array_merge($common, ['place' => self::PLACE_ADMIN_NAVIGATION]),
            array_merge($common, ['place' => self::PLACE_RESELLER_NAVIGATION]),
            array_merge($common, ['place' => self::PLACE_HOSTING_PANEL_NAVIGATION]),
        ];
    }
}
