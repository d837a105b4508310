// Imported first by tests that start the service or a root front door: those publish the admin's settings for the
// cPanel page (src/cli/shared-settings.ts), which must land in a temp dir, never /etc — also when a test file is run
// on its own with `node --test` rather than through scripts/test.mjs (which sets the same variable).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.MAILHEALTH_SHARED_SETTINGS ||= join(mkdtempSync(join(tmpdir(), 'mailhealth-shared-')), 'shared-settings.json');
