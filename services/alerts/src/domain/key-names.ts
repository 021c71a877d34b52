/** What an alert message says about an API key: its name and display prefix besides the id. */
export interface KeyLabel {
  name: string;
  prefix: string;
}

const MAX_NAME = 80;

/**
 * The message with each mention of `key <id>` (the detector knows keys by id only) naming the
 * key: `key 7, GET /users` → `key "billing" (ak_Xy12abcd…, #7), GET /users`. A message that does
 * not mention the key gets the label appended, so the key is always named.
 */
export function nameKeyInMessage(message: string, apiKeyId: number, key: KeyLabel): string {
  const name = key.name.length > MAX_NAME ? `${key.name.slice(0, MAX_NAME - 1)}…` : key.name;
  const label = `key "${name}" (${key.prefix}…, #${apiKeyId})`;
  const mention = new RegExp(`\\bkey ${apiKeyId}\\b`, "g");
  return mention.test(message) ? message.replace(mention, label) : `${message} (${label})`;
}
