import { describe, expect, it } from 'vitest';
import { alertOf, portalsOnContract } from '../../src/core/incidentAlerts.js';
import type { Contract } from '../../src/store/index.js';

describe('incident alerts', () => {
  it('tells each incident as the matching admin alert', () => {
    expect(
      alertOf({ kind: 'contract-paused', contractId: 'default', reason: 'quota', code: '10229' }),
    ).toEqual({ kind: 'sending_paused', reason: 'quota' });
    expect(alertOf({ kind: 'contract-resumed', contractId: 'default' })).toEqual({
      kind: 'sending_resumed',
    });
    expect(
      alertOf({ kind: 'alpha-held', contractId: 'default', alphaName: 'SHOP', reason: '10262' }),
    ).toEqual({ kind: 'alpha_name_held', alphaName: 'SHOP', reason: '10262' });
    const released = alertOf({ kind: 'alpha-released', contractId: 'default', alphaName: 'SHOP' });
    expect(released.kind).toBe('text');
    expect(JSON.stringify(released)).toContain('SHOP');
  });

  it("alerts the active portals on the incident's contract only", () => {
    const portals: { id: string; status: 'active' | 'uninstalled' }[] = [
      { id: 'a', status: 'active' },
      { id: 'b', status: 'active' },
      { id: 'c', status: 'uninstalled' },
      { id: 'd', status: 'active' },
    ];
    // b has a contract of its own; the others send on the default one.
    const contracts = new Map([
      ['default', {} as Contract],
      ['portal:b', {} as Contract],
    ]);
    const ids = (contractId: string) =>
      portalsOnContract(portals, contracts, contractId).map((p) => p.id);
    expect(ids('default')).toEqual(['a', 'd']);
    expect(ids('portal:b')).toEqual(['b']);
    expect(ids('portal:a')).toEqual([]);
  });
});
