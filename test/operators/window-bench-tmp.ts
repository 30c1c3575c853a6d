import { WindowOperator } from '../../src/operators/window.ts';
import { Windows } from '../../src/time/index.ts';
const sum = { init: () => 0, add: (a: number, v: number) => a + v, merge: (a: number, b: number) => a + b, result: (a: number) => a };
for (const [name, w] of [['tumbling', Windows.tumbling('10s')], ['hopping', Windows.hopping('10s', '2s')], ['session', Windows.session('10s')], ['sliding', Windows.sliding('1s')]] as const) {
  const op = new WindowOperator({ name, window: w, aggregate: sum });
  let n = 0;
  const out = { emit: () => { n++; }, side: () => {} };
  const N = 1_000_000;
  const t0 = performance.now();
  let ts = 0;
  for (let i = 0; i < N; i += 500) {
    const batch = [];
    for (let j = 0; j < 500; j++) { if ((i + j) % 100 === 0) ts += 1; batch.push({ value: 1, timestamp: ts, key: (i + j) % 10000, sourceWatermark: ts - 1000 }); }
    op.process(batch, out);
    op.onWatermark(ts - 1000, out);
  }
  op.onWatermark(Infinity, out);
  const ms = performance.now() - t0;
  console.log(name, Math.round(N / ms * 1000), 'rec/s', n, 'results');
}
