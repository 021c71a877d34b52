import { type ApiClientOptions, createTypedClient, type Page, paginate, unwrap } from "./api-call";
import type { components, paths } from "./generated/keys-api";

type Schemas = components["schemas"];
type Body<P extends keyof paths, M extends "post" | "patch"> = NonNullable<
  paths[P][M] extends { requestBody?: { content: { "application/json": infer B } } } ? B : never
>;

/** A key as reads and updates answer it. */
export type StoredApiKeyView = Schemas["ApiKey"];
/** Any answer about a key: a read's, or a creation's or rotation's (with the plaintext `key`). */
type History = "usageCount" | "lastUsed" | "rotatedFromId" | "updatedAt";
export type ApiKeyView = Omit<StoredApiKeyView, History> &
  Partial<Pick<StoredApiKeyView, History>> & { key?: string };
/** A new key: the only answer that carries the plaintext `key`. */
export type NewApiKeyView = Schemas["NewApiKey"];
/** A rotation's successor, with the plaintext `key`. */
export type RotatedApiKeyView = Schemas["RotatedApiKey"];
export type UserView = Schemas["User"];
/** An operator: someone with an admin API token of their own. */
export type OperatorView = Schemas["Operator"];
/** A new operator, with its `token` (the only answer that carries it). */
export type NewOperatorView = Schemas["NewOperator"];
/** Whose token a request carries (`GET /api/v1/operators/me`). */
export type CallerView = Schemas["Caller"];
export type CreateOperatorInput = Body<"/api/v1/operators", "post">;
/** Another name, another role, or both (at least one). */
export type UpdateOperatorInput = Body<"/api/v1/operators/{id}", "patch">;
export interface ListOperatorsParams {
  /** true: only revoked operators; false: only those whose token works. */
  revoked?: boolean;
  cursor?: string;
  limit?: number;
}
/** `GET /api/v1/keys/:id/usage`: a key's requests per minute, hour or day. */
export type KeyUsageView = Schemas["KeyUsage"];
/** `GET /api/v1/usage`: every key's, or one user's keys', requests per minute, hour or day. */
export type UsageView = Schemas["Usage"];
/** `GET /api/v1/usage/summary`. */
export type UsageSummaryView = Schemas["UsageSummary"];
export type { Page };

export type CreateKeyInput = Body<"/api/v1/keys", "post">;
export type UpdateKeyInput = Body<"/api/v1/keys/{id}", "patch">;
export type UpdateUserInput = Body<"/api/v1/users/{id}", "patch">;
export interface ListKeysParams {
  userId?: number;
  active?: boolean;
  /** Only these keys, up to 100. */
  ids?: readonly number[];
  /** Keys whose name contains it (any case) or whose prefix starts with it. */
  search?: string;
  cursor?: string;
  limit?: number;
}
export interface ListUsersParams {
  /** Only these users, up to 100. */
  ids?: readonly number[];
  /** Users whose name or email contains it (any case). */
  search?: string;
  cursor?: string;
  limit?: number;
}
type UsageQuery = NonNullable<paths["/api/v1/keys/{id}/usage"]["get"]["parameters"]["query"]>;
type ManyKeysUsageQuery = NonNullable<paths["/api/v1/usage"]["get"]["parameters"]["query"]>;
type SummaryQuery = NonNullable<paths["/api/v1/usage/summary"]["get"]["parameters"]["query"]>;

/** A client of the keys service's admin API, typed by the service's own route schemas. */
export function createKeysClient(options: ApiClientOptions) {
  const api = createTypedClient<paths>({ ...options, service: "keys" });
  const keysQuery = ({ active, ids, ...rest }: ListKeysParams) => ({
    ...rest,
    active: active === undefined ? undefined : (String(active) as "true" | "false"),
    ids: ids === undefined ? undefined : ids.join(","),
  });
  const listUsers = ({ ids, ...rest }: ListUsersParams = {}) =>
    unwrap(
      api.GET("/api/v1/users", {
        params: { query: { ...rest, ids: ids === undefined ? undefined : ids.join(",") } },
      }),
    );
  const listOperators = ({ revoked, ...rest }: ListOperatorsParams = {}) =>
    unwrap(
      api.GET("/api/v1/operators", {
        params: {
          query: {
            ...rest,
            revoked: revoked === undefined ? undefined : (String(revoked) as "true" | "false"),
          },
        },
      }),
    );
  const listKeys = (params: ListKeysParams = {}) =>
    unwrap(api.GET("/api/v1/keys", { params: { query: keysQuery(params) } }));
  return {
    createUser: (input: { email: string; name: string }) =>
      unwrap(api.POST("/api/v1/users", { body: input })),
    listUsers,
    /** Every user, page by page. */
    iterateUsers: (params: Omit<ListUsersParams, "cursor"> = {}) =>
      paginate((cursor) => listUsers({ ...params, cursor })),
    getUser: (id: number) => unwrap(api.GET("/api/v1/users/{id}", { params: { path: { id } } })),
    updateUser: (id: number, patch: UpdateUserInput) =>
      unwrap(api.PATCH("/api/v1/users/{id}", { params: { path: { id } }, body: patch })),
    /** Deletes the user and every key of theirs. */
    deleteUser: async (id: number): Promise<void> => {
      await unwrap(api.DELETE("/api/v1/users/{id}", { params: { path: { id } } }));
    },
    createKey: (input: CreateKeyInput) => unwrap(api.POST("/api/v1/keys", { body: input })),
    listKeys,
    /** Every key matching the filter, page by page. */
    iterateKeys: (params: Omit<ListKeysParams, "cursor"> = {}) =>
      paginate((cursor) => listKeys({ ...params, cursor })),
    getKey: (id: number) => unwrap(api.GET("/api/v1/keys/{id}", { params: { path: { id } } })),
    updateKey: (id: number, patch: UpdateKeyInput) =>
      unwrap(api.PATCH("/api/v1/keys/{id}", { params: { path: { id } }, body: patch })),
    rotateKey: (id: number, gracePeriodSeconds?: number) =>
      unwrap(
        api.POST("/api/v1/keys/{id}/rotate", {
          params: { path: { id } },
          body: gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds },
        }),
      ),
    deleteKey: async (id: number): Promise<void> => {
      await unwrap(api.DELETE("/api/v1/keys/{id}", { params: { path: { id } } }));
    },
    keyUsage: (id: number, params: { from?: string; to?: string; granularity?: string } = {}) =>
      unwrap(
        api.GET("/api/v1/keys/{id}/usage", {
          // An unknown granularity is the service's to refuse (400), with its message.
          params: { path: { id }, query: params as UsageQuery },
        }),
      ),
    usage: (params: { from?: string; to?: string; granularity?: string; userId?: number } = {}) =>
      unwrap(api.GET("/api/v1/usage", { params: { query: params as ManyKeysUsageQuery } })),
    usageSummary: (params: SummaryQuery = {}) =>
      unwrap(api.GET("/api/v1/usage/summary", { params: { query: params } })),
    /** Whose token the client sends: an operator, or null for the admin token. */
    whoAmI: () => unwrap(api.GET("/api/v1/operators/me")),
    createOperator: (input: CreateOperatorInput) => unwrap(api.POST("/api/v1/operators", { body: input })),
    listOperators,
    /** Every operator matching the filter, page by page. */
    iterateOperators: (params: Omit<ListOperatorsParams, "cursor"> = {}) =>
      paginate((cursor) => listOperators({ ...params, cursor })),
    getOperator: (id: number) => unwrap(api.GET("/api/v1/operators/{id}", { params: { path: { id } } })),
    /** The token stays the same; a new role holds from its next request. A revoked operator: 409. */
    updateOperator: (id: number, patch: UpdateOperatorInput) =>
      unwrap(api.PATCH("/api/v1/operators/{id}", { params: { path: { id } }, body: patch })),
    /** The token stops working at once; the operator stays listed. */
    revokeOperator: (id: number) =>
      unwrap(api.POST("/api/v1/operators/{id}/revoke", { params: { path: { id } } })),
  };
}

export type KeysClient = ReturnType<typeof createKeysClient>;
