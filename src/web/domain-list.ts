// The domain table behind /domains, /bulk, /api/domains and the exports: the identity's scope from the panel joined
// with the latest stored result of each domain, filtered, worst first, paginated.
import { CHECKS, type CheckName, type DomainRef, type DomainStatus, type Severity } from '../core/model.js';
import type { Store } from '../adapters/store/store.js';
import { checkDomain, labelToAscii } from '../core/domain.js';

export interface DomainRow {
  domain: string;
  owner: string;
  reseller: string | null;
  /** null: never audited. */
  status: DomainStatus | null;
  auditedAt: string | null;
  checks: Partial<Record<CheckName, Severity>>;
}

export interface ListFilter {
  status?: string;
  check?: string;
  customer?: string;
  q?: string;
}

export interface ListPage {
  rows: DomainRow[];
  total: number;
  page: number;
  pages: number;
  perPage: number;
  filter: ListFilter;
  customers: string[];
}

const STATUS_ORDER: Record<string, number> = { fail: 0, warn: 1, unknown: 2, none: 3, pass: 4 };
export const STATUS_FILTERS = ['fail', 'warn', 'unknown', 'pass', 'none'] as const;

export function rowsFor(store: Store, scope: DomainRef[]): DomainRow[] {
  const summaries = store.latestSummaries(scope.map((d) => d.domain));
  return scope.map((ref) => {
    const s = summaries.get(ref.domain);
    return {
      domain: ref.domain,
      owner: ref.owner,
      reseller: ref.reseller ?? null,
      status: s?.status ?? null,
      auditedAt: s?.auditedAt ?? null,
      checks: s?.checks ?? {},
    };
  });
}

export function sortWorstFirst(rows: DomainRow[]): DomainRow[] {
  return rows.sort((a, b) => STATUS_ORDER[a.status ?? 'none'] - STATUS_ORDER[b.status ?? 'none'] || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
}

/** Clean a filter from query parameters: unknown values are dropped, not trusted. */
export function parseFilter(q: Record<string, unknown>): ListFilter {
  const s = (k: string) => (typeof q[k] === 'string' ? (q[k] as string).trim() : '');
  const f: ListFilter = {};
  if ((STATUS_FILTERS as readonly string[]).includes(s('status'))) f.status = s('status');
  if ((CHECKS as readonly string[]).includes(s('check'))) f.check = s('check');
  if (s('customer')) f.customer = s('customer').slice(0, 100);
  const text = s('q') ? domainQuery(s('q')) : '';
  if (text) f.q = text;
  return f;
}

/**
 * The "Domain contains" text as the listed names are written (checkDomain: lower-case A-labels, no trailing dot), so
 * a domain typed as its customer writes it finds it — "bücher.example", "BÜCHER.EXAMPLE.", "bakery.example." — as its
 * domain page (/domains/bücher.example) does. A whole name goes through the domain validator; other text (part of a
 * name) label by label: each label that converts is written as IDNA writes it ("Bücher" → "xn--bcher-kva"), the rest
 * lower-cased as typed, one trailing dot dropped; the rows are then those whose name contains it, as before.
 */
export function domainQuery(text: string): string {
  const t = text.trim().slice(0, 1000);
  const whole = checkDomain(t);
  if (whole.ok) return whole.domain;
  return t
    .replace(/[.\u3002\uFF0E\uFF61]$/, '')
    .split('.')
    .map((l) => labelToAscii(l) ?? l.toLowerCase())
    .join('.')
    .slice(0, 253);
}

/**
 * The status a check's worst severity is shown as — its chip (view-model SEVERITY_LABELS): `info` is "OK" like `pass`,
 * no finding is "Not audited" (`none`). The filter's statuses are these, so "Check: SPF, Status: OK" matches every
 * SPF chip that says OK.
 */
export function shownCheckStatus(sev: Severity | undefined): (typeof STATUS_FILTERS)[number] {
  if (sev === undefined) return 'none';
  return sev === 'info' ? 'pass' : sev;
}

/** The one filter behind the lists, the exports, "Audit all N matching" (/bulk/audit) and POST /api/bulk. */
export function applyFilter(rows: DomainRow[], f: ListFilter): DomainRow[] {
  return rows.filter((r) => {
    if (f.customer && r.owner !== f.customer) return false;
    if (f.q && !r.domain.includes(f.q)) return false;
    if (f.check) {
      // "check" alone: domains with a problem in that check; with a status: that check's chip.
      const shown = shownCheckStatus(r.checks[f.check as CheckName]);
      if (f.status) return shown === f.status;
      return shown === 'fail' || shown === 'warn' || shown === 'unknown';
    }
    if (f.status) return (r.status ?? 'none') === f.status;
    return true;
  });
}

export function listPage(store: Store, scope: DomainRef[], filter: ListFilter, page: number, perPage: number): ListPage {
  const all = sortWorstFirst(rowsFor(store, scope));
  const rows = applyFilter(all, filter);
  const pages = Math.max(1, Math.ceil(rows.length / perPage));
  const p = Math.min(Math.max(1, page), pages);
  return {
    rows: rows.slice((p - 1) * perPage, p * perPage),
    total: rows.length,
    page: p,
    pages,
    perPage,
    filter,
    customers: [...new Set(scope.map((d) => d.owner))].sort(),
  };
}

export function pageNumber(v: unknown): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** Query string for a filter (+ page), for links. Values are URL-encoded; templates escape the result again. */
export function filterQuery(f: ListFilter, extra: Record<string, string | number> = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

const CSV_CHECKS = CHECKS;
function csvCell(v: string): string {
  // Quote always; neutralise spreadsheet formulas (a domain never starts with these, an owner name might).
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function toCsv(rows: DomainRow[]): string {
  const head = ['domain', 'owner', 'status', 'audited_at', ...CSV_CHECKS];
  const lines = [head.join(',')];
  for (const r of rows) lines.push([r.domain, r.owner, r.status ?? 'not audited', r.auditedAt ?? '', ...CSV_CHECKS.map((c) => r.checks[c] ?? '')].map(csvCell).join(','));
  return lines.join('\r\n') + '\r\n';
}
