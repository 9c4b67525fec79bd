ALTER TABLE "application" ADD COLUMN "lint_policy" text;--> statement-breakpoint
ALTER TABLE "contract_version" ADD COLUMN "lint" jsonb;