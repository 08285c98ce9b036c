{
  description = "obsbuild: reproducible builds and atomic switches of observability stacks described in Rhai";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      manifest = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).package;
    in
    {
      packages = forAllSystems (pkgs: {
        default = pkgs.rustPlatform.buildRustPackage {
          pname = manifest.name;
          version = manifest.version;
          # The component library in lib/ is compiled into the binary.
          src = pkgs.lib.cleanSource ./.;
          cargoLock.lockFile = ./Cargo.lock;
          # Unit tests only: the integration tests need Docker and the validators,
          # which `nix develop` provides outside the build sandbox.
          cargoTestFlags = [ "--lib" ];
          meta = {
            description = manifest.description;
            license = pkgs.lib.licenses.asl20;
            mainProgram = "obsbuild";
          };
        };
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.system}.default}/bin/obsbuild";
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.system}.default ];
          packages = with pkgs; [
            cargo
            rustc
            clippy
            rustfmt
            prometheus            # promtool
            prometheus-alertmanager # amtool
            docker-compose
            busybox
            hyperfine
          ];
        };
      });
    };
}
