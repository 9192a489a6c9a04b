package drift;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Checks of {@link Launcher} run by scripts/ci-jar-check.sh against the built jar (plain Java, no test framework):
 * the binary is extracted once per JVM into private files, exit 0 returns, a non-zero exit throws with the code, its
 * meaning and the stderr tail, a drift killed by a signal is reported as such, extra environment reaches the binary,
 * and the binary lands in the first place where it actually runs: past a DRIFT_BINARY_DIR that cannot be used and a
 * java.io.tmpdir on a real noexec mount (made here with mount(8) when the process may; DRIFT_REQUIRE_NOEXEC=1 makes
 * that mandatory), else failing with every place tried and why.
 *
 * <pre>java -cp drift-launcher.jar:CLASSES drift.LauncherCheck [WORK_DIR]</pre>
 */
public final class LauncherCheck {
    private static int checks;

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError("failed: " + what);
        }
        checks++;
    }

    public static void main(String[] args) throws Exception {
        Path work = args.length > 0 ? Paths.get(args[0]) : Files.createTempDirectory("launcher-check-");
        Files.createDirectories(work);
        basics();
        exitCodes();
        killedBySignal(work);
        fallback(work);
        System.out.println("LauncherCheck: " + checks + " passed, 0 failed");
    }

    private static void basics() throws Exception {
        Path first = Launcher.binary();
        check(first.equals(Launcher.binary()), "the binary is extracted once per JVM");
        check("rwx------".equals(PosixFilePermissions.toString(Files.getPosixFilePermissions(first))), "binary is 0700");
        check("rwx------".equals(PosixFilePermissions.toString(Files.getPosixFilePermissions(first.getParent()))),
                "its folder is 0700");
        check(!Files.exists(first.resolveSibling("probe.out")), "the probe's output file is gone");

        Launcher.run(Arrays.asList("--version"), null);
        check(true, "exit 0 returns normally");

        try {
            Launcher.run(Arrays.asList("validate", "--config", "/nonexistent/drift.yaml"), null);
            check(false, "a failing run throws");
        } catch (Launcher.DriftException e) {
            check(e.exitCode() == 2, "a config error is exit code 2, got " + e.exitCode());
            check(e.signal() == 0, "no signal for exit code 2");
            check(!e.stderrTail().isEmpty() && String.join("\n", e.stderrTail()).contains("/nonexistent/drift.yaml"),
                    "the exception carries drift's message: " + e.stderrTail());
            check(e.getMessage().startsWith("drift exited with code 2 (usage or configuration error, or a request"
                    + " Azure rejected as the caller's mistake):\n"), "the message starts with the code: " + e.getMessage());
        }

        try {
            // An unknown log level from the environment is a usage error: proves extra environment arrives.
            Launcher.run(Arrays.asList("validate", "--config", "/nonexistent/drift.yaml"),
                    Collections.singletonMap("DRIFT_LOG", "not-a-level"));
            check(false, "a failing run throws");
        } catch (Launcher.DriftException e) {
            check(e.exitCode() == 2, "exit code 2 with a bad DRIFT_LOG, got " + e.exitCode());
            check(String.join("\n", e.stderrTail()).contains("not-a-level"), "DRIFT_LOG reached drift: " + e.stderrTail());
        }
        check(first.equals(Launcher.binary()), "still the same extracted binary after three runs");
    }

    /** The table decided for drift (issue 9): every code's meaning, and how other codes read. */
    private static void exitCodes() {
        String[][] table = {
            {"1", "the pipeline ran but its outcome failed: a training job failed or was canceled, or nothing was in scope"},
            {"2", "usage or configuration error, or a request Azure rejected as the caller's mistake"},
            {"3", "authentication or authorization error"},
            {"4", "Azure or network error that a retry may fix, after drift's own retries"},
            {"5", "timed out waiting for training jobs"},
            {"6", "local I/O error"},
            {"130", "interrupted by SIGINT"},
            {"143", "terminated by SIGTERM"},
        };
        check(Launcher.EXIT_CODES.size() == table.length, "the launcher explains exactly the table's codes");
        for (String[] row : table) {
            int code = Integer.parseInt(row[0]);
            Launcher.DriftException e = new Launcher.DriftException(code, Collections.singletonList("error: x"));
            check(e.getMessage().equals("drift exited with code " + code + " (" + row[1] + "):\nerror: x"),
                    "exit code " + code + " reads: " + e.getMessage());
        }
        check(new Launcher.DriftException(130, Collections.<String>emptyList()).signal() == 2, "130 is SIGINT");
        check(new Launcher.DriftException(143, Collections.<String>emptyList()).signal() == 15, "143 is SIGTERM");
        Launcher.DriftException segv = new Launcher.DriftException(139, Collections.singletonList("last"));
        check(segv.signal() == 11 && segv.getMessage().equals(
                "drift was killed by signal 11 (SIGSEGV), exit code 139:\nlast"), "139 reads: " + segv.getMessage());
        Launcher.DriftException panic = new Launcher.DriftException(101, Collections.<String>emptyList());
        check(panic.signal() == 0 && panic.getMessage().equals("drift exited with code 101:\n"),
                "an undocumented code reads plainly: " + panic.getMessage());
    }

    /** A real drift, blocked opening a FIFO as its config, killed with SIGKILL: Java sees 137 = 128 + 9. */
    private static void killedBySignal(Path work) throws Exception {
        final Path fifo = work.resolve("config.fifo");
        Files.deleteIfExists(fifo);
        check(run(Arrays.asList("mkfifo", fifo.toString()), null).code == 0, "mkfifo " + fifo);
        final Launcher.DriftException[] thrown = new Launcher.DriftException[1];
        Thread runner = new Thread(() -> {
            try {
                Launcher.run(Arrays.asList("validate", "--config", fifo.toString()), null);
            } catch (Launcher.DriftException e) {
                thrown[0] = e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "killed-drift");
        runner.start();
        String pid = null;
        String binary = Launcher.binary().toRealPath().toString();
        String self = new File("/proc/self").getCanonicalFile().getName();
        for (int i = 0; i < 200 && pid == null; i++) {
            pid = childRunning(self, binary);
            if (pid == null) {
                Thread.sleep(50);
            }
        }
        check(pid != null, "drift started and waits for its config");
        check(run(Arrays.asList("kill", "-KILL", pid), null).code == 0, "kill -KILL " + pid);
        runner.join(TimeUnit.SECONDS.toMillis(30));
        check(!runner.isAlive() && thrown[0] != null, "the killed run threw a DriftException");
        Launcher.DriftException e = thrown[0];
        check(e.exitCode() == 137 && e.signal() == 9, "SIGKILL is 137 / signal 9: " + e.exitCode());
        check(e.getMessage().startsWith("drift was killed by signal 9 (SIGKILL), exit code 137:"),
                "the message says drift was killed: " + e.getMessage());
        Files.delete(fifo);
    }

    /** A child of process {@code parent} running {@code exe}, by /proc, or null. */
    private static String childRunning(String parent, String exe) throws IOException {
        File[] entries = new File("/proc").listFiles();
        for (File entry : entries == null ? new File[0] : entries) {
            if (!entry.getName().matches("[0-9]+")) {
                continue;
            }
            try {
                String stat = new String(Files.readAllBytes(entry.toPath().resolve("stat")), StandardCharsets.UTF_8);
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (fields[1].equals(parent)
                        && Files.readSymbolicLink(entry.toPath().resolve("exe")).toString().equals(exe)) {
                    return entry.getName();
                }
            } catch (IOException | RuntimeException e) {
                // the process ended meanwhile, or is not ours to look at
            }
        }
        return null;
    }

    /**
     * Issue 9, row 16: java.io.tmpdir on a noexec mount. The launcher must try DRIFT_BINARY_DIR, then java.io.tmpdir,
     * then other places, extracting and running the binary in each, and use the first where it runs.
     */
    private static void fallback(Path work) throws Exception {
        Path root = work.resolve("fallback");
        Files.createDirectories(root);
        Path file = Files.write(root.resolve("a-file"), new byte[] {1});
        Path uncreatable = file.resolve("sub"); // below a regular file: cannot be created
        Path home = Files.createDirectories(root.resolve("home"));
        Path good = Files.createDirectories(root.resolve("good"));
        Path noexec = Files.createDirectories(root.resolve("noexec"));
        String mounted = mountNoexec(noexec);
        try {
            candidateOrder();
            inProcess(uncreatable, file, noexec, mounted, good);
            childJvmFallsBack(uncreatable, mounted != null ? noexec : file, home);
            childJvmFailsEverywhere(uncreatable, mounted != null ? noexec : file, root.resolve("missing"));
        } finally {
            if (mounted != null) {
                Result unmount = run(Arrays.asList("umount", noexec.toString()), null);
                if (unmount.code != 0) {
                    run(Arrays.asList("umount", "-l", noexec.toString()), null);
                }
            }
        }
    }

    /** Mounts a noexec tmpfs on {@code dir}; returns the mount's description, or null when that is not possible. */
    private static String mountNoexec(Path dir) throws Exception {
        Result mount = run(Arrays.asList("mount", "-t", "tmpfs", "-o", "noexec,nosuid,nodev,size=1g,mode=0700",
                "drift-check-noexec", dir.toString()), null);
        if (mount.code == 0) {
            String line = "";
            for (String l : Files.readAllLines(Paths.get("/proc/self/mounts"), StandardCharsets.UTF_8)) {
                if (l.contains(" " + dir + " ")) {
                    line = l;
                }
            }
            check(line.contains("noexec"), "the tmpfs on " + dir + " is mounted noexec: " + line);
            System.out.println("LauncherCheck: a real noexec mount for java.io.tmpdir: " + line);
            return line;
        }
        String why = "mount -t tmpfs -o noexec failed (exit " + mount.code + "): " + mount.err.trim();
        if ("1".equals(System.getenv("DRIFT_REQUIRE_NOEXEC"))) {
            throw new AssertionError("failed: DRIFT_REQUIRE_NOEXEC=1 but " + why);
        }
        System.out.println("LauncherCheck: NO real noexec mount (" + why + "); java.io.tmpdir is a regular file"
                + " instead. Run as root (or set DRIFT_REQUIRE_NOEXEC=1 to insist).");
        return null;
    }

    private static void candidateOrder() {
        Map<String, String> env = new HashMap<>();
        env.put(Launcher.BINARY_DIR_ENV, "/chosen");
        Properties properties = new Properties();
        properties.setProperty("java.io.tmpdir", "/jvm-tmp");
        properties.setProperty("user.home", "/home/u");
        properties.setProperty("user.dir", "/jvm-tmp/"); // the same place as java.io.tmpdir: tried once
        List<String> order = new ArrayList<>();
        for (Launcher.Candidate c : Launcher.candidates(env, properties)) {
            order.add(c.dir.toString());
        }
        List<String> expected = new ArrayList<>(Arrays.asList("/chosen", "/jvm-tmp"));
        if (Files.isDirectory(Paths.get("/local_disk0/tmp"))) {
            expected.add("/local_disk0/tmp");
        }
        expected.add("/home/u");
        check(order.equals(expected), "candidates in order, without duplicates: " + order);
        env.put(Launcher.BINARY_DIR_ENV, " ");
        check(Launcher.candidates(env, properties).get(0).dir.toString().equals("/jvm-tmp"),
                "a blank DRIFT_BINARY_DIR is ignored");
    }

    /** The extraction loop itself, with places that each fail differently before one that works. */
    private static void inProcess(Path uncreatable, Path file, Path noexec, String mounted, Path good)
            throws Exception {
        List<Launcher.Candidate> places = new ArrayList<>(Arrays.asList(
                new Launcher.Candidate(Launcher.BINARY_DIR_ENV, uncreatable),
                new Launcher.Candidate("java.io.tmpdir", file)));
        if (mounted != null) {
            places.add(new Launcher.Candidate("noexec mount", noexec));
        }
        places.add(new Launcher.Candidate("user.home", good));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Path chosen = Launcher.extract(places, new PrintStream(log, true, "UTF-8"));
        String note = new String(log.toByteArray(), StandardCharsets.UTF_8);
        check(chosen.getParent().getParent().equals(good), "the binary went to the place that works: " + chosen);
        check(run(Arrays.asList(chosen.toString(), "--version"), null).out.startsWith("drift "),
                "and runs from there");
        check(note.startsWith("drift launcher: extracted drift to " + chosen + "; places that did not work:"),
                "the fallback is noted: " + note);
        check(note.contains(uncreatable + " (DRIFT_BINARY_DIR): cannot create it"), "DRIFT_BINARY_DIR's failure: " + note);
        check(note.contains(file + " (java.io.tmpdir): not a directory"), "java.io.tmpdir's failure: " + note);
        if (mounted != null) {
            check(note.contains(noexec + " (noexec mount): cannot execute the extracted binary: ")
                    && note.contains("error=13, Permission denied (a file system mounted noexec"),
                    "the noexec mount's failure: " + note);
            String[] left = noexec.toFile().list();
            check(left != null && left.length == 0, "nothing is left on the noexec mount: " + Arrays.toString(left));
        }

        List<Launcher.Candidate> unusable = new ArrayList<>(places.subList(0, places.size() - 1));
        try {
            Launcher.extract(unusable, new PrintStream(new ByteArrayOutputStream(), true, "UTF-8"));
            check(false, "no usable place is an error");
        } catch (IOException e) {
            String message = e.getMessage();
            check(message.startsWith("drift launcher: found no folder where the drift binary can be written and run."
                    + " Tried:\n"), "the error says what went wrong: " + message);
            for (Launcher.Candidate c : unusable) {
                check(message.contains("\n  " + c + ": "), "the error names " + c + ": " + message);
            }
            check(message.endsWith("Set DRIFT_BINARY_DIR (a cluster spark_env_vars entry) to a writable folder on a"
                    + " file system mounted with exec."), "and what to do: " + message);
        }
    }

    /** The real entry point in a fresh JVM: DRIFT_BINARY_DIR unusable, java.io.tmpdir noexec; user.home works. */
    private static void childJvmFallsBack(Path uncreatable, Path tmpdir, Path home) throws Exception {
        Map<String, String> env = Collections.singletonMap(Launcher.BINARY_DIR_ENV, uncreatable.toString());
        Result r = run(javaCommand(tmpdir, home, null), env);
        check(r.code == 0, "drift.Launcher --version ran through the fallback, exit " + r.code + ": " + r.err);
        check(r.out.startsWith("drift "), "drift answered: " + r.out);
        Path expected = Files.isDirectory(Paths.get("/local_disk0/tmp")) ? Paths.get("/local_disk0/tmp") : home;
        check(r.err.startsWith("drift launcher: extracted drift to " + expected + "/drift-"),
                "it chose " + expected + ": " + r.err);
        check(r.err.contains(uncreatable + " (DRIFT_BINARY_DIR): ") && r.err.contains(tmpdir + " (java.io.tmpdir): "),
                "it says why DRIFT_BINARY_DIR and java.io.tmpdir were passed over: " + r.err);
        String[] left = home.toFile().list();
        check(left != null && left.length == 0, "the extracted binary is removed when the JVM exits");
    }

    /** ... and with no usable place at all, the task fails naming every place and why. */
    private static void childJvmFailsEverywhere(Path uncreatable, Path tmpdir, Path missing) throws Exception {
        if (Files.isDirectory(Paths.get("/local_disk0/tmp"))) {
            System.out.println("LauncherCheck: /local_disk0/tmp exists here, so some place always works; skipped");
            return;
        }
        Map<String, String> env = Collections.singletonMap(Launcher.BINARY_DIR_ENV, uncreatable.toString());
        Result r = run(javaCommand(tmpdir, missing, missing), env);
        check(r.code != 0, "the launcher fails when no place works");
        check(r.err.contains("found no folder where the drift binary can be written and run. Tried:")
                && r.err.contains(uncreatable + " (DRIFT_BINARY_DIR): ") && r.err.contains(tmpdir + " (java.io.tmpdir): ")
                && r.err.contains(missing + " (user.home): does not exist"), "every place is named: " + r.err);
    }

    /** {@code java -cp <this classpath> [-D...] drift.Launcher --version} in this JVM's Java. */
    private static List<String> javaCommand(Path tmpdir, Path home, Path userDir) {
        List<String> command = new ArrayList<>(Arrays.asList(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Djava.io.tmpdir=" + tmpdir, "-Duser.home=" + home));
        if (userDir != null) {
            command.add("-Duser.dir=" + userDir);
        }
        command.addAll(Arrays.asList("drift.Launcher", "--version"));
        return command;
    }

    private static final class Result {
        int code;
        String out;
        String err;
    }

    /** Runs a command to completion (at most 120 s) with extra environment; captures its output. */
    private static Result run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        if (env != null) {
            builder.environment().putAll(env);
        }
        File out = File.createTempFile("launcher-check-", ".out");
        File err = File.createTempFile("launcher-check-", ".err");
        try {
            Process process = builder.redirectOutput(out).redirectError(err).start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("failed: " + command + " did not finish within 120 s");
            }
            Result result = new Result();
            result.code = process.exitValue();
            result.out = new String(Files.readAllBytes(out.toPath()), StandardCharsets.UTF_8);
            result.err = new String(Files.readAllBytes(err.toPath()), StandardCharsets.UTF_8);
            return result;
        } finally {
            Files.deleteIfExists(out.toPath());
            Files.deleteIfExists(err.toPath());
        }
    }
}
