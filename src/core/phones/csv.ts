import { normalizePhone } from '../../domain/phone.js';
import { ValidationError } from '../../errors.js';
import {
  PHONE_ENTITIES,
  type PhoneEntity,
  type PhoneRow,
  VERDICTS,
  type Verdict,
} from './verdict.js';

/** SPEC §6: the scan report's header, in this order. */
export const CSV_COLUMNS = [
  'entity',
  'id',
  'value_id',
  'value_type',
  'original',
  'normalized',
  'verdict',
] as const;

export const CSV_HEADER = CSV_COLUMNS.join(',');

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One report line, LF-terminated (spreadsheets and CSV readers take LF or CRLF). */
export function csvLine(row: PhoneRow): string {
  return `${[
    row.entity,
    String(row.id),
    row.valueId,
    row.valueType,
    row.original,
    row.normalized,
    row.verdict,
  ]
    .map(csvField)
    .join(',')}\n`;
}

/**
 * Splits CSV text into records of fields (RFC 4180: quoted fields may hold commas, doubled
 * quotes and line breaks; lines end in LF or CRLF). A trailing line break ends no record.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let fieldStarted = false;
  const endField = () => {
    row.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  const src = text.startsWith('\ufeff') ? text.slice(1) : text;
  while (i < src.length) {
    const ch = src[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      field += ch;
      i += 1;
      continue;
    }
    if (ch === '"' && !fieldStarted && field === '') {
      quoted = true;
      fieldStarted = true;
      i += 1;
    } else if (ch === ',') {
      endField();
      i += 1;
    } else if (ch === '\n' || ch === '\r') {
      endRow();
      i += ch === '\r' && src[i + 1] === '\n' ? 2 : 1;
    } else {
      field += ch;
      fieldStarted = true;
      i += 1;
    }
  }
  if (quoted) throw new ValidationError('the CSV ends inside a quoted field');
  if (field !== '' || fieldStarted || row.length > 0) endRow();
  return rows;
}

/**
 * Reads a `phones scan` report back. Refuses (ValidationError naming the line) a file whose
 * header is not the report's, or a row with an unknown entity or verdict, a bad ID, or a
 * `fixable` row whose normalized number is not what `normalizePhone` makes of the original.
 */
export function readScanCsv(text: string): PhoneRow[] {
  const records = parseCsv(text);
  const header = records[0];
  if (!header || header.join(',') !== CSV_HEADER) {
    throw new ValidationError(
      `not a \`phones scan\` report: its first line must be "${CSV_HEADER}", got "${(header ?? []).join(',')}"`,
    );
  }
  const rows: PhoneRow[] = [];
  for (let n = 1; n < records.length; n++) {
    const r = records[n] as string[];
    if (r.length === 1 && r[0] === '') continue;
    const line = n + 1;
    if (r.length !== CSV_COLUMNS.length)
      throw new ValidationError(`line ${line}: ${r.length} fields, expected ${CSV_COLUMNS.length}`);
    const [entity, id, valueId, valueType, original, normalized, verdict] = r as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (!(PHONE_ENTITIES as readonly string[]).includes(entity))
      throw new ValidationError(`line ${line}: unknown entity "${entity}"`);
    if (!/^[1-9]\d*$/.test(id)) throw new ValidationError(`line ${line}: bad id "${id}"`);
    if (!/^[1-9]\d*$/.test(valueId))
      throw new ValidationError(`line ${line}: bad value_id "${valueId}"`);
    if (!(VERDICTS as readonly string[]).includes(verdict))
      throw new ValidationError(`line ${line}: unknown verdict "${verdict}"`);
    if (verdict === 'fixable') {
      // The number written back is recomputed, never taken from the file on trust.
      const n = normalizePhone(original);
      if (!n.ok || n.phone !== normalized)
        throw new ValidationError(
          `line ${line}: "${normalized}" is not the normalized form of "${original}"`,
        );
    }
    rows.push({
      entity: entity as PhoneEntity,
      id: Number(id),
      valueId,
      valueType,
      original,
      normalized,
      verdict: verdict as Verdict,
    });
  }
  return rows;
}
