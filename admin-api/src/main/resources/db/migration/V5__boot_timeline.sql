-- Each worker's boot timeline: the phases Apiary sees a boot pass through (the DHCP offer, the
-- boot script, the firmware's iSCSI login, the OS's own login; later the worker's agent reports
-- more), numbered per worker. The last ten boots of each worker are kept.
CREATE TABLE boot_phases (
    worker_id  BIGINT      NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    boot       INT         NOT NULL,
    phase      VARCHAR(32) NOT NULL,
    at         TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (worker_id, boot, phase)
);
