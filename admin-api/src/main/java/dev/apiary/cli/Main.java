package dev.apiary.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code apiary}: the command-line tool. Each subcommand is one class beside this one. */
@Command(
        name = "apiary",
        mixinStandardHelpOptions = true,
        version = "apiary 0.1.0",
        description = "iSCSI-boot diskless worker fleet manager",
        subcommands = {ServeCommand.class, DemoCommand.class, ExportCommand.class, StoreCommand.class, PxeCommand.class, TokenCommand.class, WorkersCommand.class, ImagesCommand.class, RolloutsCommand.class, VolumesCommand.class, JobsCommand.class, EventsCommand.class, StorageCommand.class, GatewaysCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
