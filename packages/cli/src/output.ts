/** What a command produced: the data for `--json`, and how to show it as text. */
export interface Result {
  data: unknown;
  text: () => string;
  /**
   * What did not go as asked, for stderr: the output is still printed (the rest of the work was
   * done), then this line, and the CLI exits with 1.
   */
  failed?: string;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

/** Widest a table cell gets before it is cut with "…" (`--json` shows everything). */
const MAX_CELL = 60;

/** Marks (accents, variation selectors) and format characters (joiners) draw nothing of their own. */
const ZERO_WIDTH = /^[\p{M}\p{Cf}]$/u;
/** What a terminal draws two columns wide: East Asian wide and full-width characters, emoji. */
const DOUBLE_WIDTH =
  /^[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{20000}-\u{3FFFD}\p{Emoji_Presentation}]$/u;

/** The columns a terminal gives `text`: names in Chinese or with emoji take two a character. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += ZERO_WIDTH.test(char) ? 0 : DOUBLE_WIDTH.test(char) ? 2 : 1;
  return width;
}

/** `text` padded with spaces to `width` columns. */
const padTo = (text: string, width: number) => text + " ".repeat(Math.max(0, width - displayWidth(text)));

function cell(value: unknown, max = MAX_CELL): string {
  let text: string;
  if (value === null || value === undefined || value === "") text = "-";
  else if (typeof value === "object") text = JSON.stringify(value);
  else text = String(value);
  text = text.replace(/\s+/g, " ");
  if (displayWidth(text) <= max) return text;
  // Cut by characters, not UTF-16 units, so that an emoji is not split in half.
  let cut = "";
  for (const char of text) {
    if (displayWidth(cut + char) > max - 1) break;
    cut += char;
  }
  return `${cut}…`;
}

/** Rows under a header, columns padded to their widest cell. */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  if (rows.length === 0) return "(none)";
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.value(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => displayWidth(line[i] ?? ""))));
  return cells
    .map((line) =>
      line
        .map((text, i) => (i === line.length - 1 ? text : padTo(text, widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** One object as `field  value` lines, nested objects by dotted path; nothing is cut. */
export function record(value: object): string {
  const lines: [string, string][] = [];
  const walk = (prefix: string, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, child);
    } else {
      lines.push([prefix, cell(v, Number.POSITIVE_INFINITY)]);
    }
  };
  walk("", value);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

/** A page of a list: the table, and how to ask for the next page when there is one. */
export function pageResult<T>(page: { items: T[]; nextCursor: string | null }, columns: Column<T>[]): Result {
  return {
    data: page,
    text: () =>
      page.nextCursor
        ? `${table(page.items, columns)}\n(more: --cursor ${page.nextCursor})`
        : table(page.items, columns),
  };
}

/** Text under a title per part, each part after a blank line: a record's tables below it. */
export function sections(head: string, parts: [title: string, body: string][]): string {
  return [head, ...parts.flatMap(([title, body]) => ["", title, body])].join("\n");
}

export function recordResult(value: object): Result {
  return { data: value, text: () => record(value) };
}

/** Every page of a cursor-paged list, read to the end. */
export async function allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<{ items: T[]; nextCursor: null }> {
  const items: T[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    if (!page.nextCursor) return { items, nextCursor: null };
    cursor = page.nextCursor;
  }
}
