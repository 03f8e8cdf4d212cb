CREATE TABLE "activity_alerts" (
	"customer_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "activity_alerts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"threshold" double precision NOT NULL,
	"from_p_alive" double precision NOT NULL,
	"to_p_alive" double precision NOT NULL,
	"value_at_stake" numeric(14, 2),
	"reason" text NOT NULL,
	CONSTRAINT "activity_alerts_customer_id_id_pk" PRIMARY KEY("customer_id","id")
);
--> statement-breakpoint
CREATE TABLE "analysis_runs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "analysis_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"as_of" date NOT NULL,
	"model_version" text NOT NULL,
	"activity_model" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"customers" bigint DEFAULT 0 NOT NULL,
	"repeat_customers" bigint DEFAULT 0 NOT NULL,
	"models" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"report" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"current" boolean DEFAULT false NOT NULL,
	"warnings" text[] DEFAULT '{}' NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "scores" (
	"customer_id" bigint NOT NULL,
	"run_id" bigint NOT NULL,
	"as_of" date NOT NULL,
	"model_version" text NOT NULL,
	"frequency" bigint NOT NULL,
	"recency_days" bigint NOT NULL,
	"age_days" bigint NOT NULL,
	"p_alive" double precision NOT NULL,
	"p_alive_change" double precision,
	"churn_probability" double precision NOT NULL,
	"expected_30" double precision NOT NULL,
	"expected_90" double precision NOT NULL,
	"expected_365" double precision NOT NULL,
	"next_order_date" date,
	"expected_order_value" numeric(14, 2),
	"predicted_value_365" numeric(14, 2),
	"historic_value" numeric(14, 2) NOT NULL,
	"average_days_between" double precision,
	"recency_score" smallint NOT NULL,
	"frequency_score" smallint NOT NULL,
	"monetary_score" smallint NOT NULL,
	"value_at_stake" numeric(14, 2),
	"stage" text NOT NULL,
	"reasons" text[] NOT NULL,
	CONSTRAINT "scores_run_id_customer_id_pk" PRIMARY KEY("run_id","customer_id")
);
--> statement-breakpoint
CREATE INDEX "activity_alerts_id_idx" ON "activity_alerts" USING btree ("id");--> statement-breakpoint
CREATE INDEX "activity_alerts_run_idx" ON "activity_alerts" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "scores_customer_idx" ON "scores" USING btree ("customer_id","run_id");--> statement-breakpoint
CREATE INDEX "scores_stake_idx" ON "scores" USING btree ("run_id","stage","value_at_stake");