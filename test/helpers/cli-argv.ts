// How a test starts `mailhealth` as a child process: the build scripts/test.mjs compiled at the start of the run
// (MAILHEALTH_TEST_BUILD), else the TypeScript sources through tsx (a test file run on its own with `node --test`).
import { join } from 'node:path';
import { REPO_ROOT } from './corpora.js';

export const TEST_BUILD = process.env.MAILHEALTH_TEST_BUILD || null;

/** tsx's loader and src/cli/bin.ts: for a child whose preload patches a source module (a compiled CLI would not see it). */
export const SOURCE_CLI_ARGV: readonly string[] = ['--import', 'tsx', join(REPO_ROOT, 'src/cli/bin.ts')];

/** node's arguments before the CLI's own: the compiled bin.js, or tsx's loader and src/cli/bin.ts (absolute paths). */
export const CLI_ARGV: readonly string[] = TEST_BUILD ? [join(TEST_BUILD, 'src/cli/bin.js')] : SOURCE_CLI_ARGV;
