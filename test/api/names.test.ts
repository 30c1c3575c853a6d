// print, union and sideOutput take stable names like every other stage ({ name } options), and a
// name used twice is refused whichever stages carry it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sluice } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Click = { url: string; ts: number };

function names(app: Sluice): string[] {
  return app.graph.nodes.map((n) => n.name);
}

void test('print, union and sideOutput take a { name }, and derive one from their position without', () => {
  const app = new Sluice({ name: 'named' });
  const web = app.stream<Click>('web');
  const mobile = app.stream<Click>('mobile');
  const tablet = app.stream<Click>('tablet');
  const all = web.union(mobile, tablet, { name: 'all-clicks' });
  all.print('click: ', { name: 'print-clicks' });
  web.union(mobile).print();
  const processed = all.keyBy((c) => c.url).process<Click>({ processElement: (c, ctx) => ctx.output('slow', c) }, { name: 'split' });
  processed.sideOutput<Click>('slow', { name: 'slow-clicks' }).to('slow');
  processed.to('fast');
  assert.deepEqual(names(app), ['source-web', 'source-mobile', 'source-tablet', 'all-clicks', 'print-clicks', 'union-5', 'print-6', 'keyBy-7', 'split', 'slow-clicks', 'sink-10', 'sink-11']);
  const union = app.graph.nodes[3];
  assert.deepEqual(union.kind === 'union' && union.inputs, [0, 1, 2]);
});

void test('a name given twice is refused for print and union as for any stage', () => {
  const app = new Sluice({ name: 'twice' });
  const web = app.stream<Click>('web');
  const mobile = app.stream<Click>('mobile');
  web.union(mobile, { name: 'all' });
  assert.throws(() => web.union(mobile, { name: 'all' }), /two stages are named 'all'; give each stage its own name/);
  assert.throws(() => web.print('', { name: 'all' }), /two stages are named 'all'/);
  assert.throws(() => web.map((c) => c, { name: 'source-web' }), /two stages are named 'source-web'/);
  assert.throws(() => web.print('', { name: 'bad name' }), /such as 'hourly-order-totals'/);
  assert.throws(() => web.union(mobile, 'all' as never), /union\(\) options must be an object/);
  assert.throws(() => web.print('', null as never), /print\(\) options must be an object/);
});

void test('named union and print run: both inputs reach the print, under the given prefix', async () => {
  const kit = new TestKit();
  kit.input('web', [{ url: '/a', ts: 0 }]);
  kit.input('mobile', [{ url: '/b', ts: 1 }]);
  const app = kit.app({ name: 'printing' });
  app.stream<Click>('web').union(app.stream<Click>('mobile'), { name: 'all' }).map((c) => c.url).print('url ', { name: 'show' });
  await app.run({ bounded: true });
  assert.deepEqual(kit.printed.sort(), ['url /a', 'url /b']);
});
