/**
 * Output modes of table and window results, as Spark users know them, chosen where the result
 * is written: `.to(topic, { mode })`.
 * - `append`: final results only. Windows as they fire (the default for window results); a
 *   table's rows change, so it has no append mode.
 * - `update`: one upsert per change, the final value last, never the same value twice in a row
 *   (the default for tables, their changelog). A window in update mode emits at every record
 *   (and at each late re-firing) and its sink drops repeats.
 * - `complete`: the whole result table written at each checkpoint (one that read input or wrote
 *   output; an idle app takes none): for small
 *   result tables, such as a dashboard's.
 */
import { type Codec, SluiceError } from '../core/index.ts';
import { checkCodec, checkTopic, type GraphBuilder } from './builder.ts';
import { inputsOf, type NodeId } from './graph.ts';

export type OutputMode = 'append' | 'update' | 'complete';

const MODES: readonly OutputMode[] = ['append', 'update', 'complete'];

function checkMode(mode: unknown, what: string): OutputMode {
  if (mode === undefined) return what === 'table' ? 'update' : 'append';
  if (!MODES.includes(mode as OutputMode)) {
    throw new SluiceError('INVALID_ARGUMENT', `output mode ${JSON.stringify(mode)} is not one; write .to(topic, { mode: 'append' }), { mode: 'update' } or { mode: 'complete' }`);
  }
  return mode as OutputMode;
}

/** `windowResults.to(topic, { mode })`: the sink of window results in the mode asked for. */
export function windowSinkNode(builder: GraphBuilder, window: NodeId, topic: string, options: { name?: string; codec?: unknown; mode?: unknown }): void {
  checkTopic(topic, 'to()');
  const codec = checkCodec(options.codec, 'to()');
  const mode = checkMode(options.mode, 'windows');
  const node = builder.node(window);
  if (node.kind !== 'window') throw new SluiceError('INVALID_ARGUMENT', 'an output mode applies to window results and tables; a stream is written as it goes');
  const codecs = codec ? { codec: codec as Codec } : {};
  if (mode === 'append') {
    if (node.output !== undefined) throw sharedWindow(node.name);
    builder.add({ kind: 'sink', input: window, topic, ...codecs }, options.name);
    return;
  }
  const spec = node.window;
  if ((spec.kind !== 'tumbling' && spec.kind !== 'hopping' && spec.kind !== 'sliding') || spec.time !== 'event') {
    throw new SluiceError('INVALID_ARGUMENT', `${mode} mode writes event-time tumbling, hopping and sliding windows by their bounds; session and count windows change shape, so write them in append mode (the default)`);
  }
  if (node.output !== undefined || builder.graph.nodes.some((n) => inputsOf(n).includes(window))) throw sharedWindow(node.name);
  const sinkMode = mode === 'update' ? { kind: 'update' as const, retainMs: node.lateness.allowedLatenessMs } : { kind: 'complete' as const, of: 'windows' as const };
  builder.add({ kind: 'sink', input: window, topic, mode: sinkMode, ...codecs }, options.name);
  // From here on the builder refuses any other reader of the window.
  node.output = mode;
}

/** `table.to(topic, { mode })`: update (the changelog) or complete. */
export function tableSinkMode(mode: unknown): { kind: 'complete'; of: 'table' } | undefined {
  const checked = checkMode(mode, 'table');
  if (checked === 'append') {
    throw new SluiceError('INVALID_ARGUMENT', "a table's rows change, so it has no append mode (final results only); write it in { mode: 'update' } (the default: its changelog) or { mode: 'complete' }");
  }
  return checked === 'complete' ? { kind: 'complete', of: 'table' } : undefined;
}

/** A window written in update or complete mode emits at every change, so that sink must be its only reader. */
export function sharedWindow(name: string): SluiceError {
  return new SluiceError('INVALID_ARGUMENT', `window results of '${name}' in update or complete mode are read by that one sink (the window emits at every change for it); write each mode from a window of its own`);
}
