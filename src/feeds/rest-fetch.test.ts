import { describe, expect, it } from 'vitest';
import { restBaseFor } from './rest-fetch.ts';

describe('restBaseFor', () => {
  const base = (ws: string, relay?: string) => restBaseFor(ws, 'okx', 'okx.com', 'https://www.okx.com', relay);
  it('live: the local server live relay when the app came from one, else the venue host', () => {
    expect(base('wss://ws.okx.com:8443/ws/v5/public', 'http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787/live/okx/rest');
    expect(base('wss://ws.okx.com:8443/ws/v5/public')).toBe('https://www.okx.com');
  });
  it('sim and replay: the same-origin pass-through of the server the socket points at', () => {
    expect(base('ws://127.0.0.1:8787/okx/ws/v5/public', 'http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787/okx/rest');
    expect(base('wss://desk.example:443/okx/ws/v5/public')).toBe('https://desk.example/okx/rest');
  });
});
