CREATE TABLE "application_system" (
	"application_id" text NOT NULL,
	"system_id" text NOT NULL,
	"role" text NOT NULL,
	CONSTRAINT "application_system_application_id_system_id_role_pk" PRIMARY KEY("application_id","system_id","role")
);
--> statement-breakpoint
CREATE TABLE "broker_link" (
	"broker_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"remote" text NOT NULL,
	"remote_broker_id" text,
	"direction" text NOT NULL,
	"topics" text[] DEFAULT '{}'::text[] NOT NULL,
	"state" text,
	"first_seen" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "broker_link_broker_id_kind_name_pk" PRIMARY KEY("broker_id","kind","name")
);
--> statement-breakpoint
CREATE TABLE "system" (
	"id" text PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"type" text DEFAULT 'other' NOT NULL,
	"team_id" text,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "system_slug_unique" UNIQUE("slug"),
	CONSTRAINT "system_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "application" ADD COLUMN "kind" text;--> statement-breakpoint
ALTER TABLE "application" ADD COLUMN "kind_source" text;--> statement-breakpoint
ALTER TABLE "broker" ADD COLUMN "inventory" jsonb;--> statement-breakpoint
ALTER TABLE "broker" ADD COLUMN "inventory_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "application_system" ADD CONSTRAINT "application_system_application_id_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "application_system" ADD CONSTRAINT "application_system_system_id_system_id_fk" FOREIGN KEY ("system_id") REFERENCES "public"."system"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "broker_link" ADD CONSTRAINT "broker_link_broker_id_broker_id_fk" FOREIGN KEY ("broker_id") REFERENCES "public"."broker"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "broker_link" ADD CONSTRAINT "broker_link_remote_broker_id_broker_id_fk" FOREIGN KEY ("remote_broker_id") REFERENCES "public"."broker"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "system" ADD CONSTRAINT "system_team_id_team_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."team"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "application_system_system_idx" ON "application_system" USING btree ("system_id");--> statement-breakpoint
CREATE INDEX "broker_link_remote_idx" ON "broker_link" USING btree ("remote_broker_id");--> statement-breakpoint
CREATE INDEX "application_kind_idx" ON "application" USING btree ("kind");