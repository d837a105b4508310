// Entry point of the fake panel executables (`uapi`, `whmapi1`, `plesk`): loads the emulator state from a JSON file,
// runs one call through the same handlers the HTTP emulators use, saves the state, prints what the real tool prints.
// Usage (from the generated wrappers): node --import tsx cli.ts <uapi|whmapi1|plesk> <state.json> ...argv
import { readFileSync, writeFileSync } from 'node:fs';
import { uapiCall, type CpState, type Params } from './cpanel.js';
import { pleskBin, type PleskState } from './plesk.js';
import { whmCall } from './whm.js';

const [kind, stateFile, ...argv] = process.argv.slice(2);
const state = JSON.parse(readFileSync(stateFile, 'utf8')) as CpState & PleskState;
const save = () => writeFileSync(stateFile, JSON.stringify(state));
const kv = (items: string[]): Params =>
  items.map((a) => {
    const i = a.indexOf('=');
    return [a.slice(0, i), decodeURIComponent(a.slice(i + 1))] as [string, string];
  });

if (kind === 'uapi') {
  const opts = argv.filter((a) => a.startsWith('--'));
  const rest = argv.filter((a) => !a.startsWith('--'));
  const user = opts.find((o) => o.startsWith('--user='))?.slice(7) ?? state.cliUser;
  const [module, func, ...args] = rest;
  const out = uapiCall(state, user, module, func, kv(args));
  const result = out === 'not-found' ? { status: 0, data: null, errors: [`Failed to load module “${module}”.`], messages: null, metadata: {}, warnings: null } : out;
  save();
  process.stdout.write(JSON.stringify({ apiversion: 3, module, func, result }) + '\n');
} else if (kind === 'whmapi1') {
  const [func, ...args] = argv.filter((a) => !a.startsWith('--'));
  const out = whmCall(state, 'root', func, kv(args));
  save();
  process.stdout.write(JSON.stringify(out === 'not-found' ? { metadata: { command: func, result: 0, reason: `Unknown app (“${func}”) requested for this version (1) of the API.`, version: 1 } } : out) + '\n');
} else if (kind === 'plesk') {
  if (argv[0] !== 'bin') {
    process.stderr.write('usage: plesk bin <utility> ...\n');
    process.exit(1);
  }
  const r = pleskBin(state, argv[1], argv.slice(2));
  save();
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
} else {
  process.stderr.write(`unknown fake tool ${kind}\n`);
  process.exitCode = 1;
}
