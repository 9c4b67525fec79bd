CREATE TABLE "registry_config" (
	"id" integer PRIMARY KEY NOT NULL,
	"compatibility" text,
	"mode" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registry_schema_reference" (
	"schema_id" integer NOT NULL,
	"position" integer NOT NULL,
	"name" text NOT NULL,
	"subject" text NOT NULL,
	"version" integer NOT NULL,
	CONSTRAINT "registry_schema_reference_schema_id_position_pk" PRIMARY KEY("schema_id","position")
);
--> statement-breakpoint
CREATE TABLE "registry_subject" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"governed" boolean DEFAULT false NOT NULL,
	"application_id" text,
	"channel" text,
	"message_key" text,
	"part" text,
	"team_id" text,
	"compatibility" text,
	"mode" text,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registry_subject_version" (
	"subject_id" text NOT NULL,
	"version" integer NOT NULL,
	"schema_id" integer NOT NULL,
	"contract_version_id" text,
	"compatibility" text NOT NULL,
	"registered_by_label" text NOT NULL,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "registry_subject_version_subject_id_version_pk" PRIMARY KEY("subject_id","version")
);
--> statement-breakpoint
ALTER TABLE "application" ADD COLUMN "subject_naming" text;--> statement-breakpoint
ALTER TABLE "contract_version" ADD COLUMN "subjects_registered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "schema" ADD COLUMN "references" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "registry_schema_reference" ADD CONSTRAINT "registry_schema_reference_schema_id_schema_id_fk" FOREIGN KEY ("schema_id") REFERENCES "public"."schema"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registry_subject" ADD CONSTRAINT "registry_subject_application_id_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."application"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registry_subject" ADD CONSTRAINT "registry_subject_team_id_team_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."team"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registry_subject_version" ADD CONSTRAINT "registry_subject_version_subject_id_registry_subject_id_fk" FOREIGN KEY ("subject_id") REFERENCES "public"."registry_subject"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registry_subject_version" ADD CONSTRAINT "registry_subject_version_schema_id_schema_id_fk" FOREIGN KEY ("schema_id") REFERENCES "public"."schema"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registry_subject_version" ADD CONSTRAINT "registry_subject_version_contract_version_id_contract_version_id_fk" FOREIGN KEY ("contract_version_id") REFERENCES "public"."contract_version"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "registry_schema_reference_target_idx" ON "registry_schema_reference" USING btree ("subject","version");--> statement-breakpoint
CREATE UNIQUE INDEX "registry_subject_name_idx" ON "registry_subject" USING btree ("name");--> statement-breakpoint
CREATE INDEX "registry_subject_name_prefix_idx" ON "registry_subject" USING btree ("name" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "registry_subject_app_idx" ON "registry_subject" USING btree ("application_id","channel");--> statement-breakpoint
CREATE INDEX "registry_subject_version_schema_idx" ON "registry_subject_version" USING btree ("schema_id");--> statement-breakpoint
CREATE INDEX "audit_entry_subject_idx" ON "audit_entry" USING btree (("details"->>'subject'),"seq");--> statement-breakpoint
INSERT INTO "registry_config" ("id") VALUES (1) ON CONFLICT DO NOTHING;
