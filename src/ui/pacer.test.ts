import { describe, expect, it } from 'vitest';
import { createPacer } from './pacer.ts';

/** A pacer whose turns are run by hand, as the page's message tasks would run them. */
function manual() {
  const turns: (() => void)[] = [];
  const log: string[] = [];
  const pacer = createPacer((t) => turns.push(t), (job) => {
    log.push('run');
    job();
  });
  const step = () => {
    const t = turns.shift();
    if (!t) throw new Error('no turn posted');
    t();
  };
  return { pacer, turns, log, step };
}

describe('createPacer', () => {
  it('runs one job per turn, in the order first asked', () => {
    const { pacer, turns, step } = manual();
    const a = {};
    const b = {};
    const c = {};
    const ran: string[] = [];
    pacer.request(a, () => ran.push('a1'));
    pacer.request(b, () => ran.push('b1'));
    pacer.request(c, () => ran.push('c1'));
    expect(turns.length).toBe(1); // one turn posted at a time
    step();
    expect(ran).toEqual(['a1']);
    expect(turns.length).toBe(1);
    step();
    step();
    expect(ran).toEqual(['a1', 'b1', 'c1']);
    expect(turns.length).toBe(0);
    expect(pacer.size).toBe(0);
  });

  it('a newer job for a waiting key replaces it and keeps its place', () => {
    const { pacer, step } = manual();
    const a = {};
    const b = {};
    const ran: string[] = [];
    pacer.request(a, () => ran.push('a1'));
    pacer.request(b, () => ran.push('b1'));
    pacer.request(a, () => ran.push('a2'));
    expect(pacer.size).toBe(2);
    step();
    step();
    expect(ran).toEqual(['a2', 'b1']);
  });

  it('a key asked again while others wait goes to the back once it has run', () => {
    const { pacer, step } = manual();
    const a = {};
    const b = {};
    const ran: string[] = [];
    pacer.request(a, () => ran.push('a1'));
    pacer.request(b, () => ran.push('b1'));
    step();
    pacer.request(a, () => ran.push('a2'));
    step();
    step();
    expect(ran).toEqual(['a1', 'b1', 'a2']);
  });

  it('cancel drops a waiting job; an empty turn does nothing', () => {
    const { pacer, turns, log, step } = manual();
    const a = {};
    pacer.request(a, () => undefined);
    pacer.cancel(a);
    step();
    expect(log).toEqual([]);
    expect(turns.length).toBe(0);
    // Asking again posts a new turn.
    pacer.request(a, () => undefined);
    expect(turns.length).toBe(1);
  });

  it('a job that throws does not stop the ones after it', () => {
    const { pacer, step } = manual();
    const ran: string[] = [];
    pacer.request({}, () => {
      throw new Error('chart failed');
    });
    pacer.request({}, () => ran.push('next'));
    expect(step).toThrow('chart failed');
    step();
    expect(ran).toEqual(['next']);
  });
});
