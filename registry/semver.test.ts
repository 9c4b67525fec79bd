import { describe, expect, it } from "vitest";
import { bumpBetween, bumpSatisfies, compareSemver, parseSemver } from "./semver.ts";

const v = (s: string) => parseSemver(s)!;

describe("semver", () => {
  it("parses versions and refuses others", () => {
    expect(parseSemver("1.2.3")).toEqual({ major: 1, minor: 2, patch: 3, prerelease: "" });
    expect(parseSemver("1.2.3-rc.1+build.5")).toEqual({ major: 1, minor: 2, patch: 3, prerelease: "rc.1" });
    for (const bad of ["1.2", "v1.2.3", "01.2.3", "1.2.3-", "latest", ""]) expect(parseSemver(bad)).toBeNull();
  });
  it("orders by precedence, pre-releases below releases", () => {
    const sorted = ["1.0.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "0.9.9", "1.0.0-rc.1", "2.0.0"]
      .map(v)
      .sort(compareSemver)
      .map((p) => `${p.major}.${p.minor}.${p.patch}${p.prerelease ? `-${p.prerelease}` : ""}`);
    expect(sorted).toEqual(["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0"]);
  });
  it("names the bump between versions", () => {
    expect(bumpBetween(v("1.2.3"), v("2.0.0"))).toBe("major");
    expect(bumpBetween(v("1.2.3"), v("1.3.0"))).toBe("minor");
    expect(bumpBetween(v("1.2.3"), v("1.2.4"))).toBe("patch");
    expect(bumpBetween(v("1.2.3"), v("1.2.3"))).toBe("none");
    expect(bumpSatisfies("minor", "patch")).toBe(true);
    expect(bumpSatisfies("minor", "major")).toBe(false);
  });
});
