//! Facts about component releases that more than one stage acts on: the renderers write
//! each version's dialect, the validators check what that version accepts, the external
//! validators pick what to run. One place per fact, so a new release is one edit.

use super::{Service, Version};

/// Prometheus.
pub mod prometheus {
    use super::{Service, Version};

    /// The newest Prometheus this release of obsbuild renders for; a service without a
    /// version is rendered for it.
    pub const NEWEST: Version = Version::new(3, 14, 0);
    /// First version with `storage.tsdb.retention` in the config file.
    pub const RETENTION_IN_CONFIG: Version = Version::new(3, 8, 0);
    /// First version with the OTLP receiver (as a feature flag until 3.0).
    pub const OTLP_RECEIVER: Version = Version::new(2, 47, 0);
    /// OTLP and the other 3.0 flag changes.
    pub const THREE: Version = Version::new(3, 0, 0);
    /// First version with `storage.tsdb.out_of_order_time_window`.
    pub const OUT_OF_ORDER: Version = Version::new(2, 39, 0);
    /// First version with `--web.enable-remote-write-receiver`.
    pub const REMOTE_WRITE_FLAG: Version = Version::new(2, 33, 0);

    /// The version a service is rendered and checked for.
    pub fn version(service: &Service) -> Version {
        service.version.unwrap_or(NEWEST)
    }
}

/// The OpenTelemetry Collector.
pub mod collector {
    use super::Version;

    /// The newest collector this release of obsbuild knows.
    pub const NEWEST: Version = Version::new(0, 159, 0);

    /// Where a component is declared in a collector's config.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Section {
        Receivers,
        Processors,
        Exporters,
        Connectors,
        Extensions,
    }

    impl Section {
        pub const ALL: [Section; 5] =
            [Section::Receivers, Section::Processors, Section::Exporters, Section::Connectors, Section::Extensions];

        /// The section's key in a collector's config (`receivers`).
        pub fn key(self) -> &'static str {
            match self {
                Section::Receivers => "receivers",
                Section::Processors => "processors",
                Section::Exporters => "exporters",
                Section::Connectors => "connectors",
                Section::Extensions => "extensions",
            }
        }

        /// One component of the section (`receiver`), as schema folders and messages name it.
        pub fn singular(self) -> &'static str {
            match self {
                Section::Receivers => "receiver",
                Section::Processors => "processor",
                Section::Exporters => "exporter",
                Section::Connectors => "connector",
                Section::Extensions => "extension",
            }
        }

        /// The section whose key is `key`, if any.
        pub fn from_key(key: &str) -> Option<Section> {
            Section::ALL.into_iter().find(|s| s.key() == key)
        }
    }

    /// Component types renamed to lower_snake_case: (section, current name, old name,
    /// the version that renamed it). Older collectors know only the old name; newer ones
    /// still accept it but warn on every start.
    pub const RENAMES: [(Section, &str, &str, Version); 4] = [
        (Section::Exporters, "otlp_grpc", "otlp", Version::new(0, 144, 0)),
        (Section::Exporters, "otlp_http", "otlphttp", Version::new(0, 144, 0)),
        (Section::Receivers, "file_log", "filelog", Version::new(0, 149, 0)),
        (Section::Exporters, "prometheus_remote_write", "prometheusremotewrite", Version::new(0, 154, 0)),
    ];

    /// The current name of a component type of `section` that may be written under its
    /// old name (`otlp` is still the receiver's name; only the exporter was renamed).
    pub fn current_name(section: Section, kind: &str) -> &str {
        RENAMES.iter().find(|(s, _, old, _)| *s == section && *old == kind).map_or(kind, |(_, new, _, _)| new)
    }
}

/// Jaeger v2.
pub mod jaeger {
    use super::Service;

    /// Traces the memory store keeps when neither `max_traces` nor `memory` says: Jaeger's
    /// own all-in-one figure.
    pub const DEFAULT_MAX_TRACES: i64 = 100_000;
    /// Container memory per trace kept in memory when `max_traces` is sized from `memory`: a
    /// trace of ~10 spans takes ~16 KiB of Go heap, and half of the container stays free for
    /// the query service, the OTLP receiver's batches and the garbage collector.
    pub const BYTES_PER_TRACE: i64 = 32 << 10;

    /// The memory store's `max_traces` for `service` when the script set none.
    pub fn max_traces(service: &Service) -> i64 {
        service.memory.as_ref().map_or(DEFAULT_MAX_TRACES, |m| (m.bytes() / BYTES_PER_TRACE).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_512m_container_keeps_16384_traces() {
        assert_eq!((512i64 << 20) / jaeger::BYTES_PER_TRACE, 16_384);
    }

    #[test]
    fn only_the_renamed_section_finds_the_new_name() {
        use collector::{Section, current_name};
        assert_eq!(current_name(Section::Exporters, "otlp"), "otlp_grpc");
        assert_eq!(current_name(Section::Receivers, "otlp"), "otlp");
        assert_eq!(current_name(Section::Receivers, "filelog"), "file_log");
        assert_eq!(current_name(Section::Exporters, "debug"), "debug");
        assert_eq!(current_name(Section::Processors, "otlp"), "otlp");
    }

    #[test]
    fn each_section_is_found_by_its_key() {
        use collector::Section;
        for s in Section::ALL {
            assert_eq!(Section::from_key(s.key()), Some(s));
            assert_eq!(format!("{}s", s.singular()), s.key());
        }
        assert_eq!(Section::from_key("service"), None);
    }
}
