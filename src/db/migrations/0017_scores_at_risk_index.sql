DROP INDEX "scores_stake_idx";--> statement-breakpoint
CREATE INDEX "scores_at_risk_idx" ON "scores" USING btree ("run_id","value_at_stake" DESC NULLS LAST) WHERE "scores"."stage" = 'at_risk';