package drift;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Runs the static Linux {@code drift} binary that this jar carries, for Databricks {@code spark_jar_task}s (and any
 * JVM). The binary is extracted once per JVM into a private folder (see {@link #candidates} for where: the first place
 * where it can be written and then actually runs), then run with the task's parameters and the JVM's environment
 * (cluster {@code spark_env_vars}, e.g. {@code AZURE_CLIENT_ID={{secrets/scope/ApplicationID}}}).
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
    /** The environment variable naming the folder to extract the binary into, tried before any other. */
    static final String BINARY_DIR_ENV = "DRIFT_BINARY_DIR";
    /** How long the extracted binary may take to answer {@code --version} before its folder counts as unusable. */
    static final long PROBE_SECONDS = 30;

    private static Path extracted;

    private Launcher() {}

    /** A drift run that exited non-zero. */
    public static final class DriftException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int exitCode;
        private final List<String> stderrTail;

        DriftException(int exitCode, List<String> stderrTail) {
            super(describe(exitCode) + ":\n" + String.join("\n", stderrTail));
            this.exitCode = exitCode;
            this.stderrTail = stderrTail;
        }

        /**
         * drift's exit code: 1 the pipeline ran but its outcome failed (a training job failed or was canceled;
         * nothing in scope), 2 usage or configuration error (including a request Azure rejects as the caller's
         * mistake), 3 authentication or authorization error, 4 Azure or network error that a retry may fix (after
         * drift's own retries), 5 timed out waiting for training jobs, 6 local I/O error, 130 interrupted by SIGINT,
         * 143 terminated by SIGTERM. A process killed by signal N reports 128 + N (see {@link #signal()}).
         */
        public int exitCode() {
            return exitCode;
        }

        /**
         * The signal that ended drift, N for an exit code of 128 + N (129 to 192), else 0. Java reports a process
         * killed by signal N as 128 + N, the same number drift exits with after it handled SIGINT (130) or SIGTERM
         * (143) itself: either way a signal stopped the run.
         */
        public int signal() {
            return exitCode > 128 && exitCode <= 128 + 64 ? exitCode - 128 : 0;
        }

        /** The last lines drift wrote on stderr. */
        public List<String> stderrTail() {
            return stderrTail;
        }
    }

    /** drift's exit codes and what they mean (drift --help, docs/guarantees.md). */
    static final Map<Integer, String> EXIT_CODES;
    /** Names of the signals a Linux process is commonly killed by, for {@link #describe}. */
    private static final Map<Integer, String> SIGNALS;

    static {
        Map<Integer, String> codes = new LinkedHashMap<>();
        codes.put(1, "the pipeline ran but its outcome failed: a training job failed or was canceled,"
                + " or nothing was in scope");
        codes.put(2, "usage or configuration error, or a request Azure rejected as the caller's mistake");
        codes.put(3, "authentication or authorization error");
        codes.put(4, "Azure or network error that a retry may fix, after drift's own retries");
        codes.put(5, "timed out waiting for training jobs");
        codes.put(6, "local I/O error");
        codes.put(130, "interrupted by SIGINT");
        codes.put(143, "terminated by SIGTERM");
        EXIT_CODES = Collections.unmodifiableMap(codes);
        Map<Integer, String> signals = new LinkedHashMap<>();
        String[] names = {"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
            "PIPE", "ALRM", "TERM"};
        for (int i = 0; i < names.length; i++) {
            signals.put(i + 1, "SIG" + names[i]);
        }
        SIGNALS = Collections.unmodifiableMap(signals);
    }

    /**
     * "drift exited with code 3 (authentication or authorization error)", or, for 128 + N outside the table,
     * "drift was killed by signal 9 (SIGKILL), exit code 137".
     */
    static String describe(int code) {
        String meaning = EXIT_CODES.get(code);
        if (meaning != null) {
            return "drift exited with code " + code + " (" + meaning + ")";
        }
        if (code > 128 && code <= 128 + 64) {
            int signal = code - 128;
            String name = SIGNALS.containsKey(signal) ? SIGNALS.get(signal) : "signal " + signal;
            return "drift was killed by signal " + signal + " (" + name + "), exit code " + code;
        }
        return "drift exited with code " + code;
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

    /** A folder the binary may be extracted into, and why it is on the list. */
    static final class Candidate {
        final String source;
        final Path dir;

        Candidate(String source, Path dir) {
            this.source = source;
            this.dir = dir;
        }

        @Override
        public String toString() {
            return dir + " (" + source + ")";
        }
    }

    /**
     * Where the binary may be extracted, in order of preference (each is tried: write, chmod, run; the first that
     * runs it wins):
     * <ol>
     * <li>{@code $DRIFT_BINARY_DIR}: the operator's explicit choice, created if missing;</li>
     * <li>{@code java.io.tmpdir}: the JVM's own temporary folder, right almost everywhere;</li>
     * <li>{@code /local_disk0/tmp}, when it exists: the local SSD of Databricks classic compute, where Databricks
     * software itself puts temporary files and the binaries it starts (Ray on Spark uses it as its temporary root on
     * Databricks, ray-project/ray pull request 39313);</li>
     * <li>{@code user.home}: hardening guides mount {@code /tmp}, {@code /var/tmp} and {@code /dev/shm} noexec, but
     * not home folders, which hold users' own programs (so {@code /var/tmp} and {@code /dev/shm} are not tried);</li>
     * <li>{@code user.dir}, the working directory: the last resort (on a Databricks driver, its own folder).</li>
     * </ol>
     * Places given twice are tried once.
     */
    static List<Candidate> candidates(Map<String, String> env, Properties properties) {
        List<Candidate> list = new ArrayList<>();
        String configured = env.get(BINARY_DIR_ENV);
        if (configured != null && !configured.trim().isEmpty()) {
            list.add(new Candidate(BINARY_DIR_ENV, Paths.get(configured.trim())));
        }
        addProperty(list, properties, "java.io.tmpdir");
        Path localDisk = Paths.get("/local_disk0/tmp");
        if (Files.isDirectory(localDisk)) {
            list.add(new Candidate("Databricks local disk", localDisk));
        }
        addProperty(list, properties, "user.home");
        addProperty(list, properties, "user.dir");
        List<Candidate> unique = new ArrayList<>();
        List<Path> seen = new ArrayList<>();
        for (Candidate candidate : list) {
            Path key = candidate.dir.toAbsolutePath().normalize();
            if (!seen.contains(key)) {
                seen.add(key);
                unique.add(candidate);
            }
        }
        return unique;
    }

    private static void addProperty(List<Candidate> list, Properties properties, String name) {
        String value = properties.getProperty(name);
        if (value != null && !value.trim().isEmpty()) {
            list.add(new Candidate(name, Paths.get(value)));
        }
    }

    /**
     * The extracted binary, extracting it on first use: a 0700 folder holding a 0700 file, both removed at JVM exit,
     * in the first of {@link #candidates} where it is written and then answers {@code --version}.
     */
    static synchronized Path binary() throws IOException {
        if (extracted != null && Files.isExecutable(extracted)) {
            return extracted;
        }
        Properties properties = System.getProperties();
        extracted = extract(candidates(System.getenv(), properties), System.err);
        return extracted;
    }

    /**
     * Extracts the binary into the first candidate folder where it runs, noting on {@code log} the places that did
     * not work when it had to fall back. Throws, naming every place tried and why each failed, if none works.
     */
    static Path extract(List<Candidate> candidates, PrintStream log) throws IOException {
        List<String> failures = new ArrayList<>();
        for (Candidate candidate : candidates) {
            try {
                Path file = extractInto(candidate);
                if (!failures.isEmpty()) {
                    log.println("drift launcher: extracted drift to " + file + "; places that did not work:\n  "
                            + String.join("\n  ", failures));
                }
                return file;
            } catch (IOException e) {
                failures.add(candidate + ": " + e.getMessage());
            }
        }
        StringBuilder message = new StringBuilder("drift launcher: found no folder where the drift binary can be"
                + " written and run. Tried:");
        for (String failure : failures) {
            message.append("\n  ").append(failure);
        }
        if (failures.isEmpty()) {
            message.append(" nothing (no candidate folders)");
        }
        message.append("\nSet ").append(BINARY_DIR_ENV).append(" (a cluster spark_env_vars entry) to a writable"
                + " folder on a file system mounted with exec.");
        throw new IOException(message.toString());
    }

    /** Extracts into a fresh 0700 folder under {@code candidate} and probes the binary; cleans up if it fails. */
    private static Path extractInto(Candidate candidate) throws IOException {
        Path parent = candidate.dir;
        if (Files.exists(parent) && !Files.isDirectory(parent)) {
            throw new IOException("not a directory");
        }
        if (BINARY_DIR_ENV.equals(candidate.source)) {
            try {
                Files.createDirectories(parent);
            } catch (IOException e) {
                throw new IOException("cannot create it: " + e);
            }
        }
        if (!Files.isDirectory(parent)) {
            throw new IOException("does not exist");
        }
        Path dir;
        try {
            dir = Files.createTempDirectory(parent, "drift-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new IOException("not writable: " + e);
        }
        Path file = dir.resolve("drift");
        try {
            try (InputStream in = Launcher.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IOException("this jar carries no drift binary at " + RESOURCE
                            + "; rebuild it with scripts/build-jar.sh");
                }
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new IOException(e.getMessage() != null && e.getMessage().startsWith("this jar")
                        ? e.getMessage() : "cannot write the binary (disk full?): " + e);
            }
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
            probe(file);
        } catch (IOException | RuntimeException e) {
            delete(dir.resolve("probe.out"));
            delete(file);
            delete(dir);
            throw e;
        }
        dir.toFile().deleteOnExit(); // registered first, so deleted last: the JVM deletes in reverse order
        file.toFile().deleteOnExit();
        return file;
    }

    /** Runs {@code file --version}: it must start and answer "drift ..." with exit 0 within {@link #PROBE_SECONDS}. */
    private static void probe(Path file) throws IOException {
        File output = file.resolveSibling("probe.out").toFile();
        ProcessBuilder builder = new ProcessBuilder(file.toString(), "--version").redirectErrorStream(true)
                .redirectOutput(output);
        Process process = null;
        for (int attempt = 1; process == null; attempt++) {
            try {
                process = builder.start();
            } catch (IOException e) {
                // ETXTBSY: another thread forked while the file was still open for writing; that child lets go of it
                // when it execs. Anything else (EACCES on a noexec mount above all) is final.
                if (attempt < 5 && String.valueOf(e.getMessage()).contains("error=26")) {
                    sleep(100L * attempt);
                    continue;
                }
                String hint = String.valueOf(e.getMessage()).contains("error=13")
                        ? " (a file system mounted noexec, or a policy forbidding programs there)" : "";
                throw new IOException("cannot execute the extracted binary: " + e.getMessage() + hint);
            }
        }
        try {
            if (!process.waitFor(PROBE_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("the extracted binary did not answer --version within " + PROBE_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while probing the extracted binary");
        }
        String answer = new String(Files.readAllBytes(output.toPath()), StandardCharsets.UTF_8).trim();
        delete(output.toPath());
        if (process.exitValue() != 0 || !answer.startsWith("drift ")) {
            throw new IOException("the extracted binary does not run: --version exited " + process.exitValue()
                    + " and printed \"" + (answer.length() > 200 ? answer.substring(0, 200) + "..." : answer) + "\"");
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while extracting the drift binary");
        }
    }

    private static void delete(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // best effort: a folder left behind in a temporary place is harmless
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
