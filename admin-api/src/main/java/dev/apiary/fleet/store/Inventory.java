package dev.apiary.fleet.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * The fleet inventory: an H2 file database in the data directory, its schema brought up to date
 * by Flyway migrations (src/main/resources/db/migration) every time it opens. Work is done in
 * transactions through {@link #transaction}; H2 writes each commit out at once (WRITE_DELAY=0),
 * so a committed row survives kill -9 of the server.
 */
public final class Inventory implements AutoCloseable {
    /** One unit of work; it runs in a transaction that commits when it returns and rolls back when it throws. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private final JdbcConnectionPool pool;

    private Inventory(JdbcConnectionPool pool) {
        this.pool = pool;
    }

    /** Opens (creating if needed) {@code dir/inventory.mv.db} and migrates it. */
    public static Inventory open(Path dir) {
        String url = "jdbc:h2:file:" + dir.toAbsolutePath().resolve("inventory") + ";WRITE_DELAY=0";
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, "apiary", "");
        try {
            Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
        } catch (RuntimeException e) {
            pool.dispose();
            throw e;
        }
        return new Inventory(pool);
    }

    public <T> T transaction(Work<T> work) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new InventoryException(e);
        }
    }

    @Override
    public void close() {
        pool.dispose();
    }

    /** A database failure; the operation that met it changed nothing. */
    public static final class InventoryException extends RuntimeException {
        InventoryException(SQLException e) {
            super("inventory: " + e.getMessage(), e);
        }
    }
}
