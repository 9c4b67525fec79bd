-- Observations become partitioned by range of window_start, one partition per UTC day
-- (observation_pYYYYMMDD) and a DEFAULT one; drizzle-kit does not know partitioning, so the
-- table is rebuilt here by hand. The old table is renamed, its rows copied, then dropped.
ALTER TABLE "observation" RENAME TO "observation_unpartitioned";--> statement-breakpoint
ALTER TABLE "observation_unpartitioned" DROP CONSTRAINT "observation_broker_id_broker_id_fk";--> statement-breakpoint
DROP INDEX "observation_broker_template_idx";--> statement-breakpoint
-- Ids go on from the same sequence.
ALTER SEQUENCE "observation_id_seq" OWNED BY NONE;--> statement-breakpoint
CREATE TABLE "observation" (
	"id" bigint DEFAULT nextval('observation_id_seq'::regclass) NOT NULL,
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
	"consumers" jsonb NOT NULL,
	CONSTRAINT "observation_id_window_start_pk" PRIMARY KEY("id","window_start")
) PARTITION BY RANGE ("window_start");
--> statement-breakpoint
ALTER SEQUENCE "observation_id_seq" OWNED BY "observation"."id";--> statement-breakpoint
ALTER TABLE "observation" ADD CONSTRAINT "observation_broker_id_broker_id_fk" FOREIGN KEY ("broker_id") REFERENCES "public"."broker"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "observation_broker_template_idx" ON "observation" USING btree ("broker_id","template","window_start");--> statement-breakpoint
CREATE TABLE "observation_default" PARTITION OF "observation" DEFAULT;--> statement-breakpoint
-- One partition for every UTC day the kept rows start in, before they are copied.
DO $$
DECLARE
	day timestamp;
BEGIN
	FOR day IN SELECT DISTINCT date_trunc('day', "window_start" AT TIME ZONE 'UTC') FROM "observation_unpartitioned" LOOP
		EXECUTE format(
			'CREATE TABLE IF NOT EXISTS %I PARTITION OF "observation" FOR VALUES FROM (%L) TO (%L)',
			'observation_p' || to_char(day, 'YYYYMMDD'),
			to_char(day, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
			to_char(day + interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
		);
	END LOOP;
END
$$;
--> statement-breakpoint
INSERT INTO "observation" ("id", "broker_id", "batch_id", "template", "channel_address", "window_start", "window_end", "messages", "bytes", "min_size", "max_size", "rate_per_second", "qos", "retained", "content_kind", "producers", "consumers")
SELECT "id", "broker_id", "batch_id", "template", "channel_address", "window_start", "window_end", "messages", "bytes", "min_size", "max_size", "rate_per_second", "qos", "retained", "content_kind", "producers", "consumers"
FROM "observation_unpartitioned";
--> statement-breakpoint
DROP TABLE "observation_unpartitioned";--> statement-breakpoint
CREATE TABLE "observation_rollup" (
	"resolution" text NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"broker_id" text NOT NULL,
	"template" text NOT NULL,
	"channel_address" text,
	"messages" bigint NOT NULL,
	"bytes" bigint NOT NULL,
	"max_rate_per_second" double precision NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"producers" jsonb NOT NULL,
	"consumers" jsonb NOT NULL,
	CONSTRAINT "observation_rollup_resolution_bucket_start_broker_id_template_pk" PRIMARY KEY("resolution","bucket_start","broker_id","template")
);
--> statement-breakpoint
ALTER TABLE "observation_rollup" ADD CONSTRAINT "observation_rollup_broker_id_broker_id_fk" FOREIGN KEY ("broker_id") REFERENCES "public"."broker"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "observation_rollup_topic_idx" ON "observation_rollup" USING btree ("broker_id","template","resolution","bucket_start");
--> statement-breakpoint
-- The roll-ups of the kept observations, so history reads the same at every resolution.
INSERT INTO "observation_rollup" ("resolution", "bucket_start", "broker_id", "template", "channel_address", "messages", "bytes", "max_rate_per_second", "first_seen", "last_seen", "producers", "consumers")
SELECT r."resolution", g."bucket_start", g."broker_id", g."template", g."channel_address", g."messages", g."bytes", g."max_rate", g."first_seen", g."last_seen",
	COALESCE((
		SELECT jsonb_agg(jsonb_build_object('clientId', p."client_id", 'messages', p."messages") ORDER BY p."messages" DESC, p."client_id")
		FROM (
			SELECT e->>'clientId' AS "client_id", least(sum((e->>'messages')::numeric), 9007199254740991)::bigint AS "messages"
			FROM "observation" o CROSS JOIN LATERAL jsonb_array_elements(o."producers") AS e
			WHERE o."broker_id" = g."broker_id" AND o."template" = g."template"
				AND o."window_start" >= g."bucket_start" AND o."window_start" < g."bucket_start" + ('1 ' || r."resolution")::interval
			GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100
		) AS p
	), '[]'::jsonb),
	COALESCE((
		SELECT jsonb_agg(jsonb_build_object('clientId', c."client_id", 'filter', c."filter") ORDER BY c."seen", c."client_id", c."filter")
		FROM (
			SELECT e->>'clientId' AS "client_id", e->>'filter' AS "filter", min(o."window_start") AS "seen"
			FROM "observation" o CROSS JOIN LATERAL jsonb_array_elements(o."consumers") AS e
			WHERE o."broker_id" = g."broker_id" AND o."template" = g."template"
				AND o."window_start" >= g."bucket_start" AND o."window_start" < g."bucket_start" + ('1 ' || r."resolution")::interval
			GROUP BY 1, 2 ORDER BY 3, 1, 2 LIMIT 100
		) AS c
	), '[]'::jsonb)
FROM (VALUES ('hour'), ('day')) AS r("resolution")
CROSS JOIN LATERAL (
	SELECT date_trunc(r."resolution", "window_start" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS "bucket_start", "broker_id", "template",
		max("channel_address") AS "channel_address",
		least(sum("messages"), 9007199254740991)::bigint AS "messages", least(sum("bytes"), 9007199254740991)::bigint AS "bytes",
		max("rate_per_second") AS "max_rate", min("window_start") AS "first_seen", max("window_end") AS "last_seen"
	FROM "observation"
	GROUP BY 1, 2, 3
) AS g;
