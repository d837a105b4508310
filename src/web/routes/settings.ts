// /settings (admin only): MailChannels account id, nightly report schedule/recipients/time zone, DNS resolver,
// blocklists, retention.
import { Router } from 'express';
import type { AppContext } from '../app.js';
import { requireLogin, requireRole } from '../http.js';
import { readSettings, saveSettings, DEFAULT_BLOCKLISTS } from '../settings.js';

export function settingsRoutes(c: AppContext): Router {
  const r = Router();
  r.use('/settings', requireLogin, requireRole('admin'));

  r.get('/settings', (req, res) => {
    res.render('settings', { title: 'Settings', form: readSettings(c.store), errors: {}, saved: req.query.saved === '1', blocklists: DEFAULT_BLOCKLISTS });
  });

  r.post('/settings', (req, res) => {
    const result = saveSettings(c.store, req.body as Record<string, unknown>);
    if (result.ok) return res.redirect(303, '/settings?saved=1');
    res.status(400).render('settings', { title: 'Settings', form: result.form, errors: result.errors, saved: false, blocklists: DEFAULT_BLOCKLISTS });
  });

  return r;
}
