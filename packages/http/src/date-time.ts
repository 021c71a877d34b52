import { z } from "zod";

/**
 * The instants an API takes, [1970-01-01, 9999-01-01) UTC. JavaScript writes years 0 and past
 * 9999 (`0000-…`, `+010000-…`), which Postgres refuses, so a date outside would fail in the
 * database with a 500; inside, a range rounded out to whole days still stays within 0001–9999.
 */
export const EARLIEST_DATE_TIME_MS = Date.UTC(1970, 0, 1);
export const LATEST_DATE_TIME_MS = Date.UTC(9999, 0, 1);

/** An ISO-8601 date-time with a zone (`Z` or an offset), between the bounds above. */
export const dateTimeString = (message = "must be an ISO-8601 date-time") =>
  z.iso.datetime({ offset: true, message }).refine((value) => {
    const ms = Date.parse(value);
    // Not a date-time at all: the format's message says so, once.
    return Number.isNaN(ms) || (ms >= EARLIEST_DATE_TIME_MS && ms < LATEST_DATE_TIME_MS);
  }, "must lie between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z");
