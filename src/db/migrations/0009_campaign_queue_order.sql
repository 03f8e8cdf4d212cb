DROP INDEX "campaign_members_status_idx";--> statement-breakpoint
CREATE INDEX "campaign_members_status_idx" ON "campaign_members" USING btree ("campaign_id","status","customer_id");