#!/usr/bin/env node
// Runs the compiled CLI (npm run build); from a source checkout without a build, use `npx tsx src/cli/bin.ts`.
import('../dist/src/cli/bin.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('mailhealth: not built yet — run `npm run build` (or `npx tsx src/cli/bin.ts …` from a checkout)\n');
    process.exit(2);
  }
  throw e;
});
