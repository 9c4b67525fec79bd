ALTER TABLE "api_token" ADD COLUMN "broker_binding" text;--> statement-breakpoint
-- Existing agent tokens are bound to the one broker they have reported for; a token with
-- no report on record, or reports for several brokers, stays unbound and is refused until
-- an admin creates a bound token (its reports could have claimed any broker).
UPDATE "api_token" SET "broker_binding" = reported."broker_id"
FROM (
  SELECT "token_id", min("broker_id") AS "broker_id"
  FROM "ingest_batch"
  WHERE "token_id" IS NOT NULL
  GROUP BY "token_id"
  HAVING count(DISTINCT "broker_id") = 1
) AS reported
WHERE reported."token_id" = "api_token"."id" AND 'agent:report' = ANY("api_token"."scopes");
