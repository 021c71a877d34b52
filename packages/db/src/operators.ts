import { createHash, randomBytes } from "node:crypto";
import { OPERATOR_TOKEN_PREFIX, type OperatorRole } from "@apimon/config";
import type { PrismaClient } from "./generated/client";

/** How much of a token lists show: the prefix and four characters of the random part. */
const SHOWN = OPERATOR_TOKEN_PREFIX.length + 4;
/** last_used_at moves at most this often, so that reads do not each write a row. */
const TOUCH_EVERY_MS = 60_000;

/** The SHA-256 of a token, as `operators.token_hash` keeps it. */
export function operatorTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A new operator token (256 random bits), its hash and the part lists show. */
export function newOperatorToken(): { token: string; tokenHash: string; tokenPrefix: string } {
  const token = OPERATOR_TOKEN_PREFIX + randomBytes(32).toString("base64url");
  return { token, tokenHash: operatorTokenHash(token), tokenPrefix: token.slice(0, SHOWN) };
}

/** An operator as the admin APIs know the caller. */
export interface OperatorIdentity {
  id: number;
  name: string;
  role: OperatorRole;
}

/**
 * Finds the operator a presented token belongs to, if any and not revoked. A revocation holds
 * from the next request: nothing is cached. Notes when the token was used, at most once a minute
 * per operator, without holding up the request (a failure to note it is logged, not raised).
 */
export function createOperatorDirectory(
  prisma: PrismaClient,
  { onTouchFailed = () => {} }: { onTouchFailed?: (error: unknown) => void } = {},
): { find(token: string): Promise<OperatorIdentity | null> } {
  return {
    async find(token) {
      if (!token.startsWith(OPERATOR_TOKEN_PREFIX)) return null;
      const row = await prisma.operator.findUnique({
        where: { tokenHash: operatorTokenHash(token) },
        select: { id: true, name: true, role: true, revokedAt: true, lastUsedAt: true },
      });
      if (!row || row.revokedAt !== null) return null;
      const now = Date.now();
      if (row.lastUsedAt === null || now - row.lastUsedAt.getTime() >= TOUCH_EVERY_MS) {
        prisma.operator
          .updateMany({
            where: {
              id: row.id,
              OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now - TOUCH_EVERY_MS) } }],
            },
            data: { lastUsedAt: new Date(now) },
          })
          .catch(onTouchFailed);
      }
      return { id: row.id, name: row.name, role: row.role as OperatorRole };
    },
  };
}
