package dev.apiary.cli;

import dev.apiary.api.TokenFile;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code apiary token create|ls}: API bearer tokens, kept as Argon2id hashes in the data directory. */
@Command(name = "token", mixinStandardHelpOptions = true, description = "Create and list admin API tokens.",
        subcommands = {TokenCommand.Create.class, TokenCommand.Ls.class})
public final class TokenCommand extends CommandGroup {

    static TokenFile file(Path data) {
        return new TokenFile(data.resolve("api-tokens"));
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a token; it is printed once and only its hash is kept.")
    static final class Create implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--data", paramLabel = "DIR", defaultValue = "apiary-data",
                description = "Data directory (default ${DEFAULT-VALUE}).")
        Path data;

        @Parameters(paramLabel = "NAME", description = "What the token is for, e.g. admin or ci.")
        String name;

        @Override
        public Integer call() throws Exception {
            try {
                String token = file(data).create(name, new SecureRandom());
                spec.commandLine().getOut().println(token);
                spec.commandLine().getErr().println("apiary token: created " + name
                        + "; use it as 'Authorization: Bearer <token>'. It is not shown again.");
                return 0;
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println("apiary token create: " + e.getMessage());
                return 2;
            }
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List token names (never the tokens).")
    static final class Ls implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--data", paramLabel = "DIR", defaultValue = "apiary-data",
                description = "Data directory (default ${DEFAULT-VALUE}).")
        Path data;

        @Override
        public Integer call() {
            for (TokenFile.Entry e : file(data).list()) {
                spec.commandLine().getOut().printf("%-24s %s%n", e.name(), e.created());
            }
            return 0;
        }
    }
}
