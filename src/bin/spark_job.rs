//! The `spark_job` binary: the legacy entry-point name of the Python tool, same code as `drift`.

fn main() -> std::process::ExitCode {
    drift::main()
}
