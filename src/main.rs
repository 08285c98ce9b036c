fn main() -> std::process::ExitCode {
    obsbuild::cli::run(obsbuild::cli::parse())
}
