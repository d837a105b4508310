// A newer mailhealth migrated the history database while this web process ran (store.ts SchemaChangedError): pages
// answer 503 "restart the service", not 500 with a stack per request (QA: an old serve after an upgrade's CLI ran).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MIGRATIONS, type Migration } from '../../src/adapters/store/migrations.js';
import { openStore } from '../../src/adapters/store/store.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

const NEXT: readonly Migration[] = [...MIGRATIONS, { description: 'test: a step of a later release', sql: 'CREATE TABLE later_release (id INTEGER PRIMARY KEY);' }];

let w: TestWorld;
before(async () => {
  w = await demoWorld();
});
after(() => w.close());

test('pages and the API answer 503 "restart the service" once a later release migrated the database', async () => {
  const s = await login(w.app, 'alice');
  await s.agent.get('/domains').expect(200);
  const newer = openStore(join(w.dir, 'db.sqlite'), { migrations: NEXT });
  newer.close();
  const page = await s.agent.get('/domains');
  assert.equal(page.status, 503, page.text.slice(0, 300));
  assert.match(page.text, /mailhealth was upgraded: this service still runs the previous version\. Restart the service/);
  const api = await s.agent.get('/api/domains').set('accept', 'application/json');
  assert.equal(api.status, 503);
  assert.match((api.body as { error: string }).error, /Restart the service/);
});
