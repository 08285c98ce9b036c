//! The examples of Loki's documentation at the pinned version (grafana/loki v3.7.6), each
//! read without an error, and broken queries with where they break.

use super::*;

/// `docs/sources/query/query_examples.md` @ v3.7.6.
const QUERY_EXAMPLES: &[&str] = &[
    r#"{job_name="myapp"} != ip("192.168.4.5-192.168.4.20")"#,
    "{job_name=\"myapp\"}\n\t\t| logfmt\n\t\t| addr = ip(\"192.168.4.5/16\")\n\t\t| addr != ip(\"192.168.4.2\")",
    r#"{job="security"} |~ "Invalid user.*" | regexp "(^(?P<user>\\S+ {1,2}){8})" | regexp "(^(?P<ip>\\S+ {1,2}){10})" | line_format "IP = {{.ip}}\tUSER = {{.user}}""#,
    r#"{job="security"} != "grafana_com" |= "session opened" != "sudo: " |regexp "(^(?P<user>\\S+ {1,2}){11})" | line_format "USER = {{.user}}""#,
    "sum by (host) (rate({job=\"mysql\"}\n    |= \"error\" != \"timeout\"\n    | json\n    | duration > 10s [1m]))",
    r#"{cluster="ops-tools1", namespace="loki-dev", job="loki-dev/query-frontend"} |= "metrics.go" != "out of order" | logfmt | duration > 30s or status_code != "200""#,
    r#"{job="loki-ops/query-frontend"} | logfmt | line_format "{{.msg}}" | regexp "(?P<method>\\w+) (?P<path>[\\w|/]+) \\((?P<status>\\d+?)\\) (?P<duration>.*)""#,
    r#"{cluster="ops-tools1", name="querier", namespace="loki-dev"} |= "metrics.go" != "loki-canary" | logfmt | query != "" | label_format query="{{ Replace .query \"\\n\" \"\" -1 }}" | line_format "{{ .ts}}\t{{.duration}}\ttraceID = {{.traceID}}\t{{ printf \"%-100.100s\" .query }} ""#,
    r#"{job="example"} | decolorize"#,
    "quantile_over_time(0.99,\n  {cluster=\"ops-tools1\",container=\"ingress-nginx\"}\n    | json\n    | __error__ = \"\"\n    | unwrap request_time [1m]) by (path)",
    "sum by (org_id) (\n  sum_over_time(\n  {cluster=\"ops-tools1\",container=\"loki-dev\"}\n      |= \"metrics.go\"\n      | logfmt\n      | unwrap bytes_processed [1m])\n  )",
    r#"topk(10,sum(rate({region="us-east1"}[5m])) by (name))"#,
    r#"sum(count_over_time({job="mysql"}[5m])) by (level)"#,
    r#"avg(rate(({job="nginx"} |= "GET" | json | path="/home")[10s])) by (region)"#,
];

/// `docs/sources/query/query_reference.md` and `metric_queries.md` @ v3.7.6.
const REFERENCE: &[&str] = &[
    r#"sum(rate({app="foo"}[1m])) * 2"#,
    r#"sum(rate({app="foo", level="warn"}[1m])) / sum(rate({app="foo", level="error"}[1m]))"#,
    r#"rate({app=~"foo|bar"}[1m]) and rate({app="bar"}[1m])"#,
    r#"count_over_time({foo="bar"}[1m]) > bool 10"#,
    r#"sum without(app) (count_over_time({app="foo"}[1m])) > bool sum without(app) (count_over_time({app="bar"}[1m]))"#,
    r#"{service_name=`distributor`} |> `<_> caller=http.go:194 level=debug <_> msg="POST /push.v1.PusherService/Push <_>`"#,
    r#"{service_name=`distributor`} !> `<_> caller=http.go:194 level=debug <_> msg="POST /push.v1.PusherService/Push <_>`"#,
    r#"max by(machine) (count_over_time({app="foo"}[1m])) > bool ignoring(machine) avg(count_over_time({app="foo"}[1m]))"#,
    r#"sum by(machine) (count_over_time({app="foo"}[1m])) / on() sum(count_over_time({app="foo"}[1m]))"#,
    "sum by (app, status) (\n  rate(\n    {job=\"http-server\"}\n      | json\n      [5m]\n  )\n)\n/ on (app) group_left\nsum by (app) (\n  rate(\n    {job=\"http-server\"}\n      | json\n      [5m]\n  )\n)",
    "sum by (user, namespace) (\n  rate(\n    {job=\"events\"}\n      | logfmt\n      | discarded=\"true\"\n      [5m]\n  )\n)\n* on (user) group_left(organization)\nmax_over_time(\n  {job=\"cost-calculator\"}\n    | logfmt\n    | unwrap cost\n    [5m]\n) by (user, organization)",
    r#"{app="foo"} # anything that comes after will not be interpreted in your query"#,
    "{app=\"foo\"}\n    | json\n    # this line will be ignored\n    | bar=\"baz\" # this checks if bar = \"baz\"",
    "quantile_over_time(\n\t0.99,\n\t{container=\"ingress-nginx\",service=\"hosted-grafana\"}\n\t| json\n\t| unwrap response_latency_seconds\n\t| __error__=\"\"[1m]\n\t) by (cluster)",
    "label_replace(rate({job=\"api-server\",service=\"a:c\"} |= \"err\" [1m]), \"foo\", \"$1\",\n  \"service\", \"(.*):.*\")",
    r#"count_over_time({job="mysql"}[5m] offset 5m)"#,
    "sum(count_over_time({namespace=\"traefik\"}[5m])) # will return nothing\n  or\nvector(0) # will return 0",
];

/// `docs/sources/query/log_queries/_index.md` @ v3.7.6 (label filters, parsers, formats).
const LOG_QUERIES: &[&str] = &[
    r#"{instance=~"kafka-[23]",name="kafka"} != "kafka.server:type=ReplicaManager""#,
    r#"{name="cassandra"} |~  `error=\w+`"#,
    r#"{job="mysql"} |= "error" | json | line_format "{{.err}}""#,
    r#"{job="x"} | duration >= 20ms or size == 20KB and method!~"2..""#,
    r#"{job="x"} | duration >= 20ms or size == 20KB | method!~"2..""#,
    r#"{job="x"} | duration >= 20ms or size == 20KB , method!~"2..""#,
    r#"{job="x"} | duration >= 20ms or size == 20KB  method!~"2..""#,
    r#"{job="x"} | ((duration >= 20ms or method="GET") and size <= 20KB)"#,
    r#"{job="x"} | json first_server="servers[0]", ua="request.headers[\"User-Agent\"]""#,
    r#"{job="x"} | json servers"#,
    r#"{job="x"} | logfmt --keep-empty --strict host"#,
    r#"{job="x"} | logfmt --strict host, fwd_ip="fwd""#,
    r#"{job="x"} | pattern "<ip> - - <_> \"<method> <uri> <_>\" <status> <size> <_> \"<agent>\" <_>""#,
    r#"{job="x"} | unpack | drop level, method="GET" | keep namespace, pod"#,
    r#"{job="x"} | label_format dst=src, foo="{{.bar}}""#,
    r#"sum(rate({job="x"} | logfmt | unwrap duration_seconds(latency) | __error__="" [5m]))"#,
    r#"{service_name="app"} |= "a" or "b""#,
];

#[test]
fn reads_the_documented_examples() {
    for q in QUERY_EXAMPLES.iter().chain(REFERENCE).chain(LOG_QUERIES) {
        let parsed = parse(q).unwrap_or_else(|e| panic!("{q}\n{e:?} at {:?}", &q[e.offset..]));
        assert!(!parsed.logs.is_empty(), "{q}: no log query found");
    }
}

#[test]
fn finds_selectors_filters_and_stages() {
    let q = parse(r#"sum by (level) (count_over_time({job="api", env!="dev"} |= "x" |> "<_> y" | json | level="error" | line_format "{{.msg}}" [5m]))"#).unwrap();
    let log = &q.logs[0];
    let m: Vec<String> = log.matchers.iter().map(|m| format!("{}{}{}", m.label, m.op, m.value)).collect();
    assert_eq!(m, ["job=api", "env!=dev"]);
    assert_eq!(log.line_filters, ["|=", "|>"]);
    assert_eq!(log.stages, ["json", "label_filter", "line_format"]);
    let two = parse(r#"rate({a="1"}[1m]) / rate({b="2"}[1m])"#).unwrap();
    assert_eq!(two.logs.len(), 2);
}

#[test]
fn the_trace_to_logs_query_obsbuild_writes_is_logql() {
    let q = parse(crate::render::grafana::TRACES_TO_LOGS).unwrap();
    assert_eq!(q.logs[0].stages, ["label_filter"]);
}

#[test]
fn grafana_variables_are_stood_in_for() {
    for q in [r#"{service_name="$service"} |= "$search""#, r#"sum(rate({job=~"${job:regex}"}[$__auto]))"#, r#"count_over_time({app="x"}[$__interval])"#] {
        assert!(parse(q).is_ok(), "{q}: {:?}", parse(q).err());
    }
}

#[test]
fn errors_say_what_and_where() {
    let cases: &[(&str, &str, &str)] = &[
        (r#"{job="x"} | jsn"#, "jsn", "`jsn` is not a pipeline stage"),
        (r#"{job="x" |= "a""#, "|= \"a\"", "expected `}`, found `|=`"),
        (r#"{job=x}"#, "x}", "expected a quoted value, found `x`"),
        (r#"{job~"x"}"#, "~\"x\"}", "unexpected character `~`"),
        (r#"{job="x"} |= error"#, "error", "expected a quoted string to filter lines by, found `error`"),
        (r#"{job="x"} | regexp"#, "", "expected the quoted expression of `regexp`, found the end of the query"),
        (r#"rate({job="x"})"#, ")", "expected a duration such as `5m` in brackets"),
        (r#"rte({job="x"}[5m])"#, "rte(", "`rte` is not a LogQL function"),
        (r#"count_over_time({job="mysql"}[5m]) offset 5m"#, "offset 5m", "unexpected `offset` after the query"),
        (r#"{job=~".*"}"#, r#"{job=~".*"}"#, "a stream selector needs"),
        (r#"{}"#, "}", "expected a label name, found `}`"),
        (r#"{job="x"} | unwrap size(x)"#, "size(x)", "`size` is not a conversion"),
        (r#"{job="x"} | status >"#, "", "expected a quoted value, number, duration or byte size, found the end"),
        // The first string runs to the second quote; the third opens one that never closes.
        (r#"{job="x} |= "a""#, "\"", "unterminated string"),
        ("{job=\"$job\"} | jsn", "jsn", "`jsn` is not a pipeline stage"),
        (r#"{job="x"} | json | "#, "", "expected a pipeline stage, found the end of the query"),
    ];
    for (q, at, message) in cases {
        let e = parse(q).unwrap_err();
        assert!(e.message.starts_with(message), "{q}: {:?}", e.message);
        let rest = &q[e.offset..];
        assert!(if at.is_empty() { rest.is_empty() } else { rest.starts_with(at) }, "{q}: {} at {rest:?}", e.message);
    }
}

#[test]
fn deep_nesting_is_refused_not_recursed_into() {
    let deep = format!("{}{{a=\"b\"}}{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse(&deep).unwrap_err().message.contains("nested more than"));
    let deep = format!("{{a=\"b\"}} | {}x=\"1\"{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse(&deep).unwrap_err().message.contains("nested more than"));
}
