import { describeDbError } from "@apimon/db";
import { HttpError } from "@apimon/http";

const MESSAGES = {
  conflicts: { notification_channels_name_key: "A channel with this name already exists" },
  notFound: { Alert: "Alert not found", NotificationChannel: "Channel not found" },
};

/** Database errors as this API's HTTP errors (see describeDbError); anything else unchanged. */
export function toHttpError(error: unknown): unknown {
  const mapped = error instanceof HttpError ? undefined : describeDbError(error, MESSAGES);
  return mapped ? new HttpError(mapped.status, mapped.detail) : error;
}
