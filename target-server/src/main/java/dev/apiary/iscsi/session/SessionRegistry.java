package dev.apiary.iscsi.session;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every live session of a portal set, keyed by the initiator port and target (RFC 7143 §4.4.3: a
 * session is identified by initiator name + ISID + target). A new leading login with the same key
 * reinstates: the old session is closed and replaced (§6.3.5), which is how iPXE hands a LUN to
 * the Linux initiator without ever logging out.
 */
public final class SessionRegistry {
    private static final Logger log = LoggerFactory.getLogger(SessionRegistry.class);

    /** Told of each session a login creates (discovery ones too), on the event loop: it must only hand off. */
    @FunctionalInterface
    public interface LoginListener {
        void loggedIn(Session session);
    }

    private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
    private final List<LoginListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextTsih = new AtomicInteger(1);

    private static String key(String initiatorName, long isid, String targetName) {
        return initiatorName + ",i,0x" + Long.toHexString(isid) + "|" + targetName;
    }

    /** A TSIH for a new session: 16 bits, never 0 (§11.12.7). */
    int allocateTsih() {
        while (true) {
            int t = nextTsih.getAndIncrement() & 0xffff;
            if (t != 0 && sessions.values().stream().noneMatch(s -> s.tsih() == t)) {
                return t;
            }
        }
    }

    public void onLogin(LoginListener listener) {
        listeners.add(listener);
    }

    /** Registers {@code session}; returns the session it reinstates (now to be closed), or null. */
    Session register(Session session) {
        Session old = sessions.put(key(session.initiatorName(), session.isid(), session.targetName()), session);
        for (LoginListener l : listeners) {
            try {
                l.loggedIn(session);
            } catch (RuntimeException e) {
                log.warn("[iscsi] a login listener failed", e); // the login itself stands
            }
        }
        return old;
    }

    void remove(Session session) {
        sessions.remove(key(session.initiatorName(), session.isid(), session.targetName()), session);
    }

    boolean exists(int tsih) {
        return sessions.values().stream().anyMatch(s -> s.tsih() == tsih);
    }

    /** Live sessions to one target, for resets that reach across sessions (SAM-5 §7.7). */
    public List<Session> sessionsOf(String targetName) {
        return sessions.values().stream().filter(s -> s.targetName().equals(targetName)).toList();
    }

    public List<Session> all() {
        return List.copyOf(sessions.values());
    }
}
