// Outside test data lives in ../shared/corpora (beside the checkout). MAILHEALTH_CORPORA overrides the path.
// Tests never copy it into the repo; when it is absent they say so clearly and skip (node:test `skip` with a reason).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CORPORA_DIR = process.env.MAILHEALTH_CORPORA ?? resolve(REPO_ROOT, '../shared/corpora');

/** Path of a corpus file, or null when the corpora folder (or that file) is missing. */
export function corpusPath(rel: string): string | null {
  const p = join(CORPORA_DIR, rel);
  return existsSync(p) ? p : null;
}

/** Message for `{ skip: ... }` when a corpus file is missing. */
export function corpusMissing(rel: string): string {
  return `corpus file ${rel} not found under ${CORPORA_DIR} (set MAILHEALTH_CORPORA to the shared/corpora folder)`;
}

export function readCorpus(rel: string): string {
  const p = corpusPath(rel);
  if (!p) throw new Error(corpusMissing(rel));
  return readFileSync(p, 'utf8');
}

export const FIXTURES_DIR = join(REPO_ROOT, 'test/fixtures');
