/** One field a request got wrong, as the services list it in a 400 answer. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * The services' answer to a request whose body, query or path fails validation: 400 with
 * `Invalid <part>` and every bad field, as `toEqual`/`toMatchObject` expect it.
 */
export function invalidRequest(part: "body" | "query" | "path", errors: FieldError[]) {
  return { status: 400, body: { detail: `Invalid ${part}`, errors } };
}
