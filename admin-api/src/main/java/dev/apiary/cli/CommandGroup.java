package dev.apiary.cli;

import picocli.CommandLine.Spec;

/** A command that only groups subcommands ({@code apiary workers}, ...): run alone, it prints its usage. */
abstract class CommandGroup implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
