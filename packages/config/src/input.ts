// What every API input must respect to reach Postgres: shared by the services' request schemas
// and the alert settings document, so that no input can make a write fail with a 500.

/** Largest value of a Postgres `integer` (ids, limits): anything larger cannot name a row. */
export const MAX_INT = 2_147_483_647;

/** A single line: no control characters at all (Postgres text and jsonb cannot hold NUL). */
export const SINGLE_LINE = /^[^\p{Cc}]*$/u;

/** Free text: tabs and line breaks, but no other control characters. */
export const FREE_TEXT = /^(?:[^\p{Cc}]|[\t\n\r])*$/u;
