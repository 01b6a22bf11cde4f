-- Gateways: every node that exports the fleet's LUNs on its own portal (the API node's own target
-- included). grp is the gateway's target port group and relative target port (SPC-4 §5.15), fixed
-- for the gateway's life so initiators' path states stay put across restarts.
CREATE TABLE gateways (
    name           VARCHAR(64)  PRIMARY KEY,
    grp            INT          NOT NULL UNIQUE,
    portal         VARCHAR(64)  NOT NULL,
    client_address VARCHAR(128),
    last_seen      TIMESTAMP    NOT NULL
);

-- The gateway that owns each exported volume: active/optimized there, active/non-optimized on the
-- others, and the holder of the volume's exclusive lock on an RBD store.
CREATE TABLE lun_owners (
    volume  VARCHAR(200) PRIMARY KEY,
    gateway VARCHAR(64)  NOT NULL
);
