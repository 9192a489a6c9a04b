package drift;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Collections;

/**
 * Checks of {@link Launcher} run by scripts/ci-jar-check.sh against the built jar (plain Java, no test framework):
 * the binary is extracted once per JVM into private files, exit 0 returns, a non-zero exit throws with the code and
 * the stderr tail, and extra environment reaches the binary.
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
        Path first = Launcher.binary();
        check(first.equals(Launcher.binary()), "the binary is extracted once per JVM");
        check("rwx------".equals(PosixFilePermissions.toString(Files.getPosixFilePermissions(first))), "binary is 0700");
        check("rwx------".equals(PosixFilePermissions.toString(Files.getPosixFilePermissions(first.getParent()))),
                "its folder is 0700");

        Launcher.run(Arrays.asList("--version"), null);
        check(true, "exit 0 returns normally");

        try {
            Launcher.run(Arrays.asList("validate", "--config", "/nonexistent/drift.yaml"), null);
            check(false, "a failing run throws");
        } catch (Launcher.DriftException e) {
            check(e.exitCode() == 2, "a config error is exit code 2, got " + e.exitCode());
            check(!e.stderrTail().isEmpty() && String.join("\n", e.stderrTail()).contains("/nonexistent/drift.yaml"),
                    "the exception carries drift's message: " + e.stderrTail());
            check(e.getMessage().startsWith("drift exited with code 2"), "the message starts with the code");
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
        System.out.println("LauncherCheck: " + checks + " passed, 0 failed");
    }
}
