CREATE TABLE "tasks" (
	"customer_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "tasks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"action" text NOT NULL,
	"title" text NOT NULL,
	"reason" text NOT NULL,
	"source" text NOT NULL,
	"journey_id" bigint,
	"order_id" bigint,
	"created_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"done_by" text,
	"done_at" timestamp with time zone,
	"outcome" text,
	CONSTRAINT "tasks_customer_id_id_pk" PRIMARY KEY("customer_id","id")
);
--> statement-breakpoint
CREATE TABLE "journey_enrolments" (
	"customer_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "journey_enrolments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"journey_id" bigint NOT NULL,
	"trigger_key" text NOT NULL,
	"detail" jsonb NOT NULL,
	"order_id" bigint,
	"arm" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"entered_at" timestamp with time zone NOT NULL,
	"step" integer DEFAULT 0 NOT NULL,
	"next_at" timestamp with time zone,
	"claimed_by" text,
	"claimed_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "journey_enrolments_customer_id_id_pk" PRIMARY KEY("customer_id","id")
);
--> statement-breakpoint
CREATE TABLE "journey_steps" (
	"customer_id" bigint NOT NULL,
	"enrolment_id" bigint NOT NULL,
	"step" integer NOT NULL,
	"journey_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"outcome" text NOT NULL,
	"reason" text,
	"marketing" boolean NOT NULL,
	"email" text,
	"message_id" text,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "journey_steps_customer_id_enrolment_id_step_pk" PRIMARY KEY("customer_id","enrolment_id","step")
);
--> statement-breakpoint
CREATE TABLE "journeys" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "journeys_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"description" text,
	"trigger" jsonb NOT NULL,
	"entry" jsonb,
	"steps" jsonb NOT NULL,
	"exit_on_order" boolean NOT NULL,
	"exit" jsonb,
	"holdout_share" double precision NOT NULL,
	"consent_list" text NOT NULL,
	"status" text NOT NULL,
	"activated_at" timestamp with time zone,
	"campaign_id" bigint NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "tasks_id_idx" ON "tasks" USING btree ("id");--> statement-breakpoint
CREATE INDEX "tasks_open_idx" ON "tasks" USING btree ("due_at") WHERE status = 'open';--> statement-breakpoint
CREATE UNIQUE INDEX "journey_enrolments_trigger_key" ON "journey_enrolments" USING btree ("journey_id","customer_id","trigger_key");--> statement-breakpoint
CREATE UNIQUE INDEX "journey_enrolments_once_key" ON "journey_enrolments" USING btree ("journey_id","customer_id") WHERE status = 'active';--> statement-breakpoint
CREATE INDEX "journey_enrolments_due_idx" ON "journey_enrolments" USING btree ("next_at") WHERE status = 'active';--> statement-breakpoint
CREATE INDEX "journey_enrolments_journey_idx" ON "journey_enrolments" USING btree ("journey_id","status");--> statement-breakpoint
CREATE INDEX "journey_steps_sent_idx" ON "journey_steps" USING btree ("customer_id","at") WHERE outcome = 'sent';--> statement-breakpoint
CREATE INDEX "journey_steps_message_idx" ON "journey_steps" USING btree ("message_id");