// pnpm infra up | down | status
import { infraDown, infraStatus, infraUp } from "./lib/infra";

async function main(command = "up"): Promise<number> {
  switch (command) {
    case "up":
      await infraUp();
      return 0;
    case "down":
      infraDown();
      return 0;
    case "status":
      return (await infraStatus()) ? 0 : 3;
    default:
      process.stderr.write("usage: pnpm infra up | down | status\n");
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`infra: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
