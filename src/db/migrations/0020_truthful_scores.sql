ALTER TABLE "scores" ADD COLUMN "p_buy_30" double precision;--> statement-breakpoint
ALTER TABLE "scores" ADD COLUMN "p_buy_90" double precision;--> statement-breakpoint
ALTER TABLE "scores" ADD COLUMN "p_buy_365" double precision;--> statement-breakpoint
ALTER TABLE "scores" ADD COLUMN "model" text;