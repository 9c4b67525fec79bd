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
import type { DriftEvidence, DriftRuleId, DriftSeverity } from "../registry/drift/types.ts";
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
    // The audit report filters by application: services put its slug in details.application.
    index("audit_entry_application_idx").on(sql`(${t.details}->>'application')`, t.seq),
    // A registry subject's history: registry services put the subject's name in details.subject.
    index("audit_entry_subject_idx").on(sql`(${t.details}->>'subject')`, t.seq),
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
  /** The broker's own resources as its agent last listed them (agents/protocol `Inventory`: JetStream, exchanges, queues, bindings). */
  inventory: jsonb("inventory").$type<Record<string, unknown>>(),
  inventoryAt: timestamp("inventory_at", { withTimezone: true }),
});

/**
 * A link to another broker as a broker told its agent (a Mosquitto bridge connection, a NATS
 * route/leafnode/gateway, a RabbitMQ shovel or federation upstream). Declared bridges live in
 * `broker_bridge`; a discovered link names its far end as the broker said (`remote`) and, once
 * the portal recognises it, the broker of the mesh it is (`remote_broker_id`).
 */
export const brokerLink = pgTable(
  "broker_link",
  {
    brokerId: text("broker_id")
      .notNull()
      .references(() => broker.id, { onDelete: "cascade" }),
    /** agents/protocol BRIDGE_KINDS */
    kind: text("kind").notNull(),
    name: text("name").notNull(),
    remote: text("remote").notNull(),
    remoteBrokerId: text("remote_broker_id").references(() => broker.id, { onDelete: "set null" }),
    direction: text("direction", { enum: ["in", "out", "both"] }).notNull(),
    /** filters of what flows, in the reporting broker's topic syntax */
    topics: text("topics").array().notNull().default(sql`'{}'::text[]`),
    state: text("state"),
    firstSeen: timestamp("first_seen", { withTimezone: true }).notNull().defaultNow(),
    lastSeen: timestamp("last_seen", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.brokerId, t.kind, t.name] }), index("broker_link_remote_idx").on(t.remoteBrokerId)],
);

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

/**
 * What an agent saw on one topic template in one report window. The table is partitioned
 * by range of window_start, one partition per UTC day (`observation_pYYYYMMDD`) plus a
 * default one (lib/observations/partitions.ts); drizzle does not describe partitioning,
 * migration 0009 does.
 */
export const observation = pgTable(
  "observation",
  {
    id: bigserial("id", { mode: "number" }).notNull(),
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
  (t) => [
    // A partitioned table's primary key must hold its partition key.
    primaryKey({ columns: [t.id, t.windowStart] }),
    index("observation_broker_template_idx").on(t.brokerId, t.template, t.windowStart),
  ],
);

/** Resolutions of the observation roll-ups. */
export const ROLLUP_RESOLUTIONS = ["hour", "day"] as const;
export type RollupResolution = (typeof ROLLUP_RESOLUTIONS)[number];

/**
 * What was observed on one topic template of one broker in one hour or day (the bucket of
 * each report window's start), added up at ingest; kept longer than raw observations.
 */
export const observationRollup = pgTable(
  "observation_rollup",
  {
    resolution: text("resolution", { enum: ROLLUP_RESOLUTIONS }).notNull(),
    bucketStart: timestamp("bucket_start", { withTimezone: true }).notNull(),
    brokerId: text("broker_id")
      .notNull()
      .references(() => broker.id, { onDelete: "cascade" }),
    template: text("template").notNull(),
    channelAddress: text("channel_address"),
    messages: bigint("messages", { mode: "number" }).notNull(),
    bytes: bigint("bytes", { mode: "number" }).notNull(),
    maxRatePerSecond: doublePrecision("max_rate_per_second").notNull(),
    firstSeen: timestamp("first_seen", { withTimezone: true }).notNull(),
    lastSeen: timestamp("last_seen", { withTimezone: true }).notNull(),
    /** At most MAX_CLIENTS_PER_TEMPLATE, the busiest first. */
    producers: jsonb("producers").$type<Array<{ clientId: string; messages: number }>>().notNull(),
    /** At most MAX_CLIENTS_PER_TEMPLATE, the first seen kept. */
    consumers: jsonb("consumers").$type<Array<{ clientId: string; filter: string }>>().notNull(),
  },
  (t) => [
    // Leads with (resolution, bucket_start): pruning and range reads walk it.
    primaryKey({ columns: [t.resolution, t.bucketStart, t.brokerId, t.template] }),
    index("observation_rollup_topic_idx").on(t.brokerId, t.template, t.resolution, t.bucketStart),
  ],
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
export type BrokerLink = typeof brokerLink.$inferSelect;
export type BrokerTopic = typeof brokerTopic.$inferSelect;
export type IngestBatch = typeof ingestBatch.$inferSelect;
export type Observation = typeof observation.$inferSelect;
export type ObservationRollup = typeof observationRollup.$inferSelect;

// --- Catalog: applications, their versioned contracts, and the search index ---

/** Lifecycle of a published contract version. */
export const versionStateEnum = pgEnum("version_state", ["draft", "released", "deprecated", "retired"]);

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/** What an application is in the mesh: a micro-integration at the edge (source: system → events; target: events → system), a service, or a gateway/bridge. */
export const APPLICATION_KINDS = ["source-integration", "target-integration", "service", "gateway"] as const;
export type ApplicationKind = (typeof APPLICATION_KINDS)[number];
/** Kinds of system integrations connect. */
export const SYSTEM_TYPES = ["erp", "crm", "scm", "database", "file-store", "saas", "analytics", "other"] as const;
export type SystemType = (typeof SYSTEM_TYPES)[number];
/** How an application connects a system: reads changes from it (source) or delivers events into it (target). */
export const SYSTEM_ROLES = ["source", "target"] as const;
export type SystemRole = (typeof SYSTEM_ROLES)[number];

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
    /** `review`: every change needs an approved change request; null or `direct`: compatible changes may publish directly. */
    reviewPolicy: text("review_policy"),
    /** Approvals a change request needs (lib/reviews `ApprovalRule`); null = the default rule. */
    approvalRule: jsonb("approval_rule").$type<{ owner: number; consumer: number }>(),
    /** Client ids of this application on the brokers, `*` for any run of characters (`machine-monitor-*`). */
    clientIdPatterns: text("client_id_patterns").array().notNull().default(sql`'{}'::text[]`),
    /** How the registry names the subjects of this contract's messages; null = `channel-message`. */
    subjectNaming: text("subject_naming").$type<SubjectNaming>(),
    /** APPLICATION_KINDS; null = not said (shown as a service) */
    kind: text("kind").$type<ApplicationKind>(),
    /** `contract`: kind and systems come from the latest contract's `x-meshport-kind`/`x-meshport-systems`; `portal`: set in the UI */
    kindSource: text("kind_source").$type<"contract" | "portal">(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("application_team_idx").on(t.teamId), index("application_kind_idx").on(t.kind)],
);

/** A system integrations connect (an ERP, a CRM, a database, a file store…): a catalog entry of its own. */
export const system = pgTable("system", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull().unique(),
  /** SYSTEM_TYPES */
  type: text("type").$type<SystemType>().notNull().default("other"),
  /** owning team; null when nobody owns it yet (created from a contract of another team) */
  teamId: text("team_id").references(() => team.id, { onDelete: "set null" }),
  description: text("description").notNull().default(""),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** An application connecting a system, as its source (reads from it) or target (delivers into it). */
export const applicationSystem = pgTable(
  "application_system",
  {
    applicationId: text("application_id")
      .notNull()
      .references(() => application.id, { onDelete: "cascade" }),
    systemId: text("system_id")
      .notNull()
      .references(() => system.id, { onDelete: "cascade" }),
    role: text("role").$type<SystemRole>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.applicationId, t.systemId, t.role] }), index("application_system_system_idx").on(t.systemId)],
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
    /** When the registry subjects of this released version were written (null: not yet, or a draft). */
    subjectsRegisteredAt: timestamp("subjects_registered_at", { withTimezone: true }),
    /** The change request that published this version, if any. */
    changeRequestId: text("change_request_id"),
    /** An admin published this breaking change without the approvals, for this reason. */
    overrideReason: text("override_reason"),
    overrideByLabel: text("override_by_label"),
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
    /**
     * The application's slug (slugs never change), copied so that hits are ordered by application without joining
     * every match to it: a frequent word or field has thousands.
     */
    applicationSlug: text("application_slug").notNull(),
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
  },
  (t) => [
    index("catalog_entry_app_idx").on(t.applicationId),
    index("catalog_entry_topic_idx").on(t.kind, t.levelCount, t.firstLevel),
    // In the order of its hits (application, entry), a field search reads its page and count from the index alone.
    index("catalog_entry_field_idx").on(t.fieldName, t.applicationSlug, t.id),
    index("catalog_entry_field_path_idx").on(sql`lower(${t.fieldPath})`, t.applicationSlug, t.id),
  ],
);

/**
 * The words of every search-index entry, in a table of their own: a frequent word matches tens of thousands of
 * entries, and ranking them reads every one; here a match costs a narrow row (the vector, the slug that orders
 * hits, the kind that filters them), not the entry's display columns. Written by the database itself: a trigger on
 * `catalog_entry` (migration 0014) derives each row when an entry is inserted or its text changes, as
 * `setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('english', body), 'B')`, and the row goes
 * with its entry.
 */
export const catalogWord = pgTable(
  "catalog_word",
  {
    entryId: bigint("entry_id", { mode: "number" })
      .primaryKey()
      .references(() => catalogEntry.id, { onDelete: "cascade" }),
    applicationSlug: text("application_slug").notNull(),
    kind: text("kind", { enum: ["application", "channel", "message", "field"] }).notNull(),
    search: tsvector("search").notNull(),
  },
  (t) => [index("catalog_word_search_idx").using("gin", t.search)],
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
    /**
     * Canonical text the hash covers: JSON (sorted keys, no whitespace) for JSON Schema and Avro, the normalised
     * `.proto` text for Protobuf.
     */
    canonical: text("canonical").notNull(),
    /**
     * The schema references (Confluent `references`: name, subject, version), in order. Part of the identity:
     * the hash covers them too when there are any.
     */
    references: jsonb("references").$type<SchemaReference[]>().notNull().default(sql`'[]'::jsonb`),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("schema_hash_idx").on(t.hash)],
);

/** A schema's reference to a version of another subject, as Confluent clients send it. */
export interface SchemaReference {
  /** The name the referring schema uses: an Avro full name, a JSON `$ref` URL, a Protobuf import path. */
  name: string;
  subject: string;
  version: number;
}

/** Confluent's compatibility levels and registry modes. */
export type RegistryMode = "READWRITE" | "READONLY" | "IMPORT";
/** How the subjects of a contract's messages are named (per application). */
export type SubjectNaming = "channel-message" | "topic" | "record";

/**
 * A subject of the mesh-wide registry: a named line of schema versions with its own compatibility and mode.
 * Governed subjects are written by contract releases (one per message of a channel, and per part); direct
 * subjects are registered over the Confluent-compatible API and may be linked to a contract's channel.
 */
export const registrySubject = pgTable(
  "registry_subject",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** `true`: the contract of `applicationId` writes this subject; registrations must equal one of its versions. */
    governed: boolean("governed").notNull().default(false),
    /** The application whose contract governs the subject, or to whose channel a direct subject is linked. */
    applicationId: text("application_id").references(() => application.id, { onDelete: "set null" }),
    channel: text("channel"),
    messageKey: text("message_key"),
    /** Which schema of the message: `payload`, `headers`, or `key` (a Kafka binding's key schema). */
    part: text("part", { enum: ["payload", "headers", "key"] }),
    /** The team that owns a direct subject (null: only admins change it); governed subjects use the application's. */
    teamId: text("team_id").references(() => team.id, { onDelete: "set null" }),
    /** Compatibility override (Confluent level); null inherits the application's, then the global level. */
    compatibility: text("compatibility"),
    /** Mode override; null inherits the global mode. */
    mode: text("mode").$type<RegistryMode>(),
    /** Soft-deleted (Confluent `DELETE /subjects/{s}`); a permanent delete removes the row. */
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("registry_subject_name_idx").on(t.name),
    // `subjectPrefix` look-ups: LIKE 'prefix%' under any collation.
    index("registry_subject_name_prefix_idx").using("btree", t.name.op("text_pattern_ops")),
    index("registry_subject_app_idx").on(t.applicationId, t.channel),
  ],
);

/** One version of a subject: a global schema id under a version number. */
export const registrySubjectVersion = pgTable(
  "registry_subject_version",
  {
    subjectId: text("subject_id")
      .notNull()
      .references(() => registrySubject.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    schemaId: integer("schema_id")
      .notNull()
      .references(() => registrySchema.id, { onDelete: "restrict" }),
    /** The contract version that released this subject version (governed subjects). */
    contractVersionId: text("contract_version_id").references(() => contractVersion.id, { onDelete: "set null" }),
    /** The compatibility level this version was checked under when it was registered. */
    compatibility: text("compatibility").notNull(),
    registeredByLabel: text("registered_by_label").notNull(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.subjectId, t.version] }),
    index("registry_subject_version_schema_idx").on(t.schemaId),
  ],
);

/** Which schema references which subject version (`referencedby`, and refusing to delete what is referenced). */
export const registrySchemaReference = pgTable(
  "registry_schema_reference",
  {
    schemaId: integer("schema_id")
      .notNull()
      .references(() => registrySchema.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    name: text("name").notNull(),
    subject: text("subject").notNull(),
    version: integer("version").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.schemaId, t.position] }),
    index("registry_schema_reference_target_idx").on(t.subject, t.version),
  ],
);

/** The registry-wide compatibility level and mode: one row (id = 1). */
export const registryConfig = pgTable("registry_config", {
  id: integer("id").primaryKey(),
  /** null: Confluent's default, BACKWARD. */
  compatibility: text("compatibility"),
  /** null: READWRITE. */
  mode: text("mode").$type<RegistryMode>(),
  updatedAt: updatedAt(),
});

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
export type System = typeof system.$inferSelect;
export type ApplicationSystem = typeof applicationSystem.$inferSelect;
export type ContractVersion = typeof contractVersion.$inferSelect;
export type CatalogEntry = typeof catalogEntry.$inferSelect;
export type VersionState = (typeof versionStateEnum.enumValues)[number];
export type RegistrySchema = typeof registrySchema.$inferSelect;
export type RegistrySubject = typeof registrySubject.$inferSelect;
export type RegistrySubjectVersion = typeof registrySubjectVersion.$inferSelect;
export type Flow = typeof flow.$inferSelect;

// --- Change review: change requests, their revisions, reviewers and conversation ---

/** Where a change request stands. */
export const changeRequestStateEnum = pgEnum("change_request_state", ["open", "changes_requested", "approved", "published", "rejected", "withdrawn"]);

/** A proposed new version of an application's contract, under review. */
export const changeRequest = pgTable(
  "change_request",
  {
    id: text("id").primaryKey(),
    /** Portal-wide number people cite (`#12`). */
    number: integer("number").notNull().unique().generatedAlwaysAsIdentity(),
    applicationId: text("application_id")
      .notNull()
      .references(() => application.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    state: changeRequestStateEnum("state").notNull().default("open"),
    authorId: text("author_id").notNull(),
    authorLabel: text("author_label").notNull(),
    /** Number of the current revision (1 for the first). */
    revision: integer("revision").notNull().default(1),
    /** The current revision breaks someone under the application's mode. */
    breaking: boolean("breaking").notNull().default(false),
    publishedVersionId: text("published_version_id").references(() => contractVersion.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    closedAt: timestamp("closed_at", { withTimezone: true }),
  },
  (t) => [index("change_request_app_idx").on(t.applicationId, t.state), index("change_request_state_idx").on(t.state, t.updatedAt), index("change_request_author_idx").on(t.authorId)],
);

/** One submitted proposal of a change request: the files, the evaluation and the impact as they were computed. */
export const changeRequestRevision = pgTable(
  "change_request_revision",
  {
    changeRequestId: text("change_request_id")
      .notNull()
      .references(() => changeRequest.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    files: jsonb("files").$type<Record<string, string>>().notNull(),
    rootFile: text("root_file").notNull(),
    version: text("version").notNull(),
    contentHash: text("content_hash").notNull(),
    contract: jsonb("contract").$type<Contract>().notNull(),
    /** The registry's ChangeEvaluation (lib/reviews types it). */
    evaluation: jsonb("evaluation").$type<Record<string, unknown>>().notNull(),
    /** The consumers and producers the change affects (lib/reviews types it). */
    impact: jsonb("impact").$type<Record<string, unknown>>().notNull(),
    /** Fingerprint of the stored versions the evaluation saw; another publish changes it. */
    baselineKey: text("baseline_key").notNull(),
    evaluatedAt: timestamp("evaluated_at", { withTimezone: true }).notNull().defaultNow(),
    createdById: text("created_by_id").notNull(),
    createdByLabel: text("created_by_label").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.changeRequestId, t.number] })],
);

/** A team asked to review a change request: the owning team, or a consumer team the change affects. */
export const changeRequestReviewer = pgTable(
  "change_request_reviewer",
  {
    changeRequestId: text("change_request_id")
      .notNull()
      .references(() => changeRequest.id, { onDelete: "cascade" }),
    teamId: text("team_id")
      .notNull()
      .references(() => team.id, { onDelete: "cascade" }),
    reason: text("reason", { enum: ["owner", "consumer", "producer"] }).notNull(),
    /** Approvals this team must give on the current revision; 0 = asked, not required. */
    requiredApprovals: integer("required_approvals").notNull(),
    /** Why this team is asked: the affected applications. */
    applications: text("applications").array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [primaryKey({ columns: [t.changeRequestId, t.teamId] }), index("change_request_reviewer_team_idx").on(t.teamId)],
);

/** The history of a change request: revisions, comments, decisions, re-evaluations and its outcome, in order. */
export const reviewEvent = pgTable(
  "review_event",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    changeRequestId: text("change_request_id")
      .notNull()
      .references(() => changeRequest.id, { onDelete: "cascade" }),
    /** The revision the event is about. */
    revision: integer("revision").notNull(),
    kind: text("kind", {
      enum: ["opened", "revised", "comment", "approved", "changes_requested", "reevaluated", "publish_blocked", "published", "override", "rejected", "withdrawn"],
    }).notNull(),
    actorId: text("actor_id").notNull(),
    actorLabel: text("actor_label").notNull(),
    /** For decisions: the reviewer teams the decision counts for. */
    teamIds: text("team_ids").array().notNull().default(sql`'{}'::text[]`),
    body: text("body").notNull().default(""),
    /** A comment on one finding: its rule and path in the evaluation. */
    finding: jsonb("finding").$type<{ rule: string; path: string | null; baseline?: string | null } | null>(),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index("review_event_request_idx").on(t.changeRequestId, t.id)],
);

export type ChangeRequest = typeof changeRequest.$inferSelect;
export type ChangeRequestRevision = typeof changeRequestRevision.$inferSelect;
export type ChangeRequestReviewer = typeof changeRequestReviewer.$inferSelect;
export type ReviewEvent = typeof reviewEvent.$inferSelect;
export type ChangeRequestState = (typeof changeRequestStateEnum.enumValues)[number];

// --- Notifications: the in-app inbox and outgoing webhooks (a durable outbox) ---

/** One entry of a person's inbox. */
export const notification = pgTable(
  "notification",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    /** The event type, e.g. `review.requested`. */
    kind: text("kind").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull().default(""),
    /** Portal path the entry opens. */
    link: text("link").notNull(),
    readAt: timestamp("read_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("notification_user_idx").on(t.userId, t.id), index("notification_unread_idx").on(t.userId).where(sql`"read_at" is null`)],
);

/** An outgoing webhook: events POSTed, signed, to a URL; portal-wide (admins) or a team's (its maintainers). */
export const webhook = pgTable(
  "webhook",
  {
    id: text("id").primaryKey(),
    /** null: portal-wide, managed by admins. */
    teamId: text("team_id").references(() => team.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    url: text("url").notNull(),
    /** Event types delivered; `*` for every one. */
    events: text("events").array().notNull(),
    /** The signing secret, encrypted with the portal's secret (AES-256-GCM). */
    secretCiphertext: text("secret_ciphertext").notNull(),
    active: boolean("active").notNull().default(true),
    createdById: text("created_by_id").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("webhook_team_idx").on(t.teamId)],
);

/** One event to deliver to one webhook: the outbox row, written in the transaction of the change it reports. */
export const webhookDelivery = pgTable(
  "webhook_delivery",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhook.id, { onDelete: "cascade" }),
    eventId: uuid("event_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    state: text("state", { enum: ["pending", "delivered", "failed"] }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    /** A sender holds the row until then; another instance takes it over after. */
    leasedUntil: timestamp("leased_until", { withTimezone: true }),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
  },
  (t) => [index("webhook_delivery_due_idx").on(t.state, t.nextAttemptAt), index("webhook_delivery_webhook_idx").on(t.webhookId, t.id)],
);

/** Every attempt to deliver, with what the receiver answered. */
export const webhookAttempt = pgTable(
  "webhook_attempt",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deliveryId: bigint("delivery_id", { mode: "number" })
      .notNull()
      .references(() => webhookDelivery.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /** HTTP status; null when no answer came (refused, timed out). */
    status: integer("status"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [index("webhook_attempt_delivery_idx").on(t.deliveryId, t.id)],
);

export type Notification = typeof notification.$inferSelect;
export type Webhook = typeof webhook.$inferSelect;
export type WebhookDelivery = typeof webhookDelivery.$inferSelect;
export type WebhookAttempt = typeof webhookAttempt.$inferSelect;

// --- Drift: the contracts against what really flows ---

/** Where a drift finding stands: open, acknowledged by someone (with a note), or resolved (it stopped). */
export const driftStatusEnum = pgEnum("drift_status", ["open", "acknowledged", "resolved"]);

/**
 * One difference between the contracts and what the agents observe, per rule and subject (broker, template, channel,
 * application, client, message). Drawn by the rules of registry/drift; resolved when it stops, reopened when it returns.
 */
export const driftFinding = pgTable(
  "drift_finding",
  {
    id: text("id").primaryKey(),
    /** sha256 of the subject (rule and its parts): one finding per subject, whatever the lengths of its parts. */
    subjectKey: text("subject_key").notNull(),
    rule: text("rule").$type<DriftRuleId>().notNull(),
    severity: text("severity").$type<DriftSeverity>().notNull(),
    status: driftStatusEnum("status").notNull().default("open"),
    brokerId: text("broker_id").references(() => broker.id, { onDelete: "cascade" }),
    /** The observed topic template. */
    template: text("template"),
    /** The contract channel address. */
    channel: text("channel"),
    applicationId: text("application_id").references(() => application.id, { onDelete: "cascade" }),
    clientId: text("client_id"),
    messageKey: text("message_key"),
    summary: text("summary").notNull(),
    evidence: jsonb("evidence").$type<DriftEvidence>().notNull(),
    firstSeen: timestamp("first_seen", { withTimezone: true }).notNull(),
    lastSeen: timestamp("last_seen", { withTimezone: true }).notNull(),
    /** Times seen over all evaluations (saturating). */
    occurrences: bigint("occurrences", { mode: "number" }).notNull().default(0),
    /** The acknowledgement note, and who wrote it. */
    note: text("note"),
    acknowledgedByLabel: text("acknowledged_by_label"),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    /** Why it was resolved: it stopped, it is now documented, it was not seen any more. */
    resolution: text("resolution"),
    reopenedCount: integer("reopened_count").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("drift_finding_subject_idx").on(t.subjectKey),
    index("drift_finding_status_rule_idx").on(t.status, t.rule),
    index("drift_finding_application_idx").on(t.applicationId, t.status),
    index("drift_finding_broker_idx").on(t.brokerId, t.template),
    index("drift_finding_channel_idx").on(t.channel),
    index("drift_finding_last_seen_idx").on(t.lastSeen).where(sql`"status" <> 'resolved'`),
  ],
);

/** Every change of a finding's state, for its history and the dashboard's trends. */
export const driftFindingEvent = pgTable(
  "drift_finding_event",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    findingId: text("finding_id")
      .notNull()
      .references(() => driftFinding.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["opened", "reopened", "acknowledged", "unacknowledged", "resolved"] }).notNull(),
    /** The rule, copied so trends need no join. */
    rule: text("rule").$type<DriftRuleId>().notNull(),
    actorLabel: text("actor_label").notNull(),
    note: text("note").notNull().default(""),
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index("drift_finding_event_finding_idx").on(t.findingId, t.id), index("drift_finding_event_at_idx").on(t.at)],
);

/** When something was last observed on each channel an application's contract declares, on any broker (SILENT_CHANNEL). */
export const channelActivity = pgTable(
  "channel_activity",
  {
    applicationId: text("application_id")
      .notNull()
      .references(() => application.id, { onDelete: "cascade" }),
    channel: text("channel").notNull(),
    lastSeen: timestamp("last_seen", { withTimezone: true }).notNull(),
    /** The brokers it was seen on (a few). */
    brokerIds: text("broker_ids").array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [primaryKey({ columns: [t.applicationId, t.channel] })],
);

/** One row counting changes to what drift judges against (contracts, lifecycles, client-id patterns): caches key on it. */
export const catalogGeneration = pgTable("catalog_generation", {
  id: integer("id").primaryKey(),
  generation: bigint("generation", { mode: "number" }).notNull().default(0),
  updatedAt: updatedAt(),
});

export type DriftFinding = typeof driftFinding.$inferSelect;
export type DriftFindingEvent = typeof driftFindingEvent.$inferSelect;
export type DriftStatus = (typeof driftStatusEnum.enumValues)[number];
