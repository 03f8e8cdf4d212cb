CREATE TABLE "duplicate_pairs" (
	"first_id" bigint NOT NULL,
	"second_id" bigint NOT NULL,
	"score" numeric(4, 3) NOT NULL,
	"evidence" jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"found_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" text,
	CONSTRAINT "duplicate_pairs_first_id_second_id_pk" PRIMARY KEY("first_id","second_id")
);
--> statement-breakpoint
CREATE TABLE "merges" (
	"customer_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "merges_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"from_id" bigint NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"profiles" jsonb NOT NULL,
	"moved" jsonb NOT NULL,
	"deleted" jsonb NOT NULL,
	"undone_at" timestamp with time zone,
	"undone_by" text,
	CONSTRAINT "merges_customer_id_id_pk" PRIMARY KEY("customer_id","id")
);
--> statement-breakpoint
CREATE TABLE "quality_snapshots" (
	"day" text PRIMARY KEY NOT NULL,
	"customers" bigint NOT NULL,
	"score" numeric(5, 2) NOT NULL,
	"counts" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "record_edits" (
	"customer_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "record_edits_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"field" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"actor" text NOT NULL,
	"reason" text,
	CONSTRAINT "record_edits_customer_id_id_pk" PRIMARY KEY("customer_id","id")
);
--> statement-breakpoint
CREATE TABLE "record_warnings" (
	"customer_id" bigint NOT NULL,
	"field" text NOT NULL,
	"code" text NOT NULL,
	"message" text NOT NULL,
	"suggestion" text,
	"found_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "record_warnings_customer_id_field_code_pk" PRIMARY KEY("customer_id","field","code")
);
--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "price" numeric(14, 2);--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "cost" numeric(14, 2);--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "currency" text;--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "duplicate_pairs_queue_idx" ON "duplicate_pairs" USING btree ("status","score");--> statement-breakpoint
CREATE INDEX "duplicate_pairs_second_idx" ON "duplicate_pairs" USING btree ("second_id");--> statement-breakpoint
CREATE INDEX "merges_from_idx" ON "merges" USING btree ("from_id");--> statement-breakpoint
CREATE INDEX "record_warnings_code_idx" ON "record_warnings" USING btree ("code");