-- A MAC whose worker was moved to another machine (replace): it is refused from then on, never
-- enrolled again as a new worker, so a dead box that comes back cannot take a second identity.
CREATE TABLE revoked_macs (
    mac     VARCHAR(17) PRIMARY KEY,
    at      TIMESTAMP WITH TIME ZONE NOT NULL,
    worker  VARCHAR(63) NOT NULL
);
-- worker_volumes.role gains PREVIOUS (the root a reimage replaced, kept for rollback until
-- confirmed; LUN -1, not exported) and NEWROOT (a reimage's clone being made; LUN -2, not
-- exported; restart deletes it). workers.state gains REIMAGING. Both columns are text already.
