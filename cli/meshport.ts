import { Command, CommanderError } from "commander";
import { registerAdminCommands } from "./commands/admin.ts";
import { registerContractCommands } from "./commands/contracts.ts";
import { registerDbCommands } from "./commands/db.ts";

/** Exit codes shared by every command: 0 success, 1 a negative verdict, 2 unusable input or usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Builds the `meshport` command tree; each command sets `process.exitCode` itself. */
export function buildProgram(): Command {
  const program = new Command("meshport")
    .description("Meshport: event catalog, contract governance and schema registry")
    .showHelpAfterError()
    .exitOverride();
  registerContractCommands(program);
  registerDbCommands(program);
  registerAdminCommands(program);
  return program;
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  process.exitCode = EXIT.ok;
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`meshport: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.usage;
  }
  return Number(process.exitCode ?? EXIT.ok);
}
