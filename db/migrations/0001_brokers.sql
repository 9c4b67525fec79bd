CREATE TABLE "broker" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"url" text DEFAULT '' NOT NULL,
	"protocol" text DEFAULT 'mqtt' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"agent_id" text,
	"agent_version" text,
	"agent_hostname" text,
	"broker_version" text,
	"last_report_at" timestamp with time zone,
	"last_window_start" timestamp with time zone,
	"last_window_end" timestamp with time zone,
	"capabilities" jsonb,
	"last_stats" jsonb,
	"last_drops" jsonb,
	"dropped_total" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "broker_bridge" (
	"id" text PRIMARY KEY NOT NULL,
	"from_broker_id" text NOT NULL,
	"to_broker_id" text NOT NULL,
	"topic_filter" text NOT NULL,
	"direction" text DEFAULT 'out' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "broker_topic" (
	"broker_id" text NOT NULL,
	"template" text NOT NULL,
	"channel" jsonb,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"total_messages" bigint NOT NULL,
	"total_bytes" bigint NOT NULL,
	"last_rate_per_second" double precision NOT NULL,
	"last_window_end" timestamp with time zone NOT NULL,
	"content_kind" text NOT NULL,
	"distinct_topics" integer NOT NULL,
	"topics" jsonb NOT NULL,
	"schema" jsonb,
	"samples" jsonb NOT NULL,
	"producers" jsonb NOT NULL,
	"consumers" jsonb NOT NULL,
	CONSTRAINT "broker_topic_broker_id_template_pk" PRIMARY KEY("broker_id","template")
);
--> statement-breakpoint
CREATE TABLE "ingest_batch" (
	"batch_id" uuid PRIMARY KEY NOT NULL,
	"broker_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"sequence" bigint NOT NULL,
	"token_id" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone NOT NULL,
	"templates" integer NOT NULL,
	"messages" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "observation" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"broker_id" text NOT NULL,
	"batch_id" uuid NOT NULL,
	"template" text NOT NULL,
	"channel_address" text,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone NOT NULL,
	"messages" bigint NOT NULL,
	"bytes" bigint NOT NULL,
	"min_size" integer NOT NULL,
	"max_size" integer NOT NULL,
	"rate_per_second" double precision NOT NULL,
	"qos" jsonb NOT NULL,
	"retained" bigint NOT NULL,
	"content_kind" text NOT NULL,
	"producers" jsonb NOT NULL,
	"consumers" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "broker_bridge" ADD CONSTRAINT "broker_bridge_from_broker_id_broker_id_fk" FOREIGN KEY ("from_broker_id") REFERENCES "public"."broker"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "broker_bridge" ADD CONSTRAINT "broker_bridge_to_broker_id_broker_id_fk" FOREIGN KEY ("to_broker_id") REFERENCES "public"."broker"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "broker_topic" ADD CONSTRAINT "broker_topic_broker_id_broker_id_fk" FOREIGN KEY ("broker_id") REFERENCES "public"."broker"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ingest_batch" ADD CONSTRAINT "ingest_batch_broker_id_broker_id_fk" FOREIGN KEY ("broker_id") REFERENCES "public"."broker"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "observation" ADD CONSTRAINT "observation_broker_id_broker_id_fk" FOREIGN KEY ("broker_id") REFERENCES "public"."broker"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "broker_bridge_unique_idx" ON "broker_bridge" USING btree ("from_broker_id","to_broker_id","topic_filter");--> statement-breakpoint
CREATE INDEX "broker_topic_last_seen_idx" ON "broker_topic" USING btree ("last_seen");--> statement-breakpoint
CREATE INDEX "ingest_batch_broker_idx" ON "ingest_batch" USING btree ("broker_id","received_at");--> statement-breakpoint
CREATE INDEX "observation_broker_template_idx" ON "observation" USING btree ("broker_id","template","window_start");