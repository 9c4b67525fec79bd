DROP INDEX "catalog_entry_field_idx";--> statement-breakpoint
DROP INDEX "catalog_entry_field_path_idx";--> statement-breakpoint
ALTER TABLE "catalog_entry" ADD COLUMN "application_slug" text;--> statement-breakpoint
UPDATE "catalog_entry" SET "application_slug" = "application"."slug" FROM "application" WHERE "application"."id" = "catalog_entry"."application_id";--> statement-breakpoint
ALTER TABLE "catalog_entry" ALTER COLUMN "application_slug" SET NOT NULL;--> statement-breakpoint
CREATE INDEX "catalog_entry_field_idx" ON "catalog_entry" USING btree ("field_name","application_slug","id");--> statement-breakpoint
CREATE INDEX "catalog_entry_field_path_idx" ON "catalog_entry" USING btree (lower("field_path"),"application_slug","id");
