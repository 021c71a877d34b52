import { Client } from "pg";

// Creating and dropping whole databases: for tests (one database per run) and dev tooling.
// Database names are quoted identifiers built by the callers, never user input.

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The same server url pointing at another database (credentials and parameters kept). */
export function withDatabaseName(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function onServer<T>(serverUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates an empty database on the server of `serverUrl` and returns its url. */
export async function createDatabase(serverUrl: string, database: string): Promise<string> {
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(database)}`));
  return withDatabaseName(serverUrl, database);
}

/** Terminates the database's connections and drops it; no error if it does not exist. */
export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  await onServer(serverUrl, async (client) => {
    // DROP DATABASE refuses while anyone is connected (a pool that was not closed, say).
    await client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [database],
    );
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`);
  });
}
