/**
 * JSON Schema inference from observed payloads: an accumulator per template
 * observes parsed JSON values, merges with other accumulators, and renders a
 * JSON Schema (draft 2020-12). Every structure in it is bounded.
 */

/** Limits of an accumulator; all have defaults. */
export interface InferenceOptions {
  /** deepest nesting level described; deeper values are left untyped */
  maxDepth?: number;
  /** most properties tracked per object; more leave additionalProperties open */
  maxProperties?: number;
  /** most distinct string values tracked for an enum */
  maxEnumValues?: number;
  /** fewest string observations before an enum is proposed */
  minEnumSamples?: number;
  /** longest string tracked as an enum value */
  maxEnumValueLength?: number;
  /** a property present in at least this fraction of its objects is required (default 1: always present) */
  requiredRatio?: number;
  /** most schema nodes per accumulator (default 2,000); beyond it new properties are not tracked */
  maxNodes?: number;
}

const DEFAULTS: Required<InferenceOptions> = {
  maxDepth: 8,
  maxProperties: 128,
  maxEnumValues: 10,
  minEnumSamples: 10,
  maxEnumValueLength: 64,
  requiredRatio: 1,
  maxNodes: 2_000,
};

type JsonType = "null" | "boolean" | "integer" | "number" | "string" | "array" | "object";
const TYPE_ORDER: JsonType[] = ["null", "boolean", "integer", "number", "string", "array", "object"];
/** String formats detected; a format is reported only when every string matched it. */
const FORMATS = ["date-time", "date", "uuid", "email", "uri"] as const;
type Format = (typeof FORMATS)[number];

const FORMAT_TESTS: Record<Format, RegExp> = {
  "date-time": /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i,
};

/** Bit of each type in {@link SchemaNode.types}, in TYPE_ORDER. */
const TYPE_BIT: Record<JsonType, number> = { null: 1, boolean: 2, integer: 4, number: 8, string: 16, array: 32, object: 64 };
/** Every format: a node's strings match all of them until one does not. */
const ALL_FORMATS = (1 << FORMATS.length) - 1;

/**
 * Accumulated facts about the values seen at one position of a document. One fixed shape with
 * flags for the types seen and the formats every string matched: thousands of templates hold
 * these for a whole window, so a node is one small object rather than several dictionaries.
 */
export class SchemaNode {
  /** values observed at this position */
  seen = 0;
  /** the types seen, one TYPE_BIT each */
  types = 0;
  minNumber: number | undefined = undefined;
  maxNumber: number | undefined = undefined;
  minLength: number | undefined = undefined;
  maxLength: number | undefined = undefined;
  /** distinct string values (an array: cheaper than a Map at these sizes); null once there were too many */
  values: string[] | null | undefined = undefined;
  /** the formats (bit i: FORMATS[i]) every string so far matched */
  formats = ALL_FORMATS;
  strings = 0;
  /** object facts: how many objects, and per property the sub-node (its `seen` is the presence count) */
  objects = 0;
  properties: Map<string, SchemaNode> | undefined = undefined;
  propertiesOverflow = false;
  /** array facts */
  items: SchemaNode | undefined = undefined;
  minItems: number | undefined = undefined;
  maxItems: number | undefined = undefined;
}

/** An empty node. */
export function emptyNode(): SchemaNode {
  return new SchemaNode();
}

// Accumulators made with the same options share one resolved copy of them.
const resolvedOptions = new WeakMap<InferenceOptions, Required<InferenceOptions>>();
const DEFAULT_OPTIONS: InferenceOptions = {};

function resolve(options: InferenceOptions): Required<InferenceOptions> {
  let o = resolvedOptions.get(options);
  if (!o) resolvedOptions.set(options, (o = { ...DEFAULTS, ...options }));
  return o;
}

/** Accumulates JSON values of one template and renders their merged JSON Schema. */
export class SchemaAccumulator {
  /** root node; exposed for merging */
  root: SchemaNode = emptyNode();
  private readonly o: Required<InferenceOptions>;
  private readonly budget: Budget;

  /**
   * Creates an empty accumulator; `shared` is a node budget several
   * accumulators draw from, so many templates together stay bounded too.
   */
  constructor(options: InferenceOptions = DEFAULT_OPTIONS, shared: NodeBudget | null = null) {
    this.o = resolve(options);
    this.budget = { nodes: 1, max: this.o.maxNodes, shared };
    if (shared) shared.used++;
  }

  /** Number of schema nodes held, a measure of its size. */
  get nodeCount(): number {
    return this.budget.nodes;
  }

  /** Number of documents observed. */
  get samples(): number {
    return this.root.seen;
  }

  /** Observes one parsed JSON document. */
  observe(value: unknown): void {
    observeInto(this.root, value, 0, this.o, this.budget);
  }

  /** Merges another accumulator's observations into this one. */
  merge(other: SchemaAccumulator): void {
    mergeInto(this.root, other.root, 0, this.o, this.budget);
  }

  /** The JSON Schema of everything observed, or null before the first document. */
  toJsonSchema(): Record<string, unknown> | null {
    if (this.root.seen === 0) return null;
    return { $schema: "https://json-schema.org/draft/2020-12/schema", ...render(this.root, this.o) };
  }
}

function typeOf(value: unknown): JsonType {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "boolean":
      return "boolean";
    case "number":
      return Number.isInteger(value) ? "integer" : "number";
    case "string":
      return "string";
    default:
      return "object";
  }
}

/** A node budget shared by several accumulators. */
export interface NodeBudget {
  used: number;
  max: number;
}

interface Budget {
  nodes: number;
  max: number;
  shared: NodeBudget | null;
}

/** Takes one node from the budgets; false when either is spent. */
function take(b: Budget): boolean {
  if (b.nodes >= b.max || (b.shared && b.shared.used >= b.shared.max)) return false;
  b.nodes++;
  if (b.shared) b.shared.used++;
  return true;
}

function observeInto(node: SchemaNode, value: unknown, depth: number, o: Required<InferenceOptions>, budget: Budget): void {
  node.seen++;
  const type = typeOf(value);
  node.types |= TYPE_BIT[type];
  if (depth >= o.maxDepth) return;
  switch (type) {
    case "integer":
    case "number": {
      const n = value as number;
      node.minNumber = node.minNumber === undefined ? n : Math.min(node.minNumber, n);
      node.maxNumber = node.maxNumber === undefined ? n : Math.max(node.maxNumber, n);
      return;
    }
    case "string": {
      const s = value as string;
      node.strings++;
      node.minLength = node.minLength === undefined ? s.length : Math.min(node.minLength, s.length);
      node.maxLength = node.maxLength === undefined ? s.length : Math.max(node.maxLength, s.length);
      // Only formats every earlier string matched can still be reported: the others are not tested.
      for (let i = 0; i < FORMATS.length; i++) if (node.formats & (1 << i) && !FORMAT_TESTS[FORMATS[i]!].test(s)) node.formats &= ~(1 << i);
      if (node.values === undefined) node.values = [];
      if (node.values) {
        if (s.length > o.maxEnumValueLength) node.values = null;
        else if (!node.values.includes(s)) {
          // concat makes an array of exact length: a push would reserve room for 17, and most nodes hold one or two.
          node.values = node.values.length >= o.maxEnumValues ? null : node.values.concat(s);
        }
      }
      return;
    }
    case "array": {
      const arr = value as unknown[];
      node.minItems = node.minItems === undefined ? arr.length : Math.min(node.minItems, arr.length);
      node.maxItems = node.maxItems === undefined ? arr.length : Math.max(node.maxItems, arr.length);
      if (!node.items) {
        if (!take(budget)) return;
        node.items = emptyNode();
      }
      // Long arrays are usually homogeneous: the first elements describe them.
      const n = Math.min(arr.length, 32);
      for (let i = 0; i < n; i++) observeInto(node.items, arr[i], depth + 1, o, budget);
      return;
    }
    case "object": {
      node.objects++;
      const props = (node.properties ??= new Map());
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        let child = props.get(key);
        if (!child) {
          if (props.size >= o.maxProperties || !take(budget)) {
            node.propertiesOverflow = true;
            continue;
          }
          child = emptyNode();
          props.set(key, child);
        }
        observeInto(child, v, depth + 1, o, budget);
      }
      return;
    }
    default:
      return;
  }
}

const minDefined = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
const maxDefined = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

function mergeInto(into: SchemaNode, from: SchemaNode, depth: number, o: Required<InferenceOptions>, budget: Budget): void {
  into.seen += from.seen;
  into.types |= from.types;
  into.minNumber = minDefined(into.minNumber, from.minNumber);
  into.maxNumber = maxDefined(into.maxNumber, from.maxNumber);
  into.minLength = minDefined(into.minLength, from.minLength);
  into.maxLength = maxDefined(into.maxLength, from.maxLength);
  into.minItems = minDefined(into.minItems, from.minItems);
  into.maxItems = maxDefined(into.maxItems, from.maxItems);
  if (from.strings) {
    into.strings += from.strings;
    into.formats &= from.formats;
    if (into.values === undefined) into.values = from.values === null ? null : [];
    if (into.values && from.values) {
      const merged = [...into.values];
      for (const v of from.values) if (!merged.includes(v)) merged.push(v);
      into.values = merged.length > o.maxEnumValues ? null : ([] as string[]).concat(merged);
    } else into.values = null;
  }
  if (from.objects) {
    into.objects += from.objects;
    const props = (into.properties ??= new Map());
    if (from.propertiesOverflow) into.propertiesOverflow = true;
    for (const [key, child] of from.properties ?? []) {
      let mine = props.get(key);
      if (!mine) {
        if (props.size >= o.maxProperties || !take(budget)) {
          into.propertiesOverflow = true;
          continue;
        }
        mine = emptyNode();
        props.set(key, mine);
      }
      mergeInto(mine, child, depth + 1, o, budget);
    }
  }
  if (from.items && (into.items || take(budget))) mergeInto((into.items ??= emptyNode()), from.items, depth + 1, o, budget);
}

function render(node: SchemaNode, o: Required<InferenceOptions>): Record<string, unknown> {
  let types = TYPE_ORDER.filter((t) => node.types & TYPE_BIT[t]);
  // An integer is a number: a mix of both is a number.
  if (types.includes("integer") && types.includes("number")) types = types.filter((t) => t !== "integer");
  if (types.length === 0) return {};
  const schema: Record<string, unknown> = { type: types.length === 1 ? types[0] : types };
  if ((types.includes("number") || types.includes("integer")) && node.minNumber !== undefined) {
    // Observed bounds are facts about the samples, not constraints: keep them as annotations.
    schema["x-observed-minimum"] = node.minNumber;
    schema["x-observed-maximum"] = node.maxNumber;
  }
  if (types.includes("string") && node.strings) {
    const format = FORMATS.find((_, i) => node.formats & (1 << i));
    if (format) schema.format = format;
    else if (node.values && node.strings >= o.minEnumSamples && node.values.length <= o.maxEnumValues && node.values.length * 2 <= node.strings) {
      // Few distinct values, each seen repeatedly: most likely a closed set.
      schema.enum = [...node.values].sort();
    }
    schema["x-observed-minLength"] = node.minLength;
    schema["x-observed-maxLength"] = node.maxLength;
  }
  if (types.includes("object") && node.properties) {
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    const objects = node.objects;
    for (const key of [...node.properties.keys()].sort()) {
      const child = node.properties.get(key)!;
      const sub = render(child, o);
      const presence = objects ? child.seen / objects : 0;
      if (presence >= o.requiredRatio) required.push(key);
      else sub["x-presence"] = Math.round(presence * 1000) / 1000;
      properties[key] = sub;
    }
    schema.properties = properties;
    if (required.length) schema.required = required;
    if (node.propertiesOverflow) schema["x-properties-truncated"] = true;
  }
  if (types.includes("array") && node.items) {
    schema.items = node.items.seen ? render(node.items, o) : {};
    schema["x-observed-minItems"] = node.minItems;
    schema["x-observed-maxItems"] = node.maxItems;
  }
  return schema;
}
