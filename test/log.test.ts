import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogFormat } from '../src/log.js';

/** What a logger writes for one warning, to a stream that is (or is not) a terminal. */
function written(format: LogFormat, isTTY: boolean): string {
  let out = '';
  const sink = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    }),
    { isTTY },
  );
  createLogger('info', sink, format).warn({ portalId: 'p1', password: 'hunter2' }, 'MTS paused');
  return out;
}

describe('logs', () => {
  it('JSON lines for machines, readable lines for a person on a terminal', () => {
    const json = JSON.parse(written('json', true)) as Record<string, unknown>;
    expect(json).toMatchObject({ level: 40, msg: 'MTS paused', portalId: 'p1' });
    expect(JSON.parse(written('auto', false))).toMatchObject({ msg: 'MTS paused' });
    for (const line of [written('auto', true), written('pretty', false)]) {
      expect(line).toMatch(/WARN/);
      expect(line).toContain('MTS paused');
      expect(line).toContain('p1');
      expect(() => JSON.parse(line)).toThrow();
    }
  });

  it('redacts secrets in either form', () => {
    for (const f of ['json', 'pretty'] as const) {
      expect(written(f, false)).not.toContain('hunter2');
      expect(written(f, false)).toContain('[redacted]');
    }
  });
});
