package dev.apiary.cli;

import dev.apiary.lun.StoreException;
import dev.apiary.lun.VolumeStore;
import dev.apiary.lun.VolumeStore.SnapshotInfo;
import dev.apiary.lun.VolumeStore.VolumeInfo;
import dev.apiary.lun.file.FileStore;
import dev.apiary.server.Sizes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code apiary store}: each volume store operation on a store directory, named as {@code rbd}
 * names them (create, import, snapshot, clone, flatten, resize, rm, ls, du).
 */
@Command(name = "store", mixinStandardHelpOptions = true,
        description = "Manage volumes, snapshots and clones in an embedded store directory.",
        subcommands = {StoreCommand.Create.class, StoreCommand.Import.class, StoreCommand.Snapshot.class, StoreCommand.Rollback.class,
            StoreCommand.Clone.class, StoreCommand.Flatten.class, StoreCommand.Resize.class, StoreCommand.Remove.class,
            StoreCommand.List.class, StoreCommand.Du.class})
public final class StoreCommand {
    @Option(names = "--dir", paramLabel = "DIR", description = "Store directory (default ${DEFAULT-VALUE}).",
            defaultValue = "apiary-data/store", scope = picocli.CommandLine.ScopeType.INHERIT)
    Path dir;

    /** Runs one operation with the store open, turning store errors into one clear line and exit 2. */
    abstract static class Op implements Callable<Integer> {
        @ParentCommand
        StoreCommand parent;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        abstract void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try (FileStore store = FileStore.open(parent.dir)) {
                run(store, out, err);
                out.flush();
                return 0;
            } catch (StoreException | IllegalArgumentException e) {
                err.println("apiary store: " + e.getMessage());
                return 2;
            } catch (IOException e) {
                err.println("apiary store: " + e);
                return 1;
            }
        }

        static String[] snapshotRef(String text) {
            int at = text.indexOf('@');
            if (at <= 0 || at == text.length() - 1) {
                throw new IllegalArgumentException("'" + text + "' is not VOLUME@SNAPSHOT");
            }
            return new String[] {text.substring(0, at), text.substring(at + 1)};
        }
    }

    @Command(name = "create", description = "Create an empty sparse volume (rbd create).")
    static final class Create extends Op {
        @Parameters(index = "0", paramLabel = "NAME") String name;
        @Parameters(index = "1", paramLabel = "SIZE", description = "e.g. 8G") String size;

        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            store.create(name, Sizes.parse(size));
            out.println("created " + name);
        }
    }

    @Command(name = "import", description = "Import a raw image file as a new volume (rbd import).")
    static final class Import extends Op {
        @Parameters(index = "0", paramLabel = "NAME") String name;
        @Parameters(index = "1", paramLabel = "FILE") Path file;

        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            ProgressBar bar = new ProgressBar(err, "import " + name);
            store.importRaw(name, file, bar);
            bar.done();
            out.println("imported " + name);
        }
    }

    @Command(name = "snapshot", description = "Take an immutable snapshot (rbd snap create + protect).")
    static final class Snapshot extends Op {
        @Parameters(paramLabel = "VOLUME@SNAPSHOT") String ref;

        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            String[] r = snapshotRef(ref);
            store.snapshot(r[0], r[1]);
            out.println("snapshot " + ref);
        }
    }

    @Command(name = "rollback", description = "Return a volume to a snapshot; later writes are lost (rbd snap rollback).")
    static final class Rollback extends Op {
        @Parameters(paramLabel = "VOLUME@SNAPSHOT") String ref;

        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            String[] r = snapshotRef(ref);
            store.rollback(r[0], r[1]);
            out.println("rolled back " + r[0] + " to " + ref);
        }
    }

    @Command(name = "clone", description = "Clone a snapshot into a new copy-on-write volume (rbd clone).")
    static final class Clone extends Op {
        @Parameters(index = "0", paramLabel = "VOLUME@SNAPSHOT") String ref;
        @Parameters(index = "1", paramLabel = "NEWNAME") String name;

        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            String[] r = snapshotRef(ref);
            store.clone(r[0], r[1], name);
            out.println("cloned " + ref + " to " + name);
        }
    }

    @Command(name = "flatten", description = "Copy a clone's parent data in and cut the link (rbd flatten).")
    static final class Flatten extends Op {
        @Parameters(paramLabel = "NAME") String name;

        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            ProgressBar bar = new ProgressBar(err, "flatten " + name);
            store.flatten(name, bar);
            bar.done();
            out.println("flattened " + name);
        }
    }

    @Command(name = "resize", description = "Grow a volume (rbd resize).")
    static final class Resize extends Op {
        @Parameters(index = "0", paramLabel = "NAME") String name;
        @Parameters(index = "1", paramLabel = "SIZE") String size;

        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            store.resize(name, Sizes.parse(size));
            out.println("resized " + name + " to " + size);
        }
    }

    @Command(name = "rm", description = "Delete a volume, or a snapshot given as VOLUME@SNAPSHOT (rbd rm / snap rm).")
    static final class Remove extends Op {
        @Parameters(paramLabel = "NAME|VOLUME@SNAPSHOT") String name;

        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            if (name.contains("@")) {
                String[] r = snapshotRef(name);
                store.deleteSnapshot(r[0], r[1]);
            } else {
                store.delete(name);
            }
            out.println("removed " + name);
        }
    }

    @Command(name = "ls", description = "List volumes with their parents, snapshots and clones (rbd ls -l).")
    static final class List extends Op {
        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            out.printf("%-24s %10s  %-24s %s%n", "NAME", "SIZE", "PARENT", "SNAPSHOTS (CLONES)");
            for (VolumeInfo v : store.list()) {
                StringBuilder snaps = new StringBuilder();
                for (SnapshotInfo s : v.snapshots()) {
                    snaps.append(snaps.isEmpty() ? "" : ", ").append(s.name());
                    if (!s.clones().isEmpty()) {
                        snaps.append(" (").append(String.join(" ", s.clones())).append(')');
                    }
                }
                out.printf("%-24s %10s  %-24s %s%n", v.name(), human(v.size()),
                        v.parent().map(Object::toString).orElse("-"), snaps);
            }
        }
    }

    @Command(name = "du", description = "Allocated against virtual bytes per volume (rbd du).")
    static final class Du extends Op {
        @Parameters(arity = "0..*", paramLabel = "NAME") java.util.List<String> names;

        @Override
        void run(FileStore store, PrintWriter out, PrintWriter err) throws IOException {
            out.printf("%-24s %12s %12s%n", "NAME", "PROVISIONED", "USED");
            java.util.List<String> which = names != null ? names
                    : store.list().stream().map(VolumeInfo::name).toList();
            for (String n : which) {
                VolumeStore.Usage u = store.usage(n);
                out.printf("%-24s %12s %12s%n", n, human(u.virtualBytes()), human(u.allocatedBytes()));
            }
        }
    }

    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format("%.1f %s", v, units[u]);
    }
}
