package dev.apiary.fleet;

/**
 * Named points in the fleet operations where a test can make the process die as if by kill -9
 * (the failpoints of FreeBSD and etcd): run with {@code -Dapiary.failpoint=enroll.after-clone} and
 * the JVM halts there, with no shutdown hook and no cleanup. The crash tests use them to stop an
 * operation between its steps, which no timed kill can do reliably. Unset, each is one property read.
 */
final class Failpoint {
    private Failpoint() {}

    static void hit(String name) {
        if (name.equals(System.getProperty("apiary.failpoint"))) {
            System.err.println("failpoint " + name + ": halting");
            Runtime.getRuntime().halt(137);
        }
    }
}
