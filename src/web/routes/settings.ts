// /settings (admin only): MailChannels account id, nightly report schedule/recipients/time zone/link address, DNS
// resolver, blocklists, retention.
import { Router } from 'express';
import type { AppContext } from '../app.js';
import { requireLogin, requireRole } from '../http.js';
import { readSettings, saveSettings, DEFAULT_BLOCKLISTS, type SettingsForm } from '../settings.js';

export function settingsRoutes(c: AppContext): Router {
  const r = Router();
  r.use('/settings', requireLogin, requireRole('admin'));
  const page = (form: SettingsForm, errors: Record<string, string>, saved: boolean) => ({
    title: 'Settings',
    form,
    errors,
    saved,
    defaultBlocklists: DEFAULT_BLOCKLISTS,
    scheduleOverrides: c.scheduleOverrides,
  });

  r.get('/settings', (req, res) => {
    res.render('settings', page(readSettings(c.store), {}, req.query.saved === '1'));
  });

  r.post('/settings', (req, res) => {
    const result = saveSettings(c.store, req.body as Record<string, unknown>);
    if (!result.ok) return res.status(400).render('settings', page(result.form, result.errors, false));
    afterSave(c);
    res.redirect(303, '/settings?saved=1');
  });

  return r;
}

/** The settings are stored whatever the hook does: a failing hook is logged, and the admin still sees "Saved." (true). */
function afterSave(c: AppContext): void {
  try {
    c.onSettingsSaved();
  } catch (e) {
    process.stderr.write(`mailhealth web: after saving the settings: ${(e as Error)?.stack ?? String(e)}\n`);
  }
}
