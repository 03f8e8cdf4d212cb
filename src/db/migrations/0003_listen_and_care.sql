CREATE TABLE "anonymous_feedback" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "anonymous_feedback_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"page" text,
	"score" smallint,
	"comment" text
);
--> statement-breakpoint
CREATE TABLE "survey_invitations" (
	"customer_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "survey_invitations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"survey_id" bigint NOT NULL,
	"token_hash" text NOT NULL,
	"order_id" bigint,
	"channel" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"answered_at" timestamp with time zone,
	CONSTRAINT "survey_invitations_customer_id_id_pk" PRIMARY KEY("customer_id","id")
);
--> statement-breakpoint
CREATE TABLE "surveys" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "surveys_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"key" text NOT NULL,
	"title" text NOT NULL,
	"purpose" text DEFAULT 'survey' NOT NULL,
	"intro" text,
	"questions" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "worklist_decisions" (
	"customer_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "worklist_decisions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" bigint,
	"suggested_action" text NOT NULL,
	"suggestion_reason" text NOT NULL,
	"decision" text NOT NULL,
	"action" text NOT NULL,
	"gift_value" numeric(14, 2),
	"reason" text,
	"agent" text NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	"needs_approval" boolean DEFAULT false NOT NULL,
	"approved_by" text,
	"approved_at" timestamp with time zone,
	"value_at_stake" numeric(14, 2),
	CONSTRAINT "worklist_decisions_customer_id_id_pk" PRIMARY KEY("customer_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "survey_invitations_token" ON "survey_invitations" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "surveys_key" ON "surveys" USING btree ("key");--> statement-breakpoint
CREATE INDEX "worklist_decisions_at_idx" ON "worklist_decisions" USING btree ("decided_at");--> statement-breakpoint
INSERT INTO "surveys" ("key", "title", "purpose", "intro", "questions") VALUES
('nps', 'How likely are you to recommend us?', 'survey', 'Two quick questions; it takes ten seconds.',
 '[{"id":"recommend","kind":"nps","text":"How likely are you to recommend us to a friend?","required":true},{"id":"why","kind":"text","text":"What is the main reason for your score?"}]'),
('order', 'How was your order?', 'survey', NULL,
 '[{"id":"satisfied","kind":"csat","text":"How satisfied are you with your order?","required":true},{"id":"comment","kind":"text","text":"Anything we could do better?"}]'),
('effort', 'How easy was it?', 'survey', NULL,
 '[{"id":"effort","kind":"ces","text":"How easy was it to get what you needed from us?","required":true}]'),
('problem', 'Problem with your order?', 'problem', 'Tell us what went wrong and we will put it right.',
 '[{"id":"category","kind":"choice","text":"What went wrong?","required":true,"options":["wrong_item","damaged","late","missing","website","billing","other"]},{"id":"details","kind":"text","text":"Tell us more","required":true}]'),
('exit', 'We miss you', 'survey', 'One question, if you have a moment.',
 '[{"id":"reason","kind":"choice","text":"What made you stop buying from us?","required":true,"options":["price","quality","service","found_elsewhere","no_longer_needed","other"]},{"id":"comment","kind":"text","text":"Anything else?"}]');
