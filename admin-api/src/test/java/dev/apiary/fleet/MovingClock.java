package dev.apiary.fleet;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock the test moves: seconds after 2026-11-21T10:00:00Z. */
public final class MovingClock extends Clock {
    private static final Instant START = Instant.parse("2026-11-21T10:00:00Z");
    private volatile Instant now = START;

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return now;
    }

    public void at(int seconds) {
        now = START.plusSeconds(seconds);
    }
}
