CREATE TABLE "deliveries" (
	"customer_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"external_id" text NOT NULL,
	"order_id" bigint,
	"at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"carrier" text,
	"detail" text,
	"source" text NOT NULL,
	CONSTRAINT "deliveries_customer_id_id_pk" PRIMARY KEY("customer_id","id")
);
--> statement-breakpoint
CREATE TABLE "channel_costs" (
	"kind" text NOT NULL,
	"channel" text NOT NULL,
	"per" text NOT NULL,
	"amount" numeric(14, 2) NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "channel_costs_kind_channel_pk" PRIMARY KEY("kind","channel")
);
--> statement-breakpoint
CREATE TABLE "blueprints" (
	"stage" text PRIMARY KEY NOT NULL,
	"steps" jsonb NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "campaign_members" ADD COLUMN "converted" boolean;--> statement-breakpoint
ALTER TABLE "campaign_members" ADD COLUMN "revenue" numeric(14, 2);--> statement-breakpoint
ALTER TABLE "campaign_members" ADD COLUMN "engaged" boolean;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "exclusions" jsonb;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "override_holdouts" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "repeat_every" text;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "series_id" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_external_key" ON "deliveries" USING btree ("customer_id","external_id");--> statement-breakpoint
CREATE INDEX "deliveries_at_idx" ON "deliveries" USING btree ("at");