export type { AlertsApi } from "./alerts-api";
export { runKeys } from "./commands/keys";
export { apimonMain, type Io, USAGE } from "./main";
