import { describe, expect, it } from 'vitest';
import { mtsOptionsFromFlags, UsageError } from '../../../src/cli/emulate.js';
import { startMtsEmulator } from '../../../src/emulators/mts/index.js';
import { DEFAULT_MODE } from '../../../src/emulators/mts/mode.js';
import { spawnCli } from '../../helpers/child.js';
import { waitFor } from '../../helpers/wait.js';

describe('emulate --mts-* flags', () => {
  it('gives the initial mode from the flags and the faults to switch on', () => {
    const { options, faults } = mtsOptionsFromFlags({
      mtsFail: 'balance, throttle,dlr-loss',
      mtsRate: '5',
      mtsHoldAlpha: 'PROMO',
      mtsLookupDelay: '2000',
      mtsAlpha: 'SHOP,PROMO',
    });
    expect(options.mode).toEqual({ rate: 5, heldAlphaNames: ['PROMO'], lookupDelayMs: 2000 });
    expect(options.alphaNames).toEqual(['SHOP', 'PROMO']);
    expect(faults).toEqual(['balance', 'throttle', 'dlr-loss']);
  });

  it.each([
    ['balance', { account: 'balance' }],
    ['password', { account: 'password' }],
    ['inactive', { account: 'inactive' }],
    ['alpha', { heldAlphaNames: ['*'] }],
    ['throttle', { rate: 1, overRate: 'throttle' }],
    ['429', { rate: 1, overRate: '429' }],
    ['5xx', { serverErrorRate: 1 }],
    ['timeout', { hang: true }],
    ['dlr-loss', { dlr: false }],
  ])('--mts-fail %s switches on %j', async (fault, mode) => {
    const { options, faults } = mtsOptionsFromFlags({ mtsFail: fault });
    const emu = await startMtsEmulator(options);
    try {
      for (const f of faults) emu.setFault(f);
      expect(emu.mode).toMatchObject(mode);
      expect(emu.setFault('none')).toEqual(DEFAULT_MODE);
    } finally {
      await emu.close();
    }
  });

  it('no flags: the defaults, any alpha name, no outcome override', () => {
    const { options, faults } = mtsOptionsFromFlags({});
    expect(options).toEqual({ mode: { heldAlphaNames: [] } });
    expect(faults).toEqual([]);
  });

  it('--mts-outcome sets the fate of every message', () => {
    const { options } = mtsOptionsFromFlags({ mtsOutcome: 'expired' });
    expect(options.dlr?.outcome?.('375291234567', 'x')).toBe('expired');
  });

  it.each([
    [{ mtsFail: 'meteor' }, /--mts-fail takes balance, password.*not meteor/],
    [{ mtsRate: 'fast' }, /--mts-rate takes a whole number ≥ 1/],
    [{ mtsLookupDelay: '-5' }, /--mts-lookup-delay takes a whole number ≥ 0/],
    [{ mtsOutcome: 'lost' }, /--mts-outcome takes delivered, .*not lost/],
  ])('refuses %j', (flags, message) => {
    expect(() => mtsOptionsFromFlags(flags)).toThrow(UsageError);
    expect(() => mtsOptionsFromFlags(flags)).toThrow(message);
  });
});

describe('b24-mts-sms emulate (child process)', () => {
  it('starts with a fault on, prints the control endpoint, and the endpoint turns it off', async () => {
    const p = spawnCli(['emulate', '--mts-port', '0', '--b24-port', '0', '--mts-fail', 'balance'], {
      LOG_LEVEL: 'silent',
    });
    try {
      const url = await waitFor(
        () => /MTS emulator:\s+(http:\/\/\S+)/.exec(p.output())?.[1],
        'the emulator to print its URL',
        20_000,
      );
      expect(p.output()).toContain(`curl -s -X POST ${url}/_emulator/mode`);
      const send = () =>
        fetch(`${url}/1254/json2/simple`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from('sandbox:sandbox').toString('base64')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            phone_number: 375291234567,
            channels: ['sms'],
            channel_options: { sms: { text: 'Hi', alpha_name: 'ANY', ttl: 300 } },
          }),
        }).then(async (r) => ({ status: r.status, json: await r.json() }));
      expect(await send()).toMatchObject({ status: 200, json: { error_code: 10229 } });
      const off = await fetch(`${url}/_emulator/mode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fault: 'none' }),
      });
      expect(off.status).toBe(200);
      expect((await send()).json).toHaveProperty('message_id');
    } finally {
      await p.stop();
    }
  }, 30_000);

  it('refuses an unknown fault with exit code 2 and a one-line message', async () => {
    const p = spawnCli(['emulate', '--mts-fail', 'meteor'], { LOG_LEVEL: 'silent' });
    const code = await new Promise<number | null>((r) => p.child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(p.output()).toMatch(/^error: --mts-fail takes .* not meteor\n$/);
  }, 30_000);
});
