import { describe, expect, it } from 'vitest';
import { keepScreenAwake, type WakeLockApi, type WakeState } from './wakeLock.ts';

class FakeSentinel {
  released = false;
  private fns: (() => void)[] = [];
  addEventListener(_t: 'release', fn: () => void) {
    this.fns.push(fn);
  }
  async release() {
    if (this.released) return;
    this.released = true;
    for (const f of this.fns) f();
  }
}
class FakeDoc {
  visibilityState: DocumentVisibilityState = 'visible';
  private fns = new Set<() => void>();
  addEventListener(_t: string, fn: () => void) {
    this.fns.add(fn);
  }
  removeEventListener(_t: string, fn: () => void) {
    this.fns.delete(fn);
  }
  set(v: DocumentVisibilityState) {
    this.visibilityState = v;
    for (const f of this.fns) f();
  }
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('keepScreenAwake', () => {
  it('requests, re-requests after release and on becoming visible, and releases on stop', async () => {
    const sentinels: FakeSentinel[] = [];
    const doc = new FakeDoc();
    const api: WakeLockApi = {
      request: async () => {
        if (doc.visibilityState !== 'visible') throw new Error('NotAllowedError');
        const s = new FakeSentinel();
        sentinels.push(s);
        return s;
      },
    };
    const states: WakeState[] = [];
    const stop = keepScreenAwake({ wakeLock: api, doc: doc as unknown as Document, onState: (s) => states.push(s) });
    await tick();
    expect(sentinels).toHaveLength(1);
    expect(states).toEqual(['held']);
    // The browser releases the lock when the page is hidden...
    doc.visibilityState = 'hidden';
    await sentinels[0].release();
    await tick();
    expect(sentinels).toHaveLength(1); // not requested while hidden
    // ...and we take it again when visible.
    doc.set('visible');
    await tick();
    expect(sentinels).toHaveLength(2);
    expect(states.at(-1)).toBe('held');
    stop();
    await tick();
    expect(sentinels[1].released).toBe(true);
    doc.set('visible');
    await tick();
    expect(sentinels).toHaveLength(2);
  });

  it('reports unsupported and failed, never throws', async () => {
    const states: WakeState[] = [];
    const doc = new FakeDoc();
    keepScreenAwake({ wakeLock: undefined, doc: doc as unknown as Document, onState: (s) => states.push(s) });
    keepScreenAwake({ wakeLock: { request: () => Promise.reject(new Error('power save')) }, doc: doc as unknown as Document, onState: (s) => states.push(s) });
    await tick();
    expect(states).toEqual(['unsupported', 'failed']);
  });
});
