ALTER TABLE "ticket_updates" ADD COLUMN "direction" text DEFAULT 'out' NOT NULL;--> statement-breakpoint
ALTER TABLE "ticket_updates" ADD COLUMN "author" text;