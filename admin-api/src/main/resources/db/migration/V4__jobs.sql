-- Long operations (image import, flatten) as the API reports them. A job still QUEUED or RUNNING
-- when the server starts was cut short by a stop or a crash: startup marks it FAILED, never
-- leaves it looking alive (its partial volume is left for the operator, as rbd import leaves one).
CREATE TABLE jobs (
    id        BIGINT AUTO_INCREMENT PRIMARY KEY,
    kind      VARCHAR(32)   NOT NULL,        -- import, flatten
    subject   VARCHAR(160)  NOT NULL,        -- what it works on: a volume or image name
    state     VARCHAR(8)    NOT NULL,        -- QUEUED, RUNNING, DONE, FAILED
    done      BIGINT        NOT NULL,        -- progress: bytes done of total
    total     BIGINT        NOT NULL,
    started   TIMESTAMP WITH TIME ZONE NOT NULL,
    finished  TIMESTAMP WITH TIME ZONE,
    error     VARCHAR(1000)
);
