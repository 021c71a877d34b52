import { randomBytes } from "node:crypto";

/** A name no earlier run used: topic prefixes, consumer groups, Redis key prefixes. */
export function uniqueName(label: string): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** A topic prefix for one test file, so every run gets brand-new topics. */
export function uniqueTopicPrefix(label = "t"): string {
  return `${uniqueName(label)}.`;
}
