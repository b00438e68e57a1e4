CREATE TABLE "nodes" (
	"node_id" text PRIMARY KEY NOT NULL,
	"state" text DEFAULT 'ready' NOT NULL,
	"capacity_fps" double precision,
	"message" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "nodes_state_check" CHECK ("nodes"."state" in ('ready', 'draining', 'drained'))
);
