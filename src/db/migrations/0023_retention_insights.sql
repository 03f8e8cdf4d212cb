CREATE TABLE "experiences" (
	"customer_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "experiences_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"occurrence" integer NOT NULL,
	"source" text NOT NULL,
	"source_id" bigint NOT NULL,
	"order_id" bigint,
	"detail" text NOT NULL,
	"valence" text NOT NULL,
	"followed_up_at" timestamp with time zone,
	CONSTRAINT "experiences_customer_id_id_pk" PRIMARY KEY("customer_id","id")
);
--> statement-breakpoint
CREATE TABLE "outcome_cases" (
	"customer_id" bigint NOT NULL,
	"run_id" bigint NOT NULL,
	"experience_id" bigint NOT NULL,
	"cell" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"bought_again" boolean NOT NULL,
	"value_band" text NOT NULL,
	"value" numeric(14, 2) NOT NULL,
	CONSTRAINT "outcome_cases_customer_id_run_id_experience_id_pk" PRIMARY KEY("customer_id","run_id","experience_id")
);
--> statement-breakpoint
CREATE TABLE "retention_reports" (
	"run_id" bigint PRIMARY KEY NOT NULL,
	"outcomes" jsonb NOT NULL,
	"drivers" jsonb NOT NULL,
	"uplift" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retention_rules" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "retention_rules_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"key" text NOT NULL,
	"status" text NOT NULL,
	"customer_type" jsonb NOT NULL,
	"experience" text NOT NULL,
	"action" text NOT NULL,
	"text" text NOT NULL,
	"edited_text" text,
	"evidence" jsonb NOT NULL,
	"history" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	CONSTRAINT "retention_rules_key_unique" UNIQUE("key")
);
--> statement-breakpoint
ALTER TABLE "scores" ADD COLUMN "drivers" jsonb;--> statement-breakpoint
ALTER TABLE "scores" ADD COLUMN "uplift" double precision;--> statement-breakpoint
ALTER TABLE "scores" ADD COLUMN "uplift_source" text;--> statement-breakpoint
ALTER TABLE "scores" ADD COLUMN "incremental_value" double precision;--> statement-breakpoint
ALTER TABLE "scores" ADD COLUMN "worklist_holdout" boolean;--> statement-breakpoint
ALTER TABLE "worklist_decisions" ADD COLUMN "rule_id" bigint;--> statement-breakpoint
ALTER TABLE "worklist_decisions" ADD COLUMN "source" text DEFAULT 'worklist' NOT NULL;--> statement-breakpoint
ALTER TABLE "worklist_decisions" ADD COLUMN "incremental_value" numeric(14, 2);--> statement-breakpoint
CREATE INDEX "experiences_customer_at_idx" ON "experiences" USING btree ("customer_id","at");--> statement-breakpoint
CREATE INDEX "experiences_kind_at_idx" ON "experiences" USING btree ("kind","at");--> statement-breakpoint
CREATE INDEX "outcome_cases_cell_idx" ON "outcome_cases" USING btree ("run_id","cell");--> statement-breakpoint
CREATE INDEX "retention_rules_status_idx" ON "retention_rules" USING btree ("status");