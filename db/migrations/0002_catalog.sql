CREATE TYPE "public"."version_state" AS ENUM('draft', 'released', 'deprecated', 'retired');--> statement-breakpoint
CREATE TABLE "application" (
	"id" text PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"team_id" text NOT NULL,
	"domain" text DEFAULT '' NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"compatibility_mode" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "application_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "catalog_entry" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"application_id" text NOT NULL,
	"version_id" text NOT NULL,
	"kind" text NOT NULL,
	"address" text,
	"message_key" text,
	"field_path" text,
	"field_name" text,
	"action" text,
	"title" text NOT NULL,
	"body" text DEFAULT '' NOT NULL,
	"level_count" integer,
	"first_level" text,
	"search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('simple', coalesce("title", '')), 'A') || setweight(to_tsvector('english', coalesce("body", '')), 'B')) STORED NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contract_version" (
	"id" text PRIMARY KEY NOT NULL,
	"application_id" text NOT NULL,
	"version" text NOT NULL,
	"major" integer NOT NULL,
	"minor" integer NOT NULL,
	"patch" integer NOT NULL,
	"prerelease" text DEFAULT '' NOT NULL,
	"state" "version_state" DEFAULT 'released' NOT NULL,
	"state_reason" text,
	"files" jsonb NOT NULL,
	"root_file" text NOT NULL,
	"asyncapi_version" text NOT NULL,
	"contract" jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"changelog" jsonb,
	"published_by_id" text NOT NULL,
	"published_by_label" text NOT NULL,
	"published_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "application" ADD CONSTRAINT "application_team_id_team_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."team"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "catalog_entry" ADD CONSTRAINT "catalog_entry_application_id_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "catalog_entry" ADD CONSTRAINT "catalog_entry_version_id_contract_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."contract_version"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_version" ADD CONSTRAINT "contract_version_application_id_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "application_team_idx" ON "application" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "catalog_entry_search_idx" ON "catalog_entry" USING gin ("search");--> statement-breakpoint
CREATE INDEX "catalog_entry_app_idx" ON "catalog_entry" USING btree ("application_id");--> statement-breakpoint
CREATE INDEX "catalog_entry_topic_idx" ON "catalog_entry" USING btree ("kind","level_count","first_level");--> statement-breakpoint
CREATE INDEX "catalog_entry_field_idx" ON "catalog_entry" USING btree ("field_name");--> statement-breakpoint
CREATE UNIQUE INDEX "contract_version_unique_idx" ON "contract_version" USING btree ("application_id","version");--> statement-breakpoint
CREATE INDEX "contract_version_hash_idx" ON "contract_version" USING btree ("application_id","content_hash");