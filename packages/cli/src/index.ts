export type { AlertsApi } from "./alerts-api";
export { apimonMain, type Io, USAGE } from "./main";
