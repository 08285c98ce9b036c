//! obsbuild's component library (`lib/` of this repository), built into the binary so an
//! installed obsbuild works in any project. A project's own `lib/` comes first.

/// Prefix of the source names of built-in modules, so messages say where they come from.
pub const PREFIX: &str = "<obsbuild>/lib/";

macro_rules! library {
    ($($name:literal),* $(,)?) => {
        const FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../lib/", $name)))),*
        ];
    };
}

library!(
    "otel-collector.rhai",
    "loki.rhai",
    "prometheus.rhai",
    "alertmanager.rhai",
    "jaeger.rhai",
    "grafana.rhai",
    "traefik.rhai",
);

/// The text of a built-in module by file name (`loki.rhai`).
pub fn get(file: &str) -> Option<&'static str> {
    FILES.iter().find(|(name, _)| *name == file).map(|(_, text)| *text)
}

/// Names of the built-in modules as they are imported (`loki`).
pub fn names() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(name, _)| name.trim_end_matches(".rhai"))
}

#[cfg(test)]
mod tests {
    /// The built-in list must be exactly the files of `lib/`: a module added there and
    /// forgotten here would work in this repository and nowhere else.
    #[test]
    fn every_lib_file_is_built_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/lib");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".rhai"))
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = super::FILES.iter().map(|(n, _)| n.to_string()).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in);
    }
}
