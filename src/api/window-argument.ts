/**
 * What `.window()` accepts: a WindowSpec (as `Windows.*` and `TumblingWindow.of` build), or a
 * builder object that carries one. Checked here so a malformed window fails where it is written.
 */
import { SluiceError } from '../core/index.ts';
import type { WindowSpec } from '../time/index.ts';

/** A window specification, or a window builder that exposes one as `spec` or `toSpec()`. */
export type WindowArgument = WindowSpec | { readonly spec: WindowSpec } | { toSpec(): WindowSpec };

const HINT = "write for example .window(Windows.tumbling('5m')), .window(Windows.session('30s')) or .window(TumblingWindow.of(5, MINUTES))";

export function toWindowSpec(window: WindowArgument): WindowSpec {
  if (window === null || typeof window !== 'object') {
    throw new SluiceError('INVALID_ARGUMENT', `window() expects a window, got ${String(window)}; ${HINT}`);
  }
  let spec: unknown = window;
  if ('toSpec' in window && typeof window.toSpec === 'function') spec = window.toSpec();
  else if ('spec' in window) spec = window.spec;
  if (!isWindowSpec(spec)) {
    throw new SluiceError('INVALID_ARGUMENT', `window() got ${JSON.stringify(spec)}, which is not a window; ${HINT}`);
  }
  return spec;
}

function positive(n: unknown): boolean {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

function isWindowSpec(spec: unknown): spec is WindowSpec {
  if (spec === null || typeof spec !== 'object' || !('kind' in spec)) return false;
  const s = spec as Record<string, unknown>;
  switch (s.kind) {
    case 'tumbling':
      return positive(s.sizeMs);
    case 'hopping':
      return positive(s.sizeMs) && positive(s.slideMs);
    case 'sliding':
      return positive(s.lookbackMs);
    case 'session':
      return positive(s.gapMs);
    case 'global':
      return typeof s.trigger === 'object' && s.trigger !== null;
    case 'count-tumbling':
      return Number.isInteger(s.size) && (s.size as number) > 0;
    case 'count-sliding':
      return Number.isInteger(s.size) && Number.isInteger(s.slide) && (s.size as number) > 0 && (s.slide as number) > 0;
    default:
      return false;
  }
}
