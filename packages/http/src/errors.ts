import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface FieldError {
  field: string;
  message: string;
}

/** An error with a status and the spec's `{"detail": "..."}` body; mapped in one place by `onError`. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
    this.name = "HttpError";
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) => new HttpError(400, detail, errors);
export const unauthorized = (detail = "Not authenticated") => new HttpError(401, detail);
export const notFound = (detail = "Not found") => new HttpError(404, detail);
export const conflict = (detail: string) => new HttpError(409, detail);
