/**
 * Text for a LIKE pattern taken literally: LIKE's wildcards (`%`, `_`) and its escape character
 * (`\`) escaped. Prisma's `contains`, `startsWith` and `endsWith` hand their values to LIKE as
 * they are, so text searched for as itself goes through this first.
 */
export function escapeLike(text: string): string {
  return text.replaceAll(/[\\%_]/g, (c) => `\\${c}`);
}
