import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import ProtoSchema from "@kafkajs/confluent-schema-registry/dist/ProtoSchema";
import { canonicalJson } from "../hash.ts";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor";
import {
  parseProtobufSchema,
  protobufDifferences,
  protobufFromSerialized,
  protobufIncompatibilities,
  serializedProtobuf,
  MAX_PROTOBUF_BLOCK_DEFINITIONS,
  MAX_PROTOBUF_DEFINITIONS,
  MAX_PROTOBUF_DESCRIPTOR_BYTES,
} from "./protobuf.ts";
import { SCHEMA_TYPE_FORMATS, type ParsedSchema, type ResolvedReference } from "./types.ts";

function parse(text: string, references: readonly ResolvedReference[] = []): ParsedSchema {
  const outcome = parseProtobufSchema(text, references);
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.schema;
}

function failure(text: string, references: readonly ResolvedReference[] = []): string {
  const outcome = parseProtobufSchema(text, references);
  expect(outcome.ok).toBe(false);
  return outcome.ok ? "" : outcome.message;
}

/** All differences as Confluent's test data writes them: `TYPE #/path`. */
function changes(original: string, update: string, originalRefs: ResolvedReference[] = [], updateRefs: ResolvedReference[] = []): string[] {
  return protobufDifferences(parse(original, originalRefs), parse(update, updateRefs)).map((d) => `${d.type} ${d.fullPath}`);
}

/** BACKWARD: the new schema reads data written with the old. */
function backward(previous: string, next: string): string[] {
  return protobufIncompatibilities(parse(previous), parse(next));
}

function ref(name: string, schema: string, version = 1, references: ResolvedReference[] = []): ResolvedReference {
  return { name, subject: name, version, schemaType: "PROTOBUF", schema, references };
}

const P3 = 'syntax = "proto3";\n';

describe("parseProtobufSchema", () => {
  it("parses proto3 with its type names resolved and renders a normalised text", () => {
    const schema = parse(`${P3}package shop;
      // orders placed
      message Order {
        string id = 1;
        Line lines = 3;
        /* status of the order */
        Status status = 2;
        map<string, Line> by_sku = 4;
        oneof payment { string card = 5; string iban = 6; }
        optional int64 placed_at = 7;
        message Line { string sku = 1; int32 qty = 2; }
      }
      enum Status { UNKNOWN = 0; PLACED = 1; }`);
    expect(schema.schemaType).toBe("PROTOBUF");
    expect(schema.format).toBe(SCHEMA_TYPE_FORMATS.PROTOBUF);
    expect(schema.references).toEqual([]);
    expect(schema.canonical).toBe(
      [
        'syntax = "proto3";',
        "package shop;",
        "",
        "message Order {",
        "  string id = 1;",
        "  .shop.Status status = 2;",
        "  .shop.Order.Line lines = 3;",
        "  map<string, .shop.Order.Line> by_sku = 4;",
        "  optional int64 placed_at = 7;",
        "  oneof payment {",
        "    string card = 5;",
        "    string iban = 6;",
        "  }",
        "  message Line {",
        "    string sku = 1;",
        "    int32 qty = 2;",
        "  }",
        "}",
        "enum Status {",
        "  UNKNOWN = 0;",
        "  PLACED = 1;",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("hashes the format and the normalised text, and the references when there are some", () => {
    const schema = parse(`${P3}message A { string a = 1; }`);
    const expected = "sha256:" + createHash("sha256").update(SCHEMA_TYPE_FORMATS.PROTOBUF + "\u0000" + schema.canonical).digest("hex");
    expect(schema.hash).toBe(expected);

    const dep = ref("common.proto", `${P3}package common; message Money { int64 cents = 1; }`, 3);
    const withRef = parse(`${P3}import "common.proto"; message A { common.Money a = 1; }`, [dep]);
    expect(withRef.references).toEqual([{ name: "common.proto", subject: "common.proto", version: 3 }]);
    const refs = canonicalJson([{ name: "common.proto", subject: "common.proto", version: 3 }]);
    expect(withRef.hash).toBe(
      "sha256:" + createHash("sha256").update(SCHEMA_TYPE_FORMATS.PROTOBUF + "\u0000" + withRef.canonical + "\u0000" + refs).digest("hex"),
    );
    // The same text pointing at another version of the reference is another schema.
    const otherVersion = parse(`${P3}import "common.proto"; message A { common.Money a = 1; }`, [{ ...dep, version: 4 }]);
    expect(otherVersion.canonical).toBe(withRef.canonical);
    expect(otherVersion.hash).not.toBe(withRef.hash);
  });

  it("gives texts that differ only in whitespace, comments, option/import/enum order and name qualification one identity", () => {
    const a = parse(`syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
option java_package = "com.shop";
option java_multiple_files = true;
message Order { string id = 1; google.protobuf.Timestamp at = 2; Kind kind = 3; }
enum Kind { A = 0; B = 1; }
enum Area { X = 0; }`);
    const b = parse(`// the order schema
syntax="proto3";  package shop;
import "google/protobuf/wrappers.proto"; import "google/protobuf/timestamp.proto";
option java_multiple_files = true; option java_package = "com.shop";
enum Area { X = 0; }
/* fields out of order */
message Order {
  Kind kind = 3;
  .google.protobuf.Timestamp at = 2;
  string id = 1;   // trailing
}
enum Kind { A = 0; B = 1; }`);
    expect(b.canonical).toBe(a.canonical);
    expect(b.hash).toBe(a.hash);
    // Reparsing the normalised text is stable.
    expect(parse(a.canonical).canonical).toBe(a.canonical);
  });

  it("keeps the declaration order of messages: serializers address a message by its index", () => {
    const a = parse(`${P3}message A { string a = 1; } message B { string b = 1; }`);
    const b = parse(`${P3}message B { string b = 1; } message A { string a = 1; }`);
    expect(a.canonical.indexOf("message A")).toBeLessThan(a.canonical.indexOf("message B"));
    expect(b.canonical.indexOf("message B")).toBeLessThan(b.canonical.indexOf("message A"));
    expect(b.hash).not.toBe(a.hash);
    // Reordering is compatible, as in Confluent's checker.
    expect(changes(a.canonical, b.canonical)).toEqual(["MESSAGE_MOVED #/A", "MESSAGE_MOVED #/B"]);
  });

  it("serves a text a Confluent client decodes its messages with: the first message stays first", () => {
    const text = `${P3}
      // the value message comes first: clients without a message name take the first one
      message Order { string id = 1; Address ship_to = 2; repeated int32 qty = 3; }
      message Address { string city = 1; }`;
    const schema = parse(text);
    const payload = { id: "o-1", shipTo: { city: "Lyon" }, qty: [1, 2] };
    const written = new ProtoSchema({ type: "PROTOBUF", schema: text } as never).toBuffer(payload);
    const read = new ProtoSchema({ type: "PROTOBUF", schema: schema.canonical } as never).fromBuffer(written);
    expect(JSON.parse(JSON.stringify(read))).toEqual(payload);
  });

  it("gives a real change another identity", () => {
    const base = parse(`${P3}message A { string a = 1; }`);
    for (const other of [
      `${P3}message A { string a = 2; }`,
      `${P3}message A { bytes a = 1; }`,
      `${P3}message A { string b = 1; }`,
      `${P3}message A { repeated string a = 1; }`,
      `${P3}message A { optional string a = 1; }`,
      `${P3}package p; message A { string a = 1; }`,
      `syntax = "proto2"; message A { optional string a = 1; }`,
      `${P3}message A { string a = 1 [deprecated = true]; }`,
      `${P3}option java_package = "x"; message A { string a = 1; }`,
    ]) {
      expect(parse(other).hash, other).not.toBe(base.hash);
    }
  });

  it("treats a missing syntax statement as proto2", () => {
    expect(parse("message A { optional string a = 1; }").canonical).toBe(parse('syntax = "proto2"; message A { optional string a = 1; }').canonical);
  });

  it("parses proto2 with required fields, defaults and extensions", () => {
    const schema = parse(`syntax = "proto2";
      package legacy;
      message Reading {
        required string sensor = 1;
        optional double value = 2 [default = 1.5];
        optional Unit unit = 3 [default = CELSIUS];
        repeated int32 samples = 4 [packed = true];
        extensions 100 to 199;
      }
      enum Unit { CELSIUS = 1; KELVIN = 2; }
      extend Reading { optional string note = 100; }`);
    expect(schema.canonical).toContain("  required string sensor = 1;");
    expect(schema.canonical).toContain("  optional double value = 2 [default = 1.5];");
    expect(schema.canonical).toContain("  optional .legacy.Unit unit = 3 [default = CELSIUS];");
    expect(schema.canonical).toContain("  repeated int32 samples = 4 [packed = true];");
    expect(schema.canonical).toContain("  extensions 100 to 199;");
    expect(schema.canonical).toContain("extend .legacy.Reading {\n  optional string note = 100;\n}");
    // The extension is not rendered as a field of the message it extends.
    expect(schema.canonical.match(/note/g)).toHaveLength(1);
    expect(parse(schema.canonical).hash).toBe(schema.hash);
  });

  it("keeps every byte of a bytes default", () => {
    const schema = parse('syntax = "proto2"; message A { optional bytes b = 1 [default = "\\x00\\xffa\\""]; }');
    expect(schema.canonical).toContain('optional bytes b = 1 [default = "\\000\\377a\\""];');
    expect(parse(schema.canonical).canonical).toBe(schema.canonical);
  });

  it("renders services and escapes strings", () => {
    const schema = parse(`${P3}package svc;
      option go_package = "a\\"b\\\\c";
      message Req { string q = 1; }
      service Search { rpc Find (Req) returns (stream Req); rpc All (stream Req) returns (Req) { option deprecated = true; } }`);
    expect(schema.canonical).toContain('option go_package = "a\\"b\\\\c";');
    expect(schema.canonical).toContain(
      "service Search {\n  rpc All (stream .svc.Req) returns (.svc.Req) {\n    option deprecated = true;\n  }\n  rpc Find (.svc.Req) returns (stream .svc.Req);\n}",
    );
    expect(parse(schema.canonical).hash).toBe(schema.hash);
  });

  it("resolves imports from references only, transitively", () => {
    const money = ref("money.proto", `${P3}package common; message Money { int64 cents = 1; string currency = 2; }`);
    const price = ref("price.proto", `${P3}package common; import "money.proto"; message Price { Money amount = 1; }`, 2, [money]);
    const schema = parse(`${P3}package shop; import "price.proto"; message Item { common.Price price = 1; }`, [price]);
    expect(schema.canonical).toContain('import "price.proto";');
    expect(schema.canonical).toContain(".common.Price price = 1;");
    // Only the schema's own definitions are rendered.
    expect(schema.canonical).not.toContain("message Price");
    expect(schema.references).toEqual([{ name: "price.proto", subject: "price.proto", version: 2 }]);
  });

  it("uses the bundled well-known types for google/protobuf imports", () => {
    const schema = parse(`${P3}import "google/protobuf/timestamp.proto"; import "google/protobuf/wrappers.proto";
      message A { google.protobuf.Timestamp at = 1; google.protobuf.StringValue note = 2; }`);
    expect(schema.canonical).toContain(".google.protobuf.Timestamp at = 1;");
    expect(schema.canonical).toContain(".google.protobuf.StringValue note = 2;");
  });

  it("refuses an import with no reference of that name, naming it", () => {
    expect(failure(`${P3}import "missing.proto"; message A { string a = 1; }`)).toContain('import "missing.proto"');
    // A reference of another name does not stand in for it.
    const other = ref("other.proto", `${P3}message B { string b = 1; }`);
    expect(failure(`${P3}import "missing.proto"; message A { string a = 1; }`, [other])).toContain('"missing.proto"');
    // Nor is an unknown google/protobuf file fetched from anywhere.
    expect(failure(`${P3}import "google/protobuf/descriptor.proto"; message A { string a = 1; }`)).toContain("google/protobuf/descriptor.proto");
    // A missing import of an imported file.
    const broken = ref("b.proto", `${P3}import "c.proto"; message B { string b = 1; }`);
    expect(failure(`${P3}import "b.proto"; message A { B b = 1; }`, [broken])).toContain('"c.proto"');
  });

  it("refuses a reference that is not Protobuf or is itself invalid", () => {
    expect(failure(`${P3}import "a.proto"; message A { string a = 1; }`, [{ ...ref("a.proto", "{}"), schemaType: "JSON" }])).toContain("JSON");
    expect(failure(`${P3}import "a.proto"; message A { string a = 1; }`, [ref("a.proto", "message {")])).toContain('import "a.proto"');
  });

  it("refuses invalid text with a message and never throws", () => {
    for (const bad of [
      "",
      "  \n",
      "not a proto",
      `${P3}message A { string a = 1 `,
      `${P3}message A { string a = 1; string b = 1; }`,
      `${P3}message A { Unknown a = 1; }`,
      `${P3}message A { string a = 0; }`,
      `${P3}message A { string a = 19500; }`,
      `${P3}message A { required string a = 1; }`,
      `${P3}enum E { A = 1; }`,
      `syntax = "proto4"; message A { string a = 1; }`,
      `edition = "2023"; message A { string a = 1; }`,
      `package p; ${P3}message A { string a = 1; }`,
      `${P3}message A { reserved 1; string a = 1; }`,
      `${P3}message A { string a = 1; } message A { string b = 1; }`,
      'syntax = "proto2"; message A { optional group G = 1 { optional int32 x = 1; } }',
    ]) {
      const outcome = parseProtobufSchema(bad, []);
      expect(outcome.ok, bad).toBe(false);
      if (!outcome.ok) expect(outcome.message).toMatch(/^Invalid Protobuf schema: ./);
    }
    // A file of comments only declares nothing, which is valid.
    expect(parseProtobufSchema("// nothing\n", []).ok).toBe(true);
  });

  it("bounds nesting, the fields of one message and the definitions of a schema before parsing", () => {
    expect(failure(`${P3}` + "message M { ".repeat(40) + "}".repeat(40))).toMatch(/depth/);
    expect(failure(`${P3}` + "message M { ".repeat(70) + "}".repeat(70))).toMatch(/64 levels/);
    const fields = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `string f${from + i} = ${from + i + 1};`).join(" ");
    expect(parse(`${P3}message M { ${fields(MAX_PROTOBUF_BLOCK_DEFINITIONS)} }`).canonical).toContain(`f${MAX_PROTOBUF_BLOCK_DEFINITIONS - 1} = `);
    expect(failure(`${P3}message M { ${fields(MAX_PROTOBUF_BLOCK_DEFINITIONS + 1)} }`)).toContain(String(MAX_PROTOBUF_BLOCK_DEFINITIONS));
    const messages = Array.from({ length: MAX_PROTOBUF_DEFINITIONS / MAX_PROTOBUF_BLOCK_DEFINITIONS + 1 }, (_, i) => `message M${i} { ${fields(MAX_PROTOBUF_BLOCK_DEFINITIONS)} }`);
    expect(failure(`${P3}${messages.join("\n")}`)).toContain(String(MAX_PROTOBUF_DEFINITIONS));
    // An "=" inside a string is not a definition.
    expect(parseProtobufSchema(`${P3}option go_package = "${"=".repeat(MAX_PROTOBUF_BLOCK_DEFINITIONS + 1)}"; message A { string a = 1; }`, []).ok).toBe(true);
  });
});

describe("protobufIncompatibilities (Confluent's checker)", () => {
  it("accepts an identical schema and the compatible changes", () => {
    const base = `${P3}message TestMessage { string test_string = 1; int32 test_int = 2; }`;
    expect(backward(base, base)).toEqual([]);
    expect(changes(base, `${P3}message TestMessage { string test_string = 1; int32 test_int = 2; string more = 3; }`)).toEqual(["FIELD_ADDED #/TestMessage/3"]);
    expect(backward(base, `${P3}message TestMessage { string test_string = 1; }`)).toEqual([]);
    expect(changes(base, `${P3}message TestMessage { string test_string = 1; }`)).toEqual(["FIELD_REMOVED #/TestMessage/2"]);
    expect(changes(base, `${P3}message TestMessage { string renamed = 1; int32 test_int = 2; }`)).toEqual(["FIELD_NAME_CHANGED #/TestMessage/1"]);
    expect(backward(base, `${P3}message TestMessage { string test_string = 1; int32 test_int = 2; } message Other { string s = 1; }`)).toEqual([]);
  });

  it("reports a renumbered field as a field removed and a field added", () => {
    expect(changes(`${P3}message TestMessage { string test_string = 1; }`, `${P3}message TestMessage { string test_string = 2; }`)).toEqual([
      "FIELD_REMOVED #/TestMessage/1",
      "FIELD_ADDED #/TestMessage/2",
    ]);
    // A name kept on another number is reported at that number: its old field there was of another type.
    expect(changes(`${P3}message T { string a = 1; int32 b = 2; }`, `${P3}message T { string a = 2; }`)).toEqual([
      "FIELD_REMOVED #/T/1",
      "FIELD_NAME_CHANGED #/T/2",
      "FIELD_SCALAR_KIND_CHANGED #/T/2",
    ]);
  });

  it("words messages as Confluent does, with a description", () => {
    const out = backward(`${P3}message Order { string id = 1; int32 qty = 2; }`, `${P3}message Order { string id = 1; Item qty = 2; } message Item { string s = 1; }`);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^Difference\{fullPath='#\/Order\/2', type=FIELD_KIND_CHANGED\}: field "qty" \(2\) of Order changed from int32 to Item/);
  });

  it("PACKAGE_CHANGED is incompatible", () => {
    const foo = `${P3}package foo; message TestMessage { string test_string = 1; TestMessage.Status s = 2; message Status { string t = 1; } }`;
    const bar = foo.replace("package foo", "package bar");
    expect(changes(foo, bar)).toEqual(["PACKAGE_CHANGED #/"]);
    expect(backward(foo, bar)).toEqual([expect.stringContaining("type=PACKAGE_CHANGED")]);
  });

  it("MESSAGE_REMOVED is incompatible, adding one is not", () => {
    const two = `${P3}message A { string a = 1; } message B { string b = 1; }`;
    const one = `${P3}message A { string a = 1; }`;
    expect(backward(two, one)).toEqual([expect.stringContaining("fullPath='#/B', type=MESSAGE_REMOVED")]);
    // Swapped (FORWARD: the old schema reads data written with the new): adding a message.
    expect(backward(one, two)).toEqual([]);
    expect(changes(one, two)).toEqual(["MESSAGE_ADDED #/B"]);
  });

  it("FIELD_KIND_CHANGED between scalar, message and map, in both directions", () => {
    const scalar = `${P3}message T { int32 f = 2; } message M { string s = 1; }`;
    const message = `${P3}message T { M f = 2; } message M { string s = 1; }`;
    const map = `${P3}message T { map<string, int32> f = 2; } message M { string s = 1; }`;
    for (const [a, b] of [
      [scalar, message],
      [message, map],
      [map, scalar],
    ] as const) {
      expect(changes(a, b)).toEqual(["FIELD_KIND_CHANGED #/T/2"]);
      expect(changes(b, a)).toEqual(["FIELD_KIND_CHANGED #/T/2"]);
      expect(backward(a, b)).toHaveLength(1);
    }
  });

  it("FIELD_SCALAR_KIND_CHANGED except within Confluent's wire-compatible groups", () => {
    const groups = [["int32", "uint32", "int64", "uint64", "bool"], ["sint32", "sint64"], ["fixed32", "sfixed32"], ["fixed64", "sfixed64"], ["string", "bytes"], ["float"], ["double"]];
    const schema = (t: string) => `${P3}message T { ${t} f = 1; }`;
    for (const group of groups) {
      for (const a of group) for (const b of group) expect(backward(schema(a), schema(b)), `${a} -> ${b}`).toEqual([]);
      for (const other of groups) {
        if (other === group) continue;
        expect(changes(schema(group[0]!), schema(other[0]!)), `${group[0]} -> ${other[0]}`).toEqual(["FIELD_SCALAR_KIND_CHANGED #/T/1"]);
      }
    }
    // An enum reads as a general number.
    const asEnum = `${P3}message T { E f = 1; } enum E { A = 0; }`;
    expect(backward(schema("int32"), asEnum)).toEqual([]);
    expect(backward(asEnum, schema("int64"))).toEqual([]);
    expect(changes(asEnum, schema("string"))).toEqual(["FIELD_SCALAR_KIND_CHANGED #/T/1", "ENUM_REMOVED #/E"]);
    // Inside a map's value.
    expect(changes(`${P3}message T { map<string, int32> m = 2; }`, `${P3}message T { map<string, string> m = 2; }`)).toEqual(["FIELD_SCALAR_KIND_CHANGED #/T/2"]);
  });

  it("FIELD_NAMED_TYPE_CHANGED when a field's message type is another, or changed incompatibly", () => {
    expect(
      changes(
        `${P3}message T { string s = 1; M2 f = 2; } message M2 { string s1 = 1; }`,
        `${P3}message T { string s = 1; M3 f = 2; } message M3 { string s1 = 1; }`,
      ),
    ).toEqual(["MESSAGE_REMOVED #/M2", "MESSAGE_ADDED #/M3", "FIELD_NAMED_TYPE_CHANGED #/T/2"]);
    // Name qualification alone changes nothing.
    expect(changes(`${P3}package foo; message T { Status f = 2; message Status { string s = 1; } }`, `${P3}package foo; message T { .foo.T.Status f = 2; message Status { string s = 1; } }`)).toEqual([]);
  });

  it("compares message types that come from references, as Confluent does", () => {
    const v1 = ref("google.proto", `${P3}package demo; message GoogleHome { int32 deviceID = 1; bool enabled = 2; }`, 1);
    const v2 = ref("google.proto", `${P3}package demo; message GoogleHome { string deviceID = 1; bool enabled = 2; }`, 2);
    const text = `${P3}import "google.proto"; message TestMessage { .demo.GoogleHome home = 1; }`;
    expect(changes(text, text, [v1], [v2])).toEqual(["FIELD_SCALAR_KIND_CHANGED #/GoogleHome/1", "FIELD_NAMED_TYPE_CHANGED #/TestMessage/1"]);
    expect(protobufIncompatibilities(parse(text, [v1]), parse(text, [v2]))).toHaveLength(2);
    // The same reference version: nothing to compare.
    expect(changes(text, text, [v1], [v1])).toEqual([]);
    // A package change in the referenced file alone is compatible.
    const moved = ref("google2.proto", `${P3}package demo2; message GoogleHome { int32 deviceID = 1; bool enabled = 2; }`, 1);
    expect(changes(text, `${P3}import "google2.proto"; message TestMessage { .demo2.GoogleHome home = 1; }`, [v1], [moved])).toEqual([]);
    // Moving a message into an import removes it from the schema.
    expect(
      changes(`${P3}package demo; message TestMessage { GoogleHome home = 1; } message GoogleHome { int32 deviceID = 1; bool enabled = 2; }`, `${P3}package demo; import "google.proto"; message TestMessage { GoogleHome home = 1; }`, [], [v1]),
    ).toEqual(["MESSAGE_REMOVED #/GoogleHome"]);
  });

  it("REQUIRED_FIELD_ADDED and REQUIRED_FIELD_REMOVED (proto2), each way", () => {
    const without = 'syntax = "proto2"; message T { optional string a = 1; }';
    const withRequired = 'syntax = "proto2"; message T { optional string a = 1; required string b = 2; }';
    expect(changes(without, withRequired)).toEqual(["REQUIRED_FIELD_ADDED #/T/2"]);
    expect(changes(withRequired, without)).toEqual(["REQUIRED_FIELD_REMOVED #/T/2"]);
    expect(backward(without, withRequired)).toEqual([expect.stringContaining("type=REQUIRED_FIELD_ADDED")]);
    expect(backward(withRequired, without)).toEqual([expect.stringContaining("type=REQUIRED_FIELD_REMOVED")]);
    // An optional field added or removed is fine.
    expect(backward(without, 'syntax = "proto2"; message T { optional string a = 1; optional string b = 2; }')).toEqual([]);
  });

  it("label changes: numeric ones are incompatible, string/bytes and message ones are not", () => {
    expect(changes(`${P3}message T { optional int32 i = 1; }`, `${P3}message T { repeated int32 i = 1; }`)).toEqual(["FIELD_NUMERIC_LABEL_CHANGED #/T/1"]);
    expect(backward(`${P3}message T { optional int32 i = 1; }`, `${P3}message T { repeated int32 i = 1; }`)).toHaveLength(1);
    expect(changes(`${P3}message T { optional string s = 1; }`, `${P3}message T { repeated string s = 1; }`)).toEqual(["FIELD_STRING_OR_BYTES_LABEL_CHANGED #/T/1"]);
    expect(backward(`${P3}message T { optional bytes s = 1; }`, `${P3}message T { repeated bytes s = 1; }`)).toEqual([]);
    expect(changes(`${P3}message T { optional M m = 1; } message M { string s = 1; }`, `${P3}message T { repeated M m = 1; } message M { string s = 1; }`)).toEqual([]);
    // proto2 required to optional on a number is a label change too.
    expect(changes('syntax = "proto2"; message T { required int32 i = 1; }', 'syntax = "proto2"; message T { optional int32 i = 1; }')).toEqual([
      "FIELD_NUMERIC_LABEL_CHANGED #/T/1",
    ]);
  });

  it("oneofs: adding is fine, removing a member is not, moving fields in is judged by their origin", () => {
    const two = `${P3}message T { string a = 1; string b = 2; }`;
    expect(changes(two, `${P3}message T { string a = 1; oneof o { string b = 2; int32 c = 3; } }`)).toEqual(["ONEOF_ADDED #/T/o"]);
    expect(changes(two, `${P3}message T { oneof o { string a = 1; string b = 2; int32 c = 3; } }`)).toEqual([
      "MULTIPLE_FIELDS_MOVED_TO_ONEOF #/T/o",
      "ONEOF_ADDED #/T/o",
    ]);
    const inOneof = `${P3}message T { oneof o { string a = 1; string b = 2; int32 c = 3; } }`;
    expect(changes(`${P3}message T { oneof o { string a = 1; string b = 2; } }`, inOneof)).toEqual(["ONEOF_FIELD_ADDED #/T/o/3"]);
    expect(changes(inOneof, `${P3}message T { oneof o { string a = 1; string b = 2; } }`)).toEqual(["ONEOF_FIELD_REMOVED #/T/o/3"]);
    expect(backward(inOneof, `${P3}message T { oneof o { string a = 1; string b = 2; } }`)).toEqual([expect.stringContaining("fullPath='#/T/o/3', type=ONEOF_FIELD_REMOVED")]);
    // Swapped (FORWARD): the old schema reads data written with the one that has the extra member.
    expect(backward(`${P3}message T { oneof o { string a = 1; string b = 2; } }`, inOneof)).toEqual([]);
    // A top-level field moved into an oneof that already had members.
    expect(changes(`${P3}message T { string a = 1; oneof o { string b = 2; } }`, `${P3}message T { oneof o { string a = 1; string b = 2; } }`)).toEqual([
      "FIELD_MOVED_TO_EXISTING_ONEOF #/T/o",
      "ONEOF_FIELD_ADDED #/T/o/1",
    ]);
    // A field leaving an oneof for the top level is relocated, not removed; its type is still compared.
    expect(changes(`${P3}message T { oneof o { string a = 1; string b = 2; } }`, `${P3}message T { int32 a = 1; oneof o { string b = 2; } }`)).toEqual([
      "FIELD_ADDED #/T/1",
      "FIELD_SCALAR_KIND_CHANGED #/T/1",
    ]);
    // Removing a whole oneof is what Confluent accepts.
    expect(backward(`${P3}message T { string a = 1; oneof o { string b = 2; } }`, `${P3}message T { string a = 1; }`)).toEqual([]);
    // A proto3 optional field is not an oneof.
    expect(changes(`${P3}message T { optional string a = 1; }`, `${P3}message T { optional string a = 1; }`)).toEqual([]);
  });

  it("enum constants: added, removed and renamed are all compatible", () => {
    const e = (body: string) => `${P3}message T { E e = 1; } enum E { ${body} }`;
    expect(changes(e("A = 0; B = 1;"), e("A = 0; C = 1;"))).toEqual(["ENUM_CONST_CHANGED #/E/1"]);
    expect(changes(e("A = 0;"), e("A = 0; B = 1;"))).toEqual(["ENUM_CONST_ADDED #/E/1"]);
    expect(changes(e("A = 0; B = 1;"), e("A = 0;"))).toEqual(["ENUM_CONST_REMOVED #/E/1"]);
    expect(backward(e("A = 0; B = 1;"), e("A = 0;"))).toEqual([]);
    expect(backward(e("A = 0;"), e("A = 0; B = 1;"))).toEqual([]);
  });

  it("nested messages and enums are compared at their paths", () => {
    expect(
      changes(`${P3}message W { int32 i = 1; message T { string s = 1; } }`, `${P3}message W { int32 i = 1; message T { string s = 1; string s2 = 2; } }`),
    ).toEqual(["FIELD_ADDED #/W/T/2"]);
    expect(backward(`${P3}message W { message T { string s = 1; int32 n = 2; } }`, `${P3}message W { message T { string s = 1; string n = 2; } }`)).toEqual([
      expect.stringContaining("fullPath='#/W/T/2', type=FIELD_SCALAR_KIND_CHANGED"),
    ]);
    expect(backward(`${P3}message W { message T { string s = 1; } }`, `${P3}message W { }`)).toEqual([expect.stringContaining("fullPath='#/W/T', type=MESSAGE_REMOVED")]);
  });

  it("terminates on recursive types and does not blow up on many cross-referencing ones", () => {
    const tree = `${P3}message Node { string v = 1; repeated Node children = 2; }`;
    expect(backward(tree, tree)).toEqual([]);
    const n = 30;
    const mesh = (t: string) =>
      P3 +
      Array.from({ length: n }, (_, i) => `message M${i} { ${t} v = 1; ${Array.from({ length: n }, (_, j) => `M${j} f${j} = ${j + 2};`).join(" ")} }`).join("\n");
    const out = backward(mesh("int32"), mesh("string"));
    expect(out.some((m) => m.includes("fullPath='#/M0/1', type=FIELD_SCALAR_KIND_CHANGED"))).toBe(true);
  });

  it("refuses, without throwing, a chain of imported message types too long to follow", () => {
    const n = 3000;
    const chain = (t: string) =>
      `${P3}package c;\n` + Array.from({ length: n }, (_, i) => (i < n - 1 ? `message M${i} { M${i + 1} next = 1; }` : `message M${i} { ${t} v = 1; }`)).join("\n");
    const text = `${P3}import "c.proto"; message Head { c.M0 head = 1; }`;
    const before = parse(text, [ref("c.proto", chain("int32"), 1)]);
    const after = parse(text, [ref("c.proto", chain("string"), 2)]);
    const out = protobufIncompatibilities(before, after);
    expect(out.length).toBeGreaterThan(0);
    expect(out.some((m) => m.includes("too deeply") || m.includes(`fullPath='#/M${n - 1}/1', type=FIELD_SCALAR_KIND_CHANGED`))).toBe(true);
  });

  it("says so when the other schema is not Protobuf", () => {
    const proto = parse(`${P3}message A { string a = 1; }`);
    const other = { ...proto, schemaType: "AVRO" as const, handle: {} };
    expect(protobufIncompatibilities(proto, other)).toEqual(["Incompatible because of different schema type"]);
    expect(protobufIncompatibilities(other, proto)).toEqual(["Incompatible because of different schema type"]);
  });
});

describe("the serialized form (base64 FileDescriptorProto)", () => {
  /** A descriptor built by protobufjs's own descriptor extension, independently of the registry's code. */
  function protobufjsDescriptor(text: string): string {
    const root = protobuf.parse(text, { keepCase: true }).root;
    root.resolveAll();
    const set = root.toDescriptor(text.includes('"proto3"') ? "proto3" : "proto2");
    expect(set.file).toHaveLength(1);
    return Buffer.from(descriptor.FileDescriptorProto.encode(set.file[0]!).finish()).toString("base64");
  }

  /** What protoc writes for a schema: fully qualified type names, `<Field>Entry` map types, json names. */
  function protocStyle(file: Record<string, unknown>): string {
    return Buffer.from(descriptor.FileDescriptorProto.encode(descriptor.FileDescriptorProto.fromObject(file)).finish()).toString("base64");
  }

  const ORDER = `${P3}package shop;
    option java_package = "com.example.shop";
    message Order {
      string id = 1;
      repeated int64 amounts = 2;
      optional string note = 3;
      map<string, Line> lines = 4;
      oneof payment { string card = 5; Voucher voucher = 6; }
      Status status = 7;
      message Voucher { string code = 1; }
      enum Status { NEW = 0; PAID = 1; }
    }
    message Line { int32 quantity = 1; }
    enum Channel { WEB = 0; SHOP = 1; }`;

  it("registers a descriptor built from .proto text to the same canonical text and hash as the text", () => {
    const text = parse(ORDER);
    const fromDescriptor = parse(protobufjsDescriptor(ORDER));
    expect(fromDescriptor.canonical).toBe(text.canonical);
    expect(fromDescriptor.hash).toBe(text.hash);
  });

  it("reads a descriptor as protoc writes it", () => {
    const text = parse(`${P3}package shop;
      message Order { string order_id = 1; map<string, int32> line_counts = 2; Order.Kind kind = 3; enum Kind { A = 0; B = 1; } }`);
    const serialized = protocStyle({
      name: "shop/order.proto",
      package: "shop",
      syntax: "proto3",
      messageType: [
        {
          name: "Order",
          field: [
            { name: "order_id", number: 1, label: "LABEL_OPTIONAL", type: "TYPE_STRING", jsonName: "orderId" },
            { name: "line_counts", number: 2, label: "LABEL_REPEATED", type: "TYPE_MESSAGE", typeName: ".shop.Order.LineCountsEntry", jsonName: "lineCounts" },
            { name: "kind", number: 3, label: "LABEL_OPTIONAL", type: "TYPE_ENUM", typeName: ".shop.Order.Kind", jsonName: "kind" },
          ],
          nestedType: [
            {
              name: "LineCountsEntry",
              field: [
                { name: "key", number: 1, label: "LABEL_OPTIONAL", type: "TYPE_STRING" },
                { name: "value", number: 2, label: "LABEL_OPTIONAL", type: "TYPE_INT32" },
              ],
              options: { mapEntry: true },
            },
          ],
          enumType: [{ name: "Kind", value: [{ name: "A", number: 0 }, { name: "B", number: 1 }] }],
        },
      ],
    });
    const parsed = parse(serialized);
    expect(parsed.canonical).toBe(text.canonical);
    expect(parsed.hash).toBe(text.hash);
  });

  it("round-trips: serialized, parsed again, gives the same canonical text and hash", () => {
    const schemas = [
      ORDER,
      `syntax = "proto2";
        package legacy;
        option optimize_for = SPEED;
        message Item {
          required string sku = 1;
          optional int32 count = 2 [default = 5];
          optional bytes tag = 3 [default = "\\001a\\""];
          optional Level level = 4 [default = HIGH];
          repeated int32 codes = 5 [packed = true];
          optional double ratio = 6 [default = -inf, deprecated = true];
          map<string, Item> children = 7;
          oneof choice { string a = 8; int32 b = 12; }
          reserved 9 to 11, 20;
          reserved "old";
          extensions 100 to 199;
        }
        enum Level { option allow_alias = true; LOW = 1; HIGH = 2; TOP = 2; reserved 5 to 6; }
        extend Item { optional string extra = 100; }
        service Shop { rpc Get (Item) returns (stream Item); }`,
    ];
    for (const text of schemas) {
      const first = parse(text);
      const again = parse(serializedProtobuf(first));
      expect(again.canonical).toBe(first.canonical);
      expect(again.hash).toBe(first.hash);
      expect(serializedProtobuf(again)).toBe(serializedProtobuf(first));
      // The .proto text of the serialized form labels neither map fields nor oneof members.
      expect(protobufFromSerialized(serializedProtobuf(first))).not.toMatch(/(optional|repeated) map<|oneof \w+ \{\n\s*optional/);
    }
  });

  it("resolves the descriptor's dependencies from the references, as imports", () => {
    const common = ref("shop/common.proto", `${P3}package common; message Money { int64 cents = 1; }`);
    const text = `${P3}package shop; import "shop/common.proto"; message Order { common.Money total = 1; }`;
    const first = parse(text, [common]);
    const serialized = serializedProtobuf(first);
    const file = descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(Buffer.from(serialized, "base64"))) as { dependency?: string[] };
    expect(file.dependency).toEqual(["shop/common.proto"]);
    const again = parse(serialized, [common]);
    expect(again.hash).toBe(first.hash);
    expect(again.references).toEqual([{ name: "shop/common.proto", subject: "shop/common.proto", version: 1 }]);
    expect(failure(serialized)).toMatch(/import "shop\/common.proto" has no reference of that name/);
  });

  it("refuses what is not a FileDescriptorProto, with a message", () => {
    const garbage = Buffer.from("this is not a descriptor, only bytes \u0001\u0002").toString("base64");
    expect(failure(garbage)).toMatch(/^Invalid Protobuf schema: /);
    expect(failure("AAAA")).toMatch(/^Invalid Protobuf schema: /);
    // A descriptor whose names would not make a schema.
    const evil = protocStyle({ name: "x", syntax: "proto3", messageType: [{ name: "A { } message B", field: [] }] });
    expect(failure(evil)).toMatch(/invalid message name/);
    expect(failure(protocStyle({ name: "x", syntax: "editions", edition: "EDITION_2023" }))).toMatch(/editions/);
    expect(protobufFromSerialized(garbage)).toBeNull();
    expect(protobufFromSerialized(evil)).toBeNull();
    expect(protobufFromSerialized(ORDER)).toBeNull();
    expect(protobufFromSerialized(protobufjsDescriptor(ORDER))).toMatch(/^syntax = "proto3";\npackage shop;/);
  });

  it("refuses base64 larger than the descriptor bound without decoding it", () => {
    const big = "A".repeat(Math.ceil(MAX_PROTOBUF_DESCRIPTOR_BYTES / 3) * 4 + 4);
    expect(protobufFromSerialized(big)).toBeNull();
    expect(parseProtobufSchema(big, []).ok).toBe(false);
  });
});
