// Orders in output do not depend on the machine's locale: `localeCompare` follows LANG (under da_DK "aa" sorts as "å",
// after "z"), so two servers printed the same audit, report or explanation in different orders (QA). Every sort of
// names and rule ids compares UTF-16 code units. Checked in a child process running under LANG=da_DK.UTF-8.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { compareText } from '../../src/core/text.js';

test('compareText is code-unit order', () => {
  assert.deepEqual(['zz.example', 'aab.example', 'ab.example', 'Zed.example'].sort(compareText), ['Zed.example', 'aab.example', 'ab.example', 'zz.example']);
});

test('findings (compareFindings) sort the same under a Danish locale as anywhere', () => {
  const script = `
    import { compareFindings } from ${JSON.stringify(new URL('../../src/core/model.ts', import.meta.url).href)};
    const f = (check, rule) => ({ check, rule, severity: 'fail', message: '', evidence: {} });
    const out = [f('spf', 'zz.rule'), f('spf', 'aab.rule'), f('aadmarc', 'x'), f('dkim', 'x')].sort(compareFindings);
    console.log(JSON.stringify(out.map((x) => x.check + ':' + x.rule)));
  `;
  const run = (lang: string) =>
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, LANG: lang, LC_ALL: lang }, encoding: 'utf8' }).trim();
  const danish = run('da_DK.UTF-8');
  assert.equal(danish, JSON.stringify(['aadmarc:x', 'dkim:x', 'spf:aab.rule', 'spf:zz.rule']));
  assert.equal(run('C.UTF-8'), danish);
});
