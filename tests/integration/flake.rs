//! flake.nix stays valid Nix (the build itself needs nixpkgs, which CI cannot fetch).

use std::process::Command;

use super::common;

#[test]
fn flake_parses() {
    common::run_ok(
        Command::new("nix-instantiate").arg("--parse").arg(common::root().join("flake.nix")),
        "nix-instantiate --parse flake.nix",
    );
}
