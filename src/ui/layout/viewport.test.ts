import { describe, expect, it } from 'vitest';
import { viewportFor } from './viewport.ts';

describe('layout by window size', () => {
  it('phone, stack or wide', () => {
    expect(viewportFor(390, 844, false)).toEqual({ layout: 'phone', scale: 1 });
    expect(viewportFor(768, 1024, false).layout).toBe('stack');
    expect(viewportFor(1080, 1920, false).layout).toBe('stack');
    expect(viewportFor(1280, 800, false).layout).toBe('wide');
    expect(viewportFor(1920, 1080, false)).toEqual({ layout: 'wide', scale: 1 });
  });
  it('a wall display scales with its short side: 1 at 1080p, 2 at 4K, landscape or portrait', () => {
    expect(viewportFor(1920, 1080, true)).toEqual({ layout: 'wide', scale: 1 });
    expect(viewportFor(3840, 2160, true)).toEqual({ layout: 'wide', scale: 2 });
    expect(viewportFor(2160, 3840, true)).toEqual({ layout: 'stack', scale: 2 });
    expect(viewportFor(2560, 1440, true).scale).toBe(1.35);
    expect(viewportFor(640, 360, true).scale).toBe(0.75);
  });
});
