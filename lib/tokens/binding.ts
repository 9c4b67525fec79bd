import { z } from "zod";
import { brokerId } from "@/lib/brokers/brokers.ts";

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
  let p = 0;
  let s = 0;
  let star = -1;
  let resume = 0;
  while (s < id.length) {
    if (p < binding.length && binding[p] === "*") {
      star = p++;
      resume = s;
    } else if (p < binding.length && binding[p] === id[s]) {
      p++;
      s++;
    } else if (star >= 0) {
      p = star + 1;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (p < binding.length && binding[p] === "*") p++;
  return p === binding.length;
}
