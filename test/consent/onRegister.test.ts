import { describe, expect, it, vi } from 'vitest';
import type { Bitrix24Api } from '../../src/bitrix24/types.js';
import { consentOnRegister } from '../../src/consent/onRegister.js';
import { silentLogger } from '../../src/log.js';

describe('consent setup after registering a portal', () => {
  const failing: Bitrix24Api = {
    call: () => Promise.reject(new Error('Bitrix24 is down')),
    batch: () => Promise.reject(new Error('Bitrix24 is down')),
  };

  it('a field that cannot be made is logged, never thrown; a sync starts only while workers run', async () => {
    const warn = vi.fn();
    const logger = { ...silentLogger, warn } as unknown as typeof silentLogger;
    const syncNow = vi.fn(() => Promise.reject(new Error('sync failed')));
    let running = false;
    const onRegister = consentOnRegister({
      api: failing,
      logger,
      field: 'UF_CRM_SMS_CONSENT',
      syncer: { syncNow },
      syncing: () => running,
    });
    await expect(onRegister({ id: 'm1' })).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ portalId: 'm1' }),
      'could not create the consent field UF_CRM_SMS_CONSENT',
    );
    expect(syncNow).not.toHaveBeenCalled();

    running = true;
    await onRegister({ id: 'm1' });
    expect(syncNow).toHaveBeenCalledWith('m1');
    await vi.waitFor(() =>
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ err: 'sync failed' }),
        'consent sync failed; will retry',
      ),
    );
  });
});
