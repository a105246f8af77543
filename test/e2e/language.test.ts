import { afterEach, describe, expect, it } from 'vitest';
import { listPortals, type Portal, portalSettings } from '../../src/store/portals.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

/** What Bitrix24 users read from us is in their portal's language: Russian, or English. */
describe('the portal language', () => {
  let h: Harness;
  afterEach(() => h?.close());

  const refusedNote = async (to: string) => {
    const contact = h.b24.addContact({ NAME: 'Anna', PHONE: [to] });
    const sent = await h.b24.sendFromCard({
      to,
      text: 'x',
      bindings: [{ OWNER_TYPE_ID: 3, OWNER_ID: contact }],
    });
    await waitFor(() => h.b24.latestStatus(sent.messageId) === 'failed', 'failed');
    await waitFor(
      () => h.b24.timelineComments.find((c) => c.ENTITY_ID === contact),
      'the timeline note',
    );
    return h.b24.timelineComments.find((c) => c.ENTITY_ID === contact)?.COMMENT;
  };

  it('an English portal: stored at install, notes in English; the provider name in both languages', async () => {
    h = await startHarness({ dialect: 'sqlite', b24: { language: 'en' } });
    const portal = (await listPortals(h.db.conn))[0] as Portal;
    expect(portalSettings(portal).detectedLanguage).toBe('en');
    expect(h.b24.senders[0]).toMatchObject({
      NAME: { ru: 'МТС Беларусь SMS', en: 'MTS Belarus SMS' },
      DESCRIPTION: { en: 'SMS through MTS Communicator (Belarus), with delivery statuses' },
    });
    expect(await refusedNote('+7 916 123-45-67')).toBe(
      'SMS was not sent (MTS Belarus SMS): +7 916 123-45-67 is a number of another country (+7): this service sends SMS only to Belarus mobile numbers (+375 25, 29, 33, 44). Contact the client another way, or add their Belarus mobile number.',
    );
  });

  it('a Russian portal gets Russian notes; an update in another language is followed', async () => {
    h = await startHarness({ dialect: 'sqlite' });
    expect(await refusedNote('+7 916 123-45-67')).toMatch(
      /^SMS не отправлено \(SMS через МТС Беларусь\): \+7 916 123-45-67 — номер другой страны \(\+7\): этот сервис отправляет SMS только на мобильные номера Беларуси/,
    );
    h.b24.setLanguage('en');
    expect(await h.b24.install(h.url, 'ONAPPUPDATE')).toBe(200);
    expect(await refusedNote('+375 17 765-43-21')).toMatch(
      /^SMS was not sent \(MTS Belarus SMS\): \+375 17 765-43-21 is not a mobile number/,
    );
  });
});
