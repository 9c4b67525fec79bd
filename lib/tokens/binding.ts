import { z } from "zod";
import { brokerId } from "@/lib/brokers/brokers.ts";
import { matchesGlob } from "@/lib/text/glob.ts";

/** Longest broker binding of an agent token. */
export const MAX_BROKER_BINDING_LENGTH = 100;

/**
 * The broker ids an agent token may report for: one broker id, or a pattern where `*`
 * stands for any run of characters (`plant-*`, `*-eu`, `*` for every broker). Apart from
 * the stars it follows the broker id rule, so a pattern can only ever match valid ids.
 */
export const brokerBindingSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, { message: "Enter the broker id (or a pattern such as plant-*) this agent reports for." })
  .max(MAX_BROKER_BINDING_LENGTH)
  .transform((v) => v.replace(/\*+/g, "*"))
  .refine((v) => v === "*" || brokerId.safeParse(v.replaceAll("*", "x0")).success, {
    message: "Use a broker id, with * for any characters (lowercase letters, digits, and - _ . between them).",
  });

/**
 * True when the broker id matches the binding. Only `*` is special (any run of
 * characters); matched by a two-pointer walk, never a regular expression built from the
 * pattern, in at most length(binding) × length(id) steps.
 */
export function matchesBrokerBinding(binding: string, id: string): boolean {
  return matchesGlob(binding, id);
}
