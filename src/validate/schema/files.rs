//! Every schema file, embedded (`schemas/<component>/<range>.json`); a test checks that this
//! list and the folder agree.

macro_rules! schemas {
    ($($id:literal),* $(,)?) => {
        /// (id, text): the id is the path under `schemas/` without `.json`.
        pub const FILES: [(&str, &str); [$($id),*].len()] =
            [$(($id, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/", $id, ".json")))),*];
    };
}

schemas![
    "alertmanager/0.27",
    "alertmanager/0.28",
    "alertmanager/0.34",
    "jaeger/exporter/jaeger_storage_exporter/2",
    "jaeger/extension/healthcheckv2/2",
    "jaeger/extension/jaeger_query/2",
    "jaeger/extension/jaeger_storage/2",
    "loki/3.7",
    "otel-collector/config/0.159",
    "otel-collector/connector/spanmetrics/0.159",
    "otel-collector/exporter/debug/0.159",
    "otel-collector/exporter/otlp_grpc/0.159",
    "otel-collector/exporter/otlp_http/0.159",
    "otel-collector/exporter/prometheus/0.159",
    "otel-collector/exporter/prometheus_remote_write/0.159",
    "otel-collector/extension/file_storage/0.159",
    "otel-collector/extension/health_check/0.159",
    "otel-collector/extension/pprof/0.159",
    "otel-collector/extension/zpages/0.159",
    "otel-collector/processor/attributes/0.159",
    "otel-collector/processor/batch/0.159",
    "otel-collector/processor/memory_limiter/0.159",
    "otel-collector/processor/resource/0.159",
    "otel-collector/receiver/docker_stats/0.159",
    "otel-collector/receiver/file_log/0.159",
    "otel-collector/receiver/jaeger/0.159",
    "otel-collector/receiver/otlp/0.159",
    "otel-collector/receiver/prometheus/0.159",
    "otel-collector/service/0.159",
    "prometheus/2.53",
    "prometheus/3.14",
    "traefik/dynamic/3",
    "traefik/static/3",
];
