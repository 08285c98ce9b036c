//! What the crate reads of Prometheus 3, the Grafana stand-ins, and where errors are.

use super::grafana::{Outside, substitute};
use super::*;

fn selectors_of(expr: &str) -> Vec<String> {
    let e = parse_grafana(expr).unwrap();
    vector_selectors(&e).iter().map(|v| v.to_string()).collect()
}

#[test]
fn reads_prometheus_3_syntax() {
    let accepted = [
        // UTF-8 names, quoted inside the braces (Prometheus 3.0).
        r#"{"my.metric", job="x"}"#,
        r#"{"my.metric"}"#,
        r#"sum by ("service.name") (rate({"http.server.duration", "k8s.pod"="a"}[5m]))"#,
        // `@` and negative offsets.
        "up @ start()",
        "up @ end()",
        "up @ 1609746000",
        "rate(x[5m] @ 1609746000 offset 1h)",
        "up offset -5m",
        "up offset 1h30m",
        "rate(x[1h30m])",
        "max_over_time(rate(x[5m])[1h30m:1m])",
        // Aggregations of 3.x.
        "limitk(2, up)",
        "limit_ratio(0.5, up)",
        "limitk by (job) (2, up)",
        // Functions of 3.x.
        "sort_by_label(up, \"job\")",
        "info(target_info)",
        "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
        "count(up == 0) or vector(0)",
        "label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\")",
        "a / on (job) group_left (instance) b",
        "1e3 * 0x1f + .5 - Inf",
        // Durations are numbers too, also combined.
        "x > 2m",
        "time() - 1h30m",
        "54s321ms",
        "x @ start() offset 5m",
        "x offset 5m @ end()",
        "{\"a.b\"} / on (\"c.d\") group_left (\"e.f\") y",
        "sum without (\"a.b\") (x)",
        "x{job=\"a\", \"b\"=\"c\",}",
        "double_exponential_smoothing(x[5m], 0.5, 0.5)",
        "histogram_avg(x) + histogram_stddev(x) + histogram_fraction(0, 1, x)",
    ];
    for q in accepted {
        assert!(parse(q).is_ok(), "{q}: {:?}", parse(q).err());
    }
}

/// Prometheus 3 reads these; this version of the crate does not. A query using them is
/// reported (the crate is the parser), which is wrong; listed so an upgrade shows it.
#[test]
fn known_gaps_of_the_crate() {
    // Underscores between digits (docs/querying/basics.md, "Float literals"): the crate's
    // lexer stops at the `_`.
    let refused = ["1_000_000 * x", ".123_456_789", "0x_53_AB_F3_82"];
    for q in refused {
        let e = parse(q).unwrap_err();
        assert!(e.unsupported, "{q}: {e:?} (parses now? move it to reads_prometheus_3_syntax)");
    }
}

#[test]
fn refuses_what_prometheus_refuses() {
    for q in ["up{job=\"a\" == 0", "sum(rate(x[5m])", "rate(x)", "up{job=~\"(\"}", "", "x +", "sum by job (x)", "up[5m"] {
        assert!(parse(q).is_err_and(|e| !e.unsupported), "{q} parsed");
    }
}

/// The first five columns are the ones Prometheus's own parser reports for these queries
/// (`promtool check rules`, 2.42: `1:25: parse error: unexpected "=" in label matching`...).
#[test]
fn errors_point_at_where_reading_stops() {
    let at = |q: &str| {
        let e = parse(q).unwrap_err();
        (e.position(q), e.found(q))
    };
    assert_eq!(at(r#"up{job="otel-collector" == 0"#), ("column 25".into(), "`==`".into()));
    assert_eq!(at("sum(rate(x[5m])"), ("column 16".into(), "the end of the query".into()));
    assert_eq!(at("rate(x[5m]) by (job)"), ("column 13".into(), "`by`".into()));
    assert_eq!(at("x + + "), ("column 7".into(), "the end of the query".into()));
    assert_eq!(at("up{job=\"a\"} offset"), ("column 19".into(), "the end of the query".into()));
    assert_eq!(at("sum(up)\n  / bad bad"), ("line 2, column 9".into(), "`bad`".into()));
    assert_eq!(at("up{é=\"x\"}"), ("column 4".into(), "`é`".into()));
}

#[test]
fn grafana_variables_keep_the_query_parseable() {
    for q in [
        "sum(rate(x{job=\"$job\"}[$__rate_interval]))",
        "rate(x{job=~\"${job:regex}\"}[${__interval}])",
        "rate(x[[[interval]]] offset $__range)",
        "topk($n, x)",
        "$metric{job=\"a\"}",
        "x_${suffix}_total / ${__range_s}",
        "increase(x[$__range] @ ${__to:date:seconds})",
        "label_replace(x, \"dst\", \"$1\", \"src\", \"(.*)\")",
    ] {
        assert!(parse_grafana(q).is_ok(), "{q}: {:?}", parse_grafana(q).err());
    }
    assert_eq!(selectors_of("rate(x{job=~\"${job:regex}\"}[5m])"), ["x{job=~\"$job\"}"]);
}

#[test]
fn substitution_maps_offsets_back() {
    let q = "rate(x{job=\"${job}\"}[$__rate_interval]) +";
    let s = substitute(q, Outside::Name);
    assert_eq!(s.text, "rate(x{job=\"$job\"}[5m]) +");
    assert!(!s.outside);
    // After both edits, offsets shift back by what they shortened.
    assert_eq!(&q[s.original(s.text.len() - 1)..], "+");
    // Inside a stand-in: where its variable starts.
    assert_eq!(&q[s.original(s.text.find("5m").unwrap() + 1)..], "$__rate_interval]) +");
    let e = parse_grafana(q).unwrap_err();
    assert_eq!(e.offset, q.len(), "the end, in the query as written");
    let e = parse_grafana("sum(rate(x[$__rate_interval])) by by").unwrap_err();
    assert_eq!(e.position("sum(rate(x[$__rate_interval])) by by"), "column 35");
    let s = substitute("$a + [[b]]", Outside::Number);
    assert_eq!(s.text, "1 + 1");
    assert!(s.outside);
}

#[test]
fn finds_selectors_everywhere() {
    assert_eq!(
        selectors_of("histogram_quantile(0.9, sum by (le) (rate(a{x=\"1\"}[5m]))) / on(job) b offset 1h + max_over_time(c[1h:5m]) + topk(1, d) + -e"),
        ["a{x=\"1\"}", "b offset 1h", "c", "d", "e"]
    );
}


#[test]
fn deep_or_long_queries_are_refused_or_searched_quickly() {
    let deep = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
    let e = parse(&deep).unwrap_err();
    assert!(e.unsupported && e.message.contains("nested"), "{e:?}");
    assert!(read_grafana(&deep).is_none());
    // Long: bisection still ends on a prefix that reads, at or before the error.
    let long = format!("{} + up{{job=\"a\" == 0", vec!["rate(x[5m])"; 60].join(" + "));
    let e = parse(&long).unwrap_err();
    let at = long.find("==").unwrap();
    assert!(e.offset <= at && e.offset > at - 40, "{} of {}", e.offset, long.len());
}

#[test]
fn a_reading_is_the_same_from_the_memo() {
    // Read twice: the second comes from the memo and must equal the first, errors too.
    for q in ["sum(rate(memo_a[5m]))", "memo_b ==", "rate(memo_c[$__rate_interval])", "topk($n, memo_d)", "memo_e{a=\"$v\"} +"] {
        assert_eq!(parse(q), parse(q), "{q}");
        assert_eq!(parse_grafana(q), parse_grafana(q), "{q}");
        assert_eq!(read_grafana(q), parse_grafana(q).ok(), "{q}");
    }
    // A text without variables reads the same both ways, in either order.
    assert_eq!(parse_grafana("memo_f{job=\"x\"} == 0"), parse("memo_f{job=\"x\"} == 0"));
    assert_eq!(parse("memo_g offset 5m"), parse_grafana("memo_g offset 5m"));
    // With variables the two readings differ and must not share an entry.
    let q = "rate(memo_h[$__rate_interval])";
    assert!(parse_grafana(q).is_ok());
    assert!(parse(q).is_err());
    assert!(parse_grafana(q).is_ok());
    let e = parse("memo_i{a=\"1\"} and on(").unwrap_err();
    assert_eq!(parse_grafana("memo_i{a=\"1\"} and on(").unwrap_err(), e);
}
