// The Futures view's mapping: pending futures, those that stand for the same thing as one row,
// who awaits them, their callbacks, the filter, and what the snapshot left out.
import * as assert from 'node:assert/strict';
import type { TaskRef } from '../../extension/adapter/protocol';
import { FutureItem, futureChildren } from '../../extension/views/futuresTree';
import { labels, loop, snapshot } from './snapshots';

const plain = { limits: new Map<string, number>() };
const refs = (...names: string[]): TaskRef[] => names.map((name, i) => ({ id: i + 1, name, state: 'waiting', location: { path: '/app/q.py', line: 4 + i } }));

describe('Futures view', () => {
  const index = snapshot(loop(1, {
    futures: [
      { id: 10, description: 'Queue.get()', state: 'pending', awaitedBy: refs('getter'), callbacks: ['wake task getter'], heldBy: [] },
      { id: 11, description: 'Event.wait()', state: 'pending', awaitedBy: refs('other-getter', 'g3', 'g4', 'g5'), callbacks: [], heldBy: [] },
      { id: 12, description: 'result from another thread (run_in_executor or wrap_future)', state: 'done', awaitedBy: [], callbacks: [], heldBy: [] },
    ],
  }));

  it('lists each future by what it stands for, with the tasks awaiting it', () => {
    const roots = futureChildren(index, undefined, plain);
    assert.deepEqual(labels(roots), ['Queue.get()', 'Event.wait()', 'result from another thread (run_in_executor or wrap_future)']);
    assert.deepEqual(roots.map((r) => r.description), ['awaited by getter', 'awaited by other-getter, g3, g4 +1 more', 'done']);
    assert.deepEqual(roots.map((r) => r.collapsible), ['collapsed', 'collapsed', 'none']);
  });

  it('has the awaiting tasks and the callbacks as children', () => {
    const [queue] = futureChildren(index, undefined, plain);
    const children = futureChildren(index, queue as FutureItem, plain);
    assert.deepEqual(labels(children), ['awaited by: getter', 'wake task getter']);
    assert.equal(children[0].taskId, 1);
    assert.equal(children[0].contextValue, 'task.live');
    assert.deepEqual(children[0].reveal, { path: '/app/q.py', line: 4 });
    assert.equal(children[1].description, 'done callback');
  });

  it('shows futures that stand for the same thing as one row that expands to them', () => {
    const sixteen = Array.from({ length: 16 }, (_, i) => ({ id: 100 + i, description: 'Queue.get()', state: 'pending' as const, awaitedBy: refs(`w${i}`), callbacks: [], heldBy: [] }));
    const queued = snapshot(loop(1, { futures: sixteen }));
    const [row] = futureChildren(queued, undefined, plain);
    assert.equal(row.label, '16 × Queue.get()');
    assert.equal(row.description, 'awaited by 16 tasks');
    assert.equal(futureChildren(queued, row as FutureItem, plain).length, 16);
  });

  it('says where the program made a future and under which names its tasks hold it', () => {
    const [a, b] = refs('a', 'b');
    const deadlocked = snapshot(loop(1, {
      futures: [
        { id: 20, description: 'Future from lock.py:7 (pending)', state: 'pending', awaitedBy: [a], callbacks: ['wake task a'],
          createdAt: { path: '/app/lock.py', line: 7 },
          heldBy: [{ description: 'local mine of first()', task: a }, { description: 'local theirs of second()', task: b }] },
        { id: 21, description: 'Future from lock.py:8 (pending)', state: 'pending', awaitedBy: [b], callbacks: ['wake task b'],
          createdAt: { path: '/app/lock.py', line: 8 }, heldBy: [{ description: 'global done of lock.py' }] },
      ],
    }));
    const roots = futureChildren(deadlocked, undefined, plain);
    assert.deepEqual(labels(roots), ['Future from lock.py:7 (pending)', 'Future from lock.py:8 (pending)']);
    assert.match(String(roots[0].tooltip), /created at lock\.py:7\n.*\nheld as local mine of first\(\) in task a; local theirs of second\(\) in task b/);
    const children = futureChildren(deadlocked, roots[0] as FutureItem, plain);
    assert.deepEqual(labels(children), ['created at', 'awaited by: a', 'held as: local mine of first()', 'held as: local theirs of second()', 'wake task a']);
    assert.deepEqual(children[0].reveal, { path: '/app/lock.py', line: 7 });
    assert.equal(children[3].taskId, 2, 'a holder row is the task that holds it');
    assert.equal(children[3].description, 'task b');
    assert.deepEqual(labels(futureChildren(deadlocked, undefined, { ...plain, filter: 'done of' })), ['Future from lock.py:8 (pending)']);
  });

  it('flags a future nothing can complete', () => {
    const lost = snapshot(loop(1, { futures: [{ id: 1, description: 'Future from app.py:9 (pending)', state: 'pending',
      awaitedBy: refs('forgotten'), callbacks: [], heldBy: [], lostWakeup: true }] }));
    const [row] = futureChildren(lost, undefined, plain);
    assert.equal(row.description, 'lost: nothing can complete it · awaited by forgotten');
    assert.equal(row.icon?.id, 'warning');
  });

  it('filters by description, awaiting task or callback, and says when nothing matches', () => {
    assert.deepEqual(labels(futureChildren(index, undefined, { ...plain, filter: 'G4' })), ['Event.wait()']);
    assert.deepEqual(labels(futureChildren(index, undefined, { ...plain, filter: 'nope' })), ['No future matches "nope"']);
  });

  it('says how many futures the snapshot left out', () => {
    const cut = snapshot(loop(1, { futures: [{ id: 1, description: 'a', state: 'pending', awaitedBy: [], callbacks: [], heldBy: [] }], futuresTotal: 1_001 }));
    assert.deepEqual(labels(futureChildren(cut, undefined, plain)), ['a', '1,000 more futures not fetched']);
  });

  it('groups futures per loop when several loops have some', () => {
    const two = snapshot(
      loop(1, { futures: [{ id: 1, description: 'a', state: 'pending', awaitedBy: [], callbacks: [], heldBy: [] }] }),
      loop(2, { futures: [{ id: 2, description: 'b', state: 'pending', awaitedBy: [], callbacks: [], heldBy: [] }] }),
    );
    const roots = futureChildren(two, undefined, plain);
    assert.deepEqual(labels(roots), ['Event loop 1 (MainThread)', 'Event loop 2 (MainThread)']);
    assert.deepEqual(labels(futureChildren(two, roots[1] as FutureItem, plain)), ['b']);
  });
});
