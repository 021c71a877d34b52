import { AsyncLocalStorage } from "node:async_hooks";
import { OPERATOR_ADDRESS_HEADER, SOURCE_HEADER } from "@apimon/http";

/**
 * Who the console calls the APIs for, so that the audit log names the console and the operator's
 * browser rather than the console's own address. The API clients are built once for the process;
 * each page request runs in a scope holding its browser's address, which the clients' `headers`
 * read at each call.
 */
export interface OperatorScope {
  /** Runs `work` (a page request) with calls to the APIs made for the browser at `address`. */
  run<T>(address: string | undefined, work: () => T): T;
  /** The headers of a call to the APIs: the console as source, and the browser's address when known. */
  headers(): Record<string, string>;
}

export function createOperatorScope(): OperatorScope {
  const browser = new AsyncLocalStorage<string | undefined>();
  return {
    run: (address, work) => browser.run(address, work),
    headers: () => {
      const headers: Record<string, string> = { [SOURCE_HEADER]: "console" };
      const address = browser.getStore();
      if (address !== undefined) headers[OPERATOR_ADDRESS_HEADER] = address;
      return headers;
    },
  };
}
