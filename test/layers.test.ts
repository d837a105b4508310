// The layer rules of docs/architecture.md as a test (design rule 1): `src/core` is pure — I/O only through the injected
// Resolver, Panel and History — so it imports no I/O module of Node, no I/O package, and nothing of an outer layer;
// `src/knowledge` is data; `src/adapters` import no surface. Surface-to-surface imports (cli ↔ web ↔ cron ↔ demo) are not
// judged here. Every import counts, `import type` too (a type from an outer layer is a dependency on it all the same).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

/**
 * Node built-ins core may import: pure computation only. node:crypto — hashing (plan hashes, zone versions), key
 * parsing (DKIM) — never entropy or process state (apply's lock owners come from the injected History); node:url — domainToASCII (IDNA) in src/core/domain.ts; node:util and
 * node:buffer — encoding helpers. Everything else of Node (fs, net, dgram, child_process, http, https, dns, tls, os,
 * worker_threads, …) is I/O or process state and belongs in an adapter.
 */
const CORE_BUILTINS = new Set(['crypto', 'url', 'util', 'buffer']);

/**
 * Packages core may import: pure libraries. Anything else (better-sqlite3, express, nodemailer, node-cron, dns-packet,
 * ejs, commander, …) is an adapter's or a surface's; a new pure library for core is added here on purpose.
 */
const CORE_PACKAGES = new Set(['ipaddr.js', 'tldts']);

/** Where core's relative imports may lead: core itself and the knowledge base (data). */
const CORE_MAY_REACH = new Set(['core', 'knowledge']);

/** The surfaces: nothing below them (core, knowledge, adapters) imports them. */
const SURFACES = new Set(['cli', 'web', 'cron', 'demo']);

/**
 * Known violations, each with why it stands and who fixes it: "<file relative to the repository> → <specifier>".
 * Empty: the tree holds to the rules. An entry that no longer occurs fails the test (remove it).
 */
const KNOWN: ReadonlyMap<string, string> = new Map<string, string>([]);

function tsFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
    });
}

/**
 * The module specifiers a TypeScript file imports: `import … from`, `import '…'`, `export … from`, `import type`,
 * `import('…')` and `require('…')`. A small lexer first blanks comments, template literals and regular expression
 * literals (keeping line breaks), so that neither "//" in a string nor an import written inside a message or a
 * pattern counts; quoted strings are kept (the specifiers are among them). A static import or export is read only at
 * the start of a line.
 */
function importsOf(text: string): string[] {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  let code = '';
  let i = 0;
  // What precedes a "/" that opens a regular expression (else it divides): an operator or opening punctuation, a keyword
  // that takes an expression, or nothing at all; read from the last few significant characters written.
  const regexBefore = /[(,=:[!&|?{};+\-*%<>~^]$|^$|\b(?:return|typeof|case|of|in|void|delete|throw|new)$/;
  const tail = (s: string) => {
    let k = s.length;
    while (k > 0 && (s[k - 1] === ' ' || s[k - 1] === '\n' || s[k - 1] === '\t' || s[k - 1] === '\r')) k--;
    return s.slice(Math.max(0, k - 8), k);
  };
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      code += blank(text.slice(i, stop));
      i = stop;
    } else if (c === '/' && regexBefore.test(tail(code))) {
      // A regular expression literal: to the closing "/" outside a character class (never past the line).
      let j = i + 1;
      let inClass = false;
      while (j < text.length && text[j] !== '\n' && (inClass || text[j] !== '/')) {
        if (text[j] === '\\') j++;
        else if (text[j] === '[') inClass = true;
        else if (text[j] === ']') inClass = false;
        j++;
      }
      code += ' ' + blank(text.slice(i + 1, j)) + ' ';
      i = j + 1;
    } else if (c === "'" || c === '"') {
      // A quoted string ends at its quote, or at the line end (an unterminated one cannot swallow the file).
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      code += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== '`') j += text[j] === '\\' ? 2 : 1;
      code += '`' + blank(text.slice(i + 1, j)) + '`';
      i = j + 1;
    } else {
      code += c;
      i++;
    }
  }
  const out: string[] = [];
  const patterns = [
    /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*(['"])([^'"\n]+)\1/gm,
    /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm,
    /\b(?:import|require)\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[2]);
  return out;
}

const BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, '')));

type Target = { kind: 'builtin'; name: string } | { kind: 'package'; name: string } | { kind: 'src'; layer: string } | { kind: 'outside'; path: string };

function targetOf(file: string, spec: string): Target {
  if (spec.startsWith('.')) {
    const abs = resolve(dirname(file), spec);
    const rel = relative(SRC, abs);
    if (rel.startsWith('..')) return { kind: 'outside', path: relative(ROOT, abs) };
    return { kind: 'src', layer: rel.split(sep)[0] };
  }
  const bare = spec.replace(/^node:/, '');
  if (spec.startsWith('node:') || BUILTINS.has(bare.split('/')[0])) return { kind: 'builtin', name: bare.split('/')[0] };
  // The package name: "@scope/name" or "name" (a subpath such as "tldts/dist" names the same package).
  const parts = spec.split('/');
  return { kind: 'package', name: spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] };
}

/** Every import of `layer`'s files that `allowed` refuses, as "<file> → <specifier>". */
function violations(layer: string, allowed: (t: Target) => boolean): string[] {
  const bad: string[] = [];
  for (const f of tsFiles(join(SRC, layer))) {
    for (const spec of importsOf(readFileSync(f, 'utf8'))) if (!allowed(targetOf(f, spec))) bad.push(`${relative(ROOT, f).split(sep).join('/')} → ${spec}`);
  }
  return bad;
}

/** The violations not on the known list, and the known entries that no longer occur. */
function judge(bad: string[]): void {
  const layerOf = (entry: string) => entry.split('/')[1];
  const layers = new Set(bad.map(layerOf));
  assert.deepEqual(
    bad.filter((b) => !KNOWN.has(b)),
    [],
    'an import that breaks the layers (docs/architecture.md, design rule 1)',
  );
  for (const k of KNOWN.keys()) if (layers.has(layerOf(k))) assert.ok(bad.includes(k), `${k} is on the known list but no longer occurs: remove it`);
}

describe('layers (docs/architecture.md)', () => {
  test('the import reader sees every form of import and no comment', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from '../b.js';",
      'import {',
      '  c,',
      '  d,',
      "} from 'node:fs';",
      "import 'side-effect';",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "const g = await import('./g.js');",
      "const h = require('h');",
      "// import x from 'commented';",
      "/* import y from 'block'; */",
      "const s = 'http://example.com // not a comment'; const u = await import('./after-url.js');",
      'const t = `',
      "import w from 'in-a-template';",
      '`;',
      "const r = /['\"]/g; const v = await import('./after-regex.js');",
      "const q = a / b; const k = await import('./after-division.js');",
    ].join('\n');
    assert.deepEqual(
      importsOf(text).sort(),
      ['../b.js', './a.js', './after-division.js', './after-regex.js', './after-url.js', './e.js', './f.js', './g.js', 'h', 'node:fs', 'side-effect'].sort(),
    );
  });

  test('the scan reads the tree (not vacuous)', () => {
    const core = tsFiles(join(SRC, 'core'));
    assert.ok(core.length > 20, `${core.length} core files`);
    assert.ok(importsOf(readFileSync(join(SRC, 'core', 'audit.ts'), 'utf8')).includes('./classify.js'));
    assert.ok(tsFiles(join(SRC, 'adapters')).length > 5);
  });

  test('core imports no I/O module of Node, no I/O package, and nothing outside core and the knowledge base', () => {
    judge(
      violations('core', (t) => {
        if (t.kind === 'builtin') return CORE_BUILTINS.has(t.name);
        if (t.kind === 'package') return CORE_PACKAGES.has(t.name);
        if (t.kind === 'src') return CORE_MAY_REACH.has(t.layer);
        return false;
      }),
    );
  });

  test('the knowledge base is data: it imports nothing outside itself', () => {
    judge(violations('knowledge', (t) => t.kind === 'src' && t.layer === 'knowledge'));
  });

  test('adapters import no surface (cli, web, cron, demo)', () => {
    judge(violations('adapters', (t) => !(t.kind === 'src' && SURFACES.has(t.layer)) && t.kind !== 'outside'));
  });
});
