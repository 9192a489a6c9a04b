//! The `drift` binary.

fn main() -> std::process::ExitCode {
    drift::main()
}
