import { readFileSync } from "node:fs";
import type { AlertsApi } from "../alerts-api";
import { parse, required, UsageError } from "../args";
import { type Result, recordResult } from "../output";

export const SETTINGS_USAGE = `apimon settings <command>
  get
  set --file <settings.json | ->   replaces the alert settings (fields left out take their defaults)`;

/** The settings document of `--file` (`-` reads stdin), parsed as JSON. */
function readDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${(error as Error).message}`);
  }
}

export async function runSettings(api: AlertsApi, argv: string[]): Promise<Result> {
  const { positionals, values } = parse(argv, { file: { type: "string" } });
  const [command] = positionals;
  switch (command) {
    case "get":
      return recordResult((await api.getSettings()) as object);
    case "set": {
      // The service validates the document and names each bad field; the CLI only reads it.
      const doc = readDocument(required(values.file, "--file")) as Parameters<AlertsApi["putSettings"]>[0];
      return recordResult((await api.putSettings(doc)) as object);
    }
    default:
      throw new UsageError(
        command ? `unknown settings command '${command}'` : "a settings command is required",
      );
  }
}
