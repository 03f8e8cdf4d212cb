ALTER TABLE "customers" ADD COLUMN "order_count" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "spend" numeric(14, 2) DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "recent_orders" timestamp with time zone[] DEFAULT '{}'::timestamptz[] NOT NULL;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "consent" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
UPDATE "customers" c SET "order_count" = f.n, "spend" = f.spend, "recent_orders" = f.recent
  FROM (SELECT customer_id, count(*) AS n, sum(total) AS spend, (array_agg(ordered_at ORDER BY ordered_at DESC, id DESC))[1:10] AS recent
    FROM "orders" GROUP BY customer_id) f
  WHERE f.customer_id = c.id;--> statement-breakpoint
UPDATE "customers" c SET "consent" = k.consent
  FROM (SELECT customer_id, jsonb_object_agg(list, granted) AS consent
    FROM (SELECT DISTINCT ON (customer_id, list) customer_id, list, granted FROM "consent_ledger" ORDER BY customer_id, list, at DESC, id DESC) l
    GROUP BY customer_id) k
  WHERE k.customer_id = c.id;
