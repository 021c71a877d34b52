const TYPE_LABELS: Record<string, string> = {
  response_time: "Response time",
  error_rate: "Error rate",
  usage_spike: "Usage spike",
  unauthorized_access: "Unauthorized access",
  rate_limit_approaching: "Rate limit approaching",
};

/** A type or other enum value as words ("response_time" → "Response time"). */
export const typeLabel = (value: string): string => TYPE_LABELS[value] ?? value;

/** A record by its name with its id (`Acme Corp #3`), as text; its id alone when the name is not known. */
export function nameWithId(id: number, names: ReadonlyMap<number, string>): string {
  const name = names.get(id);
  return name === undefined ? `#${id}` : `${name} #${id}`;
}

const EVENT_LABELS: Record<string, string> = {
  escalation_policy: "escalation policy",
  released: "released: its silence ended",
  grouped: "notified with the others of its type and endpoint held back",
};

/** A timeline event's kind as words ("released" → "released: its silence ended"). */
export const eventLabel = (kind: string): string => EVENT_LABELS[kind] ?? kind;

/** An alert's observed value or threshold in the rule's unit. */
export function formatValue(type: string, value: number): string {
  switch (type) {
    case "response_time":
      return `${value.toFixed(2)} s`;
    case "error_rate":
    case "rate_limit_approaching":
      return `${(value * 100).toFixed(1)} %`;
    case "usage_spike":
      return `${value.toFixed(1)}×`;
    default:
      return String(value);
  }
}
