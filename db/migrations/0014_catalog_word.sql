CREATE TABLE "catalog_word" (
	"entry_id" bigint PRIMARY KEY NOT NULL,
	"application_slug" text NOT NULL,
	"kind" text NOT NULL,
	"search" "tsvector" NOT NULL
);
--> statement-breakpoint
INSERT INTO "catalog_word" ("entry_id", "application_slug", "kind", "search") SELECT "id", "application_slug", "kind", "search" FROM "catalog_entry";--> statement-breakpoint
ALTER TABLE "catalog_word" ADD CONSTRAINT "catalog_word_entry_id_catalog_entry_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."catalog_entry"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE FUNCTION "catalog_words_of_new_entries"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "catalog_word" ("entry_id", "application_slug", "kind", "search")
  SELECT "id", "application_slug", "kind",
    setweight(to_tsvector('simple', coalesce("title", '')), 'A') || setweight(to_tsvector('english', coalesce("body", '')), 'B')
  FROM "new_entries";
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "catalog_entry_words_inserted" AFTER INSERT ON "catalog_entry" REFERENCING NEW TABLE AS "new_entries" FOR EACH STATEMENT EXECUTE FUNCTION "catalog_words_of_new_entries"();--> statement-breakpoint
CREATE FUNCTION "catalog_words_of_changed_entry"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "catalog_word" SET "application_slug" = NEW."application_slug", "kind" = NEW."kind",
    "search" = setweight(to_tsvector('simple', coalesce(NEW."title", '')), 'A') || setweight(to_tsvector('english', coalesce(NEW."body", '')), 'B')
  WHERE "entry_id" = NEW."id";
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "catalog_entry_words_changed" AFTER UPDATE OF "title", "body", "kind", "application_slug" ON "catalog_entry" FOR EACH ROW EXECUTE FUNCTION "catalog_words_of_changed_entry"();--> statement-breakpoint
CREATE INDEX "catalog_word_search_idx" ON "catalog_word" USING gin ("search");--> statement-breakpoint
DROP INDEX "catalog_entry_search_idx";--> statement-breakpoint
ALTER TABLE "catalog_entry" DROP COLUMN "search";--> statement-breakpoint
ANALYZE "catalog_word";
