import { Command, CommanderError } from "commander";
import { registerContractCommands, type ContractCommandOptions } from "./commands/contracts.ts";
import { registerPortalCommands } from "./commands/portal.ts";

/** Exit codes shared by every command: 0 success, 1 a negative verdict, 2 unusable input or usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Options of the CLI: what the build provides (scripts/build-cli.mjs), none when run from the sources. */
export type CliOptions = ContractCommandOptions;

/** Builds the `meshport` command tree; each command sets `process.exitCode` itself. */
export function buildProgram(options: CliOptions = {}): Command {
  const program = new Command("meshport")
    .description("Meshport: event catalog, contract governance and schema registry")
    .showHelpAfterError()
    .exitOverride();
  registerContractCommands(program, options);
  registerPortalCommands(program);
  return program;
}

// The database commands load the portal's services, which take seconds to import:
// only `db`, `admin` and `token` pay for that.
const DATABASE_COMMANDS = new Set(["db", "admin", "token"]);

async function registerDatabaseCommands(program: Command): Promise<void> {
  const [{ registerDbCommands }, { registerAdminCommands }] = await Promise.all([
    import("./commands/db.ts"),
    import("./commands/admin.ts"),
  ]);
  registerDbCommands(program);
  registerAdminCommands(program);
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[], options: CliOptions = {}): Promise<number> {
  const program = buildProgram(options);
  const command = argv.slice(2).find((arg) => !arg.startsWith("-"));
  if (command === undefined || command === "help" || DATABASE_COMMANDS.has(command)) await registerDatabaseCommands(program);
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
