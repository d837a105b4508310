// A panel with some of its methods hooked (tests): each hook gets the panel's own method (bound) and the arguments,
// and decides what to return — count, log, delay, fail, or change the world before or after calling it. Every other
// method and property is the panel's.
import type { Panel } from '../../src/core/panel.js';

type Hook<F> = F extends (...a: infer A) => infer R ? (orig: (...a: A) => R, ...a: A) => R : never;
export type PanelHooks = { [K in keyof Panel]?: Hook<NonNullable<Panel[K]>> };

export function hookPanel(panel: Panel, hooks: PanelHooks): Panel {
  return new Proxy(panel, {
    get: (target, prop) => {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const own = (v as (...a: unknown[]) => unknown).bind(target);
      const hook = (hooks as Record<PropertyKey, ((orig: (...a: unknown[]) => unknown, ...a: unknown[]) => unknown) | undefined>)[prop];
      return hook ? (...a: unknown[]) => hook(own, ...a) : own;
    },
  });
}
