export { type AppEnv, type AppVariables, createHttpApp, type HttpAppOptions } from "./app";
export { badRequest, conflict, type FieldError, HttpError, notFound, unauthorized } from "./errors";
export { createShutdown, type RunningServer, type ShutdownStep, startServer } from "./server";
export { fieldErrors, parseOr400, readJson, readQuery } from "./validation";
