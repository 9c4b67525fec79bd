import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { closeDb } from "@/db/client.ts";
import { createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, TOKEN_SCOPES } from "@/lib/auth/principal.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { createToken, listTokens, revokeToken } from "@/lib/tokens/tokens.ts";

// Whoever can run this CLI can already read the database; it acts as the operator.
const operator = systemPrincipal("cli");

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

/** Runs a command body against the database, reporting expected failures as exit code 1. */
async function withDatabase(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (!isMeshportError(error)) throw error;
    process.stderr.write(`meshport: ${error.message}\n`);
    const details = error.details as { fieldErrors?: Record<string, string[]> } | undefined;
    for (const [field, messages] of Object.entries(details?.fieldErrors ?? {})) {
      process.stderr.write(`  ${field}: ${messages.join(" ")}\n`);
    }
    process.exitCode = 1;
  } finally {
    await closeDb();
  }
}

/** Registers `admin create` and `token create|list|revoke`. */
export function registerAdminCommands(program: Command): void {
  const admin = program.command("admin").description("accounts (run with the portal stopped when on PGlite)");
  admin
    .command("create")
    .description("create an account, by default an admin; prints a generated password unless --password-stdin")
    .requiredOption("--email <email>", "sign-in email")
    .requiredOption("--name <name>", "display name")
    .option("--role <role>", "admin, reviewer, editor or viewer", "admin")
    .option("--password-stdin", "read the password from standard input")
    .action(async (options: { email: string; name: string; role: string; passwordStdin?: boolean }) => {
      const password = options.passwordStdin ? await readStdin() : randomBytes(15).toString("base64url");
      await withDatabase(async () => {
        const created = await createUser(operator, { ...options, password, role: options.role as never });
        process.stdout.write(`created ${created.role} ${created.email}\n`);
        if (!options.passwordStdin) process.stdout.write(`password: ${password}\n`);
      });
    });

  const token = program.command("token").description("API tokens for CI and agents");
  token
    .command("create")
    .description("create an API token and print its secret (shown once)")
    .requiredOption("--name <name>", "what the token is for")
    .option("--scope <scope...>", `one or more of ${TOKEN_SCOPES.join(", ")}`, ["read"])
    .option("--team <slug>", "the team the token acts for")
    .option("--brokers <id-or-pattern>", "for agent:report: the broker id it reports for, or a pattern such as plant-*")
    .option("--expires-in-days <days>", "expire after this many days")
    .option("--quiet", "print only the secret")
    .action(async (options: { name: string; scope: string[]; team?: string; brokers?: string; expiresInDays?: string; quiet?: boolean }) => {
      await withDatabase(async () => {
        const { token: created, secret } = await createToken(operator, {
          name: options.name,
          scopes: options.scope as never,
          teamSlug: options.team,
          brokers: options.brokers,
          expiresInDays: options.expiresInDays,
        });
        const bound = created.brokerBinding ? ` for brokers ${created.brokerBinding}` : "";
        process.stdout.write(options.quiet ? `${secret}\n` : `created token ${created.id} (${created.scopes.join(", ")})${bound}\n${secret}\n`);
      });
    });
  token
    .command("list")
    .description("list tokens (never their secrets)")
    .action(async () => {
      await withDatabase(async () => {
        for (const t of await listTokens(operator)) {
          process.stdout.write(`${t.id}\t${t.name}\t${t.prefix}…\t${t.scopes.join(",")}\t${t.brokerBinding ?? "-"}\t${t.status}\n`);
        }
      });
    });
  token
    .command("revoke <id>")
    .description("revoke a token")
    .action(async (id: string) => {
      await withDatabase(async () => {
        await revokeToken(operator, id);
        process.stdout.write(`revoked ${id}\n`);
      });
    });
}
