import { describe, expect, it } from 'vitest';
import { chooseSender, type SenderDefaults } from '../../src/core/senderChoice.js';
import { parseQuietHours } from '../../src/domain/quietHours.js';
import type { Contract } from '../../src/store/index.js';

const defaults: SenderDefaults = {
  sender: 'CONF',
  senderMarketing: 'CONFMKT',
  quietHours: 'mts',
  maxParts: 5,
  rate: 10,
};

const contract = (id: string, over: Partial<Contract> = {}) =>
  ({ id, sender: null, sender_marketing: null, rate: 20, ...over }) as Contract;

const portal = (settings: Record<string, unknown> = {}) => ({
  id: 'm1',
  settings: JSON.stringify(settings),
});

describe('sender choice', () => {
  it('without a portal: the configuration on the default contract', () => {
    const contracts = new Map([['default', contract('default')]]);
    expect(chooseSender(undefined, contracts, 'transactional', defaults)).toEqual({
      alphaName: 'CONF',
      quietHours: null,
      maxParts: 5,
      route: { contractId: 'default', vtStepMs: 50 },
    });
    // No stored default contract: the configured rate.
    expect(chooseSender(undefined, new Map(), 'transactional', defaults).route).toEqual({
      contractId: 'default',
      vtStepMs: 100,
    });
  });

  it("alpha name: the portal's setting, else its contract's, else the configuration's", () => {
    const own = new Map([
      ['default', contract('default', { sender: 'DEF', sender_marketing: 'DEFMKT' })],
      ['portal:m1', contract('portal:m1', { sender: 'OWN', rate: 4 })],
    ]);
    const t = chooseSender(portal(), own, 'transactional', defaults);
    expect(t.alphaName).toBe('OWN');
    expect(t.route).toEqual({ contractId: 'portal:m1', vtStepMs: 250 });
    // The own contract names no marketing sender: the configuration's, not the default contract's.
    expect(chooseSender(portal(), own, 'marketing', defaults).alphaName).toBe('CONFMKT');
    expect(chooseSender(portal({ sender: 'MINE' }), own, 'transactional', defaults).alphaName).toBe(
      'MINE',
    );
    const onDefault = new Map([['default', own.get('default') as Contract]]);
    expect(chooseSender(portal(), onDefault, 'marketing', defaults)).toMatchObject({
      alphaName: 'DEFMKT',
      route: { contractId: 'default' },
    });
  });

  it("quiet hours hold marketing only: the portal's, else the configured ones", () => {
    const contracts = new Map<string, Contract>();
    expect(chooseSender(portal(), contracts, 'marketing', defaults).quietHours).toEqual(
      parseQuietHours('mts'),
    );
    expect(
      chooseSender(portal({ quietHours: '21:00-08:00' }), contracts, 'marketing', defaults)
        .quietHours,
    ).toEqual(parseQuietHours('21:00-08:00'));
    expect(
      chooseSender(portal({ quietHours: '' }), contracts, 'marketing', defaults).quietHours,
    ).toBeNull();
    expect(
      chooseSender(portal({ quietHours: '21:00-08:00' }), contracts, 'transactional', defaults)
        .quietHours,
    ).toBeNull();
  });
});
