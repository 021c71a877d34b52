// The admin-token check is shared with the alerts service (constant-time comparison).
export { bearerToken, requireAdminToken, tokenMatches } from "@apimon/http";
