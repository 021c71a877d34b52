import { AsyncLocalStorage } from "node:async_hooks";
import { OPERATOR_ADDRESS_HEADER, SOURCE_HEADER } from "@apimon/http";

/**
 * Who the console calls the APIs for. The API clients are built once for the process; each
 * request runs in a scope holding its browser's address and, once its session is read, the token
 * of whoever signed in, which the clients' `headers` and `adminToken` read at each call. So the
 * APIs judge each change by the signed-in operator's token (a viewer's is refused), and the audit
 * log names that operator and the browser rather than the console.
 */
export interface OperatorScope {
  /** Runs `work` (a request) with calls to the APIs made for the browser at `address`. */
  run<T>(address: string | undefined, work: () => T): T;
  /** Runs `work` within the current request with calls to the APIs carrying `token`. */
  withToken<T>(token: string, work: () => T): T;
  /**
   * The token of a call made now: the one `withToken` gave, or undefined outside any request.
   * Throws inside a request that has none: a browser that has not signed in is never lent the
   * console's own token.
   */
  token(): string | undefined;
  /** The headers of a call to the APIs: the console as source, and the browser's address when known. */
  headers(): Record<string, string>;
}

interface Caller {
  address: string | undefined;
  token?: string;
}

export function createOperatorScope(): OperatorScope {
  const caller = new AsyncLocalStorage<Caller>();
  return {
    run: (address, work) => caller.run({ address }, work),
    withToken: (token, work) => caller.run({ address: caller.getStore()?.address, token }, work),
    token() {
      const store = caller.getStore();
      if (store === undefined) return undefined;
      if (store.token === undefined) throw new Error("an API call in a request nobody signed in to");
      return store.token;
    },
    headers: () => {
      const headers: Record<string, string> = { [SOURCE_HEADER]: "console" };
      const address = caller.getStore()?.address;
      if (address !== undefined) headers[OPERATOR_ADDRESS_HEADER] = address;
      return headers;
    },
  };
}
