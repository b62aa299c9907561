// The Futures view's mapping: pending futures, who awaits them, their callbacks.
import * as assert from 'node:assert/strict';
import { FutureItem, futureChildren } from '../../extension/views/futuresTree';
import { labels, loop, snapshot, task } from './snapshots';

const limits = new Map<string, number>();

describe('Futures view', () => {
  const index = snapshot(loop(1, {
    tasks: [
      task(1, 'getter', { location: { path: '/app/q.py', line: 4 } }),
      task(2, 'other-getter'), task(3, 'g3'), task(4, 'g4'), task(5, 'g5'),
    ],
    futures: [
      { id: 10, description: 'Queue.get()', state: 'pending', awaitedBy: [1], callbacks: ['wake task getter'] },
      { id: 11, description: 'Event.wait()', state: 'pending', awaitedBy: [2, 3, 4, 5], callbacks: [] },
      { id: 12, description: 'result from another thread (run_in_executor or wrap_future)', state: 'done', awaitedBy: [], callbacks: [] },
    ],
  }));

  it('lists each future by what it stands for, with the tasks awaiting it', () => {
    const roots = futureChildren(index, undefined, limits);
    assert.deepEqual(labels(roots), ['Queue.get()', 'Event.wait()', 'result from another thread (run_in_executor or wrap_future)']);
    assert.deepEqual(roots.map((r) => r.description), [
      'awaited by getter', 'awaited by other-getter, g3, g4 +1 more', 'done',
    ]);
    assert.deepEqual(roots.map((r) => r.collapsible), ['collapsed', 'collapsed', 'none']);
  });

  it('has the awaiting tasks and the callbacks as children', () => {
    const [queue] = futureChildren(index, undefined, limits);
    const children = futureChildren(index, queue as FutureItem, limits);
    assert.deepEqual(labels(children), ['awaited by: getter', 'wake task getter']);
    assert.equal(children[0].taskId, 1);
    assert.equal(children[0].contextValue, 'task.live');
    assert.deepEqual(children[0].reveal, { path: '/app/q.py', line: 4 });
    assert.equal(children[1].description, 'done callback');
  });

  it('groups futures per loop when several loops have some', () => {
    const two = snapshot(
      loop(1, { futures: [{ id: 1, description: 'a', state: 'pending', awaitedBy: [], callbacks: [] }] }),
      loop(2, { futures: [{ id: 2, description: 'b', state: 'pending', awaitedBy: [], callbacks: [] }] }),
    );
    const roots = futureChildren(two, undefined, limits);
    assert.deepEqual(labels(roots), ['Event loop 1 (MainThread)', 'Event loop 2 (MainThread)']);
    assert.deepEqual(labels(futureChildren(two, roots[1] as FutureItem, limits)), ['b']);
  });
});
