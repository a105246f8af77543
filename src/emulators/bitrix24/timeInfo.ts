import { formatDate } from './crmQuery.js';

/** The `time` object Bitrix24 adds to every REST answer (`limits.md`). */
export function timeInfo(startMs: number, finishMs: number) {
  return {
    start: startMs / 1000,
    finish: finishMs / 1000,
    duration: (finishMs - startMs) / 1000,
    processing: (finishMs - startMs) / 1000,
    date_start: formatDate(startMs),
    date_finish: formatDate(finishMs),
    operating_reset_at: Math.floor(startMs / 1000) + 600,
    operating: 0,
  };
}
