-- The versions of each golden image: a version is a sealed snapshot in the volume store; this
-- row says when it was sealed and why (an operator's note; later an upgrade's package changelog).
-- A snapshot sealed outside the server (./apiary store snapshot before the first start) gets its
-- row when the server starts and finds it.
CREATE TABLE image_versions (
    image      VARCHAR(64)   NOT NULL,
    version    VARCHAR(64)   NOT NULL,
    sealed_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    note       VARCHAR(4000),
    PRIMARY KEY (image, version)
);
