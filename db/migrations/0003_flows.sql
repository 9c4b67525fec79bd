-- The mesh-wide schema registry and the flows of every contract version. Versions stored before this
-- migration have flows_derived_at null: the portal derives their flows and schemas at start-up, after the
-- migrations (lib/catalog/flows.ts backfillFlows), since the derivation is the TypeScript contract engine.
CREATE TABLE "flow" (
	"version_id" text NOT NULL,
	"channel" text NOT NULL,
	"action" text NOT NULL,
	"message_key" text NOT NULL,
	"payload_schema_id" integer,
	"headers_schema_id" integer,
	"operations" text[] DEFAULT '{}'::text[] NOT NULL,
	CONSTRAINT "flow_version_id_channel_action_message_key_pk" PRIMARY KEY("version_id","channel","action","message_key")
);
--> statement-breakpoint
CREATE TABLE "schema" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "schema_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"hash" text NOT NULL,
	"format" text NOT NULL,
	"canonical" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "contract_version" ADD COLUMN "flows_derived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "flow" ADD CONSTRAINT "flow_version_id_contract_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."contract_version"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flow" ADD CONSTRAINT "flow_payload_schema_id_schema_id_fk" FOREIGN KEY ("payload_schema_id") REFERENCES "public"."schema"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flow" ADD CONSTRAINT "flow_headers_schema_id_schema_id_fk" FOREIGN KEY ("headers_schema_id") REFERENCES "public"."schema"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "flow_channel_action_idx" ON "flow" USING btree ("channel","action");--> statement-breakpoint
CREATE INDEX "flow_payload_schema_idx" ON "flow" USING btree ("payload_schema_id");--> statement-breakpoint
CREATE INDEX "flow_headers_schema_idx" ON "flow" USING btree ("headers_schema_id");--> statement-breakpoint
CREATE UNIQUE INDEX "schema_hash_idx" ON "schema" USING btree ("hash");