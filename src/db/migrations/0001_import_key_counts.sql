CREATE TABLE "import_key_counts" (
	"import_id" bigint NOT NULL,
	"key" text NOT NULL,
	"seen" bigint NOT NULL,
	CONSTRAINT "import_key_counts_import_id_key_pk" PRIMARY KEY("import_id","key")
);
--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "rejected_bytes" bigint DEFAULT 0 NOT NULL;