package drift;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * Runs the static Linux {@code drift} binary that this jar carries, for Databricks {@code spark_jar_task}s (and any
 * JVM). The binary is extracted once per JVM into a private temporary folder, then run with the task's parameters and
 * the JVM's environment (cluster {@code spark_env_vars}, e.g. {@code AZURE_CLIENT_ID={{secrets/scope/ApplicationID}}}).
 * Its output is copied line by line to {@code System.out} / {@code System.err}. A non-zero exit throws
 * {@link DriftException} with the exit code and the last lines drift wrote on stderr; the launcher never calls
 * {@code System.exit}, as Databricks asks of JAR tasks.
 *
 * <p>Plain Java 8, no dependencies: {@code javac --release 8} and {@code jar} build it (scripts/build-jar.sh).
 */
public final class Launcher {
    /** Where build-jar.sh puts the binary inside the jar. */
    static final String RESOURCE = "/drift/bin/drift-x86_64-unknown-linux-musl";
    /** How many trailing stderr lines a {@link DriftException} carries. */
    static final int TAIL_LINES = 20;

    private static Path extracted;

    private Launcher() {}

    /** A drift run that exited non-zero. */
    public static final class DriftException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int exitCode;
        private final List<String> stderrTail;

        DriftException(int exitCode, List<String> stderrTail) {
            super("drift exited with code " + exitCode + " (exit codes: drift --help):\n" + String.join("\n", stderrTail));
            this.exitCode = exitCode;
            this.stderrTail = stderrTail;
        }

        /** drift's exit code: 1 outcome failed, 2 usage/config, 3 auth, 4 Azure/network, 5 timeout, 130 interrupted. */
        public int exitCode() {
            return exitCode;
        }

        /** The last lines drift wrote on stderr. */
        public List<String> stderrTail() {
            return stderrTail;
        }
    }

    /** The {@code spark_jar_task} entry point: runs drift with the task's parameters; throws if it fails. */
    public static void main(String[] args) throws IOException, InterruptedException {
        run(Arrays.asList(args), null);
    }

    /**
     * Runs drift with {@code args} and the JVM's environment plus {@code extraEnv} (may be null), streaming its
     * output. Returns normally on exit 0; throws {@link DriftException} otherwise.
     */
    public static void run(List<String> args, Map<String, String> extraEnv) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(binary().toString());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.INHERIT);
        if (extraEnv != null) {
            builder.environment().putAll(extraEnv);
        }
        Process process = builder.start();
        Deque<String> tail = new ArrayDeque<>();
        Thread errors = pump(process.getErrorStream(), System.err, tail);
        Thread output = pump(process.getInputStream(), System.out, null);
        int code;
        try {
            code = process.waitFor();
            output.join();
            errors.join();
        } catch (InterruptedException e) {
            // The run was cancelled: stop drift too (SIGTERM lets it cancel what it submitted with --cancel-on-timeout).
            process.destroy();
            Thread.currentThread().interrupt();
            throw e;
        }
        if (code != 0) {
            List<String> lines;
            synchronized (tail) {
                lines = new ArrayList<>(tail);
            }
            throw new DriftException(code, lines);
        }
    }

    /** The extracted binary, extracting it on first use: a 0700 folder, a 0700 file, both removed at JVM exit. */
    static synchronized Path binary() throws IOException {
        if (extracted != null && Files.isExecutable(extracted)) {
            return extracted;
        }
        try (InputStream in = Launcher.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("this jar carries no drift binary at " + RESOURCE + "; rebuild it with scripts/build-jar.sh");
            }
            Path dir = Files.createTempDirectory("drift-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            dir.toFile().deleteOnExit(); // registered first, so deleted last: the JVM deletes in reverse order
            Path file = dir.resolve("drift");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
            extracted = file;
            return file;
        }
    }

    /** Copies a stream line by line to {@code sink}; keeps the last {@link #TAIL_LINES} lines in {@code tail}. */
    private static Thread pump(InputStream source, PrintStream sink, Deque<String> tail) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(source, StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    sink.println(line);
                    if (tail != null) {
                        synchronized (tail) {
                            tail.addLast(line);
                            if (tail.size() > TAIL_LINES) {
                                tail.removeFirst();
                            }
                        }
                    }
                }
            } catch (IOException e) {
                sink.println("drift launcher: lost drift's output: " + e);
            }
        }, "drift-output");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
