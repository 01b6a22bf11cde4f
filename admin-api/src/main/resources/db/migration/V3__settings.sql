-- Fleet settings changed through the API; each overrides the configuration file's value
-- (fleet.image: the snapshot new roots are cloned from, set when a new version is rolled out).
CREATE TABLE settings (
    name    VARCHAR(64)   PRIMARY KEY,
    content VARCHAR(1000) NOT NULL
);
