import { type ApiClientOptions, createApiCaller, query } from "./api-call";

/** What the keys API answers for a key (plaintext `key` only on create and rotate). */
export interface ApiKeyView {
  id: number;
  userId: number;
  name: string;
  description: string | null;
  prefix: string;
  isActive: boolean;
  rateLimits: { minute: number; hour: number; day: number };
  expiresAt: string | null;
  createdAt: string;
  key?: string;
  usageCount?: number;
  lastUsed?: string | null;
  rotatedFromId?: number | null;
}

export interface UserView {
  id: number;
  email: string;
  name: string;
  createdAt: string;
}

/** `GET /api/v1/keys/:id/usage`: a key's requests per minute, hour or day. */
export interface KeyUsageView {
  keyId: number;
  from: string;
  to: string;
  granularity: "minute" | "hour" | "day";
  buckets: {
    start: string;
    requests: number;
    errors: number;
    clientErrors: number;
    rateLimited: number;
    p50ResponseTimeMs: number | null;
    p95ResponseTimeMs: number | null;
  }[];
}

/** `GET /api/v1/usage/summary`. */
export interface UsageSummaryView {
  from: string;
  to: string;
  userId?: number;
  requests: number;
  errors: number;
  clientErrors: number;
  errorRate: number;
  topKeys: { keyId: number; name: string | null; requests: number; errors: number }[];
  topEndpoints: {
    endpoint: string;
    method: string;
    requests: number;
    errors: number;
    p95ResponseTimeMs: number | null;
  }[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A typed client of the keys service's admin API. */
export function createKeysClient({ baseUrl, adminToken, fetch: doFetch = fetch }: ApiClientOptions) {
  const call = createApiCaller({ baseUrl, adminToken, fetch: doFetch, service: "keys" });
  return {
    createUser: (input: { email: string; name: string }) => call<UserView>("POST", "/api/v1/users", input),
    listUsers: (params: { cursor?: string; limit?: number } = {}) =>
      call<Page<UserView>>("GET", `/api/v1/users${query(params)}`),
    createKey: (input: {
      userId: number;
      name: string;
      description?: string;
      rateLimits?: { minute?: number; hour?: number; day?: number };
      expiresAt?: string;
    }) => call<ApiKeyView>("POST", "/api/v1/keys", input),
    listKeys: (params: { userId?: number; active?: boolean; cursor?: string; limit?: number } = {}) =>
      call<Page<ApiKeyView>>("GET", `/api/v1/keys${query(params)}`),
    getKey: (id: number) => call<ApiKeyView>("GET", `/api/v1/keys/${id}`),
    updateKey: (
      id: number,
      patch: {
        name?: string;
        description?: string | null;
        isActive?: boolean;
        rateLimits?: { minute?: number | null; hour?: number | null; day?: number | null };
      },
    ) => call<ApiKeyView>("PATCH", `/api/v1/keys/${id}`, patch),
    rotateKey: (id: number, gracePeriodSeconds?: number) =>
      call<ApiKeyView>(
        "POST",
        `/api/v1/keys/${id}/rotate`,
        gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds },
      ),
    deleteKey: (id: number) => call<void>("DELETE", `/api/v1/keys/${id}`),
    keyUsage: (id: number, params: { from?: string; to?: string; granularity?: string } = {}) =>
      call<KeyUsageView>("GET", `/api/v1/keys/${id}/usage${query(params)}`),
    usageSummary: (params: { from?: string; to?: string; userId?: number; limit?: number } = {}) =>
      call<UsageSummaryView>("GET", `/api/v1/usage/summary${query(params)}`),
  };
}

export type KeysClient = ReturnType<typeof createKeysClient>;
