CREATE TABLE "churn_scores" (
	"run_id" bigint NOT NULL,
	"customer_id" bigint NOT NULL,
	"subscription_id" text NOT NULL,
	"probability" double precision NOT NULL,
	"next_renewal_churn" double precision,
	"factors" text[] NOT NULL,
	CONSTRAINT "churn_scores_run_id_customer_id_pk" PRIMARY KEY("run_id","customer_id")
);
--> statement-breakpoint
CREATE INDEX "churn_scores_customer_idx" ON "churn_scores" USING btree ("customer_id","run_id");