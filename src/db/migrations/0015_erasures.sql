CREATE TABLE "erasures" (
	"hash" text PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"erased_at" timestamp with time zone DEFAULT now() NOT NULL
);
