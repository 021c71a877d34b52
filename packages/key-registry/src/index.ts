export { API_KEY_PREFIX, displayPrefix, generateApiKey, hashApiKey } from "./keys";
