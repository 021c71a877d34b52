export { type AdminApiAppOptions, createAdminApiApp } from "./admin-api-app";
export { type AppEnv, type AppVariables, createHealthApp, createHttpApp, type HttpAppOptions } from "./app";
export {
  type AuditActor,
  auditActor,
  auditActorOf,
  OPERATOR_ADDRESS_HEADER,
  SOURCE_HEADER,
} from "./audit-actor";
export {
  bearerToken,
  type Operator,
  type OperatorDirectory,
  readsOnly,
  requireAdminToken,
  tokenMatches,
} from "./auth";
export { clientAddress, forwardedClientIp } from "./client-address";
export { dateTimeString, EARLIEST_DATE_TIME_MS, LATEST_DATE_TIME_MS } from "./date-time";
export { createDocsRoutes, DOCS_CONTENT_SECURITY_POLICY } from "./docs";
export { badRequest, conflict, type FieldError, HttpError, notFound, unauthorized } from "./errors";
export {
  ADMIN_TOKEN_GUESSES_PER_MINUTE,
  createGuessLimit,
  type GuessLimit,
  tooManyGuessesDetail,
} from "./guess-limit";
export {
  ADMIN_MAX_BODY_BYTES,
  type ApiDocumentOptions,
  adminErrorResponses,
  BODY_TOO_LARGE,
  deleteResponses,
  describeHealthRoutes,
  describeListRoute,
  describeRoute,
  documentProblems,
  errorResponses,
  errorSchema,
  fieldErrorSchema,
  honoPath,
  INVALID_PATH,
  INVALID_QUERY,
  jsonBody,
  jsonResponse,
  listResponses,
  OpenAPIHono,
  pageSchema,
  type RouteConfig,
  readResponses,
  serveOpenApiDocument,
} from "./openapi";
export {
  cursorParam,
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
  idListString,
  idString,
  intString,
  MAX_INT,
  MAX_PAGE_SIZE,
  type Page,
  paginationQuery,
  toPage,
} from "./pagination";
export { createShutdown, type RunningServer, type ShutdownStep, startServer } from "./server";
export { runService, type ServiceConfig, type ServiceContext, type ServiceParts } from "./service";
export { fieldErrors, parseOr400, readJson, readOptionalJson, readQuery } from "./validation";
