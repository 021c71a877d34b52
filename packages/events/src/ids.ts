import { v7 } from "uuid";

/** A new event id: uuid v7, unique and ordered by creation time. */
export function newEventId(): string {
  return v7();
}
