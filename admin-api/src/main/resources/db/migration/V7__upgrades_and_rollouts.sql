-- DESIGN.md story 4: upgrade the golden image, roll the new version out, roll back.

-- The image version a worker boots from its next boot on (a rollout, a rollback, an operator's
-- assignment). It is applied when the machine asks for its boot script, when the OS that used the
-- old root is surely gone; never under a running worker.
ALTER TABLE workers ADD COLUMN next_image VARCHAR(160);

-- One upgrade of an image: its head (a copy-on-write layer over the current version) is booted
-- by a designated worker in maintenance mode, upgraded by apt, and sealed as the next version.
CREATE TABLE upgrades (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    image         VARCHAR(64)  NOT NULL,
    from_version  VARCHAR(64)  NOT NULL,
    to_version    VARCHAR(64)  NOT NULL,
    worker        VARCHAR(63)  NOT NULL,
    state         VARCHAR(16)  NOT NULL,   -- PREPARING, BOOTING, UPGRADED, SEALED, FAILED
    started_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    changelog     CLOB,                    -- the agent's package changes, one line each
    error         VARCHAR(1000)
);

-- A rollout of an image version to chosen workers, one batch at a time.
CREATE TABLE rollouts (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    image       VARCHAR(160) NOT NULL,     -- volume@snapshot
    batch_size  INT          NOT NULL,
    timeout_s   INT          NOT NULL,     -- per batch: a worker not up by then fails the rollout
    state       VARCHAR(16)  NOT NULL,     -- RUNNING, DONE, FAILED, ROLLED_BACK
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    error       VARCHAR(1000)
);

CREATE TABLE rollout_workers (
    rollout     BIGINT       NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    worker      VARCHAR(63)  NOT NULL,
    batch       INT          NOT NULL,
    previous    VARCHAR(160),              -- the image it ran before, for rollback
    state       VARCHAR(16)  NOT NULL,     -- WAITING, ASSIGNED, UP, FAILED, ROLLING_BACK, ROLLED_BACK
    since       TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (rollout, worker)
);
