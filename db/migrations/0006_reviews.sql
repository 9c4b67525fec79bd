CREATE TYPE "public"."change_request_state" AS ENUM('open', 'changes_requested', 'approved', 'published', 'rejected', 'withdrawn');--> statement-breakpoint
CREATE TABLE "change_request" (
	"id" text PRIMARY KEY NOT NULL,
	"number" integer GENERATED ALWAYS AS IDENTITY (sequence name "change_request_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"application_id" text NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"state" "change_request_state" DEFAULT 'open' NOT NULL,
	"author_id" text NOT NULL,
	"author_label" text NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"breaking" boolean DEFAULT false NOT NULL,
	"published_version_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	CONSTRAINT "change_request_number_unique" UNIQUE("number")
);
--> statement-breakpoint
CREATE TABLE "change_request_reviewer" (
	"change_request_id" text NOT NULL,
	"team_id" text NOT NULL,
	"reason" text NOT NULL,
	"required_approvals" integer NOT NULL,
	"applications" text[] DEFAULT '{}'::text[] NOT NULL,
	CONSTRAINT "change_request_reviewer_change_request_id_team_id_pk" PRIMARY KEY("change_request_id","team_id")
);
--> statement-breakpoint
CREATE TABLE "change_request_revision" (
	"change_request_id" text NOT NULL,
	"number" integer NOT NULL,
	"files" jsonb NOT NULL,
	"root_file" text NOT NULL,
	"version" text NOT NULL,
	"content_hash" text NOT NULL,
	"contract" jsonb NOT NULL,
	"evaluation" jsonb NOT NULL,
	"impact" jsonb NOT NULL,
	"baseline_key" text NOT NULL,
	"evaluated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" text NOT NULL,
	"created_by_label" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "change_request_revision_change_request_id_number_pk" PRIMARY KEY("change_request_id","number")
);
--> statement-breakpoint
CREATE TABLE "notification" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"body" text DEFAULT '' NOT NULL,
	"link" text NOT NULL,
	"read_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "review_event" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"change_request_id" text NOT NULL,
	"revision" integer NOT NULL,
	"kind" text NOT NULL,
	"actor_id" text NOT NULL,
	"actor_label" text NOT NULL,
	"team_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"body" text DEFAULT '' NOT NULL,
	"finding" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"events" text[] NOT NULL,
	"secret_ciphertext" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_by_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_attempt" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" bigint NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" integer,
	"error" text,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_delivery" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"webhook_id" text NOT NULL,
	"event_id" uuid NOT NULL,
	"event_type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"leased_until" timestamp with time zone,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "application" ADD COLUMN "review_policy" text;--> statement-breakpoint
ALTER TABLE "application" ADD COLUMN "approval_rule" jsonb;--> statement-breakpoint
ALTER TABLE "application" ADD COLUMN "client_id_patterns" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "contract_version" ADD COLUMN "change_request_id" text;--> statement-breakpoint
ALTER TABLE "contract_version" ADD COLUMN "override_reason" text;--> statement-breakpoint
ALTER TABLE "contract_version" ADD COLUMN "override_by_label" text;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_application_id_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_published_version_id_contract_version_id_fk" FOREIGN KEY ("published_version_id") REFERENCES "public"."contract_version"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_reviewer" ADD CONSTRAINT "change_request_reviewer_change_request_id_change_request_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_request"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_reviewer" ADD CONSTRAINT "change_request_reviewer_team_id_team_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."team"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_revision" ADD CONSTRAINT "change_request_revision_change_request_id_change_request_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_request"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification" ADD CONSTRAINT "notification_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_event" ADD CONSTRAINT "review_event_change_request_id_change_request_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_request"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook" ADD CONSTRAINT "webhook_team_id_team_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."team"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_attempt" ADD CONSTRAINT "webhook_attempt_delivery_id_webhook_delivery_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."webhook_delivery"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_delivery" ADD CONSTRAINT "webhook_delivery_webhook_id_webhook_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhook"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "change_request_app_idx" ON "change_request" USING btree ("application_id","state");--> statement-breakpoint
CREATE INDEX "change_request_state_idx" ON "change_request" USING btree ("state","updated_at");--> statement-breakpoint
CREATE INDEX "change_request_author_idx" ON "change_request" USING btree ("author_id");--> statement-breakpoint
CREATE INDEX "change_request_reviewer_team_idx" ON "change_request_reviewer" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "notification_user_idx" ON "notification" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "notification_unread_idx" ON "notification" USING btree ("user_id") WHERE "read_at" is null;--> statement-breakpoint
CREATE INDEX "review_event_request_idx" ON "review_event" USING btree ("change_request_id","id");--> statement-breakpoint
CREATE INDEX "webhook_team_idx" ON "webhook" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "webhook_attempt_delivery_idx" ON "webhook_attempt" USING btree ("delivery_id","id");--> statement-breakpoint
CREATE INDEX "webhook_delivery_due_idx" ON "webhook_delivery" USING btree ("state","next_attempt_at");--> statement-breakpoint
CREATE INDEX "webhook_delivery_webhook_idx" ON "webhook_delivery" USING btree ("webhook_id","id");