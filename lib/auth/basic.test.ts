import { describe, expect, it } from "vitest";
import { MAX_BASIC_CREDENTIALS_LENGTH, parseBasicCredentials } from "./basic.ts";

const encode = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("parseBasicCredentials", () => {
  it("reads the user name and password, the password keeping any later colon", () => {
    expect(parseBasicCredentials(`Basic ${encode("meshport:mpt_secret")}`)).toEqual({ username: "meshport", password: "mpt_secret" });
    expect(parseBasicCredentials(`basic   ${encode("u:a:b:c")}  `)).toEqual({ username: "u", password: "a:b:c" });
    expect(parseBasicCredentials(`Basic ${encode(":only-password")}`)).toEqual({ username: "", password: "only-password" });
    expect(parseBasicCredentials(`Basic ${encode("zoë:pässword")}`)).toEqual({ username: "zoë", password: "pässword" });
  });

  it("refuses other schemes, missing colons, bad base64 and invalid UTF-8", () => {
    expect(parseBasicCredentials(`Bearer ${encode("a:b")}`)).toBeNull();
    expect(parseBasicCredentials("Basic")).toBeNull();
    expect(parseBasicCredentials(`Basic ${encode("no-colon")}`)).toBeNull();
    expect(parseBasicCredentials("Basic not*base64")).toBeNull();
    expect(parseBasicCredentials("Basic abcde")).toBeNull();
    expect(parseBasicCredentials(`Basic ${encode("a:b")} extra`)).toBeNull();
    expect(parseBasicCredentials(`Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString("base64")}`)).toBeNull();
  });

  it("does not decode oversized values", () => {
    expect(parseBasicCredentials(`Basic ${encode(`a:${"x".repeat(MAX_BASIC_CREDENTIALS_LENGTH)}`)}`)).toBeNull();
  });
});
