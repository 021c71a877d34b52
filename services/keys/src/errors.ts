import { describeDbError } from "@apimon/db";
import { HttpError } from "@apimon/http";

const MESSAGES = {
  conflicts: {
    users_email_key: "A user with this email already exists",
    api_keys_rotated_from_id_key: "API key was already rotated",
  },
  notFound: { User: "User not found", ApiKey: "API key not found" },
};

/** Database errors as this API's HTTP errors (see describeDbError); anything else unchanged. */
export function toHttpError(error: unknown): unknown {
  const mapped = error instanceof HttpError ? undefined : describeDbError(error, MESSAGES);
  return mapped ? new HttpError(mapped.status, mapped.detail) : error;
}
