// Arrays whose V8 elements kind does not depend on whether they came out empty.
//
// V8 gives an empty array literal, and the result of .map()/.filter() when nothing comes out, a different hidden
// class ("map") from an array holding strings or objects. Optimised code compiled for the one deoptimises when it meets
// the other, and the whole function (with what it inlined) is compiled again. On the benchmark's bulk audit these were
// 16 of the 26 deoptimisations per thread in mailhealth's code, most in the largest functions (the SPF walk was compiled
// four times): an empty answer (no DKIM key at a selector, no _mailchannels record), an empty findings list, or a
// .map() result met after many others. These helpers make the empty case look like the full
// one. They are for the audit's hot paths; elsewhere plain literals and .map() are fine.

/** Empty, with the elements kind of an array that held an object (never handed out: only copied). */
const EMPTY_OF_OBJECTS: unknown[] = [undefined];
EMPTY_OF_OBJECTS.length = 0;

/** A new empty array with the elements kind of an array of strings or objects (a copy keeps the kind). */
export function emptyList<T>(): T[] {
  return EMPTY_OF_OBJECTS.slice() as T[];
}

/** xs.map(f), with emptyList()'s elements kind when xs is empty. */
export function mapList<T, U>(xs: readonly T[], f: (x: T) => U): U[] {
  const out = emptyList<U>();
  for (let i = 0; i < xs.length; i++) out.push(f(xs[i]));
  return out;
}

/** xs.filter(keep), with emptyList()'s elements kind when nothing is kept. */
export function filterList<T>(xs: readonly T[], keep: (x: T) => unknown): T[] {
  const out = emptyList<T>();
  for (let i = 0; i < xs.length; i++) if (keep(xs[i])) out.push(xs[i]);
  return out;
}
