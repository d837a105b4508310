// A Panel decorator that applies the admin's stored settings on top of what the panel reports.
// Today: the MailChannels account id from the settings page overrides the relay's authId, so the audit (lockdown
// check) and the lockdown fix see the account the hosting company actually uses. Everything else passes through.
import { SETTING_KEYS } from '../../core/settings.js';
import type { MailSettings } from '../../core/model.js';
import type { Panel } from '../../core/panel.js';
import { relayById } from '../../knowledge/index.js';

/** Where settings come from (the store implements it). */
export interface SettingsSource {
  getSetting<T = unknown>(key: string): T | undefined;
}

/** The settings schema's key (src/core/settings.ts): the admin's MailChannels account id. */
export const SETTING_MAILCHANNELS_ACCOUNT = SETTING_KEYS.mailchannelsAccountId;

export function withSettings(panel: Panel, settings: SettingsSource): Panel {
  const decorated: Panel = {
    kind: panel.kind,
    capabilities: panel.capabilities,
    listAccounts: () => panel.listAccounts(),
    listDomains: (identity) => panel.listDomains(identity),
    readZone: (domain) => panel.readZone(domain),
    readMailSettings: async (domain) => applySettings(await panel.readMailSettings(domain), settings),
    applyChanges: (domain, changes, expectedVersion) => panel.applyChanges(domain, changes, expectedVersion),
  };
  if (panel.generateDkim) {
    const gen = panel.generateDkim.bind(panel);
    decorated.generateDkim = async (domain) => applySettings(await gen(domain), settings);
  }
  if (panel.startDkimSigning) {
    const start = panel.startDkimSigning.bind(panel);
    decorated.startDkimSigning = async (domain) => applySettings(await start(domain), settings);
  }
  return decorated;
}

function applySettings(s: MailSettings, settings: SettingsSource): MailSettings {
  const raw = settings.getSetting<string>(SETTING_MAILCHANNELS_ACCOUNT);
  const authId = typeof raw === 'string' ? raw.trim() : '';
  if (!authId) return s;
  const mailchannels = relayById('mailchannels');
  if (!s.relay && s.relayUnknown && mailchannels) {
    // The panel cannot read the smarthost here, but the admin has set this host's MailChannels account: that says
    // the host relays through MailChannels (the setting exists only for that), with its SPF include (providers.json).
    const { relayUnknown: _unknown, ...rest } = s;
    return { ...rest, relay: { provider: mailchannels.provider, host: mailchannels.include, authId } };
  }
  if (!s.relay || s.relay.provider.toLowerCase() !== 'mailchannels') return s;
  return { ...s, relay: { ...s.relay, authId } };
}
