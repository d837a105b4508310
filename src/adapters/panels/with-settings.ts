// A Panel decorator that applies the admin's stored settings on top of what the panel reports.
// Today: the MailChannels account id from the settings page overrides the relay's authId, so the audit (lockdown
// check) and the lockdown fix see the account the hosting company actually uses. Everything else passes through.
//
// The settings are read from the history database at each panel read. When that read fails, the panel read it is part
// of fails — core says so in a finding ("The panel could not provide the server's mail settings: …", recorded in the
// history and shown on the domain's page) or in a fix's refusal — in words of its own (settingsUnreadable): the
// store's error names the database file and quotes SQLite, and goes to the log only.
import { SETTING_KEYS } from '../../core/settings.js';
import type { MailSettings } from '../../core/model.js';
import type { Panel } from '../../core/panel.js';
import { escapeControls } from '../../core/text.js';
import { relayById } from '../../knowledge/index.js';
import { isBusy } from '../store/busy.js';
import { StoreError } from '../store/store.js';

/** Where settings come from (the store implements it). */
export interface SettingsSource {
  getSetting<T = unknown>(key: string): T | undefined;
}

/** The settings schema's key (src/core/settings.ts): the admin's MailChannels account id. */
export const SETTING_MAILCHANNELS_ACCOUNT = SETTING_KEYS.mailchannelsAccountId;

export interface WithSettingsOptions {
  /**
   * Where the raw error of a settings read that failed goes (one line, its own words: the database file's path,
   * SQLite's message). Default: a line on stderr ("mailhealth: …", control characters written out). Logged once per
   * failing spell — not once per domain of a night's audit — and again once the error changes.
   */
  log?: (message: string) => void;
}

/**
 * How a failed settings read begins, here and in the web's own settings source (src/web/services.ts settingsFrom),
 * which logs the raw error itself: an error in these words is passed on as it is.
 */
export const SETTINGS_UNREADABLE = "the admin's settings could not be read";

export function withSettings(panel: Panel, settings: SettingsSource, opts: WithSettingsOptions = {}): Panel {
  const read = readerOf(settings, opts.log ?? logToStderr);
  const decorated: Panel = {
    kind: panel.kind,
    capabilities: panel.capabilities,
    listAccounts: () => panel.listAccounts(),
    listDomains: (identity) => panel.listDomains(identity),
    readZone: (domain) => panel.readZone(domain),
    readMailSettings: async (domain) => applySettings(await panel.readMailSettings(domain), read),
    applyChanges: (domain, changes, expectedVersion) => panel.applyChanges(domain, changes, expectedVersion),
  };
  if (panel.generateDkim) {
    const gen = panel.generateDkim.bind(panel);
    decorated.generateDkim = async (domain) => applySettings(await gen(domain), read);
  }
  if (panel.startDkimSigning) {
    const start = panel.startDkimSigning.bind(panel);
    decorated.startDkimSigning = async (domain) => applySettings(await start(domain), read);
  }
  return decorated;
}

/** A setting's value, or the failure in words of its own (settingsUnreadable), its raw error logged once a spell. */
function readerOf(settings: SettingsSource, log: (message: string) => void): <T>(key: string) => T | undefined {
  let logged: string | null = null;
  return <T>(key: string): T | undefined => {
    try {
      const v = settings.getSetting<T>(key);
      logged = null;
      return v;
    } catch (e) {
      if (isSaid(e)) throw e;
      const raw = (e as Error)?.message ?? String(e);
      if (raw !== logged) {
        logged = raw;
        log(`${SETTINGS_UNREADABLE} (setting ${key}): ${raw}`);
      }
      throw settingsUnreadable(e);
    }
  };
}

/** An error already in these words (the web's settings source): its raw error was logged where it was met. */
function isSaid(e: unknown): boolean {
  return e instanceof Error && e.message.startsWith(SETTINGS_UNREADABLE);
}

/**
 * A settings read that failed, in words of mailhealth's own: a busy database (another mailhealth process writing) as
 * such, anything else as a failing history database. Still a store error of the same code where it was one, so core
 * answers a busy database as one (a fix: "busy, nothing was written"), and the CLI reports a store failure as such.
 */
export function settingsUnreadable(e: unknown): Error {
  const message = isBusy(e)
    ? `${SETTINGS_UNREADABLE}: mailhealth's history database is busy (another mailhealth process is writing to it); try again in a moment`
    : `${SETTINGS_UNREADABLE} from mailhealth's history database (mailhealth's log says why)`;
  return e instanceof StoreError ? new StoreError(e.code, message, { cause: e }) : new Error(message, { cause: e });
}

/** The default log: one line on stderr, control and invisible characters written out (the text is the store's). */
function logToStderr(message: string): void {
  process.stderr.write(`mailhealth: ${escapeControls(message)}\n`);
}

function applySettings(s: MailSettings, read: <T>(key: string) => T | undefined): MailSettings {
  const raw = read<string>(SETTING_MAILCHANNELS_ACCOUNT);
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
