/** q0, pass-through: every event, unchanged. Measures the cost of moving records. */
import type { Sluice } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { OUTPUT_TOPIC, source } from './common.ts';

export function q0(app: Sluice, codecs: Codecs): void {
  source(app, codecs).to(OUTPUT_TOPIC, { codec: codecs.row });
}
