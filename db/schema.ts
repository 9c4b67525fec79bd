import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { LintFinding } from "../registry/lint/index.ts";
import type { CompareReport, Contract } from "../registry/types.ts";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

/** Portal-wide roles, from most to least privileged. */
export const roleEnum = pgEnum("role", ["admin", "reviewer", "editor", "viewer"]);
/** A member's standing inside one team. */
export const teamRoleEnum = pgEnum("team_role", ["maintainer", "member"]);

// --- Accounts: the tables better-auth reads and writes (its core schema, plus our role). ---

/** A person who signs in. */
export const user = pgTable("user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  emailVerified: boolean("email_verified").notNull().default(false),
  image: text("image"),
  role: roleEnum("role").notNull().default("viewer"),
  disabledAt: timestamp("disabled_at", { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** A signed-in browser session; kept in the database so portal instances stay stateless. */
export const session = pgTable(
  "session",
  {
    id: text("id").primaryKey(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    token: text("token").notNull().unique(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("session_user_idx").on(t.userId)],
);

/** A credential of a user (for us: the email + password credential). */
export const account = pgTable(
  "account",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: timestamp("access_token_expires_at", { withTimezone: true }),
    refreshTokenExpiresAt: timestamp("refresh_token_expires_at", { withTimezone: true }),
    scope: text("scope"),
    password: text("password"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("account_user_idx").on(t.userId)],
);

/** Short-lived verification values used by better-auth. */
export const verification = pgTable("verification", {
  id: text("id").primaryKey(),
  identifier: text("identifier").notNull(),
  value: text("value").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

// --- Teams ---

/** A team owns applications and their contracts. */
export const team = pgTable("team", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  description: text("description").notNull().default(""),
  contact: text("contact").notNull().default(""),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Membership of a user in a team. */
export const teamMember = pgTable(
  "team_member",
  {
    teamId: text("team_id")
      .notNull()
      .references(() => team.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    role: teamRoleEnum("role").notNull().default("member"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index("team_member_user_idx").on(t.userId)],
);

// --- API tokens ---

/** A bearer token for CI and agents; only its SHA-256 is stored. */
export const apiToken = pgTable(
  "api_token",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** First characters of the secret, shown in lists so people can tell tokens apart. */
    prefix: text("prefix").notNull(),
    secretHash: text("secret_hash").notNull(),
    scopes: text("scopes").array().notNull(),
    /** Broker ids an agent:report token may report for: one id or a `*` glob such as `plant-*`. */
    brokerBinding: text("broker_binding"),
    teamId: text("team_id").references(() => team.id, { onDelete: "set null" }),
    createdBy: text("created_by").references(() => user.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedBy: text("revoked_by").references(() => user.id, { onDelete: "set null" }),
  },
  (t) => [uniqueIndex("api_token_secret_hash_idx").on(t.secretHash)],
);

// --- Audit ---

/**
 * Append-only, hash-chained record of every state change: each entry's hash covers
 * the previous entry's hash, so editing or deleting a row breaks the chain.
 */
export const auditEntry = pgTable(
  "audit_entry",
  {
    seq: bigserial("seq", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull(),
    actorKind: text("actor_kind").notNull(),
    actorId: text("actor_id").notNull(),
    actorLabel: text("actor_label").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    index("audit_entry_at_idx").on(t.at),
    index("audit_entry_target_idx").on(t.targetType, t.targetId),
    index("audit_entry_actor_idx").on(t.actorId),
  ],
);

export type User = typeof user.$inferSelect;
export type Session = typeof session.$inferSelect;
export type Team = typeof team.$inferSelect;
export type TeamMember = typeof teamMember.$inferSelect;
export type ApiToken = typeof apiToken.$inferSelect;
export type AuditEntry = typeof auditEntry.$inferSelect;
export type Role = (typeof roleEnum.enumValues)[number];
export type TeamRole = (typeof teamRoleEnum.enumValues)[number];

// --- Brokers and what their agents observe ---

/** A broker of the mesh: declared by an admin, or registered by its agent's first report. */
export const broker = pgTable("broker", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  url: text("url").notNull().default(""),
  protocol: text("protocol").notNull().default("mqtt"),
  description: text("description").notNull().default(""),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  agentId: text("agent_id"),
  agentVersion: text("agent_version"),
  agentHostname: text("agent_hostname"),
  brokerVersion: text("broker_version"),
  lastReportAt: timestamp("last_report_at", { withTimezone: true }),
  lastWindowStart: timestamp("last_window_start", { withTimezone: true }),
  lastWindowEnd: timestamp("last_window_end", { withTimezone: true }),
  capabilities: jsonb("capabilities").$type<Record<string, unknown>>(),
  lastStats: jsonb("last_stats").$type<Record<string, unknown>>(),
  lastDrops: jsonb("last_drops").$type<Record<string, number>>(),
  /** Sum of every drop counter the agent ever reported. */
  droppedTotal: bigint("dropped_total", { mode: "number" }).notNull().default(0),
});

/** A bridge forwarding topics from one broker to another. */
export const brokerBridge = pgTable(
  "broker_bridge",
  {
    id: text("id").primaryKey(),
    fromBrokerId: text("from_broker_id")
      .notNull()
      .references(() => broker.id, { onDelete: "cascade" }),
    toBrokerId: text("to_broker_id")
      .notNull()
      .references(() => broker.id, { onDelete: "cascade" }),
    /** MQTT filter of the forwarded topics, e.g. `plant/#`. */
    topicFilter: text("topic_filter").notNull(),
    direction: text("direction", { enum: ["out", "both"] }).notNull().default("out"),
    description: text("description").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("broker_bridge_unique_idx").on(t.fromBrokerId, t.toBrokerId, t.topicFilter)],
);

/** Every report batch accepted from an agent; its id makes a replayed batch count once. */
export const ingestBatch = pgTable(
  "ingest_batch",
  {
    batchId: uuid("batch_id").primaryKey(),
    brokerId: text("broker_id")
      .notNull()
      .references(() => broker.id, { onDelete: "cascade" }),
    agentId: text("agent_id").notNull(),
    sequence: bigint("sequence", { mode: "number" }).notNull(),
    tokenId: text("token_id"),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    windowEnd: timestamp("window_end", { withTimezone: true }).notNull(),
    templates: integer("templates").notNull(),
    messages: bigint("messages", { mode: "number" }).notNull(),
  },
  (t) => [index("ingest_batch_broker_idx").on(t.brokerId, t.receivedAt)],
);

/** What an agent saw on one topic template in one report window. */
export const observation = pgTable(
  "observation",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    brokerId: text("broker_id")
      .notNull()
      .references(() => broker.id, { onDelete: "cascade" }),
    batchId: uuid("batch_id").notNull(),
    template: text("template").notNull(),
    channelAddress: text("channel_address"),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    windowEnd: timestamp("window_end", { withTimezone: true }).notNull(),
    messages: bigint("messages", { mode: "number" }).notNull(),
    bytes: bigint("bytes", { mode: "number" }).notNull(),
    minSize: integer("min_size").notNull(),
    maxSize: integer("max_size").notNull(),
    ratePerSecond: doublePrecision("rate_per_second").notNull(),
    qos: jsonb("qos").$type<{ q0: number; q1: number; q2: number }>().notNull(),
    retained: bigint("retained", { mode: "number" }).notNull(),
    contentKind: text("content_kind").notNull(),
    producers: jsonb("producers").$type<Array<{ clientId: string; messages: number; bytes: number }>>().notNull(),
    consumers: jsonb("consumers").$type<Array<{ clientId: string; filter: string; qos: number }>>().notNull(),
  },
  (t) => [index("observation_broker_template_idx").on(t.brokerId, t.template, t.windowStart)],
);

/** A producer or consumer as remembered on a topic, with when it was last seen. */
export interface KnownClient {
  clientId: string;
  filter?: string;
  messages?: number;
  lastSeen: string;
}

/** The current picture of one topic template on one broker, merged over all reports. */
export const brokerTopic = pgTable(
  "broker_topic",
  {
    brokerId: text("broker_id")
      .notNull()
      .references(() => broker.id, { onDelete: "cascade" }),
    template: text("template").notNull(),
    channel: jsonb("channel").$type<{ address: string; application: string; contractVersion: string } | null>(),
    firstSeen: timestamp("first_seen", { withTimezone: true }).notNull(),
    lastSeen: timestamp("last_seen", { withTimezone: true }).notNull(),
    totalMessages: bigint("total_messages", { mode: "number" }).notNull(),
    totalBytes: bigint("total_bytes", { mode: "number" }).notNull(),
    lastRatePerSecond: doublePrecision("last_rate_per_second").notNull(),
    lastWindowEnd: timestamp("last_window_end", { withTimezone: true }).notNull(),
    contentKind: text("content_kind").notNull(),
    distinctTopics: integer("distinct_topics").notNull(),
    topics: jsonb("topics").$type<Array<{ topic: string; messages: number }>>().notNull(),
    schema: jsonb("schema").$type<Record<string, unknown> | null>(),
    samples: jsonb("samples").$type<Array<Record<string, unknown>>>().notNull(),
    producers: jsonb("producers").$type<KnownClient[]>().notNull(),
    consumers: jsonb("consumers").$type<KnownClient[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.brokerId, t.template] }), index("broker_topic_last_seen_idx").on(t.lastSeen)],
);

export type Broker = typeof broker.$inferSelect;
export type BrokerBridge = typeof brokerBridge.$inferSelect;
export type BrokerTopic = typeof brokerTopic.$inferSelect;
export type IngestBatch = typeof ingestBatch.$inferSelect;

// --- Catalog: applications, their versioned contracts, and the search index ---

/** Lifecycle of a published contract version. */
export const versionStateEnum = pgEnum("version_state", ["draft", "released", "deprecated", "retired"]);

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/** An application of the mesh: a producer and/or consumer owned by a team, with one contract. */
export const application = pgTable(
  "application",
  {
    id: text("id").primaryKey(),
    slug: text("slug").notNull().unique(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    teamId: text("team_id")
      .notNull()
      .references(() => team.id, { onDelete: "restrict" }),
    domain: text("domain").notNull().default(""),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    /** Compatibility mode of this contract; null = the portal default. */
    compatibilityMode: text("compatibility_mode"),
    /** `block`: lint problems refuse a publish; null or `warn`: lint findings are only shown. */
    lintPolicy: text("lint_policy"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("application_team_idx").on(t.teamId)],
);

/** One immutable published version of an application's contract. */
export const contractVersion = pgTable(
  "contract_version",
  {
    id: text("id").primaryKey(),
    applicationId: text("application_id")
      .notNull()
      .references(() => application.id, { onDelete: "cascade" }),
    version: text("version").notNull(),
    major: integer("major").notNull(),
    minor: integer("minor").notNull(),
    patch: integer("patch").notNull(),
    prerelease: text("prerelease").notNull().default(""),
    state: versionStateEnum("state").notNull().default("released"),
    stateReason: text("state_reason"),
    /** The uploaded files, name → text, exactly as published. */
    files: jsonb("files").$type<Record<string, string>>().notNull(),
    rootFile: text("root_file").notNull(),
    asyncapiVersion: text("asyncapi_version").notNull(),
    /** The normalised contract (registry Contract). */
    contract: jsonb("contract").$type<Contract>().notNull(),
    /** sha256 of the canonical upload; identical re-publishes return the existing version. */
    contentHash: text("content_hash").notNull(),
    /** The compare report against the previous version (null for the first). */
    changelog: jsonb("changelog").$type<CompareReport | null>(),
    /** Lint findings of the version as published (null for versions stored before lint ran on publish). */
    lint: jsonb("lint").$type<LintFinding[] | null>(),
    publishedById: text("published_by_id").notNull(),
    publishedByLabel: text("published_by_label").notNull(),
    publishedAt: timestamp("published_at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * When the flows and schemas of this version were derived (with the version, or by the start-up backfill);
     * null for versions stored by a build that did not derive them.
     */
    flowsDerivedAt: timestamp("flows_derived_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("contract_version_unique_idx").on(t.applicationId, t.version),
    index("contract_version_hash_idx").on(t.applicationId, t.contentHash),
  ],
);

/**
 * The search index over the current contract of every application: one row per
 * application, channel, message and payload field. Rebuilt for an application when
 * its current version changes; never edited by hand.
 */
export const catalogEntry = pgTable(
  "catalog_entry",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    applicationId: text("application_id")
      .notNull()
      .references(() => application.id, { onDelete: "cascade" }),
    versionId: text("version_id")
      .notNull()
      .references(() => contractVersion.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["application", "channel", "message", "field"] }).notNull(),
    /** Channel address, for channel, message and field entries. */
    address: text("address"),
    /** Message key, for message and field entries. */
    messageKey: text("message_key"),
    /** Field path inside the payload, for field entries (`customer.address.city`). */
    fieldPath: text("field_path"),
    /** Lower-cased last segment of the field path, for exact field-name search. */
    fieldName: text("field_name"),
    /** send / receive relative to the application, for channel, message and field entries. */
    action: text("action"),
    title: text("title").notNull(),
    body: text("body").notNull().default(""),
    /** Address levels and first literal level: narrow topic-filter candidates before matching. */
    levelCount: integer("level_count"),
    firstLevel: text("first_level"),
    search: tsvector("search")
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('simple', coalesce("title", '')), 'A') || setweight(to_tsvector('english', coalesce("body", '')), 'B')`,
      ),
  },
  (t) => [
    index("catalog_entry_search_idx").using("gin", t.search),
    index("catalog_entry_app_idx").on(t.applicationId),
    index("catalog_entry_topic_idx").on(t.kind, t.levelCount, t.firstLevel),
    index("catalog_entry_field_idx").on(t.fieldName),
  ],
);

/**
 * The mesh-wide schema registry: every payload and headers schema of every published version, once.
 * Content-addressed: the hash covers the format and the canonical JSON, so the same schema gets the
 * same global id wherever it appears, and the same JSON in another format is another schema.
 */
export const registrySchema = pgTable(
  "schema",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    /** `sha256:` + hex, over the normalised format, a NUL and the canonical JSON (registry/flows). */
    hash: text("hash").notNull(),
    /** Schema format, e.g. `application/schema+json;version=draft-07`, `application/vnd.apache.avro;version=1.9.0`. */
    format: text("format").notNull(),
    /** Canonical JSON (sorted keys, no whitespace): the exact text the hash covers. */
    canonical: text("canonical").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("schema_hash_idx").on(t.hash)],
);

/**
 * One message an application sends or receives on one channel in one contract version, with its payload
 * and headers schemas: the relational picture that the catalog, impact, topology and drift query.
 * Derived from the version's contract (registry/flows); a channel no operation uses has no flow.
 */
export const flow = pgTable(
  "flow",
  {
    versionId: text("version_id")
      .notNull()
      .references(() => contractVersion.id, { onDelete: "cascade" }),
    /** Channel address template, as in the contract. */
    channel: text("channel").notNull(),
    /** send / receive, relative to the application. */
    action: text("action", { enum: ["send", "receive"] }).notNull(),
    messageKey: text("message_key").notNull(),
    payloadSchemaId: integer("payload_schema_id").references(() => registrySchema.id, { onDelete: "restrict" }),
    headersSchemaId: integer("headers_schema_id").references(() => registrySchema.id, { onDelete: "restrict" }),
    /** Ids of the operations that declare the flow. */
    operations: text("operations").array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [
    // The primary key also serves "the flows of version V".
    primaryKey({ columns: [t.versionId, t.channel, t.action, t.messageKey] }),
    // Who sends / who receives channel X.
    index("flow_channel_action_idx").on(t.channel, t.action),
    // Where a schema is used.
    index("flow_payload_schema_idx").on(t.payloadSchemaId),
    index("flow_headers_schema_idx").on(t.headersSchemaId),
  ],
);

export type Application = typeof application.$inferSelect;
export type ContractVersion = typeof contractVersion.$inferSelect;
export type CatalogEntry = typeof catalogEntry.$inferSelect;
export type VersionState = (typeof versionStateEnum.enumValues)[number];
export type RegistrySchema = typeof registrySchema.$inferSelect;
export type Flow = typeof flow.$inferSelect;
