// What the accessibility tests share: WCAG 2.1 contrast arithmetic, headless Chromium as the other browser tests start
// it, a recorder of what a screen reader would be told through live regions, and checks run inside a rendered page
// (text contrast, focus rings, field borders, reflow).
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const skipBrowser = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`;

/** Headless Chromium with its profile in `profile`, nothing but loopback traffic (as test/web/browser.test.ts). */
export function launchChromium(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
}

/** Relative luminance of an sRGB colour given as 0–255 channels (WCAG 2.1). */
export function luminance([r, g, b]: readonly number[]): number {
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** Contrast ratio of two opaque colours, 1–21. */
export function contrast(a: readonly number[], b: readonly number[]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** "#rrggbb" → channels. */
export function hex(h: string): number[] {
  const s = h.replace('#', '');
  return [0, 2, 4].map((i) => parseInt(s.slice(i, i + 2), 16));
}

/**
 * The checks that run inside a page, as plain JavaScript (not functions of this file: tsx compiles those with helpers,
 * such as __name, that the page does not have). Installed into every page of a context by `installPageChecks`:
 *
 * - `heard`: what a screen reader would announce from live regions (aria-live, role=status/alert/log) — only regions
 *   already in the page when their words change (one inserted with its words in it goes unsaid by most screen
 *   readers), the whole region when aria-atomic is true, else only the text that changed;
 * - `textContrast()`: every visible text whose colour has less contrast with what is behind it than WCAG 2.1 1.4.3 asks
 *   (4.5:1; 3:1 for large text: 24 px, or 18.66 px bold), backgrounds composited up the ancestors onto white; disabled
 *   controls exempt, as WCAG has it; words only screen readers get (clipped to 1 px) are not seen;
 * - `fieldBorders()`: text fields and selects whose border has less than 3:1 against what is around them (1.4.11);
 * - `focused()`: the element that has the focus and its focus ring (outline style, width, contrast with what is
 *   around the element: 1.4.11 asks 3:1).
 */
const PAGE_CHECKS = String.raw`(() => {
  const rgba = (s) => {
    const m = /rgba?\(([^)]+)\)/.exec(s);
    const p = m ? m[1].split(/[\s,/]+/).filter(Boolean).map(Number) : [0, 0, 0];
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const lin = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  const lum = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
  };
  // The background behind el: its own and its ancestors', composited onto white.
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const unseen = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden') return true;
      if (cs.position === 'absolute' && cs.overflow === 'hidden' && e.getBoundingClientRect().width <= 1) return true;
    }
    return false;
  };
  const heard = [];
  const liveOf = (n) => {
    for (let e = n && (n.nodeType === 1 ? n : n.parentElement); e; e = e.parentElement) {
      const live = e.getAttribute('aria-live');
      const role = e.getAttribute('role');
      if ((live && live !== 'off') || role === 'status' || role === 'alert' || role === 'log') return e;
    }
    return null;
  };
  const known = new WeakSet();
  const remember = () => document.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log]').forEach((e) => known.add(e));
  const listen = () => {
    remember();
    new MutationObserver((records) => {
      for (const r of records) {
        const region = liveOf(r.target);
        if (!region || !known.has(region)) continue;
        const said = region.getAttribute('aria-atomic') === 'true' ? region.textContent : r.type === 'characterData' ? r.target.textContent : [...r.addedNodes].map((n) => n.textContent).join('');
        const words = (said || '').replace(/\s+/g, ' ').trim();
        if (words) heard.push(words);
      }
      remember();
    }).observe(document, { subtree: true, childList: true, characterData: true });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', listen);
  else listen();

  window.__a11y = {
    heard,
    textContrast() {
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const text = n.textContent.trim();
        const el = n.parentElement;
        if (!text || !el || el.closest('script, style, noscript, option') || unseen(el)) continue;
        const control = el.closest('button, input, select, textarea');
        if (control && control.disabled) continue;
        const cs = getComputedStyle(el);
        const bg = background(el);
        const fg = over(rgba(cs.color), bg);
        const size = parseFloat(cs.fontSize);
        const need = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700) ? 3 : 4.5;
        const r = ratio(fg, bg);
        if (r < need) out.push({ text: text.slice(0, 60), ratio: r, need, fg: cs.color, bg: 'rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + ')' });
      }
      return out;
    },
    fieldBorders() {
      const out = [];
      for (const f of document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea')) {
        const box = f.getBoundingClientRect();
        if (!box.width || !box.height) continue;
        const r = ratio(rgba(getComputedStyle(f).borderTopColor), background(f.parentElement));
        if (r < 3) out.push({ field: f.id || f.getAttribute('name') || f.tagName, ratio: r });
      }
      return out;
    },
    focused() {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const cs = getComputedStyle(el);
      const name = (el.getAttribute('aria-label') || el.textContent || el.id || el.tagName).replace(/\s+/g, ' ').trim().slice(0, 50);
      return { key: el.outerHTML.slice(0, 200) + name, what: el.tagName.toLowerCase() + ' "' + name + '"', style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) || 0, ratio: ratio(rgba(cs.outlineColor), background(el.parentElement)) };
    },
  };
})();`;

/** The page checks (above) in every page the context opens from now on. */
export async function installPageChecks(ctx: BrowserContext): Promise<void> {
  await ctx.addInitScript({ content: PAGE_CHECKS });
}

/** What a screen reader would have announced on this page so far (installPageChecks). */
export function heard(page: Page): Promise<string[]> {
  return page.evaluate('window.__a11y.heard.slice()') as Promise<string[]>;
}

export interface ContrastProblem {
  text: string;
  ratio: number;
  need: number;
  fg: string;
  bg: string;
}

export function textContrastProblems(page: Page): Promise<ContrastProblem[]> {
  return page.evaluate('window.__a11y.textContrast()') as Promise<ContrastProblem[]>;
}

export interface FieldProblem {
  field: string;
  ratio: number;
}

export function fieldBorderProblems(page: Page): Promise<FieldProblem[]> {
  return page.evaluate('window.__a11y.fieldBorders()') as Promise<FieldProblem[]>;
}

export interface FocusStop {
  what: string;
  style: string;
  width: number;
  ratio: number;
}

/** Tabs through the page from its top (at most `max` stops): each element that takes the focus, and its focus ring. */
export async function focusStops(page: Page, max = 60): Promise<FocusStop[]> {
  // From the top of the page (an autofocus field would start the walk half way): focus a mark put first in <body>, then
  // remove it — the next Tab goes to the page's first stop.
  await page.evaluate(`(() => {
    const mark = document.createElement('span');
    mark.tabIndex = -1;
    document.body.prepend(mark);
    mark.focus();
    mark.remove();
    window.scrollTo(0, 0);
  })()`);
  const stops: FocusStop[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const stop = (await page.evaluate('window.__a11y.focused()')) as (FocusStop & { key: string }) | null;
    if (!stop || seen.has(stop.key)) break;
    seen.add(stop.key);
    stops.push({ what: stop.what, style: stop.style, width: stop.width, ratio: stop.ratio });
  }
  return stops;
}

/** How far the page is wider than a `width`-px window, in px (0: nothing to scroll sideways; WCAG 2.1 1.4.10). */
export async function sidewaysOverflow(page: Page, width = 320): Promise<{ by: number; what: string[] }> {
  const before = page.viewportSize();
  await page.setViewportSize({ width, height: 800 });
  const out = (await page.evaluate(`(() => {
    const w = ${width};
    const by = document.documentElement.scrollWidth - w;
    const what = by > 0 ? [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w + 1).slice(-3).map((e) => e.tagName.toLowerCase() + '.' + e.className) : [];
    return { by: Math.max(0, by), what };
  })()`)) as { by: number; what: string[] };
  if (before) await page.setViewportSize(before);
  return out;
}
