import { describe, expect, it } from 'vitest';
import { LeakyBucket } from '../../src/bitrix24/leakyBucket.js';
import { FakeClock } from '../../src/clock.js';

/** Resolves true when `p` settled before the microtask queue drained. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe('LeakyBucket', () => {
  it('lets a full burst through at once, then one request per 1/rate seconds', async () => {
    const clock = new FakeClock();
    const bucket = new LeakyBucket({ rate: 2, burst: 3, clock });
    for (let i = 0; i < 3; i++) expect(await settled(bucket.acquire('p'))).toBe(true);
    const fourth = bucket.acquire('p');
    const fifth = bucket.acquire('p');
    expect(await settled(fourth)).toBe(false);
    clock.advance(499);
    expect(await settled(fourth)).toBe(false);
    clock.advance(1);
    expect(await settled(fourth)).toBe(true);
    expect(await settled(fifth)).toBe(false);
    clock.advance(500);
    expect(await settled(fifth)).toBe(true);
  });

  it('drains over time', async () => {
    const clock = new FakeClock();
    const bucket = new LeakyBucket({ rate: 2, burst: 50, clock });
    for (let i = 0; i < 50; i++) await bucket.acquire('p');
    expect(bucket.level('p')).toBe(50);
    clock.advance(10_000);
    expect(bucket.level('p')).toBe(30);
    clock.advance(60_000);
    expect(bucket.level('p')).toBe(0);
  });

  it('keeps keys apart and honours per-key overrides (Enterprise 5/250)', async () => {
    const clock = new FakeClock();
    const bucket = new LeakyBucket({ clock, overrides: { big: { rate: 5, burst: 250 } } });
    expect(bucket.limits('small')).toEqual({ rate: 2, burst: 50 });
    for (let i = 0; i < 250; i++) await bucket.acquire('big');
    for (let i = 0; i < 50; i++) await bucket.acquire('small');
    const big = bucket.acquire('big');
    const small = bucket.acquire('small');
    clock.advance(200);
    expect(await settled(big)).toBe(true);
    expect(await settled(small)).toBe(false);
    clock.advance(300);
    expect(await settled(small)).toBe(true);
  });

  it('tryAcquire refuses instead of waiting (the portal side)', () => {
    const clock = new FakeClock();
    const bucket = new LeakyBucket({ rate: 1, burst: 2, clock });
    expect(bucket.tryAcquire('p')).toBe(true);
    expect(bucket.tryAcquire('p')).toBe(true);
    expect(bucket.tryAcquire('p')).toBe(false);
    clock.advance(1000);
    expect(bucket.tryAcquire('p')).toBe(true);
    expect(bucket.tryAcquire('p')).toBe(false);
  });

  it('penalize fills the bucket so the next request waits a drain step', async () => {
    const clock = new FakeClock();
    const bucket = new LeakyBucket({ rate: 2, burst: 50, clock });
    bucket.penalize('p');
    const next = bucket.acquire('p');
    expect(await settled(next)).toBe(false);
    clock.advance(500);
    expect(await settled(next)).toBe(true);
  });

  it('an aborted wait rejects and gives its slot back', async () => {
    const clock = new FakeClock();
    const bucket = new LeakyBucket({ rate: 1, burst: 1, clock });
    await bucket.acquire('p');
    const ac = new AbortController();
    const waiting = bucket.acquire('p', ac.signal);
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    // The slot was released: after one drain step the next caller goes at once.
    clock.advance(1000);
    expect(await settled(bucket.acquire('p'))).toBe(true);
  });
});
