fn main() -> std::process::ExitCode {
    afterimage::cli::run()
}
