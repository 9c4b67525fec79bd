import { eq, sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { auditEntry } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { verifyAuditChain } from "./audit.ts";
import { auditHash } from "./chain.ts";
import { recordAudits } from "./record.ts";
import { auditChainBackgroundSettled, checkAuditChainForView, checkAuditChainFully } from "./verify.ts";

describeEachBackend("audit chain verification", ({ handle }) => {
  const db = () => handle().db;
  let n = 0;

  async function append(count: number): Promise<void> {
    await db().transaction((tx) =>
      recordAudits(tx, systemPrincipal("test"), Array.from({ length: count }, () => ({ action: "webhook.test" as const, targetType: "webhook", targetId: `w-${n++}` }))),
    );
  }

  async function head(): Promise<{ seq: number; count: number }> {
    const [row] = await db().select({ seq: sql<number>`coalesce(max(${auditEntry.seq}), 0)::int`, count: sql<number>`count(*)::int` }).from(auditEntry);
    return row!;
  }

  async function setDetails(seq: number, details: Record<string, unknown>): Promise<void> {
    await db().update(auditEntry).set({ details }).where(eq(auditEntry.seq, seq));
  }

  async function detailsOf(seq: number): Promise<Record<string, unknown>> {
    const [row] = await db().select({ details: auditEntry.details }).from(auditEntry).where(eq(auditEntry.seq, seq));
    return row!.details;
  }

  it("a cold view of a bounded chain claims only the prefix it verified, and the background check completes it", async () => {
    await append(10);
    const { seq, count } = await head();
    const first = await checkAuditChainForView(db(), 4);
    expect(first).toMatchObject({ ok: true, entries: 4, checkedNow: 4, pending: true, fullCheckAt: null, fullRunning: true, brokenAt: null });
    expect(first.throughSeq).toBe(seq - count + 4);
    await auditChainBackgroundSettled(db());
    const second = await checkAuditChainForView(db(), 4);
    expect(second).toMatchObject({ ok: true, entries: count, fullEntries: count, throughSeq: seq, checkedNow: 0, pending: false, fullRunning: false });
    expect(second.fullCheckAt).toBeInstanceOf(Date);
  });

  it("a view verifies the new entries from the checkpoint, a bounded number at a time", async () => {
    const before = await head();
    await append(3);
    const view = await checkAuditChainForView(db(), 4);
    expect(view).toMatchObject({ ok: true, entries: before.count + 3, fullEntries: before.count, checkedNow: 3, pending: false });

    await append(7);
    const bounded = await checkAuditChainForView(db(), 4);
    expect(bounded).toMatchObject({ ok: true, entries: before.count + 7, checkedNow: 4, pending: true });
    expect(bounded.throughSeq).toBe(before.seq + 7);
    await auditChainBackgroundSettled(db());
    const now = await head();
    expect(await checkAuditChainForView(db(), 4)).toMatchObject({ ok: true, entries: now.count, throughSeq: now.seq, checkedNow: 0, pending: false });
  });

  it("tampering with an entry after the checkpoint is caught by the next view, and shown until a full check passes", async () => {
    await append(3);
    const { seq } = await head();
    const original = await detailsOf(seq - 1);
    await setDetails(seq - 1, { ...original, forged: true });
    const view = await checkAuditChainForView(db());
    expect(view.ok).toBe(false);
    expect(view.brokenAt).toMatchObject({ seq: seq - 1, reason: "hash_mismatch" });
    await auditChainBackgroundSettled(db());
    expect((await checkAuditChainForView(db())).brokenAt).toMatchObject({ seq: seq - 1 });

    await setDetails(seq - 1, original);
    expect((await checkAuditChainForView(db())).ok).toBe(false);
    expect(await checkAuditChainFully(db())).toMatchObject({ ok: true, brokenAt: null, headSeq: seq });
    expect(await checkAuditChainForView(db())).toMatchObject({ ok: true, throughSeq: seq, checkedNow: 0 });
  });

  it("rewriting the checkpoint entry, hashes and all, is caught at once and stands through a full check", async () => {
    await append(2);
    const { seq } = await head();
    expect(await checkAuditChainForView(db())).toMatchObject({ ok: true, throughSeq: seq });
    const [entry] = await db().select().from(auditEntry).where(eq(auditEntry.seq, seq));
    const forged = { ...entry!, details: { ...entry!.details, forged: true } };
    await db().update(auditEntry).set({ details: forged.details, hash: auditHash(forged.prevHash, forged) }).where(eq(auditEntry.seq, seq));

    const view = await checkAuditChainForView(db());
    expect(view).toMatchObject({ ok: false, brokenAt: { seq, reason: "checkpoint_changed" } });
    await auditChainBackgroundSettled(db());
    // The rebuilt head verifies on its own; what was verified before says otherwise.
    expect((await checkAuditChainFully(db())).ok).toBe(true);
    expect(await checkAuditChainForView(db())).toMatchObject({ ok: false, brokenAt: { seq, reason: "checkpoint_changed" } });

    await db().update(auditEntry).set({ details: entry!.details, hash: entry!.hash }).where(eq(auditEntry.seq, seq));
    expect((await checkAuditChainFully(db())).ok).toBe(true);
    expect(await checkAuditChainForView(db())).toMatchObject({ ok: true, brokenAt: null });
  });

  it("tampering before the checkpoint is not claimed by a view and is caught by the full check", async () => {
    const { seq } = await head();
    const target = seq - 5;
    const original = await detailsOf(target);
    await setDetails(target, { ...original, forged: true });
    // The view re-reads only the checkpoint entry and what follows it.
    expect((await checkAuditChainForView(db())).ok).toBe(true);
    expect(await verifyAuditChain(systemPrincipal("test"))).toMatchObject({ ok: false, brokenAt: { seq: target, reason: "hash_mismatch" } });
    expect(await checkAuditChainForView(db())).toMatchObject({ ok: false, brokenAt: { seq: target, reason: "hash_mismatch" } });

    await setDetails(target, original);
    const full = await verifyAuditChain(systemPrincipal("test"));
    expect(full).toEqual({ ok: true, entries: (await head()).count, brokenAt: null, headHash: expect.any(String) });
    expect(await checkAuditChainForView(db())).toMatchObject({ ok: true, throughSeq: seq, checkedNow: 0 });
  });
});
