CREATE TYPE "public"."drift_status" AS ENUM('open', 'acknowledged', 'resolved');--> statement-breakpoint
CREATE TABLE "catalog_generation" (
	"id" integer PRIMARY KEY NOT NULL,
	"generation" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "channel_activity" (
	"application_id" text NOT NULL,
	"channel" text NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"broker_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	CONSTRAINT "channel_activity_application_id_channel_pk" PRIMARY KEY("application_id","channel")
);
--> statement-breakpoint
CREATE TABLE "drift_finding" (
	"id" text PRIMARY KEY NOT NULL,
	"subject_key" text NOT NULL,
	"rule" text NOT NULL,
	"severity" text NOT NULL,
	"status" "drift_status" DEFAULT 'open' NOT NULL,
	"broker_id" text,
	"template" text,
	"channel" text,
	"application_id" text,
	"client_id" text,
	"message_key" text,
	"summary" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"occurrences" bigint DEFAULT 0 NOT NULL,
	"note" text,
	"acknowledged_by_label" text,
	"acknowledged_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	"resolution" text,
	"reopened_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "drift_finding_event" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"finding_id" text NOT NULL,
	"kind" text NOT NULL,
	"rule" text NOT NULL,
	"actor_label" text NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "channel_activity" ADD CONSTRAINT "channel_activity_application_id_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_finding" ADD CONSTRAINT "drift_finding_broker_id_broker_id_fk" FOREIGN KEY ("broker_id") REFERENCES "public"."broker"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_finding" ADD CONSTRAINT "drift_finding_application_id_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_finding_event" ADD CONSTRAINT "drift_finding_event_finding_id_drift_finding_id_fk" FOREIGN KEY ("finding_id") REFERENCES "public"."drift_finding"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "drift_finding_subject_idx" ON "drift_finding" USING btree ("subject_key");--> statement-breakpoint
CREATE INDEX "drift_finding_status_rule_idx" ON "drift_finding" USING btree ("status","rule");--> statement-breakpoint
CREATE INDEX "drift_finding_application_idx" ON "drift_finding" USING btree ("application_id","status");--> statement-breakpoint
CREATE INDEX "drift_finding_broker_idx" ON "drift_finding" USING btree ("broker_id","template");--> statement-breakpoint
CREATE INDEX "drift_finding_channel_idx" ON "drift_finding" USING btree ("channel");--> statement-breakpoint
CREATE INDEX "drift_finding_last_seen_idx" ON "drift_finding" USING btree ("last_seen") WHERE "status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "drift_finding_event_finding_idx" ON "drift_finding_event" USING btree ("finding_id","id");--> statement-breakpoint
CREATE INDEX "drift_finding_event_at_idx" ON "drift_finding_event" USING btree ("at");--> statement-breakpoint
INSERT INTO "catalog_generation" ("id", "generation") VALUES (1, 0) ON CONFLICT DO NOTHING;
