-- The fleet inventory (DESIGN.md, Control plane). Volumes themselves live in the volume store;
-- these rows say which worker owns which volume. Enrollment writes its row in state ENROLLING
-- before it creates any volume, so a crash leaves a row that restart can finish or undo, never
-- a volume nobody knows about.

CREATE TABLE workers (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    name           VARCHAR(63)  NOT NULL UNIQUE,
    mac            VARCHAR(17)  UNIQUE,          -- lower case with colons; NULL once retired
    state          VARCHAR(16)  NOT NULL,        -- ENROLLING, PENDING, READY, RETIRED
    initiator_iqn  VARCHAR(223) NOT NULL UNIQUE,
    target_iqn     VARCHAR(223) NOT NULL UNIQUE,
    image          VARCHAR(160),                 -- the snapshot its root was cloned from, volume@snap
    chap_user      VARCHAR(64)  NOT NULL,
    chap_secret    VARCHAR(200) NOT NULL,        -- sealed (SecretBox), context "worker/<id>/chap"
    mutual_user    VARCHAR(64)  NOT NULL,
    mutual_secret  VARCHAR(200) NOT NULL,        -- sealed, context "worker/<id>/mutual"
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    last_seen      TIMESTAMP WITH TIME ZONE
);

-- LUN 0 is the root (a clone of the image), LUN 1 the data volume that survives reimaging.
CREATE TABLE worker_volumes (
    worker_id  BIGINT       NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    lun        INT          NOT NULL,
    volume     VARCHAR(64)  NOT NULL UNIQUE,
    role       VARCHAR(8)   NOT NULL,           -- ROOT, DATA
    PRIMARY KEY (worker_id, lun)
);

-- What happened, for the audit trail and the boot timeline. Never holds a secret.
CREATE TABLE events (
    id       BIGINT AUTO_INCREMENT PRIMARY KEY,
    at       TIMESTAMP WITH TIME ZONE NOT NULL,
    kind     VARCHAR(32)  NOT NULL,
    worker   VARCHAR(63),
    detail   VARCHAR(1000) NOT NULL
);
CREATE INDEX events_worker ON events(worker, id);
