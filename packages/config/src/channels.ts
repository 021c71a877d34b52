/**
 * A notification channel's target as it is shown to someone who may see that the channel exists
 * but not hold its credentials (a viewer's token, a page on screen). A Slack incoming-webhook URL
 * is a credential (its path is the secret), so only its host and last characters are kept; a
 * webhook URL loses its query string and user info, which may carry tokens; email addresses stay.
 */
export function maskChannelTarget(type: string, target: string): string {
  if (type === "email") return target;
  try {
    const url = new URL(target);
    if (type === "slack") return `${url.protocol}//${url.host}/…${target.slice(-4)}`;
    return `${url.protocol}//${url.host}${url.pathname}${url.search ? "?…" : ""}`;
  } catch {
    return "(invalid URL)";
  }
}

/** An http(s) URL anywhere in a text, up to the next space. */
export const URL_TEXT = /\bhttps?:\/\/\S*/gi;

/**
 * A channel's name as {@link maskChannelTarget} shows its target: every URL in it masked. A
 * channel made without a name is named after its type and target (cut to the name's length, so
 * perhaps the start of a long target only), and keeps that name when its target changes.
 */
export function maskChannelName(type: string, name: string): string {
  return type === "email" ? name : name.replace(URL_TEXT, (url) => maskChannelTarget(type, url));
}

/**
 * A text that may quote a notification target, such as a delivery's error, as a viewer may read
 * it: every URL cut to its scheme and host. The channel's type is not known from the text, and a
 * Slack URL's path is its secret, so no path is kept.
 */
export function maskUrlsInText(text: string): string {
  return text.replace(URL_TEXT, (url) => {
    try {
      const { protocol, host } = new URL(url);
      return `${protocol}//${host}/…`;
    } catch {
      return "(URL)";
    }
  });
}
