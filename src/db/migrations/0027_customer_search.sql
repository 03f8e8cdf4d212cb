-- pg_trgm ships with PostgreSQL (a trusted extension: the database owner may create it) and PGlite.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "customers_search_idx" ON "customers" USING gin (lower(coalesce("name", '') || ' ' || coalesce("email", '') || ' ' || coalesce("external_id", '') || ' ' || regexp_replace(coalesce("phone", ''), '[^0-9]', '', 'g')) gin_trgm_ops);
