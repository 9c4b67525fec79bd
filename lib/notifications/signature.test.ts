import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signatureHeader, verifySignature } from "./signature.ts";

const SECRET = "whsec_test-secret-value";
const BODY = '{"id":"e1","type":"webhook.test"}';

describe("webhook signatures", () => {
  it("signs <timestamp>.<body> with HMAC-SHA256 as sha256=<hex>", () => {
    const expected = createHmac("sha256", SECRET).update(`1700000000.${BODY}`).digest("hex");
    expect(signatureHeader(SECRET, 1_700_000_000, BODY)).toBe(`sha256=${expected}`);
  });

  it("verifies a fresh signature and refuses any change to secret, body, timestamp or header", () => {
    const header = signatureHeader(SECRET, 1_700_000_000, BODY);
    const options = { toleranceSeconds: 300, nowSeconds: 1_700_000_100 };
    expect(verifySignature(SECRET, "1700000000", BODY, header, options)).toBe(true);
    expect(verifySignature(SECRET, 1_700_000_000, BODY, header, options)).toBe(true);
    expect(verifySignature("another-secret", "1700000000", BODY, header, options)).toBe(false);
    expect(verifySignature(SECRET, "1700000000", `${BODY} `, header, options)).toBe(false);
    expect(verifySignature(SECRET, "1700000001", BODY, header, options)).toBe(false);
    expect(verifySignature(SECRET, "1700000000", BODY, header.replace("sha256=", "sha1="), options)).toBe(false);
    expect(verifySignature(SECRET, "1700000000", BODY, `${header.slice(0, -1)}${header.endsWith("0") ? "1" : "0"}`, options)).toBe(false);
    expect(verifySignature(SECRET, "1700000000", BODY, "sha256=abc", options)).toBe(false);
    expect(verifySignature(SECRET, "1700000000", BODY, null, options)).toBe(false);
    expect(verifySignature(SECRET, "17e8", BODY, header, options)).toBe(false);
  });

  it("refuses a timestamp outside the tolerance (replays), either way", () => {
    const header = signatureHeader(SECRET, 1_700_000_000, BODY);
    expect(verifySignature(SECRET, "1700000000", BODY, header, { toleranceSeconds: 300, nowSeconds: 1_700_000_301 })).toBe(false);
    expect(verifySignature(SECRET, "1700000000", BODY, header, { toleranceSeconds: 300, nowSeconds: 1_699_999_699 })).toBe(false);
    expect(verifySignature(SECRET, "1700000000", BODY, header, { toleranceSeconds: 300, nowSeconds: 1_700_000_300 })).toBe(true);
  });
});
