export { type AppEnv, type AppVariables, createHttpApp, type HttpAppOptions } from "./app";
export { bearerToken, requireAdminToken, tokenMatches } from "./auth";
export { badRequest, conflict, type FieldError, HttpError, notFound, unauthorized } from "./errors";
export {
  cursorParam,
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
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
export { fieldErrors, parseOr400, readJson, readQuery } from "./validation";
