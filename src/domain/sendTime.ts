/**
 * Parses a robot's "send at" value. Bitrix24 passes datetime properties as text, either ISO
 * (`2026-11-25T10:00:00+03:00`) or in the portal's format (`25.11.2026 10:00[:00]`), which we
 * read as Europe/Minsk time (UTC+3 all year since 2011). Empty → undefined; anything else
 * unreadable → an Error naming the value.
 */
export function parseSendAt(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(Array.isArray(value) ? (value[0] ?? '') : value).trim();
  if (s === '') return undefined;
  const local = /^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  if (local) {
    const [, d, mo, y, h = '0', mi = '0', se = '0'] = local;
    return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h) - 3, Number(mi), Number(se));
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    // Without an offset, the time is Minsk time.
    const t = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s.replace(' ', 'T')}+03:00`);
    if (Number.isFinite(t)) return t;
  }
  throw new Error(
    `cannot read the send time "${s}": use DD.MM.YYYY HH:MM (Minsk time) or ISO 8601`,
  );
}
