use clap::Parser;

fn main() -> std::process::ExitCode {
    obsbuild::cli::run(obsbuild::cli::Cli::parse())
}
