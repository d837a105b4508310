// Preloaded into a CLI child process (node --import, after tsx) by contract-json.test.ts: the files panel's zone write
// as MH_TEST_PANEL_WRITE says — `fails`: the panel answers the write with an error and writes nothing (a full disk, a
// refused API call), so a fix or an undo ends "failed" with the change it recorded; `hangs`: the write never answers,
// after writing "test: panel write started" on stderr (the test sends its signal then).
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { PanelError } from '../../src/core/panel.js';

const mode = process.env.MH_TEST_PANEL_WRITE;

if (mode === 'fails') {
  FilesPanel.prototype.applyChanges = async function () {
    throw new PanelError('other', 'the panel could not write the zone file (test: no space left on device)');
  };
} else if (mode === 'hangs') {
  FilesPanel.prototype.applyChanges = function () {
    process.stderr.write('test: panel write started\n');
    return new Promise(() => setInterval(() => {}, 60_000));
  };
}
