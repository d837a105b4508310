// How the pages offer a choice among the scope's customers (/domains, /bulk filter) or domains (/explain): a <select>
// while the list is short, a text field past CHOOSER_SELECT_MAX. A reseller on shared hosting has one customer per
// domain: 5,000 <option>s were ~320 KB on every page of a 50-row table. The typed value is matched exactly against the
// same scope the select was filled from, so a text field widens nothing.

/** Past this many choices the page shows a text field instead of a <select> (whose every option is in every page). */
export const CHOOSER_SELECT_MAX = 200;

export interface Chooser {
  /** The choices for a <select>; null: too many, the page shows a text field. */
  options: string[] | null;
  /**
   * A value was given that is not among the choices: a typo, a customer gone, or one outside the user's scope — the
   * same answer for each (the choices are the user's scope), and nothing beyond the scope is listed.
   */
  unknown: boolean;
}

/** `choices`: the scope's values; `chosen`: the one in the request (absent or empty: none). */
export function chooser(choices: readonly string[], chosen: string | undefined, max = CHOOSER_SELECT_MAX): Chooser {
  return {
    options: choices.length <= max ? [...choices] : null,
    unknown: !!chosen && !choices.includes(chosen),
  };
}
