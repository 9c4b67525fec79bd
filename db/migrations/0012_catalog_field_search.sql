DROP INDEX "catalog_entry_field_idx";--> statement-breakpoint
CREATE INDEX "catalog_entry_field_path_idx" ON "catalog_entry" USING btree (lower("field_path"));--> statement-breakpoint
CREATE INDEX "catalog_entry_field_idx" ON "catalog_entry" USING btree ("field_name","application_id","id");